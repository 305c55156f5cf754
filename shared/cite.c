/* shared/cite.c -- the citation fast path's parser (see cite.h): decides whether a whole query
 * IS a citation of one article, and which.
 *
 * Two passes over a lower-cased copy of the query (at most CITE_MAX_INPUT_BYTES). The tokenizer
 * makes words (ASCII letters), numbers (ASCII digits; "12B" and "303bis" split into a number and
 * a word), "(", ")", "/", "-" and end punctuation ("?", "!"); spaces, commas, periods, colons
 * and quotes only separate; any other byte (non-ASCII) is a token no rule accepts, except inside
 * a "tentang ..." title. A recursive-descent parser then accepts, in either order,
 *
 *     [filler...] [ayat] pasal [ayat] [huruf/angka/ke-N] law [tentang ...] [jo law [tentang ...]]
 *     [filler...] law [tentang ...] [jo law] [ayat] pasal [ayat] [huruf/angka/ke-N] [jo law]
 *
 * followed only by trailing "?"/"!" and a trailing "apa"/"bunyinya"/"isinya"/"berbunyi":
 *   pasal  "pasal" | "psl" | "ps", then 1..9999 with an optional letter ("12 B" -> "12B") and an
 *          optional bis/ter/quater/... ("303bis" -> "303 bis"), or a Roman numeral I..XCIX
 *          (articles of amending laws)
 *   ayat   "ayat" | "ayt" | "ay", then "(1)" or "1" (1..999, optional letter: "(1a)"); a bare
 *          "(1)" right after the pasal also counts; "huruf a", "angka 3", "ke-1" are accepted
 *          and dropped (struct cite has no field for them; the article is what is looked up)
 *   law    type [RI | Republik Indonesia | NRI] [No | Nomor | Nomer | Nmr] N (/ | - | Tahun |
 *          Th | Thn) YYYY, type one of UU / Undang-Undang, PP / Peraturan Pemerintah, Perpu /
 *          Perppu / Peraturan Pemerintah Pengganti Undang-Undang, Perpres / Peraturan Presiden,
 *          Keppres / Keputusan Presiden; N 1..9999, YYYY 1945..2100 (four digits); or an alias
 *          (KUHP, KUH Perdata, UU ITE ...), longest match
 *   jo     "jo" | "juncto" | "jis" | "sebagaimana [telah] [beberapa kali] diubah [terakhir]
 *          dengan|oleh"; at most one
 *   filler up to CITE_MAX_FILLERS leading words such as "apa isi", "bunyi", "teks", "tolong"
 * doc_id is "{TYPE}-{N}-{YYYY}" for a typed law; for an alias it is the alias's doc_id, and
 * doc_type/number/year are read back from it when it has that form (KUHAP -> "UU", "8", 1981),
 * else doc_type is the doc_id itself with no number and year 0 (KUHP -> "KUHP", "", 0).
 *
 * What does not parse, on purpose: anything with a word the grammar does not place, so a
 * question that merely mentions an article ("apa sanksi korupsi menurut pasal 2 UU 31/1999?")
 * is NOT a citation: it goes to the normal search, which the caller may still filter by the law
 * (cite.h's contract; guessing which of the question's words the article answers is the
 * retriever's job, not the parser's). Also refused: a law without a pasal ("UU 31/1999"), a
 * pasal without a law ("pasal 2"), two articles ("Pasal 2 jo. Pasal 18 UU 31/1999", "Pasal 2
 * dan 3 ..."), a two-digit year ("UU 31/99"), number and year without a separator ("UU 31
 * 1999"), pasal 0, ayat 0, years outside 1945..2100, a "tentang" title containing a question
 * word, and over-long input. Pure: no I/O, no allocation. */
#include "cite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest query considered: a formal citation with "tentang" titles of both laws and a
 * "sebagaimana telah diubah dengan" fits; anything longer is a question, not a citation. */
#define CITE_MAX_INPUT_BYTES  320
#define CITE_MAX_TOKENS       96 /* a 320-byte citation has far fewer */
#define CITE_MAX_FILLERS      3  /* leading "tolong tampilkan isi ..." */
#define CITE_MAX_TRAILERS     2  /* trailing "... bunyinya apa" */
#define CITE_MAX_TITLE_TOKENS 40
#define CITE_MAX_ALIAS_BYTES  64           /* longer alias names never match */
#define CITE_NUM_BIG          1000000000UL /* numbers of more digits are all "too big" */

const struct cite_alias cite_default_aliases[] = {
    /* the old criminal code (Wetboek van Strafrecht), doc_id "KUHP" in the corpus */
    {"KUHP", "KUHP"},
    {"KUHP lama", "KUHP"},
    {"Kitab Undang-Undang Hukum Pidana", "KUHP"},
    {"WvS", "KUHP"},
    /* the new criminal code, UU 1/2023 */
    {"KUHP baru", "UU-1-2023"},
    {"KUHP 2023", "UU-1-2023"},
    {"KUHP nasional", "UU-1-2023"},
    /* the civil code: not in the corpus (kept: a look-up simply finds nothing) */
    {"KUHPerdata", "KUHPerdata"},
    {"KUH Perdata", "KUHPerdata"},
    {"KUHPer", "KUHPerdata"},
    {"KUHPdt", "KUHPerdata"},
    {"BW", "KUHPerdata"},
    {"Burgerlijk Wetboek", "KUHPerdata"},
    {"Kitab Undang-Undang Hukum Perdata", "KUHPerdata"},
    /* criminal procedure, UU 8/1981 */
    {"KUHAP", "UU-8-1981"},
    {"Kitab Undang-Undang Hukum Acara Pidana", "UU-8-1981"},
    /* laws best known by a short name (all in the corpus, as their original text) */
    {"UU Tipikor", "UU-31-1999"},
    {"UU ITE", "UU-11-2008"},
    {"UU Ketenagakerjaan", "UU-13-2003"},
    {"UU PDP", "UU-27-2022"},
    {"UU Perkawinan", "UU-1-1974"},
    {"UU Cipta Kerja", "UU-11-2020"},
    {"UU Perlindungan Konsumen", "UU-8-1999"},
    {"UU Narkotika", "UU-35-2009"},
    {"UU LLAJ", "UU-22-2009"},
    {"UU Perlindungan Anak", "UU-23-2002"},
    {"UU Perseroan Terbatas", "UU-40-2007"},
    {"UU PT", "UU-40-2007"},
    {"UU HAM", "UU-39-1999"},
    {"UU PKDRT", "UU-23-2004"},
    {"UU TPPU", "UU-8-2010"},
    {"UUPA", "UU-5-1960"},
    {"UU Pokok Agraria", "UU-5-1960"},
    {NULL, NULL},
};

enum cite_tok_kind {
    CT_WORD,   /* [a-z]+ */
    CT_NUM,    /* [0-9]+ */
    CT_LPAREN, /* ( */
    CT_RPAREN, /* ) */
    CT_SLASH,  /* / */
    CT_DASH,   /* - */
    CT_END,    /* ? or ! */
    CT_OTHER,  /* any other byte: accepted only inside a "tentang" title */
};

struct cite_tok {
    enum cite_tok_kind kind;
    const char *s; /* into the lower-cased copy; not NUL-terminated */
    size_t len;
    unsigned long num; /* CT_NUM: the value, CITE_NUM_BIG when it has more than 9 digits */
};

struct cite_p {
    const struct cite_tok *t;
    size_t n, i; /* tokens, and the next one */
    const struct cite_alias *aliases;
};

static int cite_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int cite_is_alpha(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static int cite_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Tokens of the lower-case text s[0..len): their count, or -1 past max. */
static int cite_tokenize(const char *s, size_t len, struct cite_tok *t, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (cite_is_space(c) || c == ',' || c == '.' || c == ':' || c == '"' || c == '\'') {
            i++;
            continue;
        }
        if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0xa0) { /* UTF-8 NBSP */
            i += 2;
            continue;
        }
        if (n == max)
            return -1;
        struct cite_tok *k = &t[n++];
        k->s = s + i;
        k->num = 0;
        if (cite_is_alpha(c)) {
            k->kind = CT_WORD;
            while (i < len && cite_is_alpha((unsigned char)s[i]))
                i++;
        } else if (cite_is_digit(c)) {
            k->kind = CT_NUM;
            size_t digits = 0;
            while (i < len && cite_is_digit((unsigned char)s[i])) {
                if (++digits <= 9)
                    k->num = k->num * 10 + (unsigned long)(s[i] - '0');
                i++;
            }
            if (digits > 9)
                k->num = CITE_NUM_BIG;
        } else {
            k->kind = c == '('               ? CT_LPAREN
                      : c == ')'             ? CT_RPAREN
                      : c == '/'             ? CT_SLASH
                      : c == '-'             ? CT_DASH
                      : c == '?' || c == '!' ? CT_END
                                             : CT_OTHER;
            i++;
        }
        k->len = (size_t)(s + i - k->s);
    }
    return (int)n;
}

/* Lower-cases src[0..len) into dst (len + 1 bytes). */
static void cite_lower(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    dst[len] = '\0';
}

static int cite_tok_is(const struct cite_tok *k, const char *word)
{
    size_t wl = strlen(word);
    return k->kind == CT_WORD && k->len == wl && memcmp(k->s, word, wl) == 0;
}

/* Token i is the word w (0 past the end). */
static int cite_at(const struct cite_p *p, size_t i, const char *w)
{
    return i < p->n && cite_tok_is(&p->t[i], w);
}

static int cite_kind_at(const struct cite_p *p, size_t i, enum cite_tok_kind kind)
{
    return i < p->n && p->t[i].kind == kind;
}

/* Takes the word w at the cursor. */
static int cite_take(struct cite_p *p, const char *w)
{
    if (!cite_at(p, p->i, w))
        return 0;
    p->i++;
    return 1;
}

static int cite_take_any(struct cite_p *p, const char *const *words)
{
    for (size_t k = 0; words[k] != NULL; k++)
        if (cite_take(p, words[k]))
            return 1;
    return 0;
}

static int cite_in(const struct cite_tok *k, const char *const *words)
{
    for (size_t j = 0; words[j] != NULL; j++)
        if (cite_tok_is(k, words[j]))
            return 1;
    return 0;
}

/* How many tokens from i the phrase (any case; "Undang-Undang" and "undang undang" alike: dashes
 * are skipped on both sides) spans; 0 if it does not match there. */
static size_t cite_phrase_at(const struct cite_p *p, size_t i, const char *phrase)
{
    size_t plen = strlen(phrase);
    if (plen == 0 || plen > CITE_MAX_ALIAS_BYTES)
        return 0;
    char low[CITE_MAX_ALIAS_BYTES + 1];
    struct cite_tok pt[CITE_MAX_ALIAS_BYTES];
    cite_lower(low, phrase, plen);
    int pn = cite_tokenize(low, plen, pt, CITE_MAX_ALIAS_BYTES);
    size_t at = i, matched = 0;
    for (int k = 0; k < pn; k++) {
        if (pt[k].kind == CT_DASH)
            continue;
        while (at < p->n && p->t[at].kind == CT_DASH && at > i)
            at++;
        if (at >= p->n)
            return 0;
        const struct cite_tok *a = &p->t[at], *b = &pt[k];
        if (a->kind != b->kind || a->len != b->len || memcmp(a->s, b->s, a->len) != 0)
            return 0;
        at++;
        matched++;
    }
    return matched ? at - i : 0;
}

/* ---- numbers ---------------------------------------------------------------------------- */

/* Value of a canonical Roman numeral in i, v, x, l (1..99), else 0: "iiii" and "vx" are not. */
static unsigned cite_roman(const char *s, size_t len)
{
    static const char *const tens[] = {"", "x", "xx", "xxx", "xl", "l", "lx", "lxx", "lxxx", "xc"};
    static const char *const ones[] = {"", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"};
    for (unsigned v = 1; v < 100; v++) {
        const char *t = tens[v / 10], *o = ones[v % 10];
        size_t tl = strlen(t), ol = strlen(o);
        if (tl + ol == len && memcmp(s, t, tl) == 0 && memcmp(s + tl, o, ol) == 0)
            return v;
    }
    return 0;
}

/* A number token in [lo, hi] at the cursor, of at most max_digits digits. */
static int cite_take_num(struct cite_p *p, unsigned long lo, unsigned long hi, size_t max_digits,
                         unsigned long *v)
{
    if (!cite_kind_at(p, p->i, CT_NUM))
        return 0;
    const struct cite_tok *k = &p->t[p->i];
    if (k->len > max_digits || k->num < lo || k->num > hi)
        return 0;
    *v = k->num;
    p->i++;
    return 1;
}

/* A single-letter word at the cursor (a pasal or ayat suffix): the letter, or 0. */
static char cite_take_letter(struct cite_p *p)
{
    if (!cite_kind_at(p, p->i, CT_WORD) || p->t[p->i].len != 1)
        return 0;
    return p->t[p->i++].s[0];
}

/* ---- the parts of a citation ------------------------------------------------------------ */

static const char *const cite_pasal_words[] = {"pasal", "psl", "ps", NULL};
static const char *const cite_ayat_words[] = {"ayat", "ayt", "ay", NULL};

/* pasal: keyword, then N [letter] [bis|ter|...] or a Roman numeral. */
static int cite_pasal(struct cite_p *p, struct cite *c)
{
    static const char *const latin[] = {"bis",     "ter",    "quater", "quinquies", "sexies",
                                        "septies", "octies", "novies", "decies",    NULL};
    if (!cite_take_any(p, cite_pasal_words))
        return 0;
    unsigned long n;
    if (cite_take_num(p, 1, 9999, 5, &n)) {
        char letter = cite_take_letter(p); /* "12 B", "12b" */
        const char *lat = NULL;
        for (size_t k = 0; latin[k] != NULL && lat == NULL; k++)
            if (cite_take(p, latin[k]))
                lat = latin[k];
        if (letter)
            snprintf(c->pasal, sizeof c->pasal, "%lu%c%s%s", n, (char)(letter - 'a' + 'A'),
                     lat ? " " : "", lat ? lat : "");
        else
            snprintf(c->pasal, sizeof c->pasal, "%lu%s%s", n, lat ? " " : "", lat ? lat : "");
        return 1;
    }
    if (cite_kind_at(p, p->i, CT_WORD)) {
        const struct cite_tok *k = &p->t[p->i];
        if (cite_roman(k->s, k->len) == 0)
            return 0;
        size_t j = 0;
        for (; j < k->len && j + 1 < sizeof c->pasal; j++)
            c->pasal[j] = (char)(k->s[j] - 'a' + 'A');
        c->pasal[j] = '\0';
        p->i++;
        return 1;
    }
    return 0;
}

/* ayat: keyword then "(N)" or "N"; or a bare "(N)" when bare is set. */
static int cite_ayat(struct cite_p *p, struct cite *c, int bare)
{
    size_t save = p->i;
    int kw = cite_take_any(p, cite_ayat_words);
    if (!kw && !bare)
        return 0;
    int paren = cite_kind_at(p, p->i, CT_LPAREN);
    if (!kw && !paren)
        return 0;
    if (paren)
        p->i++;
    unsigned long n;
    if (!cite_take_num(p, 1, 999, 3, &n)) {
        p->i = save;
        return 0;
    }
    char letter = cite_take_letter(p);
    if (paren) {
        if (!cite_kind_at(p, p->i, CT_RPAREN)) {
            p->i = save;
            return 0;
        }
        p->i++;
    }
    if (letter)
        snprintf(c->ayat, sizeof c->ayat, "%lu%c", n, letter);
    else
        snprintf(c->ayat, sizeof c->ayat, "%lu", n);
    return 1;
}

/* "huruf a", "angka 3", "butir 2", "ke-1" after the pasal or ayat: accepted, not kept. */
static void cite_finer(struct cite_p *p)
{
    for (int guard = 0; guard < 4; guard++) {
        size_t save = p->i;
        unsigned long n;
        if (cite_take(p, "huruf") && cite_take_letter(p))
            continue;
        p->i = save;
        if ((cite_take(p, "angka") || cite_take(p, "butir")) && cite_take_num(p, 1, 999, 3, &n))
            continue;
        p->i = save;
        if (cite_take(p, "ke")) {
            if (cite_kind_at(p, p->i, CT_DASH))
                p->i++;
            if (cite_take_num(p, 1, 99, 2, &n))
                continue;
        }
        p->i = save;
        return;
    }
}

/* Fills type/number/year from a doc_id of the form "UU-8-1981"; otherwise (a code: "KUHP")
 * the doc_id is the type and there is no number or year. */
static void cite_from_doc_id(const char *doc_id, struct cite *c)
{
    const char *d1 = strchr(doc_id, '-'), *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    size_t tl = d1 ? (size_t)(d1 - doc_id) : 0, nl = d2 ? (size_t)(d2 - d1 - 1) : 0;
    int ok = d2 != NULL && tl > 0 && tl < sizeof c->doc_type && nl > 0 && nl < sizeof c->number &&
             strlen(d2 + 1) == 4;
    for (size_t k = 0; ok && k < tl; k++)
        ok = doc_id[k] >= 'A' && doc_id[k] <= 'Z';
    for (size_t k = 0; ok && k < nl; k++)
        ok = cite_is_digit((unsigned char)d1[1 + k]);
    for (size_t k = 0; ok && k < 4; k++)
        ok = cite_is_digit((unsigned char)d2[1 + k]);
    if (ok) {
        memcpy(c->doc_type, doc_id, tl);
        c->doc_type[tl] = '\0';
        memcpy(c->number, d1 + 1, nl);
        c->number[nl] = '\0';
        c->year = (d2[1] - '0') * 1000 + (d2[2] - '0') * 100 + (d2[3] - '0') * 10 + (d2[4] - '0');
    } else {
        snprintf(c->doc_type, sizeof c->doc_type, "%s", doc_id);
        c->number[0] = '\0';
        c->year = 0;
    }
}

/* law: a typed law ("UU No. 31 Tahun 1999") or an alias; fills doc_type, number, year, doc_id
 * of c (only doc_id matters for a "jo" law). */
static int cite_law(struct cite_p *p, struct cite *c)
{
    static const struct {
        const char *phrase, *type;
    } types[] = {
        /* longer phrases first: "peraturan pemerintah pengganti ..." before "peraturan ..." */
        {"peraturan pemerintah pengganti undang-undang", "PERPU"},
        {"peraturan pemerintah", "PP"},
        {"pp", "PP"},
        {"undang-undang", "UU"},
        {"uu", "UU"},
        {"perpu", "PERPU"},
        {"perppu", "PERPU"},
        {"peraturan presiden", "PERPRES"},
        {"perpres", "PERPRES"},
        {"keputusan presiden", "KEPPRES"},
        {"keppres", "KEPPRES"},
    };
    static const char *const no_words[] = {"no", "nomor", "nomer", "nmr", "nr", NULL};
    static const char *const year_words[] = {"tahun", "th", "thn", NULL};
    size_t start = p->i;
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        size_t span = cite_phrase_at(p, p->i, types[k].phrase);
        if (span == 0)
            continue;
        p->i += span;
        if (!cite_take(p, "ri") && !cite_take(p, "nri") && cite_take(p, "republik") &&
            !cite_take(p, "indonesia"))
            break;
        if (cite_kind_at(p, p->i, CT_DASH))
            p->i++;
        cite_take_any(p, no_words);
        unsigned long number, year;
        if (!cite_take_num(p, 1, 9999, 4, &number))
            break;
        if (cite_kind_at(p, p->i, CT_SLASH) || cite_kind_at(p, p->i, CT_DASH))
            p->i++;
        else if (!cite_take_any(p, year_words))
            break;
        if (!cite_take_num(p, 1945, 2100, 4, &year))
            break;
        snprintf(c->doc_type, sizeof c->doc_type, "%s", types[k].type);
        snprintf(c->number, sizeof c->number, "%lu", number);
        c->year = (int)year;
        snprintf(c->doc_id, sizeof c->doc_id, "%s-%lu-%lu", types[k].type, number, year);
        return 1;
    }
    p->i = start;
    /* an alias: the longest that matches ("KUHP baru" over "KUHP") */
    size_t best = 0;
    const struct cite_alias *hit = NULL;
    for (const struct cite_alias *a = p->aliases; a->name != NULL; a++) {
        if (a->doc_id == NULL || strlen(a->doc_id) >= sizeof c->doc_id)
            continue;
        size_t span = cite_phrase_at(p, p->i, a->name);
        if (span > best) {
            best = span;
            hit = a;
        }
    }
    if (hit == NULL)
        return 0;
    p->i += best;
    snprintf(c->doc_id, sizeof c->doc_id, "%s", hit->doc_id);
    cite_from_doc_id(hit->doc_id, c);
    return 1;
}

static const char *const cite_jo_words[] = {"jo", "juncto", "jis", "junto", NULL};

/* "jo." / "juncto" / "sebagaimana telah diubah dengan" */
static int cite_jo_word(struct cite_p *p)
{
    if (cite_take_any(p, cite_jo_words))
        return 1;
    size_t save = p->i;
    if (cite_take(p, "sebagaimana")) {
        cite_take(p, "telah");
        if (cite_take(p, "beberapa") && !cite_take(p, "kali")) {
            p->i = save;
            return 0;
        }
        if (cite_take(p, "diubah")) {
            cite_take(p, "terakhir");
            if (cite_take(p, "dengan") || cite_take(p, "oleh") || cite_take(p, "dgn"))
                return 1;
        }
    }
    p->i = save;
    return 0;
}

/* jo law: fills jo_doc_id. */
static int cite_jo(struct cite_p *p, struct cite *c)
{
    size_t save = p->i;
    struct cite jo = {0};
    if (!cite_jo_word(p) || !cite_law(p, &jo)) {
        p->i = save;
        return 0;
    }
    snprintf(c->jo_doc_id, sizeof c->jo_doc_id, "%s", jo.doc_id);
    return 1;
}

/* "tentang <title>": skipped up to the next pasal or jo, or the end. A question word inside
 * makes it a question, not a title. */
static int cite_title(struct cite_p *p)
{
    static const char *const question[] = {"apa",    "apakah",   "bagaimana", "berapa",
                                           "siapa",  "kapan",    "mengapa",   "kenapa",
                                           "dimana", "bilamana", NULL};
    if (!cite_at(p, p->i, "tentang"))
        return 1;
    size_t i = p->i + 1, n = 0;
    for (; i < p->n; i++, n++) {
        const struct cite_tok *k = &p->t[i];
        if (cite_in(k, cite_pasal_words) || cite_in(k, cite_jo_words) ||
            cite_tok_is(k, "sebagaimana"))
            break;
        if (cite_in(k, question) || k->kind == CT_END || n >= CITE_MAX_TITLE_TOKENS)
            return 0;
    }
    p->i = i;
    return 1;
}

/* The article: [ayat] pasal [ayat | (N)] [huruf/angka/ke-N]. */
static int cite_article(struct cite_p *p, struct cite *c)
{
    int ayat_first = cite_ayat(p, c, 0);
    if (!cite_pasal(p, c))
        return 0;
    if (!ayat_first)
        cite_ayat(p, c, 1);
    cite_finer(p);
    return 1;
}

/* Leading words that ask for the text of an article ("apa isi", "bunyi", "tolong tampilkan"). */
static size_t cite_skip_fillers(const struct cite_p *p)
{
    static const char *const fillers[] = {
        "apa",      "apakah",  "bagaimana", "bunyi",     "isi",       "teks", "text",
        "tolong",   "mohon",   "lihat",     "tampilkan", "tunjukkan", "cari", "kutip",
        "sebutkan", "berikan", "dari",      "ketentuan", "bacakan",   "coba", NULL};
    size_t i = p->i, n = 0;
    while (n < CITE_MAX_FILLERS && i < p->n && cite_in(&p->t[i], fillers)) {
        i++;
        n++;
    }
    return i;
}

/* The end of the citation proper: trailing "?"/"!", then up to CITE_MAX_TRAILERS of
 * "bunyinya apa" / "isinya" dropped ("pasal 362 KUHP bunyinya apa?"). */
static size_t cite_trim_end(const struct cite_p *p)
{
    static const char *const trailers[] = {"apa", "bunyinya", "isinya", "berbunyi", NULL};
    size_t n = p->n, words = 0;
    while (n > 0 && p->t[n - 1].kind == CT_END)
        n--;
    while (n > 0 && words < CITE_MAX_TRAILERS && cite_in(&p->t[n - 1], trailers)) {
        n--;
        words++;
    }
    return n;
}

/* ---- configured aliases ---------------------------------------------------------------- */

#define CITE_ALIASES_MAX 256

static char *cite_trimdup(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return strndup(s, n);
}

void cite_aliases_free(struct cite_alias *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; list[i].name != NULL; i++) {
        int builtin = 0; /* the built-in ones are not ours to free */
        for (const struct cite_alias *d = cite_default_aliases; d->name != NULL; d++)
            builtin |= d->name == list[i].name;
        if (!builtin) {
            free((char *)list[i].name);
            free((char *)list[i].doc_id);
        }
    }
    free(list);
}

struct cite_alias *cite_aliases_new(const char *spec, char *err, size_t cap)
{
    size_t nd = sizeof cite_default_aliases / sizeof cite_default_aliases[0] - 1;
    struct cite_alias *list = calloc(nd + CITE_ALIASES_MAX + 1, sizeof *list);
    if (list == NULL) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    memcpy(list, cite_default_aliases, nd * sizeof *list);
    size_t n = nd;
    for (const char *p = spec ? spec : ""; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char *name = eq ? cite_trimdup(p, (size_t)(eq - p)) : NULL;
        char *doc = eq ? cite_trimdup(eq + 1, len - (size_t)(eq - p) - 1) : NULL;
        int blank = len == strspn(p, " \t");
        if (!blank &&
            (name == NULL || doc == NULL || name[0] == '\0' || doc[0] == '\0' ||
             strlen(name) >= CITE_MAX_ALIAS_BYTES || strlen(doc) >= LX_CITE_FIELD_BYTES * 2 ||
             strchr(doc, '=') != NULL || n == nd + CITE_ALIASES_MAX)) {
            snprintf(err, cap,
                     "cite_aliases: \"%.*s\" is not NAME=DOC_ID (at most %d, names "
                     "under %d bytes)",
                     (int)(len > 60 ? 60 : len), p, CITE_ALIASES_MAX, CITE_MAX_ALIAS_BYTES);
            free(name);
            free(doc);
            cite_aliases_free(list);
            return NULL;
        }
        if (!blank) { /* later wins: put it first, where the longest-match scan sees it first */
            memmove(list + 1, list, n * sizeof *list);
            list[0].name = name;
            list[0].doc_id = doc;
            n++;
        } else {
            free(name);
            free(doc);
        }
        p += len + (end != NULL);
    }
    return list;
}

int cite_parse(const char *q, size_t len, const struct cite_alias *aliases, struct cite *out)
{
    if (q == NULL || out == NULL || len == 0 || len > CITE_MAX_INPUT_BYTES)
        return 0;
    char low[CITE_MAX_INPUT_BYTES + 1];
    struct cite_tok toks[CITE_MAX_TOKENS];
    cite_lower(low, q, len);
    int n = cite_tokenize(low, len, toks, CITE_MAX_TOKENS);
    if (n <= 0)
        return 0;
    struct cite_p p = {toks, (size_t)n, 0, aliases ? aliases : cite_default_aliases};
    p.n = cite_trim_end(&p);
    p.i = cite_skip_fillers(&p);

    struct cite c;
    memset(&c, 0, sizeof c);
    int have_jo = 0;
    if (p.i < p.n &&
        (cite_in(&p.t[p.i], cite_pasal_words) || cite_in(&p.t[p.i], cite_ayat_words))) {
        /* Pasal 2 ayat (1) UU No. 31 Tahun 1999 [tentang ...] [jo. UU 20/2001 [tentang ...]] */
        if (!cite_article(&p, &c) || !cite_law(&p, &c) || !cite_title(&p))
            return 0;
        if (cite_jo(&p, &c) && !cite_title(&p))
            return 0;
    } else {
        /* UU 31/1999 [tentang ...] [jo. UU 20/2001] pasal 2 ayat 1 [jo. ...] */
        if (!cite_law(&p, &c) || !cite_title(&p))
            return 0;
        have_jo = cite_jo(&p, &c);
        if (have_jo && !cite_title(&p))
            return 0;
        if (!cite_article(&p, &c))
            return 0;
        if (!have_jo)
            cite_jo(&p, &c);
    }
    if (p.i != p.n)
        return 0;
    *out = c;
    return 1;
}
