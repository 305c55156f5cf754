/* tools/ingest_db.c -- lexrag-ingest's PostgreSQL side, with blocking libpq (a command-line
 * tool; the worker uses shared/pg_ev.c). The migrations of sql/ are compiled in (the Makefile
 * generates migrations.h with tools/gen-migrations.sh), so an installed tool needs no sql/.
 *
 * The upsert is one transaction: the documents and the units are COPYed into temporary tables,
 * then one statement each writes what changed -- for units, INSERT ... ON CONFLICT (key) DO
 * UPDATE ... WHERE chunks.content_hash <> EXCLUDED.content_hash, so an unchanged unit is not
 * even rewritten. A session advisory lock keeps a second lexrag-ingest off the same database
 * (its index files would be written by two processes). */
#include "ingest.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shared/cfg.h"

struct ing_migration {
    int version;
    const char *name, *sql;
    size_t len;
};

#include "migrations.h"

#define DB_COPY_CHUNK_BYTES (1024 * 1024)
#define DB_LOCK_KEY         "7164206101" /* pg_advisory_lock key of lexrag-ingest ("lexr") */

/* ---- basics ----------------------------------------------------------------------------- */

static void db_err(PGconn *c, const char *what, const PGresult *r)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (m == NULL || m[0] == '\0')
        m = PQerrorMessage(c);
    prog_msg("%s: %s: %s%s", ING_PROG, what, m, m[0] && m[strlen(m) - 1] == '\n' ? "" : "\n");
}

int db_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        db_err(c, sql, r);
    PQclear(r);
    return ok ? 0 : -1;
}

/* A query that must return tuples; NULL on error (printed). */
static PGresult *db_query(PGconn *c, const char *what, const char *sql, int n,
                          const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        db_err(c, what, r);
        PQclear(r);
        return NULL;
    }
    return r;
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation already exists, skipping" and the like */
}

PGconn *db_connect(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (c == NULL) {
        prog_msg("%s: cannot connect to PostgreSQL: out of memory\n", ING_PROG);
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        const char *m = PQerrorMessage(c);
        prog_msg("%s: cannot connect to PostgreSQL ([postgres] conninfo = \"%s\"): %s", ING_PROG,
                 conninfo, m);
        const char *db = PQdb(c), *user = PQuser(c);
        if (strstr(m, "does not exist") != NULL && strstr(m, "database") != NULL)
            prog_msg("%s: create the database first, as a PostgreSQL superuser:\n"
                     "    sudo -u postgres createdb -O %s %s\n"
                     "then run: lexrag-ingest migrate\n",
                     ING_PROG, user && *user ? user : "USER", db && *db ? db : "lexrag");
        else if (strstr(m, "role") != NULL && strstr(m, "does not exist") != NULL)
            prog_msg("%s: create the role first: sudo -u postgres createuser %s\n", ING_PROG,
                     user && *user ? user : "USER");
        else if (strstr(m, "No such file") != NULL || strstr(m, "Connection refused") != NULL)
            prog_msg("%s: is PostgreSQL running, and does [postgres] conninfo point at it?\n",
                     ING_PROG);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    if (db_exec(c, "SET client_min_messages = warning") != 0) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

void db_close(PGconn *c)
{
    if (c != NULL)
        PQfinish(c);
}

int db_lock(PGconn *c)
{
    PGresult *r = db_query(c, "lock", "SELECT pg_try_advisory_lock(" DB_LOCK_KEY ")", 0, NULL);
    if (r == NULL)
        return -1;
    int got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (got)
        return 0;
    prog_msg("%s: another lexrag-ingest is working on this database: waiting for it\n", ING_PROG);
    return db_exec(c, "SELECT pg_advisory_lock(" DB_LOCK_KEY ")");
}

/* ---- migrations ------------------------------------------------------------------------- */

int db_schema_version(PGconn *c)
{
    PGresult *r = db_query(c, "schema version",
                           "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 "
                           "ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END",
                           0, NULL);
    if (r == NULL)
        return -1;
    int v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

int db_migrate(PGconn *c, int *applied)
{
    *applied = 0;
    if (db_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   "version integer PRIMARY KEY, "
                   "applied_at timestamptz NOT NULL DEFAULT now())") != 0)
        return -1;
    PGresult *r = db_query(c, "migrations", "SELECT version FROM schema_migrations", 0, NULL);
    if (r == NULL)
        return -1;
    int newest = 0, known = 0;
    size_t n = sizeof ing_migrations / sizeof ing_migrations[0];
    for (size_t i = 0; i < n; i++)
        known = ing_migrations[i].version > known ? ing_migrations[i].version : known;
    for (int i = 0; i < PQntuples(r); i++) {
        int v = atoi(PQgetvalue(r, i, 0));
        newest = v > newest ? v : newest;
    }
    if (newest > known)
        prog_msg("%s: warning: the database has schema version %d, newer than this tool's %d\n",
                 ING_PROG, newest, known);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct ing_migration *m = &ing_migrations[i];
        int done = 0;
        for (int k = 0; k < PQntuples(r) && !done; k++)
            done = atoi(PQgetvalue(r, k, 0)) == m->version;
        if (done)
            continue;
        char ver[16];
        snprintf(ver, sizeof ver, "%d", m->version);
        const char *params[] = {ver};
        if (db_exec(c, "BEGIN") != 0)
            return -1;
        PGresult *x = PQexec(c, m->sql);
        int ok = PQresultStatus(x) == PGRES_COMMAND_OK || PQresultStatus(x) == PGRES_TUPLES_OK;
        if (!ok) {
            char what[160];
            snprintf(what, sizeof what, "migration %s failed (rolled back)", m->name);
            db_err(c, what, x);
        }
        PQclear(x);
        PGresult *ins =
            ok ? db_query(c, "record migration",
                          "INSERT INTO schema_migrations (version) VALUES ($1)", 1, params)
               : NULL;
        if (ins != NULL && db_exec(c, "COMMIT") == 0) {
            prog_msg("%s: applied migration %s\n", ING_PROG, m->name);
            (*applied)++;
        } else {
            db_exec(c, "ROLLBACK");
            rc = -1;
        }
        PQclear(ins);
    }
    PQclear(r);
    return rc;
}

/* ---- COPY ------------------------------------------------------------------------------- */

/* One field of COPY's text format: \N for NULL, backslash escapes; then tab or newline. */
static int copy_field(struct ing_buf *b, const char *v, int last)
{
    int rc = 0;
    if (v == NULL) {
        rc = buf_add(b, "\\N", 2);
    } else {
        if (buf_reserve(b, strlen(v) + 16) != 0)
            return -1;
        for (const char *p = v; *p && rc == 0; p++) {
            switch (*p) {
            case '\\': rc = buf_add(b, "\\\\", 2); break;
            case '\n': rc = buf_add(b, "\\n", 2); break;
            case '\r': rc = buf_add(b, "\\r", 2); break;
            case '\t': rc = buf_add(b, "\\t", 2); break;
            default: rc = buf_addc(b, *p);
            }
        }
    }
    return rc || buf_addc(b, last ? '\n' : '\t');
}

static int copy_flush(PGconn *c, struct ing_buf *b)
{
    if (b->len > 0 && PQputCopyData(c, b->p, (int)b->len) != 1)
        return -1;
    b->len = 0;
    return 0;
}

static int copy_end(PGconn *c, const char *what, int failed)
{
    int rc = PQputCopyEnd(c, failed ? "lexrag-ingest gave up" : NULL) == 1 ? 0 : -1;
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            if (!failed)
                db_err(c, what, r);
            rc = -1;
        }
        PQclear(r);
    }
    return failed ? -1 : rc;
}

static int copy_begin(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    if (!ok)
        db_err(c, sql, r);
    PQclear(r);
    return ok ? 0 : -1;
}

static int copy_docs(PGconn *c, const struct ing_set *s)
{
    if (copy_begin(c, "COPY ing_docs FROM STDIN") != 0)
        return -1;
    struct ing_buf b = {0};
    int rc = 0;
    for (size_t i = 0; i < s->ndocs && rc == 0; i++) {
        const struct ing_doc *d = &s->docs[i];
        char year[16];
        snprintf(year, sizeof year, "%d", d->year);
        rc = copy_field(&b, d->doc_id, 0) || copy_field(&b, d->doc_type, 0) ||
             copy_field(&b, d->number, 0) || copy_field(&b, year, 0) ||
             copy_field(&b, d->title, 0) || copy_field(&b, d->tentang, 0) ||
             copy_field(&b, d->source, 0) || copy_field(&b, d->flags, 0) ||
             copy_field(&b, d->from_docs ? "t" : "f", 0) ||
             copy_field(&b, d->in_input ? "t" : "f", 1);
        if (rc == 0 && b.len >= DB_COPY_CHUNK_BYTES)
            rc = copy_flush(c, &b);
    }
    if (rc == 0)
        rc = copy_flush(c, &b);
    buf_free(&b);
    return copy_end(c, "COPY documents", rc != 0);
}

static int copy_units(PGconn *c, const struct ing_set *s, struct ing_progress *p)
{
    static const char *const kinds[] = {"article", "definition", "container"};
    if (copy_begin(c, "COPY ing_chunks FROM STDIN") != 0)
        return -1;
    struct ing_buf b = {0};
    int rc = 0;
    for (size_t i = 0; i < s->nunits && rc == 0; i++) {
        const struct ing_unit *u = &s->units[i];
        char ord[24], year[16], defno[16];
        snprintf(ord, sizeof ord, "%zu", i);
        snprintf(year, sizeof year, "%d", u->year);
        snprintf(defno, sizeof defno, "%d", u->def_no);
        rc = copy_field(&b, ord, 0) || copy_field(&b, u->key, 0) ||
             copy_field(&b, kinds[u->kind], 0) || copy_field(&b, u->doc_id, 0) ||
             copy_field(&b, u->doc_type, 0) || copy_field(&b, u->number, 0) ||
             copy_field(&b, year, 0) || copy_field(&b, u->title, 0) || copy_field(&b, u->bab, 0) ||
             copy_field(&b, u->pasal, 0) || copy_field(&b, u->parent_pasal, 0) ||
             copy_field(&b, u->amends, 0) || copy_field(&b, u->ayat, 0) ||
             copy_field(&b, u->def_no ? defno : NULL, 0) || copy_field(&b, u->def_term, 0) ||
             copy_field(&b, u->text, 0) || copy_field(&b, u->penjelasan, 0) ||
             copy_field(&b, u->flags, 0) || copy_field(&b, u->hash, 1);
        if (rc == 0 && b.len >= DB_COPY_CHUNK_BYTES) {
            rc = copy_flush(c, &b);
            prog_update(p, i + 1, i + 1);
        }
    }
    if (rc == 0)
        rc = copy_flush(c, &b);
    buf_free(&b);
    return copy_end(c, "COPY units", rc != 0);
}

/* ---- upsert ----------------------------------------------------------------------------- */

static const char SQL_TEMP[] =
    "CREATE TEMP TABLE ing_docs (doc_id text, doc_type text, number text, year integer, "
    "  title text, tentang text, source text, flags text[], auth boolean, in_input boolean) "
    "  ON COMMIT DROP;"
    "CREATE TEMP TABLE ing_chunks (ord integer, key text, kind text, doc_id text, "
    "  doc_type text, number text, year integer, title text, bab text, pasal text, "
    "  parent_pasal text, amends text, ayat jsonb, def_no integer, def_term text, text text, "
    "  penjelasan text, flags text[], content_hash text) ON COMMIT DROP";

/* A document from --docs is taken as it is; one derived from the records keeps the tentang,
 * source and flags the database has (from an earlier --docs) where it knows none. */
static const char SQL_DOCS_UPDATE[] =
    "WITH n AS ("
    "  SELECT t.doc_id, t.doc_type, t.number, t.year, t.title,"
    "    CASE WHEN t.auth THEN t.tentang ELSE coalesce(t.tentang, d.tentang) END AS tentang,"
    "    CASE WHEN t.auth THEN t.source ELSE coalesce(t.source, d.source) END AS source,"
    "    coalesce(t.flags, d.flags) AS flags"
    "  FROM ing_docs t JOIN documents d USING (doc_id))"
    "UPDATE documents d SET doc_type = n.doc_type, number = n.number, year = n.year,"
    "  title = n.title, tentang = n.tentang, source = n.source, flags = n.flags,"
    "  updated_at = now() "
    "FROM n WHERE d.doc_id = n.doc_id AND"
    "  (d.doc_type, d.number, d.year, d.title, d.tentang, d.source, d.flags)"
    "  IS DISTINCT FROM (n.doc_type, n.number, n.year, n.title, n.tentang, n.source, n.flags)";

static const char SQL_DOCS_INSERT[] =
    "INSERT INTO documents (doc_id, doc_type, number, year, title, tentang, source, flags) "
    "SELECT doc_id, doc_type, number, year, title, tentang, source, coalesce(flags, '{}') "
    "FROM ing_docs t WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = t.doc_id)";

static const char SQL_UNITS_UPSERT[] =
    "INSERT INTO chunks AS c (key, kind, doc_id, doc_type, number, year, title, bab, pasal,"
    "  parent_pasal, amends, ayat, def_no, def_term, text, penjelasan, flags, content_hash) "
    "SELECT key, kind, doc_id, doc_type, number, year, title, bab, pasal, parent_pasal, amends,"
    "  ayat, def_no, def_term, text, penjelasan, flags, content_hash FROM ing_chunks "
    "ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, doc_id = EXCLUDED.doc_id,"
    "  doc_type = EXCLUDED.doc_type, number = EXCLUDED.number, year = EXCLUDED.year,"
    "  title = EXCLUDED.title, bab = EXCLUDED.bab, pasal = EXCLUDED.pasal,"
    "  parent_pasal = EXCLUDED.parent_pasal, amends = EXCLUDED.amends, ayat = EXCLUDED.ayat,"
    "  def_no = EXCLUDED.def_no, def_term = EXCLUDED.def_term, text = EXCLUDED.text,"
    "  penjelasan = EXCLUDED.penjelasan, flags = EXCLUDED.flags,"
    "  content_hash = EXCLUDED.content_hash, updated_at = now() "
    "WHERE c.content_hash <> EXCLUDED.content_hash "
    "RETURNING c.key, (c.xmax = 0) AS inserted";

static const char SQL_UNIT_IDS[] = "SELECT t.ord, c.id FROM ing_chunks t JOIN chunks c USING (key)";

/* Definitions of a loaded Ketentuan Umum article that its text no longer has. */
static const char SQL_DEFS_VANISHED[] =
    "DELETE FROM chunks c WHERE c.kind = 'definition'"
    "  AND regexp_replace(c.key, '#[0-9]+$', '')"
    "    IN (SELECT key FROM ing_chunks WHERE kind <> 'definition')"
    "  AND NOT EXISTS (SELECT 1 FROM ing_chunks t WHERE t.key = c.key) "
    "RETURNING c.id";

static const char SQL_PRUNE_DOCS[] =
    "DELETE FROM chunks c WHERE c.doc_id IN (SELECT doc_id FROM ing_docs WHERE in_input)"
    "  AND NOT EXISTS (SELECT 1 FROM ing_chunks t WHERE t.key = c.key) "
    "RETURNING c.id";

static const char SQL_PRUNE_ALL[] =
    "DELETE FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM ing_chunks t WHERE t.key = c.key) "
    "RETURNING c.id";

static const char SQL_PRUNE_ALL_DOCS[] =
    "DELETE FROM documents d WHERE NOT EXISTS (SELECT 1 FROM ing_docs t WHERE t.doc_id = "
    "d.doc_id) AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.doc_id = d.doc_id)";

static const char SQL_CONTAINER_VECTORS[] =
    "DELETE FROM chunk_vectors v USING chunks c WHERE v.chunk_id = c.id AND c.kind = 'container'";

static long affected(PGresult *r)
{
    const char *n = PQcmdTuples(r);
    return n && *n ? atol(n) : 0;
}

/* Run a DELETE ... RETURNING id and append the ids. 0 or -1. */
static int collect_deleted(PGconn *c, const char *what, const char *sql, struct ing_db_stats *st)
{
    PGresult *r = db_query(c, what, sql, 0, NULL);
    if (r == NULL)
        return -1;
    int n = PQntuples(r);
    if (n > 0) {
        int64_t *ids = realloc(st->deleted_ids, (st->ndeleted_ids + (size_t)n) * sizeof *ids);
        if (ids == NULL) {
            PQclear(r);
            return -1;
        }
        st->deleted_ids = ids;
        for (int i = 0; i < n; i++)
            ids[st->ndeleted_ids++] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        st->deleted += (size_t)n;
    }
    PQclear(r);
    return 0;
}

static int upsert_docs(PGconn *c, struct ing_set *s, struct ing_db_stats *st)
{
    if (copy_docs(c, s) != 0)
        return -1;
    PGresult *u = db_query(c, "update documents", SQL_DOCS_UPDATE, 0, NULL);
    PGresult *i = u ? db_query(c, "insert documents", SQL_DOCS_INSERT, 0, NULL) : NULL;
    int rc = i ? 0 : -1;
    if (rc == 0) {
        st->docs_updated = (size_t)affected(u);
        st->docs_inserted = (size_t)affected(i);
        st->docs_unchanged = s->ndocs - st->docs_updated - st->docs_inserted;
    }
    PQclear(u);
    PQclear(i);
    return rc;
}

static int upsert_units(PGconn *c, struct ing_set *s, struct ing_db_stats *st,
                        struct ing_progress *p)
{
    if (copy_units(c, s, p) != 0 || db_exec(c, "ANALYZE ing_chunks") != 0)
        return -1;
    PGresult *r = db_query(c, "upsert units", SQL_UNITS_UPSERT, 0, NULL);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        size_t at;
        if (!map_get(&s->keymap, PQgetvalue(r, i, 0), &at))
            continue; /* cannot happen: every key came from the set */
        struct ing_unit *u = &s->units[at];
        u->state = strcmp(PQgetvalue(r, i, 1), "t") == 0 ? ING_INSERTED : ING_UPDATED;
        if (u->state == ING_INSERTED)
            st->inserted++;
        else
            st->updated++;
        if (u->state == ING_UPDATED && u->kind == ING_CONTAINER)
            st->containers_changed = 1;
    }
    PQclear(r);
    st->unchanged = s->nunits - st->inserted - st->updated;
    if ((r = db_query(c, "unit ids", SQL_UNIT_IDS, 0, NULL)) == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        long ord = atol(PQgetvalue(r, i, 0));
        if (ord >= 0 && (size_t)ord < s->nunits)
            s->units[ord].id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    }
    PQclear(r);
    return 0;
}

int db_upsert(PGconn *c, struct ing_set *s, enum ing_prune prune, struct ing_db_stats *st,
              int (*before_commit)(void *), void *ud, struct ing_progress *p)
{
    memset(st, 0, sizeof *st);
    if (db_exec(c, "BEGIN") != 0)
        return -1;
    int rc = db_exec(c, SQL_TEMP);
    if (rc == 0)
        rc = upsert_docs(c, s, st);
    if (rc == 0)
        rc = upsert_units(c, s, st, p);
    if (rc == 0)
        rc = collect_deleted(c, "remove vanished definitions", SQL_DEFS_VANISHED, st);
    if (rc == 0 && prune == ING_PRUNE_DOCS)
        rc = collect_deleted(c, "prune", SQL_PRUNE_DOCS, st);
    if (rc == 0 && prune == ING_PRUNE_ALL) {
        rc = collect_deleted(c, "prune", SQL_PRUNE_ALL, st);
        if (rc == 0)
            rc = db_exec(c, SQL_PRUNE_ALL_DOCS);
    }
    if (rc == 0 && st->containers_changed)
        rc = db_exec(c, SQL_CONTAINER_VECTORS);
    int changed =
        st->inserted + st->updated + st->deleted + st->docs_inserted + st->docs_updated > 0;
    if (rc == 0 && changed && before_commit != NULL)
        rc = before_commit(ud);
    if (rc == 0)
        rc = db_exec(c, "COMMIT");
    else
        db_exec(c, "ROLLBACK");
    return rc;
}

void db_stats_free(struct ing_db_stats *st)
{
    free(st->deleted_ids);
    st->deleted_ids = NULL;
    st->ndeleted_ids = 0;
}

/* ---- stats ------------------------------------------------------------------------------ */

long db_count_missing_vectors(PGconn *c, const char *model, unsigned dim)
{
    char d[16];
    snprintf(d, sizeof d, "%u", dim);
    const char *params[] = {model, d};
    PGresult *r = db_query(c, "count missing vectors",
                           "SELECT count(*) FROM chunks c LEFT JOIN chunk_vectors v"
                           "  ON v.chunk_id = c.id AND v.model = $1 "
                           "WHERE c.kind <> 'container' AND (v.chunk_id IS NULL"
                           "  OR v.content_hash <> c.content_hash OR v.dim <> $2::integer)",
                           2, params);
    if (r == NULL)
        return -1;
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

static int print_table(PGconn *c, const char *title, const char *sql, int n,
                       const char *const *params)
{
    PGresult *r = db_query(c, title, sql, n, params);
    if (r == NULL)
        return -1;
    printf("%s\n", title);
    int cols = PQnfields(r);
    int w[16] = {0};
    for (int j = 0; j < cols && j < 16; j++) {
        w[j] = (int)strlen(PQfname(r, j));
        for (int i = 0; i < PQntuples(r); i++)
            if ((int)strlen(PQgetvalue(r, i, j)) > w[j])
                w[j] = (int)strlen(PQgetvalue(r, i, j));
    }
    printf(" ");
    for (int j = 0; j < cols && j < 16; j++)
        printf(" %*s", j == 0 ? -w[j] : w[j], PQfname(r, j));
    printf("\n");
    for (int i = 0; i < PQntuples(r); i++) {
        printf(" ");
        for (int j = 0; j < cols && j < 16; j++)
            printf(" %*s", j == 0 ? -w[j] : w[j], PQgetvalue(r, i, j));
        printf("\n");
    }
    if (PQntuples(r) == 0)
        printf("  (none)\n");
    PQclear(r);
    return 0;
}

int db_print_stats(PGconn *c, const struct cfg *cfg)
{
    int v = db_schema_version(c);
    if (v < 0)
        return -1;
    printf("schema version: %d\n", v);
    if (v == 0) {
        printf("the database is empty: run lexrag-ingest migrate (or load)\n");
        return 0;
    }
    char dim[16];
    snprintf(dim, sizeof dim, "%lu", cfg->emb_dim);
    const char *params[] = {cfg->emb_model, dim};
    int rc = 0;
    rc |= print_table(c, "units per kind:",
                      "SELECT kind, count(*) AS units FROM chunks GROUP BY kind "
                      "UNION ALL SELECT 'total', count(*) FROM chunks",
                      0, NULL);
    rc |= print_table(c, "per doc_type:",
                      "SELECT d.doc_type, count(DISTINCT d.doc_id) AS documents,"
                      " count(c.id) FILTER (WHERE c.kind = 'article') AS articles,"
                      " count(c.id) FILTER (WHERE c.kind = 'definition') AS definitions,"
                      " count(c.id) FILTER (WHERE c.kind = 'container') AS containers "
                      "FROM documents d LEFT JOIN chunks c ON c.doc_id = d.doc_id "
                      "GROUP BY d.doc_type ORDER BY d.doc_type",
                      0, NULL);
    rc |= print_table(c, "vectors per model:",
                      "SELECT v.model, v.dim, count(*) AS vectors,"
                      " count(*) FILTER (WHERE v.content_hash <> c.content_hash) AS stale "
                      "FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id "
                      "GROUP BY v.model, v.dim ORDER BY v.model, v.dim",
                      0, NULL);
    long missing = db_count_missing_vectors(c, params[0], (unsigned)cfg->emb_dim);
    if (missing >= 0)
        printf("units without a current vector for the configured model (%s, dim %s): %ld\n",
               params[0], params[1], missing);
    return rc != 0 || missing < 0 ? -1 : 0;
}
