/* fcgi/fcgi_wire.h -- the FastCGI wire format, free of I/O: a record parser that takes input
 * split at any byte, a name-value pair parser whose 1- or 4-byte lengths may straddle records
 * and reads, and encoders for headers, pairs and END_REQUEST bodies. Record layout and
 * constants come from libfcgi's fastcgi.h; fcgiapp.h (blocking) is not used. */
#ifndef LX_FCGI_FCGI_WIRE_H
#define LX_FCGI_FCGI_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../shared/lx_err.h"

struct fcgi_hdr {
    uint8_t type;
    uint16_t id;
    uint16_t clen; /* content bytes */
    uint8_t plen;  /* padding bytes */
};

/* Callbacks return LX_OK to go on; anything else stops the parser with that error. */
struct fcgi_parser_cbs {
    enum lx_err (*on_begin)(void *ud, const struct fcgi_hdr *h); /* header whole; may be NULL */
    enum lx_err (*on_data)(void *ud, const struct fcgi_hdr *h, const uint8_t *p, size_t n);
    enum lx_err (*on_end)(void *ud, const struct fcgi_hdr *h); /* content whole */
};

struct fcgi_parser {
    int state;
    uint8_t hbuf[8];
    struct fcgi_hdr h;
    size_t left; /* content or padding bytes still to come */
    enum lx_err err;
    const struct fcgi_parser_cbs *cbs;
    void *ud;
};

void fcgi_parser_init(struct fcgi_parser *p, const struct fcgi_parser_cbs *cbs, void *ud);
/* Feed n bytes; returns how many were consumed: all of them unless p->err was set (a bad
 * version byte gives LX_EPROTO, a callback's error stops it as it is). */
size_t fcgi_parse(struct fcgi_parser *p, const uint8_t *in, size_t n);
/* Nonzero while a record is partly read (so EOF now would cut it). */
int fcgi_parser_midrecord(const struct fcgi_parser *p);

/* Name-value pairs (FCGI_PARAMS, FCGI_GET_VALUES): the callback gets NUL-terminated copies
 * (names and values may still contain NULs; the lengths are exact). */
typedef enum lx_err (*fcgi_pair_cb)(void *ud, const char *name, size_t nlen, const char *value,
                                    size_t vlen);

struct fcgi_pairs {
    int state;
    uint8_t lbuf[4];
    unsigned lpos;
    uint32_t nlen, vlen;
    char *buf; /* name, NUL, value, NUL */
    size_t cap, have;
    size_t total, max_total;
    fcgi_pair_cb cb;
    void *ud;
};

void fcgi_pairs_init(struct fcgi_pairs *pp, size_t max_total_bytes, fcgi_pair_cb cb, void *ud);
/* LX_ETOOBIG once the pairs exceed max_total_bytes, LX_ENOMEM, or the callback's error. */
enum lx_err fcgi_pairs_feed(struct fcgi_pairs *pp, const uint8_t *p, size_t n);
/* The stream ended (an empty PARAMS record): LX_EPROTO if it ended inside a pair. */
enum lx_err fcgi_pairs_finish(const struct fcgi_pairs *pp);
void fcgi_pairs_free(struct fcgi_pairs *pp);

/* Encoders. */
void fcgi_hdr_encode(uint8_t out[8], uint8_t type, uint16_t id, uint16_t clen, uint8_t plen);
/* Encode one pair into out (cap bytes); returns the bytes it takes, which may exceed cap (then
 * nothing useful was written). */
size_t fcgi_pair_encode(uint8_t *out, size_t cap, const char *name, size_t nlen, const char *value,
                        size_t vlen);
void fcgi_end_body_encode(uint8_t out[8], uint32_t app_status, uint8_t proto_status);
/* Padding that brings clen to a multiple of 8. */
static inline uint8_t fcgi_pad_for(size_t clen)
{
    return (uint8_t)((8 - (clen & 7)) & 7);
}

#endif
