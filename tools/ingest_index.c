/* tools/ingest_index.c -- the index files lexrag-ingest writes under [index] dir, read by the
 * workers:
 *   bm25/             Xapian (shared/bm25.h). A load updates it in place (put new and changed
 *                     units, delete removed ones, one commit): a worker's bm25_reopen() sees
 *                     the new revision. A rebuild (reindex, or a load that finds the index
 *                     missing or an earlier ingest unfinished) writes bm25.new/ from PostgreSQL
 *                     and swaps it in: renameat2(RENAME_EXCHANGE) where the file system has
 *                     it (atomic), else bm25 -> bm25.old, bm25.new -> bm25; then the old one
 *                     is removed and bm25.generation is rewritten (write + rename).
 *   bm25.generation   one decimal number, incremented at each swap. A worker that sees it
 *                     change (stat: inode or mtime) must bm25_close() and bm25_open() again:
 *                     its open handle still reads the replaced (deleted) files.
 *   dense.ann         hnswlib (shared/ann.h), rebuilt from all current vectors of the model
 *                     and written atomically by ann_builder_save(); workers stat it.
 *   .ingest-pending   exists while the database holds changes the indexes may not have yet
 *                     (written before the upsert commits, removed when both indexes are
 *                     done). A load that finds it rebuilds both indexes from PostgreSQL. */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shared/ann.h"
#include "../shared/bm25.h"

int path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int mkdir_p(const char *dir)
{
    char p[512];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int paths_init(struct ing_paths *ph, const char *index_dir, int create)
{
    memset(ph, 0, sizeof *ph);
    size_t n = strlen(index_dir);
    while (n > 1 && index_dir[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof ph->dir) {
        prog_msg("%s: [index] dir is empty or too long\n", ING_PROG);
        return -1;
    }
    memcpy(ph->dir, index_dir, n);
    snprintf(ph->bm25, sizeof ph->bm25, "%s/bm25", ph->dir);
    snprintf(ph->bm25_new, sizeof ph->bm25_new, "%s/bm25.new", ph->dir);
    snprintf(ph->bm25_old, sizeof ph->bm25_old, "%s/bm25.old", ph->dir);
    snprintf(ph->generation, sizeof ph->generation, "%s/bm25.generation", ph->dir);
    snprintf(ph->ann, sizeof ph->ann, "%s/dense.ann", ph->dir);
    snprintf(ph->pending, sizeof ph->pending, "%s/.ingest-pending", ph->dir);
    if (create && mkdir_p(ph->dir) != 0) {
        prog_msg("%s: cannot create the index directory %s: %s\n", ING_PROG, ph->dir,
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* Write path atomically: path.tmp, fsync, rename. */
static int write_file(const char *path, const char *data)
{
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t n = strlen(data);
    int ok = write(fd, data, n) == (ssize_t)n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int pending_set(const struct ing_paths *ph)
{
    if (write_file(ph->pending, "lexrag-ingest: the indexes may lag the database\n") != 0) {
        prog_msg("%s: cannot write %s: %s\n", ING_PROG, ph->pending, strerror(errno));
        return -1;
    }
    return 0;
}

int pending_exists(const struct ing_paths *ph)
{
    return path_exists(ph->pending);
}

void pending_clear(const struct ing_paths *ph)
{
    unlink(ph->pending);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int rm_rf(const char *path)
{
    if (!path_exists(path))
        return 0;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- BM25 ------------------------------------------------------------------------------- */

static int bm25_count(const char *dir, size_t *docs)
{
    char *err = NULL;
    bm25_index *ix = bm25_open(dir, &err);
    if (ix == NULL) {
        prog_msg("%s: %s\n", ING_PROG, err ? err : "cannot open the BM25 index");
        free(err);
        return -1;
    }
    *docs = (size_t)bm25_doc_count(ix);
    bm25_close(ix);
    return 0;
}
/* What BM25 indexes of a unit. A definition is indexed under its term (in the heading field,
 * weighted like a chapter heading) with the phrase that introduces every definition, so that
 * "apa yang dimaksud dengan X" finds it; measured on the development questions this beats
 * indexing the article's chapter heading and the bare definition (bench/bm25_eval). buf holds
 * the composed text and must outlive the put. */
static void bm25_fields(struct bm25_unit *bu, int is_definition, const char *def_term,
                        struct ing_buf *buf)
{
    if (!is_definition || def_term == NULL || def_term[0] == '\0')
        return;
    buf->len = 0;
    if (buf_adds(buf, "yang dimaksud dengan ") == 0 && buf_adds(buf, bu->text) == 0) {
        bu->text = buf->p;
        bu->bab = def_term;
    }
}

int bm25_incremental(const struct ing_paths *ph, const struct ing_set *s,
                     const struct ing_db_stats *dst, struct ing_index_stats *st,
                     struct ing_progress *p)
{
    char *err = NULL;
    struct ing_buf text = {0};
    bm25_writer *w = bm25_writer_open(ph->bm25, &err);
    int rc = w ? 0 : -1;
    uint64_t done = 0;
    for (size_t i = 0; i < s->nunits && rc == 0; i++) {
        const struct ing_unit *u = &s->units[i];
        if (u->state == ING_UNCHANGED)
            continue;
        if (u->kind == ING_CONTAINER) { /* not indexed; it may have been an article before */
            if (u->state == ING_UPDATED) {
                rc = bm25_writer_delete(w, u->id, &err);
                st->bm25_deleted++;
            }
        } else {
            struct bm25_unit bu = {u->id,    u->doc_id, u->doc_type, u->number, u->year,
                                   u->pasal, u->title,  u->bab,      u->text};
            bm25_fields(&bu, u->kind == ING_DEFINITION, u->def_term, &text);
            rc = bm25_writer_put(w, &bu, &err);
            st->bm25_put++;
        }
        done++;
        prog_update(p, done, done);
    }
    for (size_t i = 0; i < dst->ndeleted_ids && rc == 0; i++) {
        rc = bm25_writer_delete(w, dst->deleted_ids[i], &err);
        st->bm25_deleted++;
        done++;
        prog_update(p, done, done);
    }
    if (rc == 0)
        rc = bm25_writer_commit(w, &err);
    if (rc != 0)
        prog_msg("%s: BM25 index %s: %s\n", ING_PROG, ph->bm25, err ? err : "?");
    free(err);
    buf_free(&text);
    bm25_writer_close(w);
    if (rc == 0)
        rc = bm25_count(ph->bm25, &st->bm25_docs);
    return rc;
}

static int bump_generation(const struct ing_paths *ph)
{
    unsigned long long g = 0;
    FILE *f = fopen(ph->generation, "r");
    if (f != NULL) {
        if (fscanf(f, "%llu", &g) != 1)
            g = 0;
        fclose(f);
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%llu\n", g + 1);
    if (write_file(ph->generation, buf) != 0) {
        prog_msg("%s: cannot write %s: %s\n", ING_PROG, ph->generation, strerror(errno));
        return -1;
    }
    return 0;
}

/* bm25.new takes the place of bm25. */
static int bm25_swap(const struct ing_paths *ph)
{
    if (!path_exists(ph->bm25)) {
        if (rename(ph->bm25_new, ph->bm25) != 0)
            goto fail;
    } else if (renameat2(AT_FDCWD, ph->bm25_new, AT_FDCWD, ph->bm25, RENAME_EXCHANGE) == 0) {
        if (rm_rf(ph->bm25_new) != 0) /* now the old index */
            prog_msg("%s: warning: cannot remove the old index %s: %s\n", ING_PROG, ph->bm25_new,
                     strerror(errno));
    } else if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) {
        if (rm_rf(ph->bm25_old) != 0 || rename(ph->bm25, ph->bm25_old) != 0 ||
            rename(ph->bm25_new, ph->bm25) != 0)
            goto fail;
        if (rm_rf(ph->bm25_old) != 0)
            prog_msg("%s: warning: cannot remove the old index %s: %s\n", ING_PROG, ph->bm25_old,
                     strerror(errno));
    } else {
        goto fail;
    }
    return bump_generation(ph);
fail:
    prog_msg("%s: cannot put %s in place of %s: %s\n", ING_PROG, ph->bm25_new, ph->bm25,
             strerror(errno));
    return -1;
}

/* Run sql (one row at a time, binary results if binary) and call fn for each row. */
static int each_row(PGconn *c, const char *what, const char *sql, int n, const char *const *params,
                    int binary, int (*fn)(void *, PGresult *), void *ud)
{
    if (!PQsendQueryParams(c, sql, n, NULL, params, NULL, NULL, binary) || !PQsetSingleRowMode(c)) {
        prog_msg("%s: %s: %s", ING_PROG, what, PQerrorMessage(c));
        return -1;
    }
    int rc = 0;
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        ExecStatusType t = PQresultStatus(r);
        if (t == PGRES_SINGLE_TUPLE) {
            if (rc == 0)
                rc = fn(ud, r);
        } else if (t != PGRES_TUPLES_OK) {
            prog_msg("%s: %s: %s", ING_PROG, what, PQresultErrorMessage(r));
            rc = -1;
        }
        PQclear(r);
    }
    return rc;
}

static long count_rows(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    long v = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
    if (v < 0)
        prog_msg("%s: count: %s", ING_PROG, PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

struct bm25_fill {
    bm25_writer *w;
    struct ing_buf text;
    char *err;
    struct ing_index_stats *st;
    struct ing_progress *p;
};

static const char *col(PGresult *r, int j)
{
    return PQgetisnull(r, 0, j) ? NULL : PQgetvalue(r, 0, j);
}

static int bm25_fill_row(void *ud, PGresult *r)
{
    struct bm25_fill *f = ud;
    struct bm25_unit u = {strtoll(col(r, 0), NULL, 10),
                          col(r, 1),
                          col(r, 2),
                          col(r, 3),
                          atoi(col(r, 4)),
                          col(r, 5),
                          col(r, 6),
                          col(r, 7),
                          col(r, 8)};
    bm25_fields(&u, strcmp(col(r, 9), "definition") == 0, col(r, 10), &f->text);
    if (bm25_writer_put(f->w, &u, &f->err) != 0)
        return -1;
    f->st->bm25_put++;
    prog_update(f->p, f->st->bm25_put, f->st->bm25_put);
    return 0;
}

int bm25_rebuild(PGconn *c, const struct ing_paths *ph, struct ing_index_stats *st,
                 struct ing_progress *p)
{
    static const char where[] = " FROM chunks WHERE kind <> 'container'";
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*)%s", where);
    long n = count_rows(c, sql, 0, NULL);
    if (n < 0)
        return -1;
    p->total = (uint64_t)n;
    if (rm_rf(ph->bm25_new) != 0) {
        prog_msg("%s: cannot remove %s: %s\n", ING_PROG, ph->bm25_new, strerror(errno));
        return -1;
    }
    struct bm25_fill f = {.st = st, .p = p};
    f.w = bm25_writer_open(ph->bm25_new, &f.err);
    int rc = f.w ? 0 : -1;
    if (rc == 0) {
        snprintf(sql, sizeof sql,
                 "SELECT id, doc_id, doc_type, number, year, pasal, title, bab, text, kind,"
                 " def_term%s "
                 "ORDER BY id",
                 where);
        rc = each_row(c, "read units for BM25", sql, 0, NULL, 0, bm25_fill_row, &f);
    }
    if (rc == 0 && bm25_writer_commit(f.w, &f.err) != 0)
        rc = -1;
    if (f.err != NULL)
        prog_msg("%s: BM25 index %s: %s\n", ING_PROG, ph->bm25_new, f.err);
    free(f.err);
    buf_free(&f.text);
    bm25_writer_close(f.w);
    if (rc == 0)
        rc = bm25_swap(ph);
    else
        rm_rf(ph->bm25_new);
    st->bm25_rebuilt = 1;
    if (rc == 0)
        rc = bm25_count(ph->bm25, &st->bm25_docs);
    return rc;
}

/* ---- ANN -------------------------------------------------------------------------------- */

struct ann_fill {
    ann_builder *b;
    unsigned dim;
    float *vec;
    char *err;
    struct ing_index_stats *st;
    struct ing_progress *p;
};

static int ann_fill_row(void *ud, PGresult *r)
{
    struct ann_fill *f = ud;
    const unsigned char *id = (const unsigned char *)PQgetvalue(r, 0, 0);
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, 0, 1);
    if (PQgetlength(r, 0, 0) != 8 || PQgetlength(r, 0, 1) != (int)(f->dim * 4)) {
        f->err = strdup("a stored vector has the wrong length");
        return -1;
    }
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | id[i];
    for (unsigned d = 0; d < f->dim; d++) { /* little-endian float32 */
        uint32_t x = (uint32_t)v[4 * d] | (uint32_t)v[4 * d + 1] << 8 |
                     (uint32_t)v[4 * d + 2] << 16 | (uint32_t)v[4 * d + 3] << 24;
        memcpy(&f->vec[d], &x, 4);
    }
    if (ann_builder_add(f->b, (int64_t)u, f->vec, &f->err) != 0)
        return -1;
    f->st->ann_vectors++;
    prog_update(f->p, f->st->ann_vectors, f->st->ann_vectors);
    return 0;
}

int ann_rebuild(PGconn *c, const struct ing_paths *ph, const char *model, unsigned dim,
                struct ing_index_stats *st, struct ing_progress *p)
{
    static const char from[] =
        " FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id WHERE v.model = $1"
        " AND v.dim = $2::integer AND v.content_hash = c.content_hash AND c.kind <> 'container'";
    char d[16], sql[512];
    snprintf(d, sizeof d, "%u", dim);
    const char *params[] = {model, d};
    snprintf(sql, sizeof sql, "SELECT count(*)%s", from);
    long n = count_rows(c, sql, 2, params);
    if (n < 0)
        return -1;
    p->total = (uint64_t)n;
    struct ann_fill f = {.dim = dim, .st = st, .p = p};
    f.vec = malloc(dim * sizeof *f.vec);
    f.b = f.vec ? ann_builder_new(dim, (size_t)n, 0, 0, &f.err) : NULL;
    int rc = f.b ? 0 : -1;
    if (rc == 0) {
        snprintf(sql, sizeof sql, "SELECT v.chunk_id, v.vec%s ORDER BY v.chunk_id", from);
        rc = each_row(c, "read vectors", sql, 2, params, 1, ann_fill_row, &f);
    }
    if (rc == 0)
        rc = ann_builder_save(f.b, ph->ann, &f.err);
    if (rc != 0)
        prog_msg("%s: vector index %s: %s\n", ING_PROG, ph->ann, f.err ? f.err : "out of memory");
    st->ann_built = rc == 0;
    free(f.err);
    free(f.vec);
    ann_builder_free(f.b);
    return rc;
}

/* ---- stats ------------------------------------------------------------------------------ */

void index_print_stats(const struct ing_paths *ph, unsigned dim)
{
    printf("index directory: %s\n", ph->dir);
    size_t docs = 0;
    if (!path_exists(ph->bm25)) {
        printf("  bm25: missing (run lexrag-ingest reindex)\n");
    } else if (bm25_count(ph->bm25, &docs) == 0) {
        unsigned long long g = 0;
        FILE *f = fopen(ph->generation, "r");
        if (f != NULL) {
            if (fscanf(f, "%llu", &g) != 1)
                g = 0;
            fclose(f);
        }
        printf("  bm25: %zu units (generation %llu)\n", docs, g);
    }
    if (!path_exists(ph->ann)) {
        printf("  dense.ann: missing (run lexrag-ingest reindex)\n");
    } else {
        char *err = NULL;
        ann_index *ix = ann_open(ph->ann, dim, &err);
        if (ix != NULL)
            printf("  dense.ann: %zu vectors of dim %u\n", ann_count(ix), ann_dim(ix));
        else
            printf("  dense.ann: cannot open: %s\n", err ? err : "?");
        ann_close(ix);
        free(err);
    }
    if (pending_exists(ph))
        printf("  an ingest did not finish: the next load rebuilds both indexes\n");
}
