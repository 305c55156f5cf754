/* shared/bm25.h -- BM25 retrieval over Xapian (libxapian), behind a small C API; the shim is
 * shared/bm25.cc and catches every C++ exception at the boundary.
 *
 * Conventions (as LevelDB's c.h): opaque handles; pointer arguments non-NULL unless said;
 * errors as char **err (NULL on entry; on failure a malloc'ed message, caller frees).
 *
 * Indexing: one unit (an article, or one definition of a Ketentuan Umum article) is one
 * Xapian document keyed by unit_id. Title, chapter heading (bab) and text are indexed with the
 * Indonesian Snowball stemmer; the project's own Indonesian stopword list (bm25_stopwords.c)
 * drops question and function words. doc_type, year, doc_id, number and pasal are structured
 * fields (boolean terms and values), not left to the text parser, so filters and exact
 * article numbers such as "27A" or law numbers such as "1/2023" work.
 * One writer (lexrag-ingest) and many readers (the workers), which reopen when the index
 * changes. A reader handle is used by one thread at a time. */
#ifndef LX_SHARED_BM25_H
#define LX_SHARED_BM25_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bm25_unit {
    int64_t unit_id;
    const char *doc_id;   /* "UU-31-1999" */
    const char *doc_type; /* "UU", "PP", "KUHP" */
    const char *number;   /* "31"; may be NULL */
    int year;
    const char *pasal;              /* "2", "12B", "303 bis" */
    const char *title, *bab, *text; /* bab may be NULL */
};

struct bm25_filter {        /* every field optional */
    const char *doc_type;   /* NULL: any */
    const char *doc_id;     /* NULL: any */
    int year_min, year_max; /* 0: unbounded */
};

struct bm25_hit {
    int64_t unit_id;
    double score;
};

typedef struct bm25_writer bm25_writer;
typedef struct bm25_index bm25_index;

/* Open (creating if needed) the index directory for writing. */
bm25_writer *bm25_writer_open(const char *dir, char **err);
/* Add or replace the unit with this unit_id. 0, or -1 + *err. */
int bm25_writer_put(bm25_writer *w, const struct bm25_unit *u, char **err);
int bm25_writer_delete(bm25_writer *w, int64_t unit_id, char **err);
int bm25_writer_commit(bm25_writer *w, char **err);
void bm25_writer_close(bm25_writer *w); /* commits pending changes; NULL is fine */

bm25_index *bm25_open(const char *dir, char **err);
void bm25_close(bm25_index *ix); /* NULL is fine */
/* Pick up a newer committed revision: 1 if it changed, 0 if not, -1 + *err. */
int bm25_reopen(bm25_index *ix, char **err);
uint64_t bm25_doc_count(const bm25_index *ix);
/* OR query with BM25 (k1, b) ranking; filter may be NULL. Fills up to k hits, best first.
 * Returns the count, or -1 + *err. A query of stopwords only returns 0 hits. */
int bm25_search(bm25_index *ix, const char *query, const struct bm25_filter *filter, unsigned k,
                double k1, double b, struct bm25_hit *hits, char **err);

/* The stopword list (bm25_stopwords.c): sorted, lower-case, NULL-terminated. */
extern const char *const bm25_stopwords[];
int bm25_is_stopword(const char *word);

#ifdef __cplusplus
}
#endif

#endif
