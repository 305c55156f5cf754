/* shared/defs.h -- splits a "Ketentuan Umum" article (usually Pasal 1: "Dalam Undang-Undang ini
 * yang dimaksud dengan: 1. X adalah ... 2. Y adalah ...") into its numbered definitions, so
 * that each can be indexed as its own retrieval unit. Pure: no I/O, no allocation; results are
 * byte ranges into the caller's text. */
#ifndef LX_SHARED_DEFS_H
#define LX_SHARED_DEFS_H

#include <stddef.h>

struct defs_item {
    unsigned num;                /* 1, 2, ...; for lettered lists a = 1, b = 2, ... */
    size_t marker;               /* where its "N." begins (text[0..marker of item 0) is the
                                    intro: "Dalam Undang-Undang ini yang dimaksud dengan:") */
    size_t start, end;           /* the definition after its "N. ", trimmed: text[start..end) */
    size_t term_start, term_end; /* the term defined ("X"), inside it; equal if not found */
};

/* Fill out[0..n) with the definitions of text[0..len) in order and return n (<= max). Items
 * are "1." / "2." ... (or "a." / "b." ...) at a sentence or line boundary, numbered in sequence;
 * a gap is accepted at a line start, a repeated number restarts an item that has no "adalah"
 * yet (OCR repeats). The term ends at "adalah", "ialah", "yaitu", "merupakan" or
 * "yang selanjutnya ...". 0 when the text is not a numbered list. */
size_t defs_split(const char *text, size_t len, struct defs_item *out, size_t max);

#endif
