/* shared/split.c -- splits a multi-part question into sub-queries (see split.h).
 *
 * The query is cut into words and punctuation ("?", "!", ";" always; ",", ".", ":" only when
 * followed by a space or the end, so "31/1999", "Rp5.000,00" and "No.31" stay words). A cut is
 * made where a second question starts:
 *   - after "?", "!" or ";" followed by more words;
 *   - after ". " unless the word before is an abbreviation ("No.", "jo.", "Rp.", "S.H.");
 *   - at a connector (dan, serta, juga, lalu, kemudian, [dan] juga) followed by a question word
 *     (apa, apakah, bagaimana, berapa, siapa, kapan, mengapa, di mana, ..., or an imperative
 *     jelaskan / sebutkan / uraikan): "... dan apa ...", "... serta bagaimana ...";
 *   - at ", lalu" / ", kemudian" / ", selanjutnya" (sequence after a comma);
 *   - at ", <question word>" when the text before it is itself a question (so "jika pekerja
 *     di-PHK, apakah ia berhak ..." stays whole: its first clause is a condition);
 *   - at "dan" / "serta" followed within three words by a back-reference ending in -nya
 *     ("definisi korupsi dan sanksi pidananya"), when the text before has two content words.
 * A "dan" that joins nouns ("hak dan kewajiban pekerja", "tindak pidana korupsi dan pencucian
 * uang") is none of these and stays. The connector itself is dropped from the later part.
 *
 * A later part with a -nya back-reference carries the topic of the first part: every -nya
 * word loses its suffix and the topic is put after the last of them ("apa sanksi pidananya" ->
 * "apa sanksi pidana korupsi"). The topic is the first part without its leading question words,
 * definition keywords and aspect nouns (apa, itu, yang, dimaksud, dengan, definisi, pengertian,
 * sanksi, syarat, hak, prosedur, ...): "apa yang dimaksud dengan korporasi" -> "korporasi",
 * "apa hak pekerja kontrak" -> "pekerja kontrak". When the last -nya word's stem is the topic's
 * first word it is not repeated ("berapa lama cutinya" + "cuti haid" -> "berapa lama cuti
 * haid"). Words that merely end in -nya (hanya, sebelumnya, lainnya, ...) are not
 * back-references.
 *
 * A part with fewer than SPLIT_MIN_CONTENT_WORDS content words (counted after the topic is
 * carried; question words, connectors and particles do not count) is merged back into the part
 * before it (the first part into the next), with the text between them, so "apa definisi
 * korupsi dan apa?" and "apa hak dan apa kewajiban pekerja" stay whole. One exception: a
 * question about one topic word ("apa itu gratifikasi?") stands on its own; one about an aspect
 * noun alone ("apa hak") or a -nya with no topic to carry ("apa sanksinya?") does not. More than
 * max parts (at most LX_SPLIT_MAX_PARTS): the tail is merged into the last. Every part is trimmed
 * of spaces and of the punctuation at its ends ("?", ","...). A query with no word at all, or
 * longer than SPLIT_MAX_INPUT_BYTES / SPLIT_MAX_TOKENS, is one part trimmed of spaces only (so
 * "" gives the one part ""). Linear in the query: about 0.1 ms for 2000 characters. Pure: no
 * I/O; the parts and the token array live in the arena. */
#include "split.h"

#include "arena.h"

#include <string.h>

/* Longer queries are not split (the API caps a query at 2000 characters). */
#define SPLIT_MAX_INPUT_BYTES   8192
#define SPLIT_MAX_TOKENS        1024 /* words and punctuation of one query */
#define SPLIT_MAX_CUTS          16   /* candidate parts before merging */
#define SPLIT_MIN_CONTENT_WORDS 2
#define SPLIT_NYA_LOOKAHEAD     3 /* "dan <w1> <w2> <w3>": where a -nya back-reference counts */

struct split_tok {
    size_t s, e; /* bytes of q */
    char punct;  /* 0 for a word, else the punctuation character */
};

struct split_part {
    size_t lead; /* first token, connector included (what a merge takes along) */
    size_t from; /* first token after the connector */
    size_t to;   /* one past the last token */
};

struct split_ctx {
    const char *q;
    struct split_tok *t;
    size_t n;
    struct split_part parts[SPLIT_MAX_CUTS];
    size_t np;
    size_t topic_from, topic_to; /* words of the first part that are its topic; empty: none */
};

static const char *const split_question_words[] = {
    "apa",      "apakah",   "bagaimana", "bagaimanakah", "berapa",    "berapakah",
    "siapa",    "siapakah", "kapan",     "kapankah",     "mengapa",   "kenapa",
    "dimana",   "bilamana", "adakah",    "bolehkah",     "bisakah",   "dapatkah",
    "haruskah", "jelaskan", "sebutkan",  "uraikan",      "terangkan", NULL};

/* Words that carry no topic: question words, connectors, particles, prepositions. */
static const char *const split_stop_words[] = {
    "apa",    "apakah",   "bagaimana", "berapa",  "siapa",     "kapan",       "mengapa",
    "kenapa", "dimana",   "di",        "mana",    "yang",      "dan",         "serta",
    "juga",   "lalu",     "kemudian",  "itu",     "ini",       "saja",        "dengan",
    "dari",   "ke",       "pada",      "untuk",   "bagi",      "dalam",       "oleh",
    "atau",   "adalah",   "ialah",     "pun",     "tentang",   "menurut",     "ya",
    "tolong", "mohon",    "jika",      "kalau",   "bila",      "apabila",     "sih",
    "dong",   "jelaskan", "sebutkan",  "uraikan", "terangkan", "selanjutnya", "terus",
    NULL};

/* Leading words of the first part that are not its topic. */
static const char *const split_topic_skip[] = {
    "apa",      "apakah",      "bagaimana", "berapa",    "siapa",      "kapan",         "mengapa",
    "kenapa",   "dimana",      "jelaskan",  "sebutkan",  "uraikan",    "terangkan",     "itu",
    "yang",     "dimaksud",    "dengan",    "definisi",  "pengertian", "arti",          "maksud",
    "makna",    "saja",        "isi",       "bunyi",     "tentang",    "mengenai",      "dari",
    "bagi",     "sanksi",      "hukuman",   "ancaman",   "syarat",     "syarat-syarat", "prosedur",
    "tata",     "cara",        "proses",    "mekanisme", "hak",        "kewajiban",     "tugas",
    "wewenang", "kewenangan",  "fungsi",    "tujuan",    "jenis",      "jenis-jenis",   "bentuk",
    "unsur",    "unsur-unsur", "ketentuan", "aturan",    "pengaturan", "dasar",         "batas",
    "besaran",  "jumlah",      "akibat",    "asas",      "contoh",     "ruang",         "lingkup",
    NULL};

/* Words ending in -nya that do not refer back to a topic. */
static const char *const split_nya_not_ref[] = {"hanya",
                                                "punya",
                                                "tanya",
                                                "bertanya",
                                                "ditanya",
                                                "sebaiknya",
                                                "seharusnya",
                                                "selanjutnya",
                                                "sebelumnya",
                                                "sesudahnya",
                                                "setelahnya",
                                                "lainnya",
                                                "sebenarnya",
                                                "biasanya",
                                                "misalnya",
                                                "umumnya",
                                                "khususnya",
                                                "akhirnya",
                                                "sayangnya",
                                                "tentunya",
                                                "seterusnya",
                                                "sesungguhnya",
                                                "semuanya",
                                                "adanya",
                                                "nya",
                                                "hendaknya",
                                                "mestinya",
                                                "rupanya",
                                                "agaknya",
                                                "kiranya",
                                                "setidaknya",
                                                "sekurang-kurangnya",
                                                "selambat-lambatnya",
                                                "sebanyak-banyaknya",
                                                "sedikitnya",
                                                "paling",
                                                NULL};

/* Abbreviations whose period does not end a sentence. */
static const char *const split_abbrev[] = {"no",   "jo",  "psl", "ps",  "th",  "thn", "rp",
                                           "dll",  "dsb", "dst", "hlm", "tgl", "kab", "kec",
                                           "prov", "dr",  "ir",  "drs", "sdr", "bpk", "yth",
                                           "nmr",  "ayt", "kel", "jl",  "pt",  "cv",  NULL};

static int split_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static unsigned char split_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Is q[s..e) equal to word w, ignoring ASCII case? */
static int split_eq(const char *q, size_t s, size_t e, const char *w)
{
    size_t wl = strlen(w);
    if (e - s != wl)
        return 0;
    for (size_t k = 0; k < wl; k++)
        if (split_lower((unsigned char)q[s + k]) != (unsigned char)w[k])
            return 0;
    return 1;
}

static int split_word_in(const struct split_ctx *c, size_t i, const char *const *words)
{
    if (i >= c->n || c->t[i].punct)
        return 0;
    for (size_t k = 0; words[k] != NULL; k++)
        if (split_eq(c->q, c->t[i].s, c->t[i].e, words[k]))
            return 1;
    return 0;
}

static int split_word_is(const struct split_ctx *c, size_t i, const char *w)
{
    const char *const words[] = {w, NULL};
    return split_word_in(c, i, words);
}

/* A question word at i ("di mana" counts). */
static int split_is_question(const struct split_ctx *c, size_t i)
{
    return split_word_in(c, i, split_question_words) ||
           (split_word_is(c, i, "di") && split_word_is(c, i + 1, "mana"));
}

/* A -nya back-reference ("pidananya", "sanksinya"): letters (and dashes) with a stem of at
 * least three, not one of the adverbs that merely end in -nya. */
static int split_is_nya_ref(const struct split_ctx *c, size_t i)
{
    if (i >= c->n || c->t[i].punct)
        return 0;
    size_t s = c->t[i].s, e = c->t[i].e;
    if (e - s < 6 || !split_eq(c->q, e - 3, e, "nya"))
        return 0;
    for (size_t k = s; k < e; k++) {
        unsigned char ch = split_lower((unsigned char)c->q[k]);
        if (!(ch >= 'a' && ch <= 'z') && ch != '-')
            return 0;
    }
    return !split_word_in(c, i, split_nya_not_ref);
}

/* Tokens of q[0..len): their count, or 0 past max. */
static size_t split_tokenize(const char *q, size_t len, struct split_tok *t, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)q[i];
        if (split_is_space(ch)) {
            i++;
            continue;
        }
        if (n == max)
            return 0;
        int soft = ch == ',' || ch == '.' || ch == ':';
        int ends = i + 1 == len || split_is_space((unsigned char)q[i + 1]) ||
                   strchr("?!;,.:", q[i + 1]) != NULL;
        if (ch == '?' || ch == '!' || ch == ';' || (soft && ends)) {
            t[n++] = (struct split_tok){i, i + 1, (char)ch};
            i++;
            continue;
        }
        size_t s = i;
        while (i < len) {
            ch = (unsigned char)q[i];
            if (split_is_space(ch) || ch == '?' || ch == '!' || ch == ';')
                break;
            if ((ch == ',' || ch == '.' || ch == ':') &&
                (i + 1 == len || split_is_space((unsigned char)q[i + 1]) ||
                 strchr("?!;,.:", q[i + 1]) != NULL))
                break;
            i++;
        }
        t[n++] = (struct split_tok){s, i, 0};
    }
    return n;
}

/* Content words among tokens [from, to). */
static size_t split_content_words(const struct split_ctx *c, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        if (!c->t[i].punct && !split_word_in(c, i, split_stop_words))
            n++;
    return n;
}

static int split_has_question(const struct split_ctx *c, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (split_is_question(c, i))
            return 1;
    return 0;
}

static int split_has_nya_ref(const struct split_ctx *c, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (split_is_nya_ref(c, i))
            return 1;
    return 0;
}

/* Does the period at i end a sentence? Not after an abbreviation or a number. */
static int split_period_ends(const struct split_ctx *c, size_t i)
{
    if (i == 0 || c->t[i - 1].punct || i + 1 >= c->n || c->t[i + 1].punct)
        return 0;
    const struct split_tok *w = &c->t[i - 1];
    if (w->e - w->s < 3 || memchr(c->q + w->s, '.', w->e - w->s) != NULL ||
        split_word_in(c, i - 1, split_abbrev))
        return 0;
    unsigned char next = split_lower((unsigned char)c->q[c->t[i + 1].s]);
    return next >= 'a' && next <= 'z';
}

/* Starts a new part at token lead, its words at from. */
static void split_cut(struct split_ctx *c, size_t lead, size_t from)
{
    if (c->np == SPLIT_MAX_CUTS)
        return;
    c->parts[c->np - 1].to = lead;
    c->parts[c->np++] = (struct split_part){lead, from, c->n};
}

/* Finds the candidate cuts (see the top of the file). One pass: what the rules need to know
 * about the current part (its content words, whether it asks something) is kept as it grows,
 * so a long query of many "dan" costs linear time. */
static void split_find_cuts(struct split_ctx *c)
{
    static const char *const connectors[] = {"dan", "serta", "juga", "lalu", "kemudian", NULL};
    static const char *const after_comma[] = {"lalu", "kemudian", "selanjutnya", "terus", NULL};
    size_t content = 0; /* content words of the current part before token i */
    int asks = 0;       /* the current part has a question word before token i */
    c->parts[0] = (struct split_part){0, 0, c->n};
    c->np = 1;
    for (size_t i = 0; i < c->n; i++) {
        size_t np = c->np;
        const struct split_tok *k = &c->t[i];
        if (k->punct == '?' || k->punct == '!' || k->punct == ';' ||
            (k->punct == '.' && split_period_ends(c, i))) {
            if (i + 1 < c->n)
                split_cut(c, i + 1, i + 1);
        } else if (k->punct == ',') {
            if (split_word_in(c, i + 1, after_comma))
                split_cut(c, i + 1, i + 2);
            else if (asks && split_is_question(c, i + 1))
                split_cut(c, i + 1, i + 1);
        } else if (split_word_in(c, i, connectors)) {
            size_t q = i + 1;
            if (split_word_is(c, q, "juga"))
                q++;
            if (split_is_question(c, q)) {
                split_cut(c, i, q);
            } else if ((split_word_is(c, i, "dan") || split_word_is(c, i, "serta")) &&
                       content >= SPLIT_MIN_CONTENT_WORDS) {
                size_t end = i + 1;
                while (end < c->n && end <= i + SPLIT_NYA_LOOKAHEAD && !c->t[end].punct)
                    end++;
                if (split_has_nya_ref(c, i + 1, end))
                    split_cut(c, i, i + 1);
            }
        }
        if (c->np != np) { /* a new part starts at its first word after the connector */
            i = c->parts[c->np - 1].from - 1;
            content = 0;
            asks = 0;
        } else if (!k->punct) {
            content += !split_word_in(c, i, split_stop_words);
            asks |= split_is_question(c, i);
        }
    }
}

/* Words [from, to) of a part without the punctuation at its ends; 0 if it has no word. */
static int split_words(const struct split_ctx *c, const struct split_part *p, size_t *from,
                       size_t *to)
{
    size_t f = p->from, t = p->to;
    while (f < t && c->t[f].punct)
        f++;
    while (t > f && c->t[t - 1].punct)
        t--;
    *from = f;
    *to = t;
    return f < t;
}

/* The topic of the first part: its words after the leading question words, definition
 * keywords and aspect nouns. */
static void split_find_topic(struct split_ctx *c)
{
    size_t f, t;
    c->topic_from = c->topic_to = 0;
    if (!split_words(c, &c->parts[0], &f, &t))
        return;
    while (f < t && (split_word_in(c, f, split_topic_skip) || split_is_question(c, f)))
        f++;
    if (split_word_is(c, f, "mana") && f > 0 && split_word_is(c, f - 1, "di"))
        f++;
    c->topic_from = f;
    c->topic_to = t;
}

/* Does part k stand on its own? It does with SPLIT_MIN_CONTENT_WORDS content words as it
 * will be sent (a later part with a back-reference gains the topic's), or as a question about
 * one topic word ("apa itu gratifikasi"), but not about an aspect noun alone ("apa hak") or a
 * back-reference with nothing to refer to ("apa sanksinya"). */
static int split_part_stands(const struct split_ctx *c, size_t k)
{
    const struct split_part *p = &c->parts[k];
    size_t n = split_content_words(c, p->from, p->to);
    int nya = split_has_nya_ref(c, p->from, p->to);
    if (k > 0 && nya && c->topic_from < c->topic_to)
        n += split_content_words(c, c->topic_from, c->topic_to);
    if (n >= SPLIT_MIN_CONTENT_WORDS)
        return 1;
    if (n == 0 || nya || !split_has_question(c, p->from, p->to))
        return 0;
    for (size_t i = p->from; i < p->to; i++)
        if (!c->t[i].punct && !split_word_in(c, i, split_stop_words))
            return !split_word_in(c, i, split_topic_skip);
    return 0;
}

/* Merges part k into its neighbour (the one before; the first into the next). */
static void split_merge(struct split_ctx *c, size_t k)
{
    if (k == 0) {
        c->parts[1].lead = c->parts[0].lead;
        c->parts[1].from = c->parts[0].from;
    } else {
        c->parts[k - 1].to = c->parts[k].to;
    }
    memmove(&c->parts[k], &c->parts[k + 1], (c->np - k - 1) * sizeof c->parts[0]);
    c->np--;
}

/* Merges short parts away, then the tail beyond max. */
static void split_settle(struct split_ctx *c, unsigned max)
{
    size_t k = 0;
    while (c->np > 1 && k < c->np) {
        split_find_topic(c);
        if (!split_part_stands(c, k)) {
            split_merge(c, k);
            k = 0; /* the topic may have changed: look again from the start */
        } else {
            k++;
        }
    }
    while (c->np > max)
        split_merge(c, c->np - 1);
    split_find_topic(c);
}

/* The text of part k: trimmed, and for a later part with a back-reference, the -nya suffixes
 * dropped and the topic put after the last of them. */
static const char *split_render(struct arena *a, const struct split_ctx *c, size_t k)
{
    size_t f, t;
    if (!split_words(c, &c->parts[k], &f, &t))
        return arena_strndup(a, "", 0);
    size_t s = c->t[f].s, e = c->t[t - 1].e;
    int carry = k > 0 && c->topic_from < c->topic_to && split_has_nya_ref(c, f, t);
    if (!carry)
        return arena_strndup(a, c->q + s, e - s);
    size_t ts = c->t[c->topic_from].s, te = c->t[c->topic_to - 1].e;
    char *out = arena_alloc(a, (e - s) + 1 + (te - ts) + 1);
    if (out == NULL)
        return NULL;
    size_t last = f;
    for (size_t i = f; i < t; i++)
        if (split_is_nya_ref(c, i))
            last = i;
    size_t o = 0, at = s;
    for (size_t i = f; i < t; i++) {
        if (!split_is_nya_ref(c, i))
            continue;
        size_t stem_end = c->t[i].e - 3;
        if (i == last) {
            /* "cutinya" + topic "cuti haid": the topic already starts with the stem */
            const struct split_tok *t0 = &c->t[c->topic_from];
            if (stem_end - c->t[i].s == t0->e - t0->s) {
                char stem[64];
                size_t sl = stem_end - c->t[i].s;
                if (sl < sizeof stem) {
                    memcpy(stem, c->q + c->t[i].s, sl);
                    stem[sl] = '\0';
                    for (size_t j = 0; j < sl; j++)
                        stem[j] = (char)split_lower((unsigned char)stem[j]);
                    if (split_eq(c->q, t0->s, t0->e, stem))
                        stem_end = c->t[i].s;
                }
            }
        }
        memcpy(out + o, c->q + at, stem_end - at); /* up to the word without its -nya */
        o += stem_end - at;
        at = c->t[i].e;
        if (i == last) {
            if (o > 0 && out[o - 1] != ' ')
                out[o++] = ' ';
            memcpy(out + o, c->q + ts, te - ts);
            o += te - ts;
        }
    }
    memcpy(out + o, c->q + at, e - at);
    o += e - at;
    out[o] = '\0';
    return out;
}

/* The whole query, trimmed of spaces: the answer when it is not split. */
static const char *split_whole(struct arena *a, const char *q, size_t len)
{
    size_t s = 0, e = len;
    while (s < e && split_is_space((unsigned char)q[s]))
        s++;
    while (e > s && split_is_space((unsigned char)q[e - 1]))
        e--;
    return arena_strndup(a, q + s, e - s);
}

unsigned split_query(struct arena *a, const char *q, const char **parts, unsigned max)
{
    if (max == 0 || q == NULL)
        return 0;
    if (max > LX_SPLIT_MAX_PARTS)
        max = LX_SPLIT_MAX_PARTS;
    size_t len = strlen(q);
    struct split_ctx c = {.q = q};
    if (len > 0 && len <= SPLIT_MAX_INPUT_BYTES) {
        size_t max_tokens = len < SPLIT_MAX_TOKENS ? len : SPLIT_MAX_TOKENS; /* >= 1 byte each */
        c.t = arena_alloc(a, max_tokens * sizeof *c.t);
        if (c.t == NULL)
            return 0;
        c.n = split_tokenize(q, len, c.t, max_tokens);
    }
    size_t f, t;
    struct split_part whole = {0, 0, c.n};
    if (c.n == 0 || !split_words(&c, &whole, &f, &t)) {
        /* too long, too many tokens, or no words at all: the query as it is */
        return (parts[0] = split_whole(a, q, len)) != NULL ? 1 : 0;
    }
    split_find_cuts(&c);
    split_settle(&c, max);
    for (size_t k = 0; k < c.np; k++)
        if ((parts[k] = split_render(a, &c, k)) == NULL)
            return 0;
    return (unsigned)c.np;
}
