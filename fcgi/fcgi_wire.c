/* fcgi/fcgi_wire.c -- FastCGI record and name-value pair parsers and encoders (fcgi_wire.h).
 * The record parser keeps one state per header byte, in the manner of nginx's
 * ngx_http_fastcgi_process_record(); content and padding are taken in bulk. */
#include "fcgi_wire.h"

#include <fastcgi.h>
#include <stdlib.h>
#include <string.h>

enum { FP_HEADER, FP_CONTENT, FP_PADDING };

void fcgi_parser_init(struct fcgi_parser *p, const struct fcgi_parser_cbs *cbs, void *ud)
{
    memset(p, 0, sizeof *p);
    p->state = FP_HEADER;
    p->cbs = cbs;
    p->ud = ud;
}

int fcgi_parser_midrecord(const struct fcgi_parser *p)
{
    return p->state != FP_HEADER || p->left != 0;
}

/* The header is whole: decode it, announce it, and end an empty record at once. */
static void fp_header_done(struct fcgi_parser *p)
{
    const uint8_t *b = p->hbuf;
    if (b[0] != FCGI_VERSION_1) {
        p->err = LX_EPROTO;
        return;
    }
    p->h.type = b[1];
    p->h.id = (uint16_t)(b[2] << 8 | b[3]);
    p->h.clen = (uint16_t)(b[4] << 8 | b[5]);
    p->h.plen = b[6];
    p->left = 0;
    if (p->cbs->on_begin != NULL && (p->err = p->cbs->on_begin(p->ud, &p->h)) != LX_OK)
        return;
    if (p->h.clen == 0) {
        if ((p->err = p->cbs->on_end(p->ud, &p->h)) != LX_OK)
            return;
        p->state = FP_PADDING;
        p->left = p->h.plen;
    } else {
        p->state = FP_CONTENT;
        p->left = p->h.clen;
    }
}

size_t fcgi_parse(struct fcgi_parser *p, const uint8_t *in, size_t n)
{
    size_t i = 0;
    while (p->err == LX_OK) {
        if (p->state == FP_PADDING && p->left == 0) { /* record done, padding too */
            p->state = FP_HEADER;
            p->left = 0;
        }
        if (i >= n)
            break;
        switch (p->state) {
        case FP_HEADER:
            p->hbuf[p->left++] = in[i++]; /* left counts header bytes here */
            if (p->left == FCGI_HEADER_LEN)
                fp_header_done(p);
            break;
        case FP_CONTENT: {
            size_t take = n - i < p->left ? n - i : p->left;
            p->err = p->cbs->on_data(p->ud, &p->h, in + i, take);
            i += take;
            p->left -= take;
            if (p->err == LX_OK && p->left == 0) {
                p->err = p->cbs->on_end(p->ud, &p->h);
                p->state = FP_PADDING;
                p->left = p->h.plen;
            }
            break;
        }
        case FP_PADDING: {
            size_t take = n - i < p->left ? n - i : p->left;
            i += take;
            p->left -= take;
            break;
        }
        }
    }
    return i;
}

/* ---- name-value pairs ------------------------------------------------------------------- */

enum { PP_NLEN, PP_VLEN, PP_BODY };

void fcgi_pairs_init(struct fcgi_pairs *pp, size_t max_total_bytes, fcgi_pair_cb cb, void *ud)
{
    memset(pp, 0, sizeof *pp);
    pp->state = PP_NLEN;
    pp->max_total = max_total_bytes;
    pp->cb = cb;
    pp->ud = ud;
}

void fcgi_pairs_free(struct fcgi_pairs *pp)
{
    free(pp->buf);
    pp->buf = NULL;
    pp->cap = 0;
}

enum lx_err fcgi_pairs_finish(const struct fcgi_pairs *pp)
{
    return pp->state == PP_NLEN && pp->lpos == 0 ? LX_OK : LX_EPROTO;
}

/* Take one length byte; returns 1 when the length (1 byte, or 4 with the high bit) is whole. */
static int pp_len_byte(struct fcgi_pairs *pp, uint8_t c, uint32_t *out)
{
    pp->lbuf[pp->lpos++] = c;
    if (pp->lpos == 1 && !(c & 0x80)) {
        *out = c;
        pp->lpos = 0;
        return 1;
    }
    if (pp->lpos == 4) {
        *out = (uint32_t)(pp->lbuf[0] & 0x7f) << 24 | (uint32_t)pp->lbuf[1] << 16 |
               (uint32_t)pp->lbuf[2] << 8 | pp->lbuf[3];
        pp->lpos = 0;
        return 1;
    }
    return 0;
}

static enum lx_err pp_start_body(struct fcgi_pairs *pp)
{
    size_t need = (size_t)pp->nlen + pp->vlen + 2;
    if (pp->nlen > pp->max_total || pp->vlen > pp->max_total ||
        pp->total + need > pp->max_total + 2)
        return LX_ETOOBIG;
    if (need > pp->cap) {
        char *nb = realloc(pp->buf, need);
        if (nb == NULL)
            return LX_ENOMEM;
        pp->buf = nb;
        pp->cap = need;
    }
    pp->have = 0;
    pp->state = PP_BODY;
    return LX_OK;
}

static enum lx_err pp_emit(struct fcgi_pairs *pp)
{
    char *name = pp->buf, *value = pp->buf + pp->nlen + 1;
    memmove(value, pp->buf + pp->nlen, pp->vlen); /* name and value were read back to back */
    name[pp->nlen] = '\0';
    value[pp->vlen] = '\0';
    pp->total += (size_t)pp->nlen + pp->vlen;
    pp->state = PP_NLEN;
    return pp->cb(pp->ud, name, pp->nlen, value, pp->vlen);
}

enum lx_err fcgi_pairs_feed(struct fcgi_pairs *pp, const uint8_t *p, size_t n)
{
    size_t i = 0;
    enum lx_err e = LX_OK;
    while (e == LX_OK) {
        if (pp->state == PP_BODY && pp->have == (size_t)pp->nlen + pp->vlen) {
            e = pp_emit(pp);
            continue;
        }
        if (i >= n)
            break;
        switch (pp->state) {
        case PP_NLEN:
            if (pp_len_byte(pp, p[i++], &pp->nlen))
                pp->state = PP_VLEN;
            break;
        case PP_VLEN:
            if (pp_len_byte(pp, p[i++], &pp->vlen))
                e = pp_start_body(pp);
            break;
        case PP_BODY: {
            size_t want = (size_t)pp->nlen + pp->vlen - pp->have;
            size_t take = n - i < want ? n - i : want;
            memcpy(pp->buf + pp->have, p + i, take);
            pp->have += take;
            i += take;
            break;
        }
        }
    }
    return e;
}

/* ---- encoders --------------------------------------------------------------------------- */

void fcgi_hdr_encode(uint8_t out[8], uint8_t type, uint16_t id, uint16_t clen, uint8_t plen)
{
    out[0] = FCGI_VERSION_1;
    out[1] = type;
    out[2] = (uint8_t)(id >> 8);
    out[3] = (uint8_t)id;
    out[4] = (uint8_t)(clen >> 8);
    out[5] = (uint8_t)clen;
    out[6] = plen;
    out[7] = 0;
}

static size_t len_encode(uint8_t *out, size_t cap, size_t at, size_t len)
{
    if (len < 128) {
        if (at < cap)
            out[at] = (uint8_t)len;
        return 1;
    }
    if (at + 4 <= cap) {
        out[at] = (uint8_t)(0x80 | (len >> 24));
        out[at + 1] = (uint8_t)(len >> 16);
        out[at + 2] = (uint8_t)(len >> 8);
        out[at + 3] = (uint8_t)len;
    }
    return 4;
}

size_t fcgi_pair_encode(uint8_t *out, size_t cap, const char *name, size_t nlen, const char *value,
                        size_t vlen)
{
    size_t at = len_encode(out, cap, 0, nlen);
    at += len_encode(out, cap, at, vlen);
    size_t total = at + nlen + vlen;
    if (total <= cap) {
        memcpy(out + at, name, nlen);
        memcpy(out + at + nlen, value, vlen);
    }
    return total;
}

void fcgi_end_body_encode(uint8_t out[8], uint32_t app_status, uint8_t proto_status)
{
    out[0] = (uint8_t)(app_status >> 24);
    out[1] = (uint8_t)(app_status >> 16);
    out[2] = (uint8_t)(app_status >> 8);
    out[3] = (uint8_t)app_status;
    out[4] = proto_status;
    out[5] = out[6] = out[7] = 0;
}
