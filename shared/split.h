/* shared/split.h -- splits a multi-part question ("apa definisi korupsi dan apa sanksi
 * pidananya?") into sub-queries that are retrieved concurrently and fused. A plain question
 * that merely contains "dan" ("hak dan kewajiban pekerja") stays whole. A later part that
 * refers back ("sanksi pidananya") carries the topic of the first. Pure: no I/O. */
#ifndef LX_SHARED_SPLIT_H
#define LX_SHARED_SPLIT_H

#include <stddef.h>

#define LX_SPLIT_MAX_PARTS 4

struct arena;

/* Fill parts[0..n) with sub-queries (arena strings) and return n (1..max); a question that is
 * not multi-part gives 1 part, the question itself (trimmed). 0 only on ENOMEM. */
unsigned split_query(struct arena *a, const char *q, const char **parts, unsigned max);

#endif
