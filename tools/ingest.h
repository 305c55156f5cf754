/* tools/ingest.h -- the parts of lexrag-ingest (tools/lexrag-ingest.c is the command line):
 *   ingest_util.c    growable buffers, a string map, the 128-bit content hash, the progress bar
 *   ingest_parse.c   JSON Lines records and the documents file into one ing_set; the
 *                    definitions of a Ketentuan Umum article; content hashes
 *   ingest_text.c    plain-text/Markdown statutes split at their "Pasal N" headings
 *   ingest_db.c      libpq (blocking: this is a command-line tool, not the worker): migrations,
 *                    the upsert of documents and units, pruning, statistics
 *   ingest_embed.c   vectors of new and changed units through the configured embedder, on a
 *                    libevent loop, stored with COPY
 *   ingest_index.c   the BM25 index (incremental, or rebuilt and swapped in) and the ANN index
 * Everything parsed lives in the set's arena and dies with it. */
#ifndef LX_TOOLS_INGEST_H
#define LX_TOOLS_INGEST_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct cfg;
struct pg_conn;
typedef struct pg_conn PGconn;

#define ING_PROG "lexrag-ingest"

/* ---- util: buffers, map, hash ----------------------------------------------------------- */

struct ing_buf {
    char *p;
    size_t len, cap;
};
int buf_reserve(struct ing_buf *b, size_t extra); /* 0, or -1 on ENOMEM */
int buf_add(struct ing_buf *b, const void *p, size_t n);
int buf_adds(struct ing_buf *b, const char *s);
int buf_addc(struct ing_buf *b, char c);
int buf_printf(struct ing_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct ing_buf *b);

/* String -> index (keys are borrowed and must outlive the map). */
struct ing_map {
    const char **keys;
    size_t *vals;
    size_t cap, n;
};
int map_put(struct ing_map *m, const char *key, size_t val);        /* 0, or -1 on ENOMEM */
int map_get(const struct ing_map *m, const char *key, size_t *val); /* 1 found, 0 not */
void map_free(struct ing_map *m);

/* The 128-bit content hash (MurmurHash3 x64_128) of p[0..n) as 32 hex digits and a NUL. */
void hash128_hex(const void *p, size_t n, char out[33]);

double now_s(void); /* monotonic seconds */

/* ---- util: progress --------------------------------------------------------------------- */

/* On a terminal (stderr) a bar with rate and ETA, redrawn at most 10 times a second; else a
 * plain line every 5 seconds. total = 0: no bar, no ETA. done counts what total counts; items
 * are what is shown as counted (records while parsing bytes, for instance). */
struct ing_progress {
    const char *phase, *what;
    uint64_t total, done, items;
    double t0, last;
    int drawn;
};
void prog_init(int quiet);
void prog_start(struct ing_progress *p, const char *phase, uint64_t total, const char *what);
void prog_update(struct ing_progress *p, uint64_t done, uint64_t items);
double prog_end(struct ing_progress *p); /* seconds the phase took */
/* Print a message on stderr without tearing a bar that is on screen. */
void prog_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the parsed input ------------------------------------------------------------------- */

enum ing_kind { ING_ARTICLE, ING_DEFINITION, ING_CONTAINER };
enum ing_state { ING_UNCHANGED, ING_INSERTED, ING_UPDATED };

struct ing_doc {
    const char *doc_id, *doc_type, *number, *title, *tentang, *source;
    const char *flags; /* PostgreSQL array literal; NULL: keep what the database has */
    int year;
    int from_docs; /* from --docs (authoritative) rather than derived from the records */
    int in_input;  /* some unit of this load belongs to it */
};

struct ing_unit {
    const char *key; /* "UU-31-1999:2", "UU-31-1999:1#3" */
    enum ing_kind kind;
    const char *doc_id, *doc_type, *number, *title, *bab, *pasal, *parent_pasal, *amends;
    const char *ayat; /* compact JSON, or NULL */
    const char *def_term, *text, *penjelasan;
    const char *flags; /* PostgreSQL array literal, "{}" when none */
    int year, def_no;  /* def_no 0: not a definition */
    char hash[33];
    int64_t id; /* chunks.id, once the database has it */
    enum ing_state state;
};

struct ing_set {
    struct arena *a;
    struct ing_doc *docs;
    size_t ndocs, docs_cap;
    struct ing_unit *units;
    size_t nunits, units_cap;
    struct ing_map docmap, keymap;
    size_t records, bad, articles, definitions, containers;
};

struct ing_text_opts {
    const char *doc_id, *title; /* --doc-id, --title: for one text file */
};

struct ing_set *set_new(void);
void set_free(struct ing_set *s);
/* Each returns 0, or -1 when the file could not be read at all (message printed); bad lines
 * are reported (file:line: why), counted in s->bad and skipped. */
int parse_docs_file(struct ing_set *s, const char *path);
int parse_jsonl(struct ing_set *s, const char *path, struct ing_progress *p);
int parse_text(struct ing_set *s, const char *path, const struct ing_text_opts *o);
/* After all files: split the Ketentuan Umum articles into definitions, derive the documents
 * the units name but no --docs line gave. 0 or -1. */
int set_finish(struct ing_set *s);
/* For the parsers: report a bad line (file:line: why) and count it. */
void set_bad(struct ing_set *s, const char *file, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Add an article or container (u is copied; its hash is computed here). A duplicate key is a
 * bad line. 0, or -1 on ENOMEM. */
int set_add_article(struct ing_set *s, struct ing_unit *u, const char *file, unsigned long line);
/* A new document, zeroed but for doc_id (borrowed), mapped by it; NULL on ENOMEM. */
struct ing_doc *set_add_doc(struct ing_set *s, const char *doc_id);
/* "UU-31-1999" -> UU, 31, 1999 (arena strings). 0, or -1 when it has another shape. */
int set_split_doc_id(struct ing_set *s, const char *id, const char **type, const char **num,
                     int *year);
/* What follows " tentang " in a title (arena string), or NULL. */
const char *set_tentang_of(struct ing_set *s, const char *title);
/* The texts that are indexed, from a unit's fields (the same rule for the set and for rows
 * read back from PostgreSQL). Appends to b; 0, or -1 on ENOMEM. */
int unit_embed_text(struct ing_buf *b, const char *kind, const char *title, const char *bab,
                    const char *def_term, const char *text);

/* ---- database --------------------------------------------------------------------------- */

struct ing_db_stats {
    size_t docs_inserted, docs_updated, docs_unchanged;
    size_t inserted, updated, unchanged, deleted;
    int64_t *deleted_ids; /* malloc'ed: units removed (vanished definitions, --prune) */
    size_t ndeleted_ids;
    int containers_changed; /* an existing unit became (or changed as) a container */
};

enum ing_prune { ING_PRUNE_NONE, ING_PRUNE_DOCS, ING_PRUNE_ALL };

/* Connect (blocking), with a hint on how to create a missing database. NULL on failure. */
PGconn *db_connect(const char *conninfo);
void db_close(PGconn *c);
/* One lexrag-ingest per database at a time (a session advisory lock). 0, or -1. */
int db_lock(PGconn *c);
/* Apply the embedded migrations not yet applied, each in its own transaction. *applied: how
 * many ran. 0, or -1 (message printed). */
int db_migrate(PGconn *c, int *applied);
/* The schema version, 0 if never migrated, -1 on error. */
int db_schema_version(PGconn *c);
/* Upsert the set's documents and units in one transaction (COPY into temp tables, one
 * INSERT ... ON CONFLICT each), delete definitions that vanished from a loaded Ketentuan Umum
 * article, and prune. Fills each unit's id and state. before_commit (may be NULL) runs just
 * before COMMIT when anything changed; its failure rolls back. 0, or -1. */
int db_upsert(PGconn *c, struct ing_set *s, enum ing_prune prune, struct ing_db_stats *st,
              int (*before_commit)(void *), void *ud, struct ing_progress *p);
void db_stats_free(struct ing_db_stats *st);
/* `lexrag-ingest stats`: print the counts. 0, or -1. */
int db_print_stats(PGconn *c, const struct cfg *cfg);
/* Units of kind article/definition without a current vector for (model, dim). -1 on error. */
long db_count_missing_vectors(PGconn *c, const char *model, unsigned dim);
/* Run a statement without parameters, printing the error; 0 or -1. */
int db_exec(PGconn *c, const char *sql);

/* ---- embedding -------------------------------------------------------------------------- */

struct ing_embed_stats {
    size_t wanted, embedded, failed;
};
/* Embed every article/definition whose vector for the configured model is missing or stale
 * and store the vectors. 0, or -1 (what was stored stays stored). */
int embed_missing(PGconn *c, const struct cfg *cfg, struct ing_embed_stats *st,
                  struct ing_progress *p);

/* ---- indexes ---------------------------------------------------------------------------- */

/* Paths under [index] dir. */
struct ing_paths {
    char dir[512], bm25[600], bm25_new[600], bm25_old[600], generation[600], ann[600], pending[600];
};
/* create: make the directory if it is missing. 0 or -1 (message printed). */
int paths_init(struct ing_paths *ph, const char *index_dir, int create);

struct ing_index_stats {
    size_t bm25_put, bm25_deleted, bm25_docs;
    int bm25_rebuilt;
    size_t ann_vectors;
    int ann_built;
};
/* Apply the set's changed units and the deleted ids to dir/bm25, then commit. 0 or -1. */
int bm25_incremental(const struct ing_paths *ph, const struct ing_set *s,
                     const struct ing_db_stats *dst, struct ing_index_stats *st,
                     struct ing_progress *p);
/* Build dir/bm25.new from every indexed unit in PostgreSQL and swap it in for dir/bm25;
 * bump dir/bm25.generation. 0 or -1. */
int bm25_rebuild(PGconn *c, const struct ing_paths *ph, struct ing_index_stats *st,
                 struct ing_progress *p);
/* Build dir/dense.ann from all current vectors of (model, dim). 0 or -1. */
int ann_rebuild(PGconn *c, const struct ing_paths *ph, const char *model, unsigned dim,
                struct ing_index_stats *st, struct ing_progress *p);
/* The marker of an ingest whose index updates have not finished: dir/.ingest-pending. */
int pending_set(const struct ing_paths *ph); /* 0 or -1 */
int pending_exists(const struct ing_paths *ph);
void pending_clear(const struct ing_paths *ph);
int path_exists(const char *path);
/* `lexrag-ingest stats`: what the index files hold. */
void index_print_stats(const struct ing_paths *ph, unsigned dim);

#endif
