/* tests/fuzz/fuzz_fcgi.c -- libFuzzer harness for the FastCGI wire format (fcgi/fcgi_wire.c):
 * the record parser, the name-value pair parser behind it and the encoders. The first three
 * input bytes pick the setup, the rest is the stream from the web server:
 *   byte 0: bits 0-3: 0, or 1 + the record whose callback fails (LX_ECANCELED); bit 4: it is
 *           on_end that fails, not on_begin; bit 5: no on_begin callback at all; bits 6-7: the
 *           pairs limit: LX_FCGI_PARAMS_MAX_BYTES, 4096, byte 1, or 0;
 *   bytes 1-2: seed the split generator.
 * The content of FCGI_PARAMS and FCGI_GET_VALUES records goes through one pair parser (an empty
 * such record finishes it). The stream is parsed three ways: in one feed, in feeds cut where a
 * generator seeded from the input says (empty feeds included), and one byte at a time; each way
 * is logged (records, their content, pairs, the error, fcgi_parser_midrecord()) and the three
 * logs must equal the log of a plain model of the format written here from the FastCGI
 * specification. Checked on every call and callback: a feed consumes all it is given unless it
 * stops with an error, then nothing more; no callback after an error; headers re-encode to the
 * bytes read (fcgi_hdr_encode), padding from fcgi_pad_for() aligns; content arrives in pieces
 * of 1..clen bytes, within its record, whole when on_end runs; pairs are NUL-terminated, within
 * the limit, and round-trip through fcgi_pair_encode() (the size query matching the write, a
 * short buffer never written past) and a fresh pair parser; END_REQUEST bodies round-trip
 * through fcgi_end_body_encode().
 *
 *   make fuzz      (builds build/fuzz/fuzz_fcgi; tests/fuzz/test_fuzz.sh runs it in make check)
 *   build/fuzz/fuzz_fcgi -dict=tests/fuzz/fuzz_fcgi.dict -max_total_time=60 CORPUS
 *
 * (Debian 12: clang 14 needs libclang-rt-14-dev for -fsanitize=fuzzer.) */
#include <fastcgi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../fcgi/fcgi_wire.c"
#include "../../shared/limits.h"
#include "fuzz_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FAIL LX_ECANCELED

static void flog_tag(struct flog *l, char tag)
{
    flog_add(l, &tag, 1);
}

static void flog_begin(struct flog *l, uint8_t type, uint16_t id, uint16_t clen, uint8_t plen)
{
    flog_tag(l, 'B');
    flog_add(l, &type, 1);
    flog_add(l, &id, 2);
    flog_add(l, &clen, 2);
    flog_add(l, &plen, 1);
}

static void flog_pair(struct flog *l, const void *name, size_t nlen, const void *value, size_t vlen)
{
    flog_tag(l, 'P');
    flog_add(l, &nlen, sizeof nlen);
    flog_add(l, name, nlen);
    flog_add(l, &vlen, sizeof vlen);
    flog_add(l, value, vlen);
}

static void flog_err(struct flog *l, char tag, enum lx_err e)
{
    flog_tag(l, tag);
    flog_add(l, &e, sizeof e);
}

/* The end of a parse: the error, and whether it stopped inside a record (only without error:
 * after one, where the parser stands depends on how its input was cut). */
static void flog_end(struct flog *l, enum lx_err e, int mid)
{
    flog_err(l, 'Z', e);
    if (e == LX_OK)
        flog_add(l, &mid, sizeof mid);
}

struct setup {
    int begin_cb;
    long fail_rec; /* -1: no callback fails */
    int fail_at_end;
    size_t pairs_max;
};

static int pair_type(uint8_t type)
{
    return type == FCGI_PARAMS || type == FCGI_GET_VALUES;
}

/* ---- the model: the format as the specification states it, on the whole stream --------- */

struct mpairs {
    uint8_t *buf; /* the pair stream since the last empty record */
    size_t len, cap;
    size_t at;    /* where the next pair starts */
    size_t total; /* name and value bytes so far */
};

/* One length at *at (1 byte, or 4 with the high bit); 0 when the bytes are not all there. */
static int mp_len(const struct mpairs *mp, size_t *at, uint32_t *out)
{
    if (*at >= mp->len)
        return 0;
    const uint8_t *b = mp->buf + *at;
    if (!(b[0] & 0x80)) {
        *out = b[0];
        *at += 1;
        return 1;
    }
    if (mp->len - *at < 4)
        return 0;
    *out = (uint32_t)(b[0] & 0x7f) << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    *at += 4;
    return 1;
}

/* Append content and emit the pairs now whole; LX_ETOOBIG as soon as both lengths of a pair
 * are known to break the limit. */
static enum lx_err mp_feed(struct mpairs *mp, const struct setup *s, const uint8_t *p, size_t n,
                           struct flog *log)
{
    struct flog tmp = {mp->buf, mp->len, mp->cap};
    flog_add(&tmp, p, n);
    mp->buf = tmp.s;
    mp->len = tmp.len;
    mp->cap = tmp.cap;
    for (;;) {
        size_t at = mp->at;
        uint32_t nlen, vlen;
        if (!mp_len(mp, &at, &nlen) || !mp_len(mp, &at, &vlen))
            return LX_OK;
        if (nlen > s->pairs_max || vlen > s->pairs_max || mp->total + nlen + vlen > s->pairs_max)
            return LX_ETOOBIG;
        if (mp->len - at < (size_t)nlen + vlen)
            return LX_OK;
        flog_pair(log, mp->buf + at, nlen, mp->buf + at + nlen, vlen);
        mp->total += (size_t)nlen + vlen;
        mp->at = at + nlen + vlen;
    }
}

static void model(const struct setup *s, const uint8_t *in, size_t n, struct flog *log)
{
    struct mpairs mp = {0};
    enum lx_err err = LX_OK;
    int mid = 0;
    long rec = 0;
    size_t pos = 0;
    while (pos < n) {
        if (n - pos < FCGI_HEADER_LEN) {
            mid = 1;
            break;
        }
        const uint8_t *h = in + pos;
        pos += FCGI_HEADER_LEN;
        if (h[0] != FCGI_VERSION_1) {
            err = LX_EPROTO;
            break;
        }
        uint8_t type = h[1], plen = h[6];
        uint16_t id = (uint16_t)(h[2] << 8 | h[3]), clen = (uint16_t)(h[4] << 8 | h[5]);
        /* without on_begin, a record shows at its first content or at its end */
        size_t have = n - pos < clen ? n - pos : clen;
        int shown = s->begin_cb || have > 0;
        if (shown)
            flog_begin(log, type, id, clen, plen);
        if (s->begin_cb && !s->fail_at_end && rec == s->fail_rec) {
            err = FUZZ_FAIL;
            break;
        }
        if (pair_type(type)) {
            if ((err = mp_feed(&mp, s, in + pos, have, log)) != LX_OK) {
                flog_err(log, 'X', err);
                break;
            }
        } else {
            flog_add(log, in + pos, have);
        }
        pos += have;
        if (have < clen) {
            mid = 1;
            break;
        }
        if (!shown)
            flog_begin(log, type, id, clen, plen);
        flog_tag(log, 'E');
        if (pair_type(type) && clen == 0) {
            flog_err(log, 'F', mp.at == mp.len ? LX_OK : LX_EPROTO);
            free(mp.buf);
            memset(&mp, 0, sizeof mp);
        }
        if (s->fail_at_end && rec == s->fail_rec) {
            err = FUZZ_FAIL;
            break;
        }
        rec++;
        size_t pad = n - pos < plen ? n - pos : plen;
        pos += pad;
        if (pad < plen) {
            mid = 1;
            break;
        }
    }
    flog_end(log, err, mid);
    free(mp.buf);
}

/* ---- writing back ----------------------------------------------------------------------- */

struct back {
    const char *name, *value;
    size_t nlen, vlen;
    int pairs;
};

static enum lx_err back_pair(void *ud, const char *name, size_t nlen, const char *value,
                             size_t vlen)
{
    struct back *b = ud;
    if (++b->pairs != 1 || nlen != b->nlen || vlen != b->vlen ||
        (nlen > 0 && memcmp(name, b->name, nlen) != 0) ||
        (vlen > 0 && memcmp(value, b->value, vlen) != 0))
        abort();
    return LX_OK;
}

static void write_back_pair(const char *name, size_t nlen, const char *value, size_t vlen)
{
    size_t need = fcgi_pair_encode(NULL, 0, name, nlen, value, vlen);
    size_t lens = (nlen < 128 ? 1 : 4) + (vlen < 128 ? 1 : 4);
    if (need != lens + nlen + vlen)
        abort();
    uint8_t *out = malloc(need);
    if (out == NULL || fcgi_pair_encode(out, need, name, nlen, value, vlen) != need)
        abort();
    struct back b = {name, value, nlen, vlen, 0};
    struct fcgi_pairs pp;
    fcgi_pairs_init(&pp, nlen + vlen, back_pair, &b);
    if (fcgi_pairs_feed(&pp, out, need) != LX_OK || fcgi_pairs_finish(&pp) != LX_OK || b.pairs != 1)
        abort();
    fcgi_pairs_free(&pp);
    free(out);
    /* too small a buffer: the size is still told, nothing is written past it */
    uint8_t *shortb = malloc(need - 1);
    if (shortb == NULL || fcgi_pair_encode(shortb, need - 1, name, nlen, value, vlen) != need)
        abort();
    free(shortb);
}

static void write_back_end_body(const uint8_t body[8])
{
    uint8_t out[8];
    uint32_t app =
        (uint32_t)body[0] << 24 | (uint32_t)body[1] << 16 | (uint32_t)body[2] << 8 | body[3];
    fcgi_end_body_encode(out, app, body[4]);
    if (memcmp(out, body, 5) != 0 || out[5] != 0 || out[6] != 0 || out[7] != 0)
        abort();
}

/* ---- the parser under test -------------------------------------------------------------- */

struct run {
    const struct setup *s;
    struct fcgi_parser p;
    struct fcgi_pairs pairs;
    struct flog log;
    int write_back; /* once is enough: in the one-feed parse */
    int in_rec;     /* between a record's first callback and its on_end */
    long rec;       /* records begun */
    struct fcgi_hdr h;
    size_t got;         /* its content so far */
    uint8_t content[8]; /* its first content bytes */
    int stopped;        /* an error stopped the parser: no callback may come */
};

static enum lx_err run_pair(void *ud, const char *name, size_t nlen, const char *value, size_t vlen)
{
    struct run *r = ud;
    if (name[nlen] != '\0' || value[vlen] != '\0' || nlen > r->s->pairs_max ||
        vlen > r->s->pairs_max || r->pairs.total > r->s->pairs_max)
        abort();
    flog_pair(&r->log, name, nlen, value, vlen);
    if (r->write_back)
        write_back_pair(name, nlen, value, vlen);
    return LX_OK;
}

static void pairs_reset(struct run *r)
{
    fcgi_pairs_free(&r->pairs);
    fcgi_pairs_init(&r->pairs, r->s->pairs_max, run_pair, r);
}

/* A record's first callback: its header, re-encoded, is the bytes read. */
static enum lx_err rec_start(struct run *r, const struct fcgi_hdr *h, int from_begin)
{
    uint8_t enc[FCGI_HEADER_LEN];
    if (r->stopped || r->in_rec)
        abort();
    fcgi_hdr_encode(enc, h->type, h->id, h->clen, h->plen);
    if (memcmp(enc, r->p.hbuf, FCGI_HEADER_LEN - 1) != 0 || enc[7] != 0)
        abort();
    uint8_t pad = fcgi_pad_for(h->clen);
    if (pad > 7 || (h->clen + pad) % 8 != 0)
        abort();
    r->in_rec = 1;
    r->h = *h;
    r->got = 0;
    flog_begin(&r->log, h->type, h->id, h->clen, h->plen);
    if (from_begin && !r->s->fail_at_end && r->rec == r->s->fail_rec)
        return FUZZ_FAIL;
    return LX_OK;
}

/* A callback's answer: an error stops the parser at once. */
static enum lx_err run_ret(struct run *r, enum lx_err e)
{
    if (e != LX_OK)
        r->stopped = 1;
    return e;
}

static void rec_same(const struct run *r, const struct fcgi_hdr *h)
{
    if (r->stopped || h->type != r->h.type || h->id != r->h.id || h->clen != r->h.clen ||
        h->plen != r->h.plen)
        abort();
}

static enum lx_err run_begin(void *ud, const struct fcgi_hdr *h)
{
    struct run *r = ud;
    if (!r->s->begin_cb)
        abort();
    return run_ret(r, rec_start(r, h, 1));
}

static enum lx_err run_data(void *ud, const struct fcgi_hdr *h, const uint8_t *p, size_t n)
{
    struct run *r = ud;
    if (!r->in_rec) {
        if (r->s->begin_cb)
            abort();
        rec_start(r, h, 0);
    }
    rec_same(r, h);
    if (n == 0 || n > h->clen - r->got)
        abort();
    for (size_t i = 0; i < n && r->got + i < sizeof r->content; i++)
        r->content[r->got + i] = p[i];
    r->got += n;
    if (!pair_type(h->type)) {
        flog_add(&r->log, p, n);
        return LX_OK;
    }
    enum lx_err e = fcgi_pairs_feed(&r->pairs, p, n);
    if (e != LX_OK)
        flog_err(&r->log, 'X', e);
    return run_ret(r, e);
}

static enum lx_err run_end(void *ud, const struct fcgi_hdr *h)
{
    struct run *r = ud;
    if (!r->in_rec) {
        if (r->s->begin_cb)
            abort();
        rec_start(r, h, 0);
    }
    rec_same(r, h);
    if (r->got != h->clen)
        abort();
    flog_tag(&r->log, 'E');
    if (h->type == FCGI_END_REQUEST && h->clen >= 8 && r->write_back)
        write_back_end_body(r->content);
    if (pair_type(h->type) && h->clen == 0) {
        flog_err(&r->log, 'F', fcgi_pairs_finish(&r->pairs));
        pairs_reset(r);
    }
    r->in_rec = 0;
    if (r->s->fail_at_end && r->rec == r->s->fail_rec)
        return run_ret(r, FUZZ_FAIL);
    r->rec++;
    return LX_OK;
}

static const struct fcgi_parser_cbs cbs_with_begin = {run_begin, run_data, run_end};
static const struct fcgi_parser_cbs cbs_no_begin = {NULL, run_data, run_end};

static void run_start(struct run *r, const struct setup *s)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    fcgi_parser_init(&r->p, s->begin_cb ? &cbs_with_begin : &cbs_no_begin, r);
    fcgi_pairs_init(&r->pairs, s->pairs_max, run_pair, r);
}

/* One feed: all of it consumed, or an error and the rest left; nothing after an error. */
static void run_feed(struct run *r, const uint8_t *in, size_t n)
{
    enum lx_err before = r->p.err;
    size_t used = fcgi_parse(&r->p, in, n);
    if (used > n || (before != LX_OK && used != 0) || (r->p.err == LX_OK && used != n))
        abort();
    if (r->p.err != LX_OK)
        r->stopped = 1;
}

static void run_end_log(struct run *r)
{
    flog_end(&r->log, r->p.err, fcgi_parser_midrecord(&r->p));
    fcgi_pairs_free(&r->pairs);
}

/* xorshift32, never seeded with 0 */
static uint32_t fuzz_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static int flog_equal(const struct flog *a, const struct flog *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t maxes[] = {LX_FCGI_PARAMS_MAX_BYTES, 4096, 0, 0};
    if (size < 3)
        return 0;
    struct setup s;
    s.fail_rec = (long)(data[0] & 15) - 1;
    s.fail_at_end = data[0] >> 4 & 1;
    s.begin_cb = !(data[0] >> 5 & 1);
    s.pairs_max = (data[0] >> 6) == 2 ? data[1] : maxes[data[0] >> 6];
    uint32_t seed = ((uint32_t)data[1] << 8 | data[2]) * 2654435761u ^ (uint32_t)size;
    const uint8_t *in = data + 3;
    size_t n = size - 3;

    struct flog want = {0};
    model(&s, in, n, &want);

    struct run one, cut, bytes;
    run_start(&one, &s);
    one.write_back = 1;
    run_feed(&one, in, n);
    if (one.p.err != LX_OK)
        run_feed(&one, in, n); /* refused whole, no callback */
    run_end_log(&one);

    run_start(&cut, &s);
    uint32_t x = seed != 0 ? seed : 1;
    for (size_t at = 0; at <= n;) {
        uint32_t r = fuzz_next(&x);
        size_t take = r % 4 == 0 ? r >> 8 & 1 : r % 3 == 0 ? r >> 8 & 15 : r >> 8 & 255;
        if (take > n - at)
            take = n - at;
        run_feed(&cut, in + at, take);
        if (at == n)
            break;
        at += take;
    }
    run_end_log(&cut);

    run_start(&bytes, &s);
    run_feed(&bytes, NULL, 0);
    for (size_t at = 0; at < n; at++)
        run_feed(&bytes, in + at, 1);
    run_end_log(&bytes);

    if (!flog_equal(&one.log, &want) || !flog_equal(&cut.log, &want) ||
        !flog_equal(&bytes.log, &want))
        abort();
    free(want.s);
    free(one.log.s);
    free(cut.log.s);
    free(bytes.log.s);
    return 0;
}
