/* shared/ann.h -- approximate nearest-neighbour search over unit vectors (hnswlib, header-only
 * from Debian's libhnswlib-dev, compiled with the project's flags), behind a small C API; the
 * shim is shared/ann.cc and catches every C++ exception at the boundary. Inner-product space
 * over L2-normalised vectors (cosine). The index file is written to PATH.tmp and renamed, so
 * readers see the old or the new file, never a torn one. A loaded index is read-only and may be
 * searched from several threads at once.
 * Conventions: opaque handles; errors as char **err (NULL on entry; malloc'ed on failure). */
#ifndef LX_SHARED_ANN_H
#define LX_SHARED_ANN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ann_builder ann_builder;
typedef struct ann_index ann_index;

/* m and ef_construction: hnswlib's build parameters (0: defaults 16 and 200). */
ann_builder *ann_builder_new(unsigned dim, size_t max_elements, unsigned m,
                             unsigned ef_construction, char **err);
int ann_builder_add(ann_builder *b, int64_t id, const float *vec, char **err);
/* Write atomically (PATH.tmp, fsync, rename). 0, or -1 + *err. */
int ann_builder_save(ann_builder *b, const char *path, char **err);
void ann_builder_free(ann_builder *b);

ann_index *ann_open(const char *path, unsigned dim, char **err); /* NULL + *err on failure */
void ann_close(ann_index *ix);                                   /* NULL is fine */
size_t ann_count(const ann_index *ix);
unsigned ann_dim(const ann_index *ix);
/* The k nearest (ef: search breadth, 0 for a default >= k). ids and sims (cosine similarity,
 * larger is nearer) are the caller's arrays of k. Returns the count, or -1 + *err. */
int ann_search(const ann_index *ix, const float *vec, unsigned k, unsigned ef, int64_t *ids,
               float *sims, char **err);
/* Exact search over the same vectors (for measuring recall). */
int ann_search_exact(const ann_index *ix, const float *vec, unsigned k, int64_t *ids, float *sims,
                     char **err);

#ifdef __cplusplus
}
#endif

#endif
