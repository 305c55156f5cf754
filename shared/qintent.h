/* shared/qintent.h -- what kind of question a query is, where that changes retrieval. Today:
 * a definition question ("apa definisi X?", "apa yang dimaksud dengan X?", "pengertian X",
 * "apa itu X?", "X adalah apa?") and its term X, so that the definitions of X (units of kind
 * definition whose term is X) are looked up directly and ranked first. Pure: no I/O. */
#ifndef LX_SHARED_QINTENT_H
#define LX_SHARED_QINTENT_H

#include <stddef.h>

#define LX_QINTENT_TERM_MAX_BYTES 128

/* 1 and the term (trimmed, as typed) in term[cap] if q is a definition question; else 0. */
int qintent_definition(const char *q, char *term, size_t cap);

#endif
