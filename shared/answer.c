/* shared/answer.c -- the built-in extractive generator (answer.h).
 *
 * Legal text is first made running text (norm): whitespace runs and line breaks become one
 * space, control characters and bytes that are not UTF-8 are replaced, and the dot of each list
 * marker ("a.", "1.", "12a." at a line start, or after ":", ";" or "; dan") is marked so that
 * it is never taken for the end of a sentence. A sentence ends at ".", "!" or "?" (and any
 * closing brackets or quotes) before a space and something that is not a lowercase letter, or
 * at the end; a dot after an abbreviation ("Rp.", "No.", "jo.") or an initial ("S.H.") ends
 * none. A quotation (excerpt) is the first sentence, and the next ones while it is shorter than
 * EXCERPT_SHORT_BYTES; one too long for its quota is cut at a clause (";", ":"), a comma or a
 * word outside parentheses, then tidied and ended with "…". Cuts fall on ASCII bytes only, or
 * (inside one long word) before a UTF-8 lead byte.
 *
 * The budget (answer_compose): the opening, the closing and each quoted ref's citation are the
 * frame; each quotation first gets up to EXCERPT_SHARE_BYTES, then the closing list of other
 * refs gets what fits after that, then the quotations share the rest (the shortest first, so
 * what one leaves goes to the others). When even the shortest quotations do not fit, the list
 * is dropped, then quotations (from the last), then whole paragraphs except the first.
 * Temporaries live in an arena; only the answer is malloc'ed. */
#include "answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"

#define EXCERPT_SHORT_BYTES  160 /* add the next sentence while the quotation is shorter */
#define EXCERPT_SHARE_BYTES  240 /* what each quotation gets before the closing list */
#define NAME_MAX_BYTES       200 /* a law's name in a citation ("... tentang ...") */
#define SHORT_NAME_BYTES     80  /* a law's name in the closing list, when not derived */
#define PASAL_MAX_BYTES      32
#define AYAT_MAX_BYTES       16
#define QUESTION_MAX_BYTES   160         /* the question quoted when nothing was found */
#define TEXT_INPUT_MAX_BYTES (16 * 1024) /* of an article's text, read for its quotation */

#define ELLIPSIS "\xe2\x80\xa6" /* … */
#define LQUOTE   "\xe2\x80\x9c" /* “ */
#define RQUOTE   "\xe2\x80\x9d" /* ” */
#define SEP      "\n\n"

#define OPENING_NOTEXT                                                                             \
    "Ditemukan pasal yang mungkin relevan, tetapi teksnya tidak tersedia untuk dikutip."
#define LIST_MORE "Pasal lain yang juga mungkin relevan: "
#define LIST_ONLY "Pasal yang mungkin relevan: "
#define CLOSING   "Jawaban ini disusun otomatis dari teks peraturan dan bukan nasihat hukum."
#define NONE_HEAD "Maaf, tidak ditemukan pasal yang relevan"
#define NONE_TAIL                                                                                  \
    " dalam kumpulan peraturan yang tersedia. Cobalah merumuskan pertanyaan dengan kata lain, "    \
    "atau sebutkan nomor peraturan dan pasalnya."

/* ---------------------------------------------------------------- UTF-8 and running text */

/* The length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t need = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (need == 0 || n < need)
        return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return need;
}

static int is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_alpha(char c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Running text: p[0..n), NUL-terminated; mark[i] set where p[i] is a list marker's dot. */
struct ntext {
    char *p;
    unsigned char *mark;
    size_t n;
    int truncated; /* the source was longer than TEXT_INPUT_MAX_BYTES */
};

/* A list marker at s[0..n): "a." "1." "12." "12a." followed by whitespace or the end; its
 * length with the dot, or 0. */
static size_t marker_len(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && is_alpha(s[0])) {
        i = 1;
    } else {
        while (i < n && i < 3 && is_digit(s[i]))
            i++;
        if (i == 0)
            return 0;
        if (i < n && is_lower(s[i]))
            i++;
    }
    if (i >= n || s[i] != '.')
        return 0;
    i++;
    return i == n || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ? i : 0;
}

/* Whether a marker may stand at p[o] (p[o - 1] being the space before it) inside a line: after
 * ":" or ";", or after "dan" / "atau" / "serta" that follow ";" or ",". */
static int inline_marker_ctx(const char *p, size_t o)
{
    size_t j = o;
    while (j > 0 && p[j - 1] == ' ')
        j--;
    if (j == 0)
        return 1;
    if (p[j - 1] == ':' || p[j - 1] == ';')
        return 1;
    size_t w = j;
    while (w > 0 && is_lower(p[w - 1]))
        w--;
    size_t wl = j - w;
    if (!((wl == 3 && memcmp(p + w, "dan", 3) == 0) || (wl == 4 && memcmp(p + w, "atau", 4) == 0) ||
          (wl == 5 && memcmp(p + w, "serta", 5) == 0)))
        return 0;
    while (w > 0 && p[w - 1] == ' ')
        w--;
    return w > 0 && (p[w - 1] == ';' || p[w - 1] == ',');
}

/* s[0..len) as running text, in a. 0, or -1 on ENOMEM. */
static int norm(struct arena *a, const char *s, size_t len, struct ntext *t)
{
    memset(t, 0, sizeof *t);
    t->p = arena_alloc(a, len * 3 + 1);
    t->mark = arena_calloc(a, len * 3 + 1, 1);
    if (t->p == NULL || t->mark == NULL)
        return -1;
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    int space = 0, line_start = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        size_t sl = utf8_len(u + i, len - i);
        if (c <= 0x20 || c == 0x7F || (sl == 2 && c == 0xC2 && u[i + 1] <= 0xA0)) {
            space = 1; /* whitespace, controls, C1 controls, no-break space */
            if (c == '\n' || c == '\r')
                line_start = 1;
            i += sl == 2 ? 2 : 1;
            continue;
        }
        if (space && o > 0)
            t->p[o++] = ' ';
        space = 0;
        size_t ml = (line_start || inline_marker_ctx(t->p, o)) ? marker_len(s + i, len - i) : 0;
        line_start = 0;
        if (ml > 0) {
            memcpy(t->p + o, s + i, ml);
            t->mark[o + ml - 1] = 1;
            o += ml;
            i += ml;
        } else if (sl == 0) {
            memcpy(t->p + o, "\xef\xbf\xbd", 3); /* U+FFFD for a byte that is not UTF-8 */
            o += 3;
            i++;
        } else {
            memcpy(t->p + o, s + i, sl);
            o += sl;
            i += sl;
        }
    }
    t->p[o] = '\0';
    t->n = o;
    return 0;
}

static int norm_str(struct arena *a, const char *s, struct ntext *t)
{
    return norm(a, s ? s : "", s ? strlen(s) : 0, t);
}

/* norm() of the head of an article: a quotation never reaches further. */
static int norm_text(struct arena *a, const char *s, size_t len, struct ntext *t)
{
    size_t n = len;
    if (n > TEXT_INPUT_MAX_BYTES)
        for (n = TEXT_INPUT_MAX_BYTES; n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80;)
            n--;
    if (norm(a, s, n, t) != 0)
        return -1;
    t->truncated = n < len;
    return 0;
}

/* ---------------------------------------------------------------- sentences and excerpts */

static const char *const abbrevs[] = {
    "rp",  "no",  "nos",  "jo",  "dll", "dsb", "dst", "tsb",  "yth", "tgl",  "hlm", "ps",
    "psl", "kep", "prof", "dr",  "drs", "ir",  "hj",  "st",   "stb", "stbl", "kab", "kec",
    "kel", "jl",  "sdr",  "bpk", "ttd", "mr",  "nr",  "lemb", "spt", "vol",  "art",
};

static int is_abbrev(const char *w, size_t n)
{
    if (n == 1)
        return !is_lower(w[0]); /* an initial, as in "S.H."; "huruf a." ends a sentence */
    for (size_t i = 0; i < sizeof abbrevs / sizeof abbrevs[0]; i++) {
        size_t al = strlen(abbrevs[i]), k = 0;
        if (al != n)
            continue;
        while (k < n && (w[k] | 0x20) == abbrevs[i][k])
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

/* If p[i] ('.', '!' or '?') ends a sentence, where the sentence ends (after closing brackets
 * and quotes); else 0. */
static size_t sentence_end(const struct ntext *t, size_t i)
{
    const char *p = t->p;
    if (p[i] == '.') {
        if (t->mark[i] || (i + 1 < t->n && p[i + 1] == '.'))
            return 0;
        size_t w = i;
        while (w > 0 && is_alpha(p[w - 1]))
            w--;
        if (i > w && (w == 0 || !(p[w - 1] & 0x80)) && is_abbrev(p + w, i - w))
            return 0;
    }
    size_t j = i + 1;
    for (;;) {
        if (j < t->n && (p[j] == ')' || p[j] == '"' || p[j] == '\'')) {
            j++;
        } else if (j + 3 <= t->n && memcmp(p + j, RQUOTE, 3) == 0) {
            j += 3;
        } else if (j + 3 <= t->n && memcmp(p + j, "\xe2\x80\x99", 3) == 0) { /* ’ */
            j += 3;
        } else {
            break;
        }
    }
    if (j == t->n)
        return j;
    if (p[j] != ' ' || (j + 1 < t->n && is_lower(p[j + 1])))
        return 0;
    return j;
}

static int ends_with_word(const char *p, size_t n, const char *w)
{
    size_t wl = strlen(w);
    return n >= wl && memcmp(p + n - wl, w, wl) == 0 && (n == wl || p[n - wl - 1] == ' ');
}

/* Shorten p[0..n) (a cut inside a sentence) to end cleanly: no trailing space, clause
 * punctuation, list marker, or conjunction after a clause. */
static size_t tidy_cut(const struct ntext *t, size_t n)
{
    const char *p = t->p;
    for (;;) {
        size_t m = n;
        while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == ',' || p[m - 1] == ';' || p[m - 1] == ':'))
            m--;
        if (m > 0 && t->mark[m - 1]) { /* "...; b." */
            m--;
            while (m > 0 && p[m - 1] != ' ')
                m--;
        } else if (ends_with_word(p, m, "dan") || ends_with_word(p, m, "atau") ||
                   ends_with_word(p, m, "serta")) {
            size_t k = m;
            while (k > 0 && p[k - 1] != ' ')
                k--;
            size_t b = k;
            while (b > 0 && p[b - 1] == ' ')
                b--;
            if (b > 0 && (p[b - 1] == ';' || p[b - 1] == ','))
                m = k;
        }
        if (m == n)
            return n;
        n = m;
    }
}

/* The quotation of t in at most quota bytes, into out (quota + 1 bytes): the first
 * sentence(s), or a cut one ending in "…". is_def: a definition, whose closing ";" becomes
 * ".". Its length; 0 if nothing fits. */
static size_t excerpt(const struct ntext *t, size_t quota, int is_def, char *out)
{
    const char *p = t->p;
    size_t n = t->n, cut = 0;
    if (n == 0 || quota == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '.' && p[i] != '!' && p[i] != '?')
            continue;
        size_t e = sentence_end(t, i);
        if (e == 0)
            continue;
        if (e > quota || (cut != 0 && cut >= EXCERPT_SHORT_BYTES))
            break;
        cut = e;
        i = e - 1;
    }
    if (cut > 0) {
        memcpy(out, p, cut);
        out[cut] = '\0';
        return cut;
    }
    if (n <= quota && !t->truncated) { /* no sentence end: all of it, ending cleanly */
        char last = p[n - 1];
        if (last != ';' && last != ':' && last != ',') {
            memcpy(out, p, n + 1);
            return n;
        }
        if (is_def) { /* a definition of a list: "X adalah ...;" */
            memcpy(out, p, n - 1);
            memcpy(out + n - 1, ".", 2);
            return n;
        }
        size_t m = tidy_cut(t, n - 1);
        if (m == 0)
            return 0;
        if (m + sizeof ELLIPSIS - 1 <= quota) {
            memcpy(out, p, m);
            memcpy(out + m, ELLIPSIS, sizeof ELLIPSIS);
            return m + sizeof ELLIPSIS - 1;
        }
    }
    if (quota < sizeof ELLIPSIS)
        return 0;
    size_t limit = quota - (sizeof ELLIPSIS - 1); /* cut <= limit <= n */
    if (limit > n)                                /* only for a truncated text */
        limit = n;
    size_t clause = 0, comma = 0, word = 0, any = 0;
    int depth = 0;
    for (size_t c = 1; c <= limit; c++) {
        char prev = p[c - 1];
        if (prev == '(')
            depth++;
        else if (prev == ')' && depth > 0)
            depth--;
        if (p[c] != ' ')
            continue;
        any = c;
        if (depth > 0)
            continue;
        word = c;
        if (prev == ';' || prev == ':')
            clause = c;
        else if (prev == ',')
            comma = c;
    }
    if (clause > 0 && clause >= limit / 2)
        cut = clause;
    else if (comma > 0 && comma >= limit / 2)
        cut = comma;
    else if (word > 0)
        cut = word;
    else if (any > 0)
        cut = any;
    else
        for (cut = limit; cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80;)
            cut--;
    cut = tidy_cut(t, cut);
    if (cut == 0)
        return 0;
    memcpy(out, p, cut);
    memcpy(out + cut, ELLIPSIS, sizeof ELLIPSIS);
    return cut + sizeof ELLIPSIS - 1;
}

/* p[0..n) cut to at most max bytes at a word (or, in one long word, a character), with "…"
 * when cut; into a. NULL on ENOMEM. */
static char *cap_text(struct arena *a, const char *p, size_t n, size_t max, int ellipsis)
{
    if (n > max) {
        size_t limit = ellipsis ? max - (sizeof ELLIPSIS - 1) : max, c = limit;
        while (c > 0 && p[c] != ' ')
            c--;
        if (c == 0)
            for (c = limit; c > 0 && ((unsigned char)p[c] & 0xC0) == 0x80;)
                c--;
        while (c > 0 && (p[c - 1] == ' ' || p[c - 1] == ',' || p[c - 1] == ';'))
            c--;
        return arena_printf(a, "%.*s%s", (int)c, p, ellipsis ? ELLIPSIS : "");
    }
    return arena_strndup(a, p, n);
}

/* s as one clean line of at most max bytes. */
static char *clean_line(struct arena *a, const char *s, size_t max, int ellipsis)
{
    struct ntext t;
    if (norm_str(a, s, &t) != 0)
        return NULL;
    return cap_text(a, t.p, t.n, max, ellipsis);
}

/* ---------------------------------------------------------------- citations */

static int eq_nocase(const char *a, const char *b)
{
    if (a == NULL)
        return 0;
    for (; *a && *b; a++, b++)
        if ((*a | 0x20) != (*b | 0x20))
            return 0;
    return *a == *b;
}

static const struct {
    const char *type, *full, *brief;
} doc_types[] = {
    {"UU", "Undang-Undang", "UU"},
    {"PP", "Peraturan Pemerintah", "PP"},
    {"PERPU", "Peraturan Pemerintah Pengganti Undang-Undang", "Perpu"},
    {"PERPRES", "Peraturan Presiden", "Perpres"},
};

#define KUHP_NAME "Kitab Undang-Undang Hukum Pidana"

static int is_kuhp(const struct answer_ref *r)
{
    return eq_nocase(r->doc_type, "KUHP") || (r->doc_id && strcmp(r->doc_id, "KUHP") == 0);
}

static int type_index(const struct answer_ref *r)
{
    if (r->number == NULL || r->number[0] == '\0' || r->year <= 0)
        return -1;
    for (int i = 0; i < (int)(sizeof doc_types / sizeof doc_types[0]); i++)
        if (eq_nocase(r->doc_type, doc_types[i].type))
            return i;
    return -1;
}

/* What the title says after its first " tentang ", or NULL. */
static const char *title_tentang(const char *title)
{
    for (const char *p = title; p && *p; p++)
        if (*p == ' ' && strncasecmp(p, " tentang ", 9) == 0)
            return p + 9;
    return NULL;
}

/* The law's name: "Undang-Undang Nomor 31 Tahun 1999 tentang ...", "Kitab Undang-Undang Hukum
 * Pidana", else the title, else the doc_id. */
static char *law_name(struct arena *a, const struct answer_ref *r)
{
    char *name;
    int ti = type_index(r);
    if (is_kuhp(r)) {
        name = arena_strdup(a, KUHP_NAME);
    } else if (ti >= 0) {
        const char *tentang = title_tentang(r->title);
        name = arena_printf(a, "%s Nomor %s Tahun %d%s%s", doc_types[ti].full, r->number, r->year,
                            tentang ? " tentang " : "", tentang ? tentang : "");
    } else if (r->title != NULL && r->title[0] != '\0') {
        name = arena_strdup(a, r->title);
    } else if (r->doc_id != NULL && r->doc_id[0] != '\0') {
        name = arena_strdup(a, r->doc_id);
    } else {
        name = arena_strdup(a, "peraturan yang dirujuk");
    }
    return name ? clean_line(a, name, NAME_MAX_BYTES, 1) : NULL;
}

/* "UU 31/1999", "KUHP", else the doc_id or the title, shortened. */
static char *law_brief(struct arena *a, const struct answer_ref *r)
{
    int ti = type_index(r);
    if (is_kuhp(r))
        return arena_strdup(a, "KUHP");
    if (ti >= 0) {
        char *s = arena_printf(a, "%s %s/%d", doc_types[ti].brief, r->number, r->year);
        return s ? clean_line(a, s, SHORT_NAME_BYTES, 1) : NULL;
    }
    if (r->doc_id != NULL && r->doc_id[0] != '\0')
        return clean_line(a, r->doc_id, SHORT_NAME_BYTES, 1);
    if (r->title != NULL && r->title[0] != '\0')
        return clean_line(a, r->title, SHORT_NAME_BYTES, 1);
    return arena_strdup(a, "peraturan yang dirujuk");
}

/* "Pasal 2 ayat (1) " + name, or name alone when the pasal is unknown; ayat: the ref's, or the
 * one quoted. */
static char *cite_with(struct arena *a, const struct answer_ref *r, const char *ayat_label,
                       const char *name)
{
    char *pasal = clean_line(a, r->pasal, PASAL_MAX_BYTES, 0);
    char *ayat = clean_line(a, ayat_label ? ayat_label : r->ayat, AYAT_MAX_BYTES, 0);
    if (pasal == NULL || ayat == NULL || name == NULL)
        return NULL;
    if (pasal[0] == '\0')
        return arena_strdup(a, name);
    if (ayat[0] == '\0')
        return arena_printf(a, "Pasal %s %s", pasal, name);
    return arena_printf(a, "Pasal %s ayat (%s) %s", pasal, ayat, name);
}

/* An ayat marker at p: "(1)" "(12)" "(1a)" then a blank or the end. Its length with the
 * brackets, and its label into label (AYAT_MAX_BYTES); 0 if none. */
static size_t ayat_marker(const char *p, char *label)
{
    size_t i = 1;
    if (p[0] != '(')
        return 0;
    while (i <= 3 && is_digit(p[i]))
        i++;
    if (i == 1)
        return 0;
    if (is_lower(p[i]))
        i++;
    if (p[i] != ')' || !(p[i + 1] == '\0' || p[i + 1] == ' ' || p[i + 1] == '\t' ||
                         p[i + 1] == '\n' || p[i + 1] == '\r'))
        return 0;
    memcpy(label, p + 1, i - 1);
    label[i - 1] = '\0';
    return i + 1;
}

/* The ayat of text labelled want (NULL: the first, if text begins with an ayat marker): its
 * body, after "(n)", up to the next line that begins with a marker. 1 and *body, *blen and
 * label filled; 0 when there is no such ayat. */
static int find_ayat(const char *text, const char *want, const char **body, size_t *blen,
                     char *label)
{
    char lab[AYAT_MAX_BYTES];
    const char *p = text, *start = NULL;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        size_t ml = ayat_marker(p, lab);
        if (start != NULL && ml > 0) /* the next ayat ends it */
            break;
        if (start == NULL && ml > 0 && (want == NULL || strcmp(lab, want) == 0)) {
            start = p + ml;
            memcpy(label, lab, sizeof lab);
        }
        if (start == NULL && want == NULL)
            return 0; /* the text does not begin with an ayat */
        const char *nl = strchr(p, '\n');
        if (nl == NULL) {
            p += strlen(p);
            break;
        }
        p = nl + 1;
    }
    if (start == NULL)
        return 0;
    *body = start;
    *blen = (size_t)(p - start);
    return 1;
}

/* ---------------------------------------------------------------- composing */

struct item {
    const struct answer_ref *r;
    char num[16];      /* "[n]" */
    int is_def, plain; /* plain: cited without a quotation */
    struct ntext t;    /* the text as running text */
    const char *cite;  /* "Pasal 2 ... tentang ..." (quoted refs) or "Pasal 2 UU 31/1999" */
    size_t natural;    /* the quotation's length with LX_ANSWER_QUOTE_MAX_BYTES */
    size_t quota;
    char *quote;
    size_t qlen;
};

static const char *const count_words[] = {"", "", "dua ", "tiga ", "empat ", "lima "};

/* The paragraph of a quoted ref, without its quotation; or of a plain one. */
static size_t para_fixed(const struct item *it)
{
    if (it->plain)
        return strlen("Lihat ") + strlen(it->cite) + 1 + strlen(it->num) + 1;
    return strlen("Menurut ") + (it->is_def ? strlen("ketentuan umum dalam ") : 0) +
           strlen(it->cite) + 1 + strlen(it->num) + strlen(", " LQUOTE) + strlen(RQUOTE);
}

static char *opening(struct arena *a, size_t nq)
{
    if (nq == 0)
        return arena_strdup(a, OPENING_NOTEXT);
    return arena_printf(a,
                        "Berdasarkan %spasal peraturan perundang-undangan yang paling relevan "
                        "dengan pertanyaan Anda:",
                        count_words[nq < 6 ? nq : 0]);
}

struct out {
    char *p;
    size_t n;
};

static void out_add(struct out *o, const char *s, size_t n)
{
    if (o->p != NULL)
        memcpy(o->p + o->n, s, n);
    o->n += n;
}

static void out_adds(struct out *o, const char *s)
{
    out_add(o, s, strlen(s));
}

/* Write the answer to o (o->p NULL: only measure it). */
static void render(struct out *o, const char *open, const struct item *q, size_t nq,
                   const char *list_head, const struct item *const *list, size_t nlist)
{
    out_adds(o, open);
    for (size_t i = 0; i < nq; i++) {
        const struct item *it = &q[i];
        out_adds(o, SEP);
        if (it->plain) {
            out_adds(o, "Lihat ");
            out_adds(o, it->cite);
            out_adds(o, " ");
            out_adds(o, it->num);
            out_adds(o, ".");
            continue;
        }
        out_adds(o, it->is_def ? "Menurut ketentuan umum dalam " : "Menurut ");
        out_adds(o, it->cite);
        out_adds(o, " ");
        out_adds(o, it->num);
        out_adds(o, ", " LQUOTE);
        out_add(o, it->quote, it->qlen);
        out_adds(o, RQUOTE);
    }
    if (nlist > 0) {
        out_adds(o, SEP);
        out_adds(o, list_head);
        for (size_t i = 0; i < nlist; i++) {
            out_adds(o, i > 0 ? "; " : "");
            out_adds(o, list[i]->cite);
            out_adds(o, " ");
            out_adds(o, list[i]->num);
        }
        out_adds(o, ".");
    }
    out_adds(o, SEP CLOSING);
}

/* Shares budget among the quoted items, none above its natural length: the shortest first,
 * each an equal part of what is left. */
static void share(struct item *q, size_t nq, size_t budget, size_t cap)
{
    int done[LX_ANSWER_QUOTED_MAX] = {0};
    size_t left = nq;
    for (size_t i = 0; i < nq; i++)
        if (q[i].plain) {
            done[i] = 1;
            left--;
        }
    while (left > 0) {
        size_t k = nq;
        for (size_t i = 0; i < nq; i++)
            if (!done[i] && (k == nq || q[i].natural < q[k].natural))
                k = i;
        size_t part = budget / left, want = q[k].natural < cap ? q[k].natural : cap;
        q[k].quota = want < part ? want : part;
        budget -= q[k].quota;
        done[k] = 1;
        left--;
    }
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether r is a ref already quoted (the same text of the same article): it is listed. */
static int same_as_quoted(const struct item *q, size_t nq, const struct answer_ref *r)
{
    for (size_t i = 0; i < nq; i++)
        if (same_str(q[i].r->doc_id, r->doc_id) && same_str(q[i].r->pasal, r->pasal) &&
            same_str(q[i].r->ayat, r->ayat) && same_str(q[i].r->text, r->text))
            return 1;
    return 0;
}

static char *compose_none(struct arena *a, const char *question, size_t max_bytes)
{
    char *q = clean_line(a, question, QUESTION_MAX_BYTES, 1);
    if (q == NULL)
        return NULL;
    size_t fixed = strlen(NONE_HEAD " untuk pertanyaan " LQUOTE RQUOTE NONE_TAIL SEP CLOSING);
    if (q[0] != '\0' && fixed + strlen(q) > max_bytes) /* shorten the question to fit */
        q = max_bytes > fixed + 16 ? cap_text(a, q, strlen(q), max_bytes - fixed, 1) : "";
    if (q == NULL)
        return NULL;
    char *s = q[0] ? arena_printf(a, NONE_HEAD " untuk pertanyaan " LQUOTE "%s" RQUOTE NONE_TAIL, q)
                   : arena_strdup(a, NONE_HEAD NONE_TAIL);
    return s ? arena_printf(a, "%s" SEP CLOSING, s) : NULL;
}

static char *compose(struct arena *a, const char *question, const struct answer_ref *refs,
                     size_t nrefs, size_t max)
{
    if (nrefs == 0)
        return compose_none(a, question, max);
    struct item q[LX_ANSWER_QUOTED_MAX];
    const struct item **list = arena_calloc(a, nrefs, sizeof *list);
    struct item *rest = arena_calloc(a, nrefs, sizeof *rest);
    if (list == NULL || rest == NULL)
        return NULL;
    size_t nq = 0, nrest = 0;
    char *buf = arena_alloc(a, LX_ANSWER_QUOTE_MAX_BYTES + 1);
    if (buf == NULL)
        return NULL;

    /* The first refs with text are quoted; the others are listed. */
    for (size_t i = 0; i < nrefs; i++) {
        const struct answer_ref *r = &refs[i];
        struct item it;
        memset(&it, 0, sizeof it);
        it.r = r;
        snprintf(it.num, sizeof it.num, "[%u]", r->n);
        it.is_def = eq_nocase(r->kind, "definition");
        if (nq < LX_ANSWER_QUOTED_MAX && !same_as_quoted(q, nq, r)) {
            /* An article of ayat is quoted from one: the ref's, else the first (unless it is
             * short), which the citation then names. */
            const char *text = r->text ? r->text : "", *body;
            const char *want = r->ayat && r->ayat[0] ? r->ayat : NULL;
            size_t blen;
            char *label = arena_alloc(a, AYAT_MAX_BYTES);
            if (label == NULL)
                return NULL;
            if (!it.is_def && find_ayat(text, want, &body, &blen, label)) {
                if (norm_text(a, body, blen, &it.t) != 0)
                    return NULL;
                if (want == NULL && it.t.n < EXCERPT_SHORT_BYTES) /* quote on past it */
                    label = NULL;
            } else {
                label = NULL;
            }
            if (label == NULL && norm_text(a, text, strlen(text), &it.t) != 0)
                return NULL;
            if (it.t.n > 0) {
                if ((it.cite = cite_with(a, r, label, law_name(a, r))) == NULL)
                    return NULL;
                it.natural = excerpt(&it.t, LX_ANSWER_QUOTE_MAX_BYTES, it.is_def, buf);
                it.plain = it.natural == 0;
                q[nq++] = it;
                continue;
            }
        }
        if ((it.cite = cite_with(a, r, NULL, law_brief(a, r))) == NULL)
            return NULL;
        rest[nrest++] = it;
    }

    /* Fit the frame: with every quotation at its least, the list empty. */
    const char *open = NULL;
    size_t base = 0, least = 0;
    for (;;) {
        if ((open = opening(a, nq)) == NULL)
            return NULL;
        struct out m = {0};
        render(&m, open, q, 0, NULL, NULL, 0);
        base = m.n;
        least = 0;
        for (size_t i = 0; i < nq; i++) {
            base += strlen(SEP) + para_fixed(&q[i]);
            if (!q[i].plain)
                least += q[i].natural < LX_ANSWER_QUOTE_MIN_BYTES ? q[i].natural
                                                                  : LX_ANSWER_QUOTE_MIN_BYTES;
        }
        if (base + least <= max)
            break;
        size_t k = nq;
        while (k > 0 && q[k - 1].plain)
            k--;
        if (k > 0) /* the last quotation goes */
            q[k - 1].plain = 1;
        else if (nq > 1) /* then the last paragraph */
            nq--;
        else
            break; /* max_bytes is below the least answer */
    }
    int degraded = 0;
    for (size_t i = 0; i < nq; i++)
        degraded |= q[i].plain && q[i].natural > 0;
    size_t avail = max > base ? max - base : 0;

    /* The list, after each quotation got its share. */
    size_t nlist = 0, reserve = 0;
    for (size_t i = 0; i < nq; i++)
        if (!q[i].plain)
            reserve += q[i].natural < EXCERPT_SHARE_BYTES ? q[i].natural : EXCERPT_SHARE_BYTES;
    if (!degraded && avail > reserve) {
        size_t room = avail - reserve, used = 0;
        const char *head = nq > 0 ? LIST_MORE : LIST_ONLY;
        for (size_t i = 0; i < nrest; i++) {
            size_t add = strlen(rest[i].cite) + 1 + strlen(rest[i].num) +
                         (nlist == 0 ? strlen(SEP) + strlen(head) + 1 : 2);
            if (used + add > room)
                break;
            used += add;
            list[nlist++] = &rest[i];
        }
        avail -= used;
    }

    /* The quotations share the rest. */
    share(q, nq, avail, LX_ANSWER_QUOTE_MAX_BYTES);
    for (size_t i = 0; i < nq; i++) {
        if (q[i].plain)
            continue;
        if ((q[i].quote = arena_alloc(a, q[i].quota + 1)) == NULL)
            return NULL;
        q[i].qlen = excerpt(&q[i].t, q[i].quota, q[i].is_def, q[i].quote);
        q[i].plain = q[i].qlen == 0; /* shorter than quoted: still fits */
    }

    const char *head = nq > 0 ? LIST_MORE : LIST_ONLY;
    struct out o = {0};
    render(&o, open, q, nq, head, list, nlist);
    if ((o.p = arena_alloc(a, o.n + 1)) == NULL)
        return NULL;
    o.n = 0;
    render(&o, open, q, nq, head, list, nlist);
    o.p[o.n] = '\0';
    return o.p;
}

char *answer_compose(const char *question, const struct answer_ref *refs, size_t nrefs,
                     size_t max_bytes)
{
    struct arena *a = arena_new(16 * 1024);
    if (a == NULL)
        return NULL;
    char *s = compose(a, question, refs, refs ? nrefs : 0,
                      max_bytes ? max_bytes : LX_ANSWER_DEFAULT_MAX_BYTES);
    char *out = s ? strdup(s) : NULL;
    arena_free(a);
    return out;
}

/* ---------------------------------------------------------------- streaming pieces */

static int is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

static int is_break_punct(char c)
{
    return c == ',' || c == ';' || c == ':' || c == '.' || c == '!' || c == '?' || c == ')' ||
           c == '/';
}

/* Whether position p (0 < p < len) is inside a citation marker "[12]" (or "[1,2]"). */
static int in_marker(const char *s, size_t len, size_t p)
{
    size_t b = p;
    while (b > 0 && p - b < 16 && (is_digit(s[b - 1]) || s[b - 1] == ','))
        b--;
    if (b == 0 || s[b - 1] != '[')
        return 0;
    size_t e = p;
    while (e < len && e - p < 16 && (is_digit(s[e]) || s[e] == ','))
        e++;
    return e < len && s[e] == ']';
}

/* Whether a piece may end at p (0 < p < len): after a run of spaces, or after punctuation
 * followed by a letter or digit of the same word ("dan/atau", "1.000"); never inside a UTF-8
 * sequence or a citation marker. */
static int piece_break(const char *s, size_t len, size_t p)
{
    char prev = s[p - 1], next = s[p];
    if (((unsigned char)next & 0xC0) == 0x80 || is_space(next))
        return 0;
    if (!is_space(prev) && !(is_break_punct(prev) && (is_alpha(next) || is_digit(next))))
        return 0;
    return !in_marker(s, len, p);
}

size_t answer_next_piece(const char *answer, size_t len, size_t at, size_t max_piece)
{
    if (at >= len)
        return 0;
    if (max_piece == 0)
        max_piece = 1;
    size_t best = 0;
    for (size_t p = at + 1; p <= len; p++) {
        if (p < len && !piece_break(answer, len, p))
            continue;
        if (p - at > max_piece)
            return (best ? best : p) - at;
        best = p;
    }
    return best - at;
}
