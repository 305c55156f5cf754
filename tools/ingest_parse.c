/* tools/ingest_parse.c -- input of lexrag-ingest, into one ing_set: JSON Lines records in the
 * format of id-law-corpus.jsonl and a documents file in the format of id-law-docs.jsonl
 * (plain-text and Markdown statutes are tools/ingest_text.c's). Each Ketentuan Umum
 * article (pasal "1") that defs_split() finds two or more definitions in also gives one unit
 * per definition, keyed "{article key}#{number}".
 *
 * A bad line (not JSON, a required field missing or of the wrong type, a duplicate id) is
 * reported as file:line: why, counted and skipped; the caller decides the exit status. Every
 * unit gets its content hash here, over all the fields stored for it, so that PostgreSQL can
 * tell changed units from unchanged ones. */
#include "ingest.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../shared/arena.h"
#include "../shared/defs.h"

#define PARSE_ARENA_BLOCK_BYTES (64 * 1024)
#define PARSE_DEFS_MAX          2048 /* definitions taken from one article, at most */

/* ---- the set ---------------------------------------------------------------------------- */

struct ing_set *set_new(void)
{
    struct ing_set *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    if ((s->a = arena_new(PARSE_ARENA_BLOCK_BYTES)) == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void set_free(struct ing_set *s)
{
    if (s == NULL)
        return;
    map_free(&s->docmap);
    map_free(&s->keymap);
    free(s->docs);
    free(s->units);
    arena_free(s->a);
    free(s);
}

void set_bad(struct ing_set *s, const char *file, unsigned long line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    prog_msg("%s: %s:%lu: %s\n", ING_PROG, file, line, msg);
    s->bad++;
}

/* ---- content hash ----------------------------------------------------------------------- */

static int hash_field(struct ing_buf *b, const char *v)
{
    unsigned char hdr[5] = {v != NULL, 0, 0, 0, 0};
    size_t n = v ? strlen(v) : 0;
    for (int i = 0; i < 4; i++)
        hdr[1 + i] = (unsigned char)(n >> (8 * i));
    return buf_add(b, hdr, sizeof hdr) || buf_add(b, v ? v : "", n);
}

/* Over everything stored for the unit, so that any change reaches PostgreSQL. */
static int unit_hash(struct ing_unit *u)
{
    static const char *const kinds[] = {"article", "definition", "container"};
    char year[16], defno[16];
    snprintf(year, sizeof year, "%d", u->year);
    snprintf(defno, sizeof defno, "%d", u->def_no);
    const char *f[] = {
        kinds[u->kind], u->doc_id, u->doc_type,     u->number, year,    u->title,
        u->bab,         u->pasal,  u->parent_pasal, u->amends, u->ayat, u->def_no ? defno : NULL,
        u->def_term,    u->text,   u->penjelasan,   u->flags};
    struct ing_buf b = {0};
    int rc = buf_adds(&b, "lexrag-unit-1");
    for (size_t i = 0; i < sizeof f / sizeof f[0] && rc == 0; i++)
        rc = hash_field(&b, f[i]);
    if (rc == 0)
        hash128_hex(b.p, b.len, u->hash);
    buf_free(&b);
    return rc;
}

/* ---- units and documents ---------------------------------------------------------------- */

static int add_unit(struct ing_set *s, struct ing_unit *u, const char *file, unsigned long line)
{
    size_t prev;
    if (map_get(&s->keymap, u->key, &prev)) {
        set_bad(s, file, line, "duplicate id \"%s\": skipped", u->key);
        return 1;
    }
    if (s->nunits == s->units_cap) {
        size_t cap = s->units_cap ? s->units_cap * 2 : 4096;
        struct ing_unit *n = realloc(s->units, cap * sizeof *n);
        if (n == NULL)
            return -1;
        s->units = n;
        s->units_cap = cap;
    }
    if (unit_hash(u) != 0 || map_put(&s->keymap, u->key, s->nunits) != 0)
        return -1;
    u->id = 0;
    u->state = ING_UNCHANGED;
    s->units[s->nunits++] = *u;
    if (u->kind == ING_ARTICLE)
        s->articles++;
    else if (u->kind == ING_DEFINITION)
        s->definitions++;
    else
        s->containers++;
    return 0;
}

/* The definitions of a Ketentuan Umum article as units of their own, keyed "{key}#{n}"; none
 * if one of those keys is a record's id (the real corpus has ids such as "UU-10-2004:I/1#2"
 * for repeated embedded articles, which is why only top-level articles are split). */
static int add_definitions(struct ing_set *s, const struct ing_unit *art)
{
    static struct defs_item items[PARSE_DEFS_MAX];
    size_t len = strlen(art->text);
    size_t n = defs_split(art->text, len, items, PARSE_DEFS_MAX), at, termed = 0;
    for (size_t i = 0; i < n; i++)
        termed += items[i].term_end > items[i].term_start;
    if (termed < 2) /* not a list of definitions (a numbered list of duties, say) */
        return 0;
    for (size_t i = 0; i < n; i++) {
        char key[512];
        snprintf(key, sizeof key, "%s#%u", art->key, items[i].num);
        if (map_get(&s->keymap, key, &at)) {
            prog_msg("%s: warning: %s is a record's id: the definitions of %s are not split\n",
                     ING_PROG, key, art->key);
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct defs_item *it = &items[i];
        if (it->term_end <= it->term_start)
            continue; /* an item that defines no term is no definition unit */
        struct ing_unit d = *art;
        d.kind = ING_DEFINITION;
        d.key = arena_printf(s->a, "%s#%u", art->key, it->num);
        d.def_no = (int)it->num;
        d.text = arena_strndup(s->a, art->text + it->start, it->end - it->start);
        d.def_term = it->term_end > it->term_start ? arena_strndup(s->a, art->text + it->term_start,
                                                                   it->term_end - it->term_start)
                                                   : NULL;
        d.ayat = NULL;
        d.penjelasan = NULL;
        if (d.key == NULL || d.text == NULL)
            return -1;
        if (add_unit(s, &d, "", 0) != 0)
            return -1;
    }
    return 0;
}

int set_add_article(struct ing_set *s, struct ing_unit *u, const char *file, unsigned long line)
{
    return add_unit(s, u, file, line) < 0 ? -1 : 0;
}

struct ing_doc *set_add_doc(struct ing_set *s, const char *doc_id)
{
    if (s->ndocs == s->docs_cap) {
        size_t cap = s->docs_cap ? s->docs_cap * 2 : 256;
        struct ing_doc *n = realloc(s->docs, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        s->docs = n;
        s->docs_cap = cap;
    }
    if (map_put(&s->docmap, doc_id, s->ndocs) != 0)
        return NULL;
    struct ing_doc *d = &s->docs[s->ndocs++];
    memset(d, 0, sizeof *d);
    d->doc_id = doc_id;
    return d;
}

const char *set_tentang_of(struct ing_set *s, const char *title)
{
    const char *t = title ? strstr(title, " tentang ") : NULL;
    if (t == NULL && title != NULL)
        t = strstr(title, " TENTANG ");
    return t ? arena_strdup(s->a, t + 9) : NULL;
}

/* "UU-31-1999" -> UU, 31, 1999. 0, or -1 when it has another shape. */
int set_split_doc_id(struct ing_set *s, const char *id, const char **type, const char **num,
                     int *year)
{
    const char *d1 = strchr(id, '-'), *d2 = strrchr(id, '-');
    if (d1 == NULL || d2 == d1 || d1 == id || d2[1] == '\0')
        return -1;
    for (const char *p = d2 + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    *type = arena_strndup(s->a, id, (size_t)(d1 - id));
    *num = arena_strndup(s->a, d1 + 1, (size_t)(d2 - d1 - 1));
    *year = atoi(d2 + 1);
    return *type && *num ? 0 : -1;
}

/* ---- JSON fields ------------------------------------------------------------------------ */

struct jctx {
    struct ing_set *s;
    const char *file;
    unsigned long line;
    int failed;
};

/* A string field (numbers accepted as their text): arena copy, NULL for null or missing. */
static const char *jstr(struct jctx *c, json_t *o, const char *name, int required)
{
    json_t *v = json_object_get(o, name);
    if (c->failed)
        return NULL;
    if (v == NULL || json_is_null(v)) {
        if (required) {
            set_bad(c->s, c->file, c->line, "field \"%s\" is missing", name);
            c->failed = 1;
        }
        return NULL;
    }
    if (json_is_integer(v))
        return arena_printf(c->s->a, "%lld", (long long)json_integer_value(v));
    if (!json_is_string(v)) {
        set_bad(c->s, c->file, c->line, "field \"%s\" is not a string", name);
        c->failed = 1;
        return NULL;
    }
    if (required && json_string_length(v) == 0) {
        set_bad(c->s, c->file, c->line, "field \"%s\" is empty", name);
        c->failed = 1;
        return NULL;
    }
    return arena_strndup(c->s->a, json_string_value(v), json_string_length(v));
}

/* year: an integer (or digits); 0 when missing. */
static int jyear(struct jctx *c, json_t *o)
{
    json_t *v = json_object_get(o, "year");
    if (c->failed || v == NULL || json_is_null(v))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 10000)
        return (int)json_integer_value(v);
    if (json_is_string(v) && strlen(json_string_value(v)) == 4 &&
        strspn(json_string_value(v), "0123456789") == 4)
        return atoi(json_string_value(v));
    set_bad(c->s, c->file, c->line, "field \"year\" is not a year");
    c->failed = 1;
    return 0;
}

/* flags: a list of strings -> a PostgreSQL array literal; *container set if it has one. */
static const char *jflags(struct jctx *c, json_t *o, int *container)
{
    json_t *v = json_object_get(o, "flags");
    *container = 0;
    if (c->failed || v == NULL || json_is_null(v))
        return "{}";
    if (!json_is_array(v)) {
        set_bad(c->s, c->file, c->line, "field \"flags\" is not a list");
        c->failed = 1;
        return NULL;
    }
    struct ing_buf b = {0};
    int rc = buf_addc(&b, '{');
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) {
            set_bad(c->s, c->file, c->line, "field \"flags\" holds a non-string");
            c->failed = 1;
            buf_free(&b);
            return NULL;
        }
        const char *f = json_string_value(e);
        if (strcmp(f, "container") == 0)
            *container = 1;
        rc |= i > 0 ? buf_addc(&b, ',') : 0;
        rc |= buf_addc(&b, '"');
        for (; *f; f++) {
            if (*f == '"' || *f == '\\')
                rc |= buf_addc(&b, '\\');
            rc |= buf_addc(&b, *f);
        }
        rc |= buf_addc(&b, '"');
    }
    rc |= buf_addc(&b, '}');
    const char *out = rc == 0 ? arena_strndup(c->s->a, b.p, b.len) : NULL;
    buf_free(&b);
    return out;
}

/* ayat: null or a list of {"ayat","start","end"}; kept as compact JSON. */
static const char *jayat(struct jctx *c, json_t *o)
{
    json_t *v = json_object_get(o, "ayat");
    if (c->failed || v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_array(v)) {
        set_bad(c->s, c->file, c->line, "field \"ayat\" is not a list");
        c->failed = 1;
        return NULL;
    }
    char *j = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *out = j ? arena_strdup(c->s->a, j) : NULL;
    free(j);
    return out;
}

/* ---- documents file --------------------------------------------------------------------- */

static int docs_line(struct ing_set *s, json_t *o, const char *file, unsigned long line)
{
    struct jctx c = {s, file, line, 0};
    struct ing_doc d = {0};
    d.doc_id = jstr(&c, o, "doc_id", 1);
    d.doc_type = jstr(&c, o, "doc_type", 0);
    d.number = jstr(&c, o, "number", 0);
    d.year = jyear(&c, o);
    d.title = jstr(&c, o, "title", 1);
    d.tentang = jstr(&c, o, "tentang", 0);
    d.source = jstr(&c, o, "source", 0);
    int container;
    d.flags = jflags(&c, o, &container);
    if (c.failed)
        return 0;
    if (d.doc_type == NULL || d.year == 0) {
        const char *t, *n;
        int y;
        if (set_split_doc_id(s, d.doc_id, &t, &n, &y) != 0) {
            set_bad(s, file, line, "doc_type or year missing and doc_id \"%s\" does not say",
                    d.doc_id);
            return 0;
        }
        d.doc_type = d.doc_type ? d.doc_type : t;
        d.year = d.year ? d.year : y;
    }
    if (d.tentang == NULL)
        d.tentang = set_tentang_of(s, d.title);
    size_t prev;
    if (map_get(&s->docmap, d.doc_id, &prev)) {
        set_bad(s, file, line, "duplicate doc_id \"%s\": skipped", d.doc_id);
        return 0;
    }
    struct ing_doc *slot = set_add_doc(s, d.doc_id);
    if (slot == NULL)
        return -1;
    d.from_docs = 1;
    *slot = d;
    return 0;
}

/* ---- JSON Lines ------------------------------------------------------------------------- */

static int record_line(struct ing_set *s, json_t *o, const char *file, unsigned long line)
{
    struct jctx c = {s, file, line, 0};
    struct ing_unit u = {0};
    int container = 0;
    u.key = jstr(&c, o, "id", 1);
    u.doc_id = jstr(&c, o, "doc_id", 1);
    u.doc_type = jstr(&c, o, "doc_type", 0);
    u.number = jstr(&c, o, "number", 0);
    u.year = jyear(&c, o);
    u.title = jstr(&c, o, "title", 0);
    u.pasal = jstr(&c, o, "pasal", 1);
    u.ayat = jayat(&c, o);
    u.text = jstr(&c, o, "text", 1);
    u.parent_pasal = jstr(&c, o, "parent_pasal", 0);
    u.amends = jstr(&c, o, "amends", 0);
    u.bab = jstr(&c, o, "bab", 0);
    u.penjelasan = jstr(&c, o, "penjelasan", 0);
    u.flags = jflags(&c, o, &container);
    if (c.failed)
        return 0;
    if (u.doc_type == NULL || u.year == 0) {
        const char *t, *n;
        int y;
        if (set_split_doc_id(s, u.doc_id, &t, &n, &y) != 0) {
            set_bad(s, file, line, "doc_type or year missing and doc_id \"%s\" does not say",
                    u.doc_id);
            return 0;
        }
        u.doc_type = u.doc_type ? u.doc_type : t;
        u.year = u.year ? u.year : y;
    }
    if (u.title == NULL) { /* from --docs, if it names the law */
        size_t di;
        if (map_get(&s->docmap, u.doc_id, &di))
            u.title = s->docs[di].title;
        if (u.title == NULL) {
            set_bad(s, file, line, "field \"title\" is missing");
            return 0;
        }
    }
    u.kind = container ? ING_CONTAINER : ING_ARTICLE;
    s->records++;
    return set_add_article(s, &u, file, line);
}

/* Read path line by line; fn handles each JSON object. */
static int read_jsonl(struct ing_set *s, const char *path, struct ing_progress *p,
                      int (*fn)(struct ing_set *, json_t *, const char *, unsigned long))
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        prog_msg("%s: cannot open %s: %s\n", ING_PROG, path, strerror(errno));
        return -1;
    }
    uint64_t base = p ? p->done : 0, items = p ? p->items : 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    uint64_t bytes = 0;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        bytes += (uint64_t)n;
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
            len--;
        if (len == 0)
            continue;
        json_error_t jerr;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
        if (o == NULL) {
            set_bad(s, path, lineno, "bad JSON at column %d: %s", jerr.column, jerr.text);
        } else if (!json_is_object(o)) {
            set_bad(s, path, lineno, "not a JSON object");
        } else {
            rc = fn(s, o, path, lineno);
            items++;
        }
        json_decref(o);
        if (p != NULL && (lineno & 255) == 0)
            prog_update(p, base + bytes, items);
    }
    if (rc == 0 && ferror(f)) {
        prog_msg("%s: cannot read %s: %s\n", ING_PROG, path, strerror(errno));
        rc = -1;
    } else if (rc != 0) {
        prog_msg("%s: %s: out of memory\n", ING_PROG, path);
    }
    if (p != NULL)
        prog_update(p, base + bytes, items);
    free(line);
    fclose(f);
    return rc;
}

int parse_docs_file(struct ing_set *s, const char *path)
{
    return read_jsonl(s, path, NULL, docs_line);
}

int parse_jsonl(struct ing_set *s, const char *path, struct ing_progress *p)
{
    return read_jsonl(s, path, p, record_line);
}

/* ---- documents of the records ----------------------------------------------------------- */

int set_finish(struct ing_set *s)
{
    size_t n = s->nunits;
    for (size_t i = 0; i < n; i++) { /* the units array grows: copy the article */
        struct ing_unit art = s->units[i];
        if (art.kind == ING_ARTICLE && art.parent_pasal == NULL && strcmp(art.pasal, "1") == 0 &&
            add_definitions(s, &art) != 0)
            return -1;
    }
    for (size_t i = 0; i < s->nunits; i++) {
        struct ing_unit *u = &s->units[i];
        size_t di;
        if (map_get(&s->docmap, u->doc_id, &di)) {
            s->docs[di].in_input = 1;
            continue;
        }
        struct ing_doc *d = set_add_doc(s, u->doc_id);
        if (d == NULL)
            return -1;
        d->doc_type = u->doc_type;
        d->number = u->number;
        d->year = u->year;
        d->title = u->title;
        d->tentang = set_tentang_of(s, u->title);
        d->source = NULL;
        d->flags = NULL;
        d->in_input = 1;
    }
    return 0;
}

int unit_embed_text(struct ing_buf *b, const char *kind, const char *title, const char *bab,
                    const char *def_term, const char *text)
{
    int rc = 0;
    if (strcmp(kind, "definition") == 0) { /* "X: X adalah ... (Undang-Undang ... tentang ...)" */
        if (def_term != NULL && def_term[0] != '\0')
            rc |= buf_adds(b, def_term) || buf_adds(b, ": ");
        rc |= buf_adds(b, text) || buf_adds(b, " (") || buf_adds(b, title) || buf_addc(b, ')');
        return rc;
    }
    rc |= buf_adds(b, title) || buf_addc(b, ' ');
    if (bab != NULL && bab[0] != '\0')
        rc |= buf_adds(b, bab) || buf_addc(b, ' ');
    rc |= buf_adds(b, text);
    return rc;
}
