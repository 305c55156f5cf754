/* shared/emb_hash.c -- the built-in deterministic embedder (see emb_hash.h): no model, no
 * network, the same vector for the same text on every machine.
 *
 * Design. The text is split into tokens (ASCII letters and digits; bytes >= 0x80 count as
 * letters, except UTF-8 punctuation: U+0080..U+00BF, U+00D7, U+00F7 and U+2000..U+2FFF), lower-
 * cased (ASCII, and Latin-1 capitals in UTF-8). Tokens of one byte, the project's stopwords
 * (bm25_is_stopword) and the statutes' boilerplate (emb_boilerplate[], Roman numerals) are
 * dropped. Each distinct word w with count tf adds, scaled by the sublinear 1 + ln(tf):
 *   - its surface form (weight 1),
 *   - its stem (weight 1; a light Indonesian stripper: -kah/-lah/-pun, -nya, one prefix among
 *     me-/pe-/ber-/per-/ter-/di-/ke-/se- with the usual nasal recoding, then -kan/-an/-i),
 *     so "pidananya", "pemidanaan" and "pidana" share a feature,
 *   - its character 3..5-grams of "<w>", as one block of norm 1 (1/sqrt(count) each), which
 *     catches what the stripper misses and OCR-damaged words ("persetqjuan");
 * every distinct pair of stems adjacent once stopwords are gone adds a bigram feature (weight
 * 0.7, same sublinear tf). All-digit tokens carry no weight (they are article and ayat
 * numbers; the citation path handles those).
 * Each feature is a 64-bit FNV-1a hash (one seed per kind) finished by a murmur3 mix; the low
 * 32 bits pick the dimension (multiply-shift), the top bit the sign (signed hashing keeps the
 * inner product unbiased). The sum is L2-normalised; no feature gives the zero vector.
 *
 * Counting uses a table on the stack (no allocation, so the function cannot fail); a text with
 * more distinct words and bigrams than 5/8 of it is emitted in parts, which only makes the tf of
 * a word that spans parts a little less sublinear. Float adds in a fixed order and one libm
 * call (log of a small count): the same text gives the same bits. Thread-safe (no state).
 *
 * Measured with bench/ann_eval.c (2 vCPUs; dim 384): 16 us for 2 KiB of statute text, the 44k
 * articles in 0.6 s (70k units/s, 50 MB/s). Alone, its vectors find the right article for
 * Recall@10 0.60 / MRR@10 0.40 of the dev questions (0.72 / 0.47 with one unit per definition
 * of a Ketentuan Umum article); BM25 has 0.77 / 0.58 (0.86 / 0.65). Being lexical too, it adds
 * little to BM25 by RRF (with definition units, weight 0.3: 0.86 / 0.65) and costs at weight 1;
 * dim 768 gains 0.03-0.04 alone. The weights, stemmer and boilerplate list were chosen there;
 * an IDF table (emb_weights.factor, corpus statistics) gained 0.03 alone, nothing fused: not
 * built in. */
#include "emb_hash.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bm25.h"

/* Longest token kept (bytes after lower-casing); longer ones are cut (OCR runs, URLs). */
#define EMB_WORD_MAX_BYTES 40
/* Counting table: at most this many slots (a power of two; 32 KiB on the stack), fewer for a
 * short text. Distinct words + bigrams are emitted once 5/8 of the slots are taken. */
#define EMB_TABLE_SLOTS 1024

struct emb_weights {
    float word;   /* surface form of a word */
    float stem;   /* its stem */
    float bigram; /* pair of adjacent stems */
    float chars;  /* norm of a word's block of character n-grams */
    float number; /* all-digit token (surface form only) */
    unsigned ngram_min, ngram_max;
    int boilerplate; /* leave out emb_boilerplate[] and Roman numerals */
    /* Weight of a word by its stem (an IDF; bench/ann_eval.c's experiments); NULL: 1. */
    float (*factor)(const unsigned char *stem, size_t n);
};

static const struct emb_weights emb_default_weights = {
    .word = 1.0f,
    .stem = 1.0f,
    .bigram = 0.7f,
    .chars = 1.0f,
    .number = 0.0f,
    .ngram_min = 3,
    .ngram_max = 5,
    .boilerplate = 1,
};

enum { EMB_K_WORD = 1, EMB_K_NUMBER, EMB_K_BIGRAM, EMB_K_STOP };

/* Stems of the statutes' boilerplate, left out like stopwords: the structure words every
 * record carries in its title and headings (nomor, tahun, undang, bab, pasal, ayat, huruf) and
 * the cross-reference and enactment phrases (sebagaimana dimaksud, diatur dengan peraturan,
 * ketentuan, berlaku, ditetapkan, berdasarkan, sesuai, lebih lanjut, pemerintah, republik
 * indonesia). Without IDF they dominate every vector; measured on the dev questions with
 * bench/ann_eval.c (dense Recall@10 0.56 -> 0.60 at dim 384). Sorted (strcmp). */
static const char *const emb_boilerplate[] = {
    "angka",     "atur",    "ayat",   "bab",    "bagaimana", "dasar",  "huruf",
    "indonesia", "laksana", "lanjut", "maksud", "nomor",     "pasal",  "perintah",
    "republik",  "sua",     "tahun",  "tentu",  "tetap",     "undang",
};

static int emb_cmp_str(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

/* Roman numerals of chapter and article headings ("BAB IV", "Pasal II"): i, v, x only. */
static int emb_roman(const unsigned char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] != 'i' && w[i] != 'v' && w[i] != 'x')
            return 0;
    return 1;
}

static int emb_is_boilerplate(const unsigned char *stem, size_t n)
{
    return emb_roman(stem, n) ||
           bsearch(stem, emb_boilerplate, sizeof emb_boilerplate / sizeof emb_boilerplate[0],
                   sizeof emb_boilerplate[0], emb_cmp_str) != NULL;
}

struct emb_slot {
    uint64_t key;    /* 0: empty */
    uint64_t stem_h; /* words: hash of the stem (for bigrams) */
    uint32_t off;    /* words: token start in the text */
    uint16_t raw_len;
    uint16_t count;
    uint8_t kind;
    float factor; /* the word's weight (bigrams: the geometric mean of both words') */
};

struct emb_table {
    struct emb_slot slot[EMB_TABLE_SLOTS];
    uint16_t order[EMB_TABLE_SLOTS]; /* taken slots in order of arrival: flushes follow it */
    unsigned used, mask, flush_at;
};

#define EMB_FNV_BASIS 0xcbf29ce484222325ULL
#define EMB_FNV_PRIME 0x100000001b3ULL
/* One seed per feature kind, so "kerja" the word and "kerja" the stem are different features. */
#define EMB_SEED_WORD   0x9e3779b97f4a7c15ULL
#define EMB_SEED_STEM   0xc2b2ae3d27d4eb4fULL
#define EMB_SEED_CHARS  0x165667b19e3779f9ULL
#define EMB_SEED_BIGRAM 0x27d4eb2f165667c5ULL
#define EMB_SEED_NUMBER 0x85ebca77c2b2ae63ULL

static uint64_t emb_fnv(uint64_t seed, const unsigned char *s, size_t n)
{
    uint64_t h = EMB_FNV_BASIS ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * EMB_FNV_PRIME;
    return h;
}

static uint64_t emb_mix(uint64_t h) /* murmur3 fmix64 */
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static void emb_add(float *out, unsigned dim, uint64_t h, float w)
{
    h = emb_mix(h);
    uint32_t idx = (uint32_t)(((h & 0xffffffffULL) * dim) >> 32);
    out[idx] += (h >> 63) ? -w : w;
}

/* ---------------------------------------------------------------- tokens */

static int emb_is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Bytes of UTF-8 punctuation starting at s[i] (a separator), or 0 if s[i] is part of a word. */
static size_t emb_utf8_punct(const unsigned char *s, size_t n, size_t i)
{
    unsigned char c = s[i];
    size_t want;
    if (c == 0xc2)
        want = 2; /* U+0080..U+00BF: NBSP, section sign, guillemets, degree, soft hyphen */
    else if (c == 0xc3 && i + 1 < n && (s[i + 1] == 0x97 || s[i + 1] == 0xb7))
        want = 2; /* multiplication and division signs */
    else if (c == 0xe2)
        want = 3; /* U+2000..U+2FFF: dashes, quotes, ellipsis, bullets, arrows, ... */
    else
        return 0;
    size_t k = 1;
    while (k < want && i + k < n && (s[i + k] & 0xc0) == 0x80)
        k++;
    return k;
}

/* Find the next token at or after *pos: its raw span is s[*start..*pos). 0 at the end. */
static int emb_next_token(const unsigned char *s, size_t n, size_t *pos, size_t *start)
{
    size_t i = *pos;
    for (;;) {
        while (i < n && s[i] < 0x80 && !emb_is_alnum(s[i]))
            i++;
        if (i >= n) {
            *pos = i;
            return 0;
        }
        size_t k = s[i] >= 0x80 ? emb_utf8_punct(s, n, i) : 0;
        if (k == 0)
            break;
        i += k;
    }
    *start = i;
    while (i < n) {
        if (s[i] < 0x80) {
            if (!emb_is_alnum(s[i]))
                break;
            i++;
        } else {
            if (emb_utf8_punct(s, n, i) != 0)
                break;
            i++;
        }
    }
    *pos = i;
    return 1;
}

/* Lower-case raw[0..n) into buf (at most EMB_WORD_MAX_BYTES, NUL-terminated); its length. */
static size_t emb_lower(const unsigned char *raw, size_t n, unsigned char *buf)
{
    size_t m = 0;
    for (size_t i = 0; i < n && m < EMB_WORD_MAX_BYTES; i++) {
        unsigned char c = raw[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        else if (c >= 0x80 && c <= 0x9e && c != 0x97 && i > 0 && raw[i - 1] == 0xc3)
            c = (unsigned char)(c + 0x20); /* Latin-1 capital in UTF-8 (C3 80..9E) */
        buf[m++] = c;
    }
    buf[m] = '\0';
    return m;
}

static int emb_all_digits(const unsigned char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] < '0' || w[i] > '9')
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- stemming */

static int emb_vowel(unsigned char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

static int emb_has_suffix(const unsigned char *w, size_t n, const char *suf, size_t min_rest)
{
    size_t k = strlen(suf);
    return n >= k + min_rest && memcmp(w + n - k, suf, k) == 0;
}

static int emb_has_prefix(const unsigned char *w, size_t n, const char *pre, size_t min_rest)
{
    size_t k = strlen(pre);
    return n >= k + min_rest && memcmp(w, pre, k) == 0;
}

/* A light Indonesian stem of w[0..n) (lower-case) into out; its length. Deliberately simple
 * (no dictionary): the same rules run on questions and articles, so what matters is that
 * inflected forms meet, not that the stem is a real root. */
static size_t emb_stem(const unsigned char *w, size_t n, unsigned char *out)
{
    size_t b = 0, e = n;
    if (emb_has_suffix(w, e, "kah", 5) || emb_has_suffix(w, e, "lah", 5) ||
        emb_has_suffix(w, e, "pun", 4))
        e -= 3; /* wajibkah, bolehlah, meskipun; not masalah, sekolah, langkah */
    if (emb_has_suffix(w, e, "nya", 4))
        e -= 3; /* pidananya */

    unsigned char recode = 0; /* a consonant the nasal prefix swallowed */
    int prefixed = 1;
    const unsigned char *p = w;
    size_t m = e;
    if ((emb_has_prefix(p, m, "meny", 3) || emb_has_prefix(p, m, "peny", 3)) && emb_vowel(p[4])) {
        b = 4, recode = 's'; /* menyusun, penyusunan -> susun */
    } else if (emb_has_prefix(p, m, "meng", 3) || emb_has_prefix(p, m, "peng", 3)) {
        b = 4; /* mengatur -> atur, penggunaan -> guna */
    } else if (emb_has_prefix(p, m, "mem", 3) || emb_has_prefix(p, m, "pem", 3)) {
        b = 3; /* membayar -> bayar; memutus, pemerintah -> putus, perintah */
        if (emb_vowel(p[3]))
            recode = 'p';
    } else if (emb_has_prefix(p, m, "men", 3) || emb_has_prefix(p, m, "pen", 3)) {
        b = 3; /* mendapat -> dapat; menentukan, penetapan -> tentu, tetap */
        if (emb_vowel(p[3]))
            recode = 't';
    } else if (emb_has_prefix(p, m, "per", 4) || emb_has_prefix(p, m, "ber", 4) ||
               emb_has_prefix(p, m, "ter", 4)) {
        b = 3; /* perjanjian, berlaku, terdapat */
    } else if ((emb_has_prefix(p, m, "me", 3) || emb_has_prefix(p, m, "pe", 3)) &&
               strchr("lrwymn", p[2]) != NULL) {
        b = 2; /* melakukan, pelaku, merupakan */
    } else if (emb_has_prefix(p, m, "pe", 4) || emb_has_prefix(p, m, "di", 4) ||
               emb_has_prefix(p, m, "ke", 4) || emb_has_prefix(p, m, "se", 4)) {
        b = 2; /* pekerja, ditetapkan, ketentuan, setiap */
    } else if (emb_has_prefix(p, m, "beker", 2)) {
        b = 2; /* bekerja */
    } else {
        prefixed = 0;
    }

    size_t len = e - b;
    if (emb_has_suffix(w + b, len, "kan", 3))
        len -= 3;
    else if (emb_has_suffix(w + b, len, "an", 3))
        len -= 2;
    else if (prefixed && emb_has_suffix(w + b, len, "i", 3))
        len -= 1;

    size_t o = 0;
    if (recode != 0)
        out[o++] = recode;
    memcpy(out + o, w + b, len);
    o += len;
    out[o] = '\0';
    return o;
}

/* ---------------------------------------------------------------- counting and emitting */

static struct emb_slot *emb_lookup(struct emb_table *t, uint64_t key)
{
    key |= 1; /* 0 marks an empty slot */
    size_t i = (size_t)(emb_mix(key) & t->mask);
    for (;;) {
        struct emb_slot *s = &t->slot[i];
        if (s->key == key)
            return s;
        if (s->key == 0) {
            s->key = key;
            s->count = 0;
            s->kind = 0;
            t->order[t->used++] = (uint16_t)i;
            return s;
        }
        i = (i + 1) & t->mask;
    }
}

static float emb_tf(unsigned count)
{
    return (float)(1.0 + log((double)count));
}

static void emb_chars(const struct emb_weights *w, const unsigned char *word, size_t n, float tfw,
                      float *out, unsigned dim)
{
    unsigned char g[EMB_WORD_MAX_BYTES + 2];
    size_t m = n + 2;
    g[0] = '<';
    memcpy(g + 1, word, n);
    g[n + 1] = '>';
    size_t grams = 0;
    for (size_t k = w->ngram_min; k <= w->ngram_max; k++)
        grams += m >= k ? m - k + 1 : 0;
    if (grams == 0)
        return;
    float each = w->chars * tfw / sqrtf((float)grams);
    for (size_t i = 0; i + w->ngram_min <= m; i++) {
        uint64_t h = EMB_FNV_BASIS ^ EMB_SEED_CHARS;
        size_t end = i + w->ngram_max < m ? i + w->ngram_max : m;
        for (size_t j = i; j < end; j++) {
            h = (h ^ g[j]) * EMB_FNV_PRIME;
            if (j + 1 - i >= w->ngram_min)
                emb_add(out, dim, h ^ (j + 1 - i), each);
        }
    }
}

static void emb_flush(const struct emb_weights *w, struct emb_table *t, const unsigned char *text,
                      float *out, unsigned dim)
{
    unsigned char buf[EMB_WORD_MAX_BYTES + 1];
    for (unsigned o = 0; o < t->used; o++) {
        struct emb_slot *s = &t->slot[t->order[o]];
        uint64_t key = s->key;
        s->key = 0;
        if (s->count == 0)
            continue;
        float tfw = emb_tf(s->count) * s->factor;
        switch (s->kind) {
        case EMB_K_WORD: {
            size_t n = emb_lower(text + s->off, s->raw_len, buf);
            if (w->word != 0.0f)
                emb_add(out, dim, key, w->word * tfw);
            if (w->stem != 0.0f)
                emb_add(out, dim, s->stem_h, w->stem * tfw);
            if (w->chars != 0.0f)
                emb_chars(w, buf, n, tfw, out, dim);
            break;
        }
        case EMB_K_NUMBER:
            if (w->number != 0.0f)
                emb_add(out, dim, key, w->number * tfw);
            break;
        case EMB_K_BIGRAM:
            if (w->bigram != 0.0f)
                emb_add(out, dim, key, w->bigram * tfw);
            break;
        default: break;
        }
    }
    t->used = 0;
}

static void emb_hash_weighted(const struct emb_weights *w, const char *text, size_t len,
                              unsigned dim, float *out)
{
    if (dim == 0 || out == NULL)
        return;
    memset(out, 0, (size_t)dim * sizeof *out);
    if (text == NULL || len == 0 || dim < 8 || dim > LX_EMB_DIM_MAX)
        return;
    if (len > UINT32_MAX)
        len = UINT32_MAX; /* slot offsets are 32-bit; 4 GiB of text is not a query */

    const unsigned char *s = (const unsigned char *)text;
    struct emb_table t;
    size_t slots = 32; /* distinct features of a text are fewer than its bytes */
    while (slots < len + 16 && slots < EMB_TABLE_SLOTS)
        slots *= 2;
    memset(t.slot, 0, slots * sizeof t.slot[0]);
    t.used = 0;
    t.mask = (unsigned)slots - 1;
    t.flush_at = (unsigned)slots / 8 * 5;
    unsigned char buf[EMB_WORD_MAX_BYTES + 1], stem[EMB_WORD_MAX_BYTES + 2];
    uint64_t prev_stem = 0; /* 0: no previous word (start, or after a number) */
    float prev_factor = 0.0f;
    size_t pos = 0, start;

    while (emb_next_token(s, len, &pos, &start)) {
        size_t raw_len = pos - start;
        size_t n = emb_lower(s + start, raw_len, buf);
        if (n < 2)
            continue;
        int digits = emb_all_digits(buf, n);
        uint64_t key = emb_fnv(digits ? EMB_SEED_NUMBER : EMB_SEED_WORD, buf, n);
        struct emb_slot *sl = emb_lookup(&t, key);
        if (sl->kind == 0) { /* first sight in this part: classify once */
            sl->off = (uint32_t)start;
            sl->raw_len = (uint16_t)(raw_len < 0xffff ? raw_len : 0xffff);
            sl->factor = 1.0f;
            if (digits) {
                sl->kind = EMB_K_NUMBER;
            } else if (bm25_is_stopword((const char *)buf)) {
                sl->kind = EMB_K_STOP;
            } else {
                size_t sn = emb_stem(buf, n, stem);
                sl->kind = w->boilerplate && emb_is_boilerplate(stem, sn) ? EMB_K_STOP : EMB_K_WORD;
                sl->stem_h = emb_fnv(EMB_SEED_STEM, stem, sn);
                sl->factor = w->factor != NULL ? w->factor(stem, sn) : 1.0f;
            }
        }
        if (sl->kind == EMB_K_STOP)
            continue;
        if (sl->count < 0xffff)
            sl->count++;
        if (sl->kind == EMB_K_NUMBER) {
            prev_stem = 0;
        } else {
            uint64_t cur = sl->stem_h;
            if (prev_stem != 0) {
                uint64_t bk = emb_mix(prev_stem) ^ (cur * EMB_FNV_PRIME) ^ EMB_SEED_BIGRAM;
                struct emb_slot *bs = emb_lookup(&t, bk);
                if (bs->kind == 0)
                    bs->factor = sqrtf(prev_factor * sl->factor);
                bs->kind = EMB_K_BIGRAM;
                if (bs->count < 0xffff)
                    bs->count++;
            }
            prev_stem = cur;
            prev_factor = sl->factor;
        }
        if (t.used >= t.flush_at)
            emb_flush(w, &t, s, out, dim);
    }
    emb_flush(w, &t, s, out, dim);

    double ss = 0.0;
    for (unsigned i = 0; i < dim; i++)
        ss += (double)out[i] * out[i];
    if (ss > 0.0) {
        float inv = (float)(1.0 / sqrt(ss));
        for (unsigned i = 0; i < dim; i++)
            out[i] *= inv;
    }
}

void emb_hash(const char *text, size_t len, unsigned dim, float *out)
{
    emb_hash_weighted(&emb_default_weights, text, len, dim, out);
}
