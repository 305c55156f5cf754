/* tools/ingest_text.c -- plain-text and Markdown statutes for lexrag-ingest, split into
 * articles at their "Pasal N" headings ("Pasal 12", "Pasal 12A", "Pasal 303 bis", "Pasal IV";
 * Markdown decoration such as "## **Pasal 1**" is ignored).
 *
 *   document   from --doc-id/--title, else from the first lines: "Undang-Undang [Republik
 *              Indonesia] Nomor N Tahun YYYY tentang ..." on one line or several (the official
 *              capitals "UNDANG-UNDANG ... TENTANG / PENANGKARAN ..." are title-cased);
 *              Undang-Undang, Peraturan Pemerintah (Pengganti Undang-Undang), Peraturan
 *              Presiden give UU, PP, PERPU, PERPRES.
 *   bab        "BAB I" (with its title on the same or the next line) for the articles after it;
 *              "Bagian Kesatu" / "Paragraf 1" headings and their title lines are dropped.
 *   text       the lines after a heading up to the next heading, without blank lines; "(1)" at
 *              line starts gives the ayat spans (byte offsets, as in the corpus).
 *   end        the body ends at "PENJELASAN", "Disahkan", "Ditetapkan", "Diundangkan di" or
 *              "Agar setiap orang ...": an elucidation's "Pasal 1 Cukup jelas." is not read.
 * Inside a Roman-numbered article of an amending law ("Pasal I") Arabic "Pasal N" headings
 * stay in its text (the articles it inserts or amends). A repeated article number ends the
 * reading of the file with a message. */
#include "ingest.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../shared/arena.h"

#define TEXT_HEADER_MAX_LINES 8 /* lines read for a statute's title */

/* A line without Markdown decoration: "## **Pasal 1**" -> "Pasal 1". In place; returns it. */
static char *md_clean(char *l)
{
    size_t n = strlen(l);
    while (n > 0 && isspace((unsigned char)l[n - 1]))
        l[--n] = '\0';
    char *p = l;
    while (*p == '#' || *p == '>' || isspace((unsigned char)*p))
        p++;
    n = strlen(p);
    while (n >= 2 && ((p[0] == '*' && p[n - 1] == '*') || (p[0] == '_' && p[n - 1] == '_'))) {
        p[n - 1] = '\0';
        p++;
        n -= 2;
    }
    while (isspace((unsigned char)*p))
        p++;
    n = strlen(p);
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        p[--n] = '\0';
    return p;
}

static int is_roman(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("IVXLC", s[i]))
            return 0;
    return 1;
}

/* "Pasal 12", "Pasal 12A", "Pasal 303 bis", "Pasal IV": the article number, or NULL. */
static const char *pasal_heading(struct arena *a, const char *l, int *roman)
{
    if (strncasecmp(l, "pasal", 5) != 0 || !isspace((unsigned char)l[5]))
        return NULL;
    const char *p = l + 5;
    while (isspace((unsigned char)*p))
        p++;
    const char *st = p;
    size_t n = strlen(p);
    if (is_roman(p, n)) {
        *roman = 1;
        return arena_strdup(a, p);
    }
    *roman = 0;
    size_t d = strspn(p, "0123456789");
    if (d == 0 || d > 4)
        return NULL;
    p += d;
    if (isalpha((unsigned char)*p) && !isalpha((unsigned char)p[1]))
        p++;
    if (*p == ' ') {
        static const char *const sfx[] = {"bis", "ter", "quater", "quinquies", "sexies", NULL};
        for (int i = 0; sfx[i] != NULL; i++)
            if (strcmp(p + 1, sfx[i]) == 0)
                return arena_strdup(a, st);
        return NULL;
    }
    return *p == '\0' ? arena_strdup(a, st) : NULL;
}

static int starts_word(const char *l, const char *w)
{
    size_t n = strlen(w);
    return strncasecmp(l, w, n) == 0 && (l[n] == '\0' || isspace((unsigned char)l[n]));
}

/* Upper-case letters only (digits, spaces and punctuation allowed): a heading's title line. */
static int is_upper_line(const char *l)
{
    int letters = 0;
    for (; *l; l++) {
        if (islower((unsigned char)*l))
            return 0;
        letters += isupper((unsigned char)*l) != 0;
    }
    return letters > 0;
}

/* The end of a statute's body: the elucidation or the closing formulas. */
static int is_body_end(const char *l)
{
    return strncmp(l, "PENJELASAN", 10) == 0 || starts_word(l, "Disahkan") ||
           starts_word(l, "Ditetapkan") || strncasecmp(l, "Agar setiap orang", 17) == 0 ||
           strncmp(l, "Diundangkan di", 14) == 0;
}

/* "(1) ..." at line starts, numbered from 1: [{"ayat":"1","start":0,"end":N}, ...], byte
 * offsets into text, each span ending before the newline that precedes the next marker. */
static const char *ayat_spans(struct arena *a, const char *text)
{
    struct ing_buf b = {0};
    unsigned expect = 1;
    size_t open_at = 0;
    int rc = 0;
    for (size_t i = 0; text[i]; i++) {
        if (i > 0 && text[i - 1] != '\n')
            continue;
        char want[16];
        int wn = snprintf(want, sizeof want, "(%u)", expect);
        if (strncmp(text + i, want, (size_t)wn) != 0)
            continue;
        if (expect > 1)
            rc |= buf_printf(&b, "\"end\":%zu},", i > open_at && i > 0 ? i - 1 : i);
        rc |=
            buf_printf(&b, "%s{\"ayat\":\"%u\",\"start\":%zu,", expect == 1 ? "[" : "", expect, i);
        open_at = i;
        expect++;
    }
    if (expect == 1 || rc != 0) {
        buf_free(&b);
        return NULL;
    }
    rc |= buf_printf(&b, "\"end\":%zu}]", strlen(text));
    const char *out = rc == 0 ? arena_strndup(a, b.p, b.len) : NULL;
    buf_free(&b);
    return out;
}

static const char *title_case(struct arena *a, const char *s)
{
    static const char *const small[] = {"dan",   "atau", "di",     "ke",    "dari",  "yang",
                                        "untuk", "atas", "pada",   "dalam", "serta", "tentang",
                                        "bagi",  "oleh", "dengan", NULL};
    char *o = arena_strdup(a, s);
    if (o == NULL || !is_upper_line(s))
        return o;
    int first = 1;
    for (char *w = o; *w;) {
        size_t n = strcspn(w, " ");
        for (size_t i = 0; i < n; i++)
            w[i] = (char)tolower((unsigned char)w[i]);
        int keep = 0;
        for (int k = 0; small[k] != NULL && !first; k++)
            keep |= strlen(small[k]) == n && strncmp(w, small[k], n) == 0;
        if (!keep) /* capitalise each part of "Undang-Undang" too */
            for (size_t i = 0; i < n; i++)
                if (i == 0 || w[i - 1] == '-' || w[i - 1] == '(')
                    w[i] = (char)toupper((unsigned char)w[i]);
        first = 0;
        w += n;
        while (*w == ' ')
            w++;
    }
    return o;
}

struct text_doc {
    const char *doc_id, *doc_type, *number, *title;
    int year;
};

/* "Undang-Undang [Republik Indonesia] Nomor 1 Tahun 2031 tentang X" (any case, on one line or
 * several joined): fill what it says. 0, or -1 when the header is not such a title. */
static int title_parse(struct arena *a, const char *h, struct text_doc *td)
{
    static const struct {
        const char *words, *type, *canon;
    } types[] = {
        {"peraturan pemerintah pengganti undang-undang", "PERPU",
         "Peraturan Pemerintah Pengganti Undang-Undang"},
        {"peraturan pemerintah", "PP", "Peraturan Pemerintah"},
        {"peraturan presiden", "PERPRES", "Peraturan Presiden"},
        {"undang-undang", "UU", "Undang-Undang"},
    };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        size_t n = strlen(types[t].words);
        if (strncasecmp(h, types[t].words, n) != 0)
            continue;
        const char *p = h + n;
        while (*p == ' ')
            p++;
        if (strncasecmp(p, "republik indonesia ", 19) == 0)
            p += 19;
        if (strncasecmp(p, "nomor ", 6) != 0)
            return -1;
        p += 6;
        size_t nl = strcspn(p, " ");
        const char *num = p;
        p += nl;
        while (*p == ' ')
            p++;
        if (strncasecmp(p, "tahun ", 6) != 0 || strspn(p + 6, "0123456789") != 4)
            return -1;
        int year = atoi(p + 6);
        p += 10;
        while (*p == ' ')
            p++;
        if (strncasecmp(p, "tentang", 7) != 0)
            return -1;
        p += 7;
        while (*p == ' ' || *p == ':')
            p++;
        if (*p == '\0')
            return -1;
        td->doc_type = types[t].type;
        td->number = arena_strndup(a, num, nl);
        td->year = year;
        td->title = arena_printf(a, "%s Nomor %.*s Tahun %d tentang %s", types[t].canon, (int)nl,
                                 num, year, title_case(a, p));
        td->doc_id = arena_printf(a, "%s-%.*s-%d", types[t].type, (int)nl, num, year);
        return td->title && td->doc_id && td->number ? 0 : -1;
    }
    return -1;
}

struct text_state {
    struct ing_set *s;
    const char *path;
    struct text_doc td;
    const char *bab;
    const char *pasal;
    int pasal_roman;
    unsigned long pasal_line;
    struct ing_buf text;
};

static int text_flush(struct text_state *t)
{
    if (t->pasal == NULL)
        return 0;
    size_t n = t->text.len;
    while (n > 0 && t->text.p[n - 1] == '\n')
        n--;
    const char *pasal = t->pasal;
    t->pasal = NULL;
    if (n == 0) {
        set_bad(t->s, t->path, t->pasal_line, "Pasal %s has no text: skipped", pasal);
        t->text.len = 0;
        return 0;
    }
    struct ing_unit u = {0};
    u.key = arena_printf(t->s->a, "%s:%s", t->td.doc_id, pasal);
    u.kind = ING_ARTICLE;
    u.doc_id = t->td.doc_id;
    u.doc_type = t->td.doc_type;
    u.number = t->td.number;
    u.year = t->td.year;
    u.title = t->td.title;
    u.bab = t->bab;
    u.pasal = pasal;
    u.text = arena_strndup(t->s->a, t->text.p, n);
    u.flags = "{}";
    t->text.len = 0;
    if (u.key == NULL || u.text == NULL)
        return -1;
    u.ayat = ayat_spans(t->s->a, u.text);
    t->s->records++;
    return set_add_article(t->s, &u, t->path, t->pasal_line);
}

/* The document of a text file: from --doc-id/--title, else from its first lines. */
static int text_doc_of(struct text_state *t, char **lines, size_t nlines,
                       const struct ing_text_opts *o)
{
    struct ing_set *s = t->s;
    struct ing_buf h = {0};
    size_t taken = 0;
    int about = -1; /* the subject after "tentang": -1 not reached, else 1 if in capitals */
    for (size_t i = 0; i < nlines && taken < TEXT_HEADER_MAX_LINES; i++) {
        char *l = md_clean(lines[i]);
        int roman;
        if (*l == '\0')
            continue;
        if (starts_word(l, "BAB") || pasal_heading(s->a, l, &roman) ||
            strncasecmp(l, "DENGAN RAHMAT", 13) == 0 || starts_word(l, "Menimbang"))
            break;
        if (about == 0 || (about == 1 && !is_upper_line(l)))
            break; /* the subject ended: a one-line title, or its capitals stopped */
        if (taken++ > 0)
            buf_addc(&h, ' ');
        buf_adds(&h, l);
        const char *te = strcasestr(l, "tentang");
        if (about == -1 && te != NULL) {
            te += 7;
            while (*te == ' ' || *te == ':')
                te++;
            about = *te == '\0' ? -2 : is_upper_line(l); /* -2: the subject is on the next line */
        } else if (about == -2) {
            about = is_upper_line(l);
        }
    }
    struct text_doc parsed = {0};
    int have = h.p != NULL && title_parse(s->a, h.p, &parsed) == 0;
    buf_free(&h);
    if (o->doc_id != NULL) {
        t->td.doc_id = o->doc_id;
        if (set_split_doc_id(s, o->doc_id, &t->td.doc_type, &t->td.number, &t->td.year) != 0) {
            t->td.doc_type = o->doc_id; /* "KUHP": a code without number */
            t->td.number = NULL;
            t->td.year = have ? parsed.year : 0;
        }
    } else if (have) {
        t->td = parsed;
    } else {
        prog_msg("%s: %s: no title line like \"Undang-Undang Nomor 1 Tahun 2031 tentang ...\" "
                 "at the top: give --doc-id and --title\n",
                 ING_PROG, t->path);
        return -1;
    }
    t->td.title = o->title ? o->title : have ? parsed.title : NULL;
    if (t->td.title == NULL || t->td.year == 0) {
        prog_msg("%s: %s: %s\n", ING_PROG, t->path,
                 t->td.title == NULL ? "no title: give --title"
                                     : "no year: use --doc-id UU-N-YYYY");
        return -1;
    }
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct ing_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_add(&b, chunk, n) != 0)
            break;
    int err = ferror(f) || !feof(f);
    fclose(f);
    if (err) {
        buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.p ? b.p : strdup("");
}

int parse_text(struct ing_set *s, const char *path, const struct ing_text_opts *o)
{
    size_t len;
    char *all = slurp(path, &len);
    if (all == NULL) {
        prog_msg("%s: cannot read %s: %s\n", ING_PROG, path, strerror(errno ? errno : EIO));
        return -1;
    }
    if (memchr(all, '\0', len) != NULL) {
        prog_msg("%s: %s: a NUL byte: not a text file\n", ING_PROG, path);
        free(all);
        return -1;
    }
    size_t nlines = 1;
    for (size_t i = 0; i < len; i++)
        nlines += all[i] == '\n';
    char **lines = malloc(nlines * sizeof *lines);
    if (lines == NULL) {
        free(all);
        return -1;
    }
    nlines = 0;
    for (char *p = all, *nl; p != NULL; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (nl != NULL && nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        lines[nlines++] = p;
    }
    struct text_state t = {.s = s, .path = path};
    int rc = text_doc_of(&t, lines, nlines, o);
    enum { TX_HEADER, TX_BODY, TX_SKIP_TITLE } mode = TX_HEADER;
    for (size_t i = 0; rc == 0 && i < nlines; i++) {
        char *l = md_clean(lines[i]);
        int roman;
        const char *pasal;
        if (*l == '\0')
            continue;
        if (is_body_end(l)) {
            if (t.pasal != NULL || mode != TX_HEADER)
                break;
            continue;
        }
        if (starts_word(l, "BAB") && l[3] != '\0' && is_roman(l + 4, strcspn(l + 4, " "))) {
            rc = text_flush(&t);
            t.bab = arena_strdup(s->a, l);
            size_t j = i + 1; /* "BAB I" then "KETENTUAN UMUM" on the next line */
            while (j < nlines && *md_clean(lines[j]) == '\0')
                j++;
            if (strcspn(l + 4, " ") == strlen(l + 4) && j < nlines &&
                is_upper_line(md_clean(lines[j])) && !starts_word(md_clean(lines[j]), "PASAL")) {
                t.bab = arena_printf(s->a, "%s %s", l, md_clean(lines[j]));
                i = j;
            }
            mode = TX_BODY;
        } else if ((starts_word(l, "Bagian") && strncasecmp(l + 7, "ke", 2) == 0) ||
                   (starts_word(l, "Paragraf") && isdigit((unsigned char)l[9]))) {
            rc = text_flush(&t); /* a sub-heading; its title follows on the next line */
            mode = TX_SKIP_TITLE;
        } else if ((pasal = pasal_heading(s->a, l, &roman)) != NULL &&
                   !(t.pasal != NULL && t.pasal_roman && !roman)) {
            rc = text_flush(&t);
            char *key = arena_printf(s->a, "%s:%s", t.td.doc_id, pasal);
            size_t prev;
            if (key != NULL && map_get(&s->keymap, key, &prev)) {
                set_bad(s, path, i + 1, "Pasal %s again: the rest of the file is not read", pasal);
                break;
            }
            t.pasal = pasal;
            t.pasal_roman = roman;
            t.pasal_line = i + 1;
            mode = TX_BODY;
        } else if (mode == TX_SKIP_TITLE) {
            mode = TX_BODY;
        } else if (t.pasal != NULL) {
            rc = buf_adds(&t.text, l) || buf_addc(&t.text, '\n');
        }
    }
    if (rc == 0)
        rc = text_flush(&t);
    /* the document: taken as given by the file (source names it) */
    size_t di;
    if (rc == 0 && !map_get(&s->docmap, t.td.doc_id, &di)) {
        struct ing_doc *d = set_add_doc(s, t.td.doc_id);
        if (d == NULL) {
            rc = -1;
        } else {
            const char *base = strrchr(path, '/');
            d->doc_type = t.td.doc_type;
            d->number = t.td.number;
            d->year = t.td.year;
            d->title = t.td.title;
            d->tentang = set_tentang_of(s, t.td.title);
            d->source = arena_printf(s->a, "file:%s", base ? base + 1 : path);
            d->flags = NULL;
        }
    }
    buf_free(&t.text);
    free(lines);
    free(all);
    return rc;
}
