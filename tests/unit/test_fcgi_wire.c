/* tests/unit/test_fcgi_wire.c -- the FastCGI wire format (fcgi/fcgi_wire.c): every record type
 * of fastcgi.h encoded and parsed back; a realistic request stream split at every byte and fed
 * one byte at a time, compared with a one-shot parse; padding, empty records, bad versions and
 * callback errors; name-value pairs with 1- and 4-byte lengths split anywhere, limits and
 * truncation; the encoders. Callbacks are recorded as text lines so a mismatch prints readably. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../fcgi/fcgi_wire.c"
#include "../../shared/lx_err.c"

/* ---- helpers: a growing text log and a wire builder ------------------------------------- */

#include "test_helpers.h"

/* Bytes as text: printable ASCII as is, the rest (and backslash) as \xNN. */
static void text_add_bytes(struct text *t, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] > ' ' && b[i] < 0x7f && b[i] != '\\')
            text_addf(t, "%c", b[i]);
        else
            text_addf(t, "\\x%02x", b[i]);
    }
}

static const char *text_str(const struct text *t)
{
    return t->s != NULL ? t->s : "";
}

static void text_free(struct text *t)
{
    free(t->s);
    memset(t, 0, sizeof *t);
}

struct wire {
    uint8_t *b;
    size_t len, cap;
    size_t bounds[64]; /* offsets where a record starts (and the end) */
    size_t nbounds;
};

static void wire_add(struct wire *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        w->b = realloc(w->b, cap);
        assert_non_null(w->b);
        w->cap = cap;
    }
    if (n > 0)
        memcpy(w->b + w->len, p, n);
    w->len += n;
}

/* Append one record; padding bytes are 0x01.. (a version byte, so a parser reading padding as
 * a header would not notice by the version alone) then rising. */
static void wire_rec(struct wire *w, uint8_t type, uint16_t id, const void *content, size_t clen,
                     uint8_t plen)
{
    uint8_t h[8], pad[255];
    assert_true(clen <= 0xffff);
    if (w->nbounds == 0)
        w->bounds[w->nbounds++] = 0;
    fcgi_hdr_encode(h, type, id, (uint16_t)clen, plen);
    wire_add(w, h, sizeof h);
    wire_add(w, content, clen);
    for (unsigned i = 0; i < plen; i++)
        pad[i] = (uint8_t)(1 + i);
    wire_add(w, pad, plen);
    assert_true(w->nbounds < sizeof w->bounds / sizeof w->bounds[0]);
    w->bounds[w->nbounds++] = w->len;
}

static int wire_is_bound(const struct wire *w, size_t at)
{
    for (size_t i = 0; i < w->nbounds; i++)
        if (w->bounds[i] == at)
            return 1;
    return at == 0;
}

static void wire_free(struct wire *w)
{
    free(w->b);
    memset(w, 0, sizeof *w);
}

/* ---- the record recorder ---------------------------------------------------------------- */

struct rec {
    struct text log;
    struct text data; /* content of the current record, as text */
    size_t data_bytes;
    int pairs_on; /* feed PARAMS content to a pair parser, log the pairs */
    struct fcgi_pairs pairs;
    int calls, fail_call; /* callback number fail_call (1-based) returns fail_err */
    enum lx_err fail_err;
    int empty_data; /* on_data was called with n == 0 */
};

static enum lx_err rec_pair(void *ud, const char *name, size_t nlen, const char *value, size_t vlen)
{
    struct rec *r = ud;
    if (name[nlen] != '\0' || value[vlen] != '\0')
        text_addf(&r->log, "pair NOT NUL-TERMINATED\n");
    text_addf(&r->log, "pair ");
    text_add_bytes(&r->log, name, nlen);
    text_addf(&r->log, "=");
    text_add_bytes(&r->log, value, vlen);
    text_addf(&r->log, "\n");
    return LX_OK;
}

static void rec_init(struct rec *r, int pairs_on)
{
    memset(r, 0, sizeof *r);
    r->pairs_on = pairs_on;
    fcgi_pairs_init(&r->pairs, 64 * 1024, rec_pair, r);
}

static void rec_free(struct rec *r)
{
    fcgi_pairs_free(&r->pairs);
    text_free(&r->log);
    text_free(&r->data);
}

static enum lx_err rec_fail(struct rec *r)
{
    if (++r->calls == r->fail_call) {
        text_addf(&r->log, "fail\n");
        return r->fail_err;
    }
    return LX_OK;
}

static enum lx_err rec_on_begin(void *ud, const struct fcgi_hdr *h)
{
    struct rec *r = ud;
    text_addf(&r->log, "begin type=%u id=%u clen=%u plen=%u\n", h->type, h->id, h->clen, h->plen);
    return rec_fail(r);
}

/* Records whose content is name-value pairs. */
static int has_pairs(uint8_t type)
{
    return type == FCGI_PARAMS || type == FCGI_GET_VALUES || type == FCGI_GET_VALUES_RESULT;
}

static enum lx_err rec_on_data(void *ud, const struct fcgi_hdr *h, const uint8_t *p, size_t n)
{
    struct rec *r = ud;
    if (n == 0)
        r->empty_data = 1;
    text_add_bytes(&r->data, p, n);
    r->data_bytes += n;
    int first = r->data_bytes == n; /* counted once per record, however it is split */
    if (r->pairs_on && has_pairs(h->type)) {
        enum lx_err e = fcgi_pairs_feed(&r->pairs, p, n);
        if (e != LX_OK) {
            text_addf(&r->log, "pairs error %s\n", lx_strerror(e));
            return e;
        }
    }
    return first ? rec_fail(r) : LX_OK;
}

static enum lx_err rec_on_end(void *ud, const struct fcgi_hdr *h)
{
    struct rec *r = ud;
    text_addf(&r->log, "end type=%u id=%u bytes=%zu%s data=%s\n", h->type, h->id, r->data_bytes,
              r->data_bytes == h->clen ? "" : " (CLEN MISMATCH)", text_str(&r->data));
    r->data.len = 0;
    if (r->data.s != NULL)
        r->data.s[0] = '\0';
    r->data_bytes = 0;
    if (r->pairs_on && h->type == FCGI_PARAMS && h->clen == 0)
        text_addf(&r->log, "params finish %s\n", lx_strerror(fcgi_pairs_finish(&r->pairs)));
    if (r->pairs_on && has_pairs(h->type) && h->type != FCGI_PARAMS) { /* one record each */
        text_addf(&r->log, "values finish %s\n", lx_strerror(fcgi_pairs_finish(&r->pairs)));
        fcgi_pairs_free(&r->pairs);
        fcgi_pairs_init(&r->pairs, 64 * 1024, rec_pair, r);
    }
    return rec_fail(r);
}

static const struct fcgi_parser_cbs rec_cbs = {rec_on_begin, rec_on_data, rec_on_end};

/* Parse wire in pieces of at most `piece` bytes (0: all at once); log how it ended. */
static void parse_pieces(struct rec *r, const uint8_t *b, size_t len, size_t piece)
{
    struct fcgi_parser p;
    fcgi_parser_init(&p, &rec_cbs, r);
    for (size_t at = 0; at < len;) {
        size_t n = piece == 0 || len - at < piece ? len - at : piece;
        size_t used = fcgi_parse(&p, b + at, n);
        if (used != n || p.err != LX_OK) {
            text_addf(&r->log, "stopped err=%s\n", lx_strerror(p.err));
            return;
        }
        at += n;
    }
    text_addf(&r->log, "midrecord=%d\n", fcgi_parser_midrecord(&p));
}

/* Parse wire in two feeds, cut at byte `cut`. */
static void parse_cut(struct rec *r, const uint8_t *b, size_t len, size_t cut)
{
    struct fcgi_parser p;
    fcgi_parser_init(&p, &rec_cbs, r);
    size_t u1 = fcgi_parse(&p, b, cut);
    size_t u2 = fcgi_parse(&p, b + cut, len - cut);
    if (u1 != cut || u2 != len - cut || p.err != LX_OK)
        text_addf(&r->log, "stopped err=%s\n", lx_strerror(p.err));
    else
        text_addf(&r->log, "midrecord=%d\n", fcgi_parser_midrecord(&p));
}

/* ---- every record type ------------------------------------------------------------------ */

/* Contents are byte strings; "" "" splits keep hex escapes from swallowing the next letter. */
#define BYTES(lit) lit, sizeof(lit) - 1

static const struct {
    int line;
    uint8_t type;
    uint16_t id;
    const char *content;
    size_t clen;
    uint8_t plen;
    const char *pairs; /* for pair records: the expected "pair ..." lines */
} type_cases[] = {
    {__LINE__, FCGI_BEGIN_REQUEST, 1, BYTES("\x00\x01\x01\x00\x00\x00\x00\x00"), 0, NULL},
    {__LINE__, FCGI_BEGIN_REQUEST, 0x1234, BYTES("\x00\x01\x00\x00\x00\x00\x00\x00"), 0, NULL},
    {__LINE__, FCGI_ABORT_REQUEST, 1, BYTES(""), 0, NULL},
    {__LINE__, FCGI_END_REQUEST, 1, BYTES("\x00\x00\x00\x00\x00\x00\x00\x00"), 0, NULL},
    {__LINE__, FCGI_END_REQUEST, 7, BYTES("\x00\x00\x01\xf4\x03\x00\x00\x00"), 0, NULL},
    {__LINE__, FCGI_PARAMS, 1,
     BYTES("\x0e\x03"
           "REQUEST_METHODGET"
           "\x0b\x0b"
           "REQUEST_URI/api/health"),
     5, "pair REQUEST_METHOD=GET\npair REQUEST_URI=/api/health\n"},
    {__LINE__, FCGI_PARAMS, 1, BYTES(""), 0, ""},
    {__LINE__, FCGI_STDIN, 1, BYTES("{\"query\":\"pasal 2\"}"), 5, NULL},
    {__LINE__, FCGI_STDIN, 1, BYTES(""), 0, NULL},
    {__LINE__, FCGI_STDOUT, 1, BYTES("Status: 200 OK\r\n\r\n{}"), 4, NULL},
    {__LINE__, FCGI_STDOUT, 1, BYTES(""), 0, NULL},
    {__LINE__, FCGI_STDERR, 1, BYTES("oops\n"), 3, NULL},
    {__LINE__, FCGI_DATA, 1, BYTES("filter data\x00\xff"), 3, NULL},
    {__LINE__, FCGI_GET_VALUES, 0,
     BYTES("\x0e\x00"
           "FCGI_MAX_CONNS"
           "\x0d\x00"
           "FCGI_MAX_REQS"
           "\x0f\x00"
           "FCGI_MPXS_CONNS"),
     0, "pair FCGI_MAX_CONNS=\npair FCGI_MAX_REQS=\npair FCGI_MPXS_CONNS=\n"},
    {__LINE__, FCGI_GET_VALUES_RESULT, 0,
     BYTES("\x0e\x04"
           "FCGI_MAX_CONNS1024"
           "\x0f\x01"
           "FCGI_MPXS_CONNS0"),
     0, "pair FCGI_MAX_CONNS=1024\npair FCGI_MPXS_CONNS=0\n"},
    {__LINE__, FCGI_UNKNOWN_TYPE, 0, BYTES("\xc8\x00\x00\x00\x00\x00\x00\x00"), 0, NULL},
    {__LINE__, 200, 0, BYTES("\x01\x02"), 6, NULL}, /* an unknown type is still a record */
    {__LINE__, FCGI_STDOUT, 0xffff, BYTES("x"), 255, NULL},
};

static void test_record_types(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof type_cases / sizeof type_cases[0]; c++) {
        int line = type_cases[c].line;
        const uint8_t *content = (const uint8_t *)type_cases[c].content;
        size_t clen = type_cases[c].clen;
        uint8_t plen = type_cases[c].plen;
        struct wire w = {0};
        wire_rec(&w, type_cases[c].type, type_cases[c].id, content, clen, plen);
        if (w.len != 8 + clen + plen || w.b[0] != FCGI_VERSION_1 || w.b[1] != type_cases[c].type ||
            w.b[2] != type_cases[c].id >> 8 || w.b[3] != (type_cases[c].id & 0xff) ||
            w.b[4] != clen >> 8 || w.b[5] != (clen & 0xff) || w.b[6] != plen || w.b[7] != 0)
            fail_msg("case at line %d: header bytes wrong", line);

        struct text want = {0};
        text_addf(&want, "begin type=%u id=%u clen=%zu plen=%u\n", type_cases[c].type,
                  type_cases[c].id, clen, plen);
        if (type_cases[c].pairs != NULL)
            text_addf(&want, "%s", type_cases[c].pairs);
        text_addf(&want, "end type=%u id=%u bytes=%zu data=", type_cases[c].type, type_cases[c].id,
                  clen);
        text_add_bytes(&want, content, clen);
        text_addf(&want, "\n");
        if (type_cases[c].type == FCGI_PARAMS && clen == 0)
            text_addf(&want, "params finish success\n");
        if (type_cases[c].type == FCGI_GET_VALUES || type_cases[c].type == FCGI_GET_VALUES_RESULT)
            text_addf(&want, "values finish success\n");
        text_addf(&want, "midrecord=0\n");

        for (size_t piece = 0; piece <= 3; piece++) { /* whole, 1, 2 and 3 bytes at a time */
            struct rec r;
            rec_init(&r, 1);
            parse_pieces(&r, w.b, w.len, piece);
            if (strcmp(text_str(&r.log), text_str(&want)) != 0)
                fail_msg("case at line %d, piece %zu:\n got: %s\nwant: %s", line, piece,
                         text_str(&r.log), text_str(&want));
            if (r.empty_data)
                fail_msg("case at line %d: on_data called with 0 bytes", line);
            rec_free(&r);
        }
        text_free(&want);
        wire_free(&w);
    }
}

/* ---- a realistic request stream, split everywhere --------------------------------------- */

static void add_pair(struct wire *w, const char *name, size_t nlen, const char *value, size_t vlen)
{
    size_t n = fcgi_pair_encode(NULL, 0, name, nlen, value, vlen);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    assert_int_equal(fcgi_pair_encode(buf, n, name, nlen, value, vlen), n);
    wire_add(w, buf, n);
    free(buf);
}

#define PAIR(w, n, v) add_pair(w, n, strlen(n), v, strlen(v))

/* BEGIN, PARAMS in two records cut inside a 4-byte length, empty PARAMS, STDIN in two records,
 * empty STDIN; paddings of several sizes. */
static void build_request(struct wire *w)
{
    struct wire params = {0};
    char cookie[200], agent[140];
    memset(cookie, 'c', sizeof cookie - 1);
    cookie[sizeof cookie - 1] = '\0';
    memset(agent, 'u', sizeof agent - 1);
    agent[sizeof agent - 1] = '\0';
    PAIR(&params, "REQUEST_METHOD", "POST");
    PAIR(&params, "REQUEST_URI", "/api/search?x=1");
    PAIR(&params, "SCRIPT_NAME", "/api/search");
    PAIR(&params, "QUERY_STRING", "x=1");
    PAIR(&params, "PATH_INFO", "");
    PAIR(&params, "CONTENT_TYPE", "application/json");
    PAIR(&params, "CONTENT_LENGTH", "39");
    size_t cut = params.len + 2; /* inside the next pair's 4-byte value length */
    PAIR(&params, "HTTP_COOKIE", cookie);
    PAIR(&params, "HTTP_USER_AGENT", agent);
    PAIR(&params, "SERVER_PROTOCOL", "HTTP/1.1");

    static const uint8_t begin[8] = {0, FCGI_RESPONDER, FCGI_KEEP_CONN, 0, 0, 0, 0, 0};
    static const char body[] = "{\"query\":\"sanksi pidana korupsi\",\"k\":3}";
    wire_rec(w, FCGI_BEGIN_REQUEST, 1, begin, sizeof begin, 0);
    wire_rec(w, FCGI_PARAMS, 1, params.b, cut, fcgi_pad_for(cut));
    wire_rec(w, FCGI_PARAMS, 1, params.b + cut, params.len - cut, 3);
    wire_rec(w, FCGI_PARAMS, 1, NULL, 0, 0);
    wire_rec(w, FCGI_STDIN, 1, body, 20, 4);
    wire_rec(w, FCGI_STDIN, 1, body + 20, sizeof body - 1 - 20, 0);
    wire_rec(w, FCGI_STDIN, 1, NULL, 0, 2);
    wire_free(&params);
}

static void test_stream_splits(void **state)
{
    (void)state;
    struct wire w = {0};
    build_request(&w);

    struct rec one;
    rec_init(&one, 1);
    parse_pieces(&one, w.b, w.len, 0);
    const char *want = text_str(&one.log);
    /* the reference itself: spot checks */
    assert_non_null(strstr(want, "begin type=1 id=1 clen=8 plen=0\n"));
    assert_non_null(strstr(want, "pair REQUEST_METHOD=POST\n"));
    assert_non_null(strstr(want, "pair PATH_INFO=\n"));
    assert_non_null(strstr(want, "pair HTTP_COOKIE=cccc"));
    assert_non_null(strstr(want, "pair SERVER_PROTOCOL=HTTP/1.1\n"));
    assert_non_null(strstr(want, "params finish success\n"));
    assert_non_null(strstr(want, "end type=5 id=1 bytes=19 data=ana\\x20korupsi"));
    assert_null(strstr(want, "MISMATCH"));
    assert_null(strstr(want, "stopped"));
    size_t nbegin = 0;
    for (const char *s = want; (s = strstr(s, "begin ")) != NULL; s++)
        nbegin++;
    assert_int_equal(nbegin, 7);
    assert_non_null(strstr(want, "end type=5 id=1 bytes=0 data=\nmidrecord=0\n"));

    for (size_t cut = 0; cut <= w.len; cut++) {
        struct rec r;
        rec_init(&r, 1);
        parse_cut(&r, w.b, w.len, cut);
        if (strcmp(text_str(&r.log), want) != 0)
            fail_msg("split at byte %zu of %zu:\n got: %s\nwant: %s", cut, w.len, text_str(&r.log),
                     want);
        rec_free(&r);
    }
    for (size_t piece = 1; piece <= 9; piece++) { /* one byte at a time, and other strides */
        struct rec r;
        rec_init(&r, 1);
        parse_pieces(&r, w.b, w.len, piece);
        if (strcmp(text_str(&r.log), want) != 0)
            fail_msg("fed %zu bytes at a time:\n got: %s\nwant: %s", piece, text_str(&r.log), want);
        rec_free(&r);
    }
    rec_free(&one);
    wire_free(&w);
}

/* Nonzero exactly when the prefix read so far ends inside a record (header, content or
 * padding). */
static void test_midrecord(void **state)
{
    (void)state;
    struct wire w = {0};
    build_request(&w);
    for (size_t at = 0; at <= w.len; at++) {
        struct rec r;
        struct fcgi_parser p;
        rec_init(&r, 0);
        fcgi_parser_init(&p, &rec_cbs, &r);
        assert_int_equal(fcgi_parse(&p, w.b, at), at);
        if (fcgi_parser_midrecord(&p) != !wire_is_bound(&w, at))
            fail_msg("after %zu bytes: midrecord=%d, record boundary=%d", at,
                     fcgi_parser_midrecord(&p), wire_is_bound(&w, at));
        rec_free(&r);
    }
    /* fed one byte at a time, the answer is the same */
    struct rec r;
    struct fcgi_parser p;
    rec_init(&r, 0);
    fcgi_parser_init(&p, &rec_cbs, &r);
    assert_int_equal(fcgi_parser_midrecord(&p), 0);
    for (size_t at = 0; at < w.len; at++) {
        assert_int_equal(fcgi_parse(&p, w.b + at, 1), 1);
        if (fcgi_parser_midrecord(&p) != !wire_is_bound(&w, at + 1))
            fail_msg("bytewise, after %zu bytes: midrecord=%d", at + 1, fcgi_parser_midrecord(&p));
    }
    rec_free(&r);
    wire_free(&w);
}

/* ---- padding and empty records ---------------------------------------------------------- */

static void test_padding(void **state)
{
    (void)state;
    static const size_t clens[] = {0, 1, 5, 7, 8, 9, 16};
    for (size_t ci = 0; ci < sizeof clens / sizeof clens[0]; ci++) {
        for (unsigned plen = 0; plen <= 7; plen++) {
            uint8_t content[16];
            for (size_t i = 0; i < sizeof content; i++)
                content[i] = (uint8_t)('a' + i);
            struct wire w = {0};
            wire_rec(&w, FCGI_STDOUT, 3, content, clens[ci], (uint8_t)plen);
            wire_rec(&w, FCGI_STDERR, 3, "zz", 2, fcgi_pad_for(2));
            wire_rec(&w, FCGI_END_REQUEST, 3, "\0\0\0\0\0\0\0\0", 8, 0);
            struct text want = {0};
            text_addf(&want, "begin type=6 id=3 clen=%zu plen=%u\n", clens[ci], plen);
            text_addf(&want, "end type=6 id=3 bytes=%zu data=%.*s\n", clens[ci], (int)clens[ci],
                      "abcdefghijklmnop");
            text_addf(&want, "begin type=7 id=3 clen=2 plen=6\nend type=7 id=3 bytes=2 data=zz\n"
                             "begin type=3 id=3 clen=8 plen=0\n"
                             "end type=3 id=3 bytes=8 data=\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
                             "\\x00\n"
                             "midrecord=0\n");
            for (size_t piece = 0; piece <= 2; piece++) {
                struct rec r;
                rec_init(&r, 0);
                parse_pieces(&r, w.b, w.len, piece);
                if (strcmp(text_str(&r.log), text_str(&want)) != 0)
                    fail_msg("clen %zu plen %u piece %zu:\n got: %s\nwant: %s", clens[ci], plen,
                             piece, text_str(&r.log), text_str(&want));
                if (r.empty_data)
                    fail_msg("clen %zu plen %u: on_data with 0 bytes", clens[ci], plen);
                rec_free(&r);
            }
            text_free(&want);
            wire_free(&w);
        }
    }
    assert_int_equal(fcgi_pad_for(0), 0);
    for (size_t n = 1; n <= 64; n++) {
        assert_int_equal((n + fcgi_pad_for(n)) % 8, 0);
        assert_true(fcgi_pad_for(n) < 8);
    }
    assert_int_equal(fcgi_pad_for(65535), 1);
}

/* Empty records: begin and end at once, never on_data; a stream of nothing but them. */
static void test_zero_length(void **state)
{
    (void)state;
    struct wire w = {0};
    for (unsigned t = FCGI_BEGIN_REQUEST; t <= FCGI_UNKNOWN_TYPE; t++)
        wire_rec(&w, (uint8_t)t, (uint16_t)t, NULL, 0, (uint8_t)(t % 3 == 0 ? 0 : t % 8));
    struct text want = {0};
    for (unsigned t = FCGI_BEGIN_REQUEST; t <= FCGI_UNKNOWN_TYPE; t++)
        text_addf(&want, "begin type=%u id=%u clen=0 plen=%u\nend type=%u id=%u bytes=0 data=\n", t,
                  t, t % 3 == 0 ? 0 : t % 8, t, t);
    text_addf(&want, "midrecord=0\n");
    for (size_t piece = 0; piece <= 1; piece++) {
        struct rec r;
        rec_init(&r, 0);
        parse_pieces(&r, w.b, w.len, piece);
        assert_string_equal(text_str(&r.log), text_str(&want));
        assert_false(r.empty_data);
        rec_free(&r);
    }
    /* just the header of an empty record with no padding: whole, not mid-record */
    struct rec r;
    struct fcgi_parser p;
    rec_init(&r, 0);
    fcgi_parser_init(&p, &rec_cbs, &r);
    uint8_t h[8];
    fcgi_hdr_encode(h, FCGI_STDIN, 1, 0, 0);
    assert_int_equal(fcgi_parse(&p, h, 8), 8);
    assert_int_equal(fcgi_parser_midrecord(&p), 0);
    assert_string_equal(text_str(&r.log), "begin type=5 id=1 clen=0 plen=0\n"
                                          "end type=5 id=1 bytes=0 data=\n");
    /* with padding it is mid-record until the padding is read */
    fcgi_hdr_encode(h, FCGI_STDIN, 1, 0, 3);
    assert_int_equal(fcgi_parse(&p, h, 8), 8);
    assert_int_equal(fcgi_parser_midrecord(&p), 1);
    assert_int_equal(fcgi_parse(&p, (const uint8_t *)"\0\0", 2), 2);
    assert_int_equal(fcgi_parser_midrecord(&p), 1);
    assert_int_equal(fcgi_parse(&p, (const uint8_t *)"\0", 1), 1);
    assert_int_equal(fcgi_parser_midrecord(&p), 0);
    /* nothing fed: nothing happens */
    assert_int_equal(fcgi_parse(&p, NULL, 0), 0);
    assert_int_equal(p.err, LX_OK);
    rec_free(&r);
    text_free(&want);
    wire_free(&w);
}

/* ---- errors ----------------------------------------------------------------------------- */

static const struct {
    int line;
    uint8_t version;
} bad_versions[] = {
    {__LINE__, 0}, {__LINE__, 2}, {__LINE__, 0x81}, {__LINE__, 0xff}, {__LINE__, 'G'},
};

static void test_bad_version(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof bad_versions / sizeof bad_versions[0]; c++) {
        int line = bad_versions[c].line;
        struct wire w = {0};
        wire_rec(&w, FCGI_STDIN, 1, "ok", 2, 6);
        size_t good = w.len;
        wire_rec(&w, FCGI_STDIN, 1, "bad", 3, 5);
        w.b[good] = bad_versions[c].version;
        wire_rec(&w, FCGI_STDIN, 1, "after", 5, 3);
        for (size_t piece = 0; piece <= 1; piece++) {
            struct rec r;
            struct fcgi_parser p;
            rec_init(&r, 0);
            fcgi_parser_init(&p, &rec_cbs, &r);
            size_t used = 0;
            for (size_t at = 0; at < w.len && p.err == LX_OK; at += piece ? 1 : w.len)
                used += fcgi_parse(&p, w.b + at, piece ? 1 : w.len);
            if (p.err != LX_EPROTO)
                fail_msg("case at line %d piece %zu: err %s", line, piece, lx_strerror(p.err));
            if (used <= good || used > good + FCGI_HEADER_LEN)
                fail_msg("case at line %d piece %zu: consumed %zu (good record %zu)", line, piece,
                         used, good);
            if (strcmp(text_str(&r.log), "begin type=5 id=1 clen=2 plen=6\n"
                                         "end type=5 id=1 bytes=2 data=ok\n") != 0)
                fail_msg("case at line %d piece %zu: %s", line, piece, text_str(&r.log));
            /* stopped for good: more input is not taken */
            assert_int_equal(fcgi_parse(&p, w.b, w.len), 0);
            assert_int_equal(p.err, LX_EPROTO);
            rec_free(&r);
        }
        wire_free(&w);
    }
}

/* The n-th callback fails: the parser stops with that error, consuming no further record. */
static void test_callback_error(void **state)
{
    (void)state;
    struct wire w = {0};
    wire_rec(&w, FCGI_STDIN, 1, "abc", 3, 5);    /* callbacks 1 begin, 2 data, 3 end */
    wire_rec(&w, FCGI_STDIN, 1, NULL, 0, 4);     /* 4 begin, 5 end */
    wire_rec(&w, FCGI_STDOUT, 1, "defgh", 5, 0); /* 6, 7, 8 */
    static const enum lx_err errs[] = {LX_ECANCELED, LX_ENOMEM, LX_ETOOBIG, LX_EIO};
    struct rec whole;
    rec_init(&whole, 0);
    parse_pieces(&whole, w.b, w.len, 0);
    assert_int_equal(whole.calls, 8);
    for (int fail_call = 1; fail_call <= 8; fail_call++) {
        for (size_t piece = 0; piece <= 1; piece++) {
            struct rec r;
            struct fcgi_parser p;
            rec_init(&r, 0);
            r.fail_call = fail_call;
            r.fail_err = errs[fail_call % 4];
            fcgi_parser_init(&p, &rec_cbs, &r);
            size_t at = 0;
            while (at < w.len) {
                size_t n = piece ? 1 : w.len;
                size_t used = fcgi_parse(&p, w.b + at, n);
                at += used;
                if (used < n || p.err != LX_OK)
                    break;
            }
            if (p.err != r.fail_err)
                fail_msg("fail at call %d piece %zu: err %s", fail_call, piece, lx_strerror(p.err));
            if (r.calls != fail_call)
                fail_msg("fail at call %d piece %zu: %d callbacks", fail_call, piece, r.calls);
            /* the log is the whole log's prefix up to the failing callback */
            const char *f = strstr(text_str(&r.log), "fail\n");
            assert_non_null(f);
            assert_string_equal(f, "fail\n");
            size_t plen = (size_t)(f - text_str(&r.log));
            if (strncmp(text_str(&r.log), text_str(&whole.log), plen) != 0)
                fail_msg("fail at call %d: log %s", fail_call, text_str(&r.log));
            assert_int_equal(fcgi_parse(&p, w.b, w.len), 0);
            assert_int_equal(r.calls, fail_call);
            rec_free(&r);
        }
    }
    rec_free(&whole);
    wire_free(&w);
}

/* ---- name-value pairs ------------------------------------------------------------------- */

struct plog {
    struct text t;
    int calls, fail_call;
};

static enum lx_err plog_pair(void *ud, const char *name, size_t nlen, const char *value,
                             size_t vlen)
{
    struct plog *l = ud;
    if (name[nlen] != '\0' || value[vlen] != '\0')
        text_addf(&l->t, "NOT NUL-TERMINATED ");
    text_addf(&l->t, "%zu:", nlen);
    text_add_bytes(&l->t, name, nlen);
    text_addf(&l->t, " %zu:", vlen);
    text_add_bytes(&l->t, value, vlen);
    text_addf(&l->t, "\n");
    return ++l->calls == l->fail_call ? LX_EINVAL : LX_OK;
}

static char *filled(size_t n, char first, int span)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(first + (int)(i % (size_t)span));
    s[n] = '\0';
    return s;
}

static const struct {
    int line;
    size_t nlen, vlen;
} pair_cases[] = {
    {__LINE__, 0, 0},     {__LINE__, 1, 0},       {__LINE__, 0, 1},       {__LINE__, 14, 4},
    {__LINE__, 127, 127}, {__LINE__, 128, 0},     {__LINE__, 0, 128},     {__LINE__, 128, 128},
    {__LINE__, 127, 128}, {__LINE__, 128, 127},   {__LINE__, 300, 5},     {__LINE__, 5, 70000},
    {__LINE__, 255, 256}, {__LINE__, 70000, 300}, {__LINE__, 1, 0x12345},
};

static void test_pairs_lengths(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof pair_cases / sizeof pair_cases[0]; c++) {
        int line = pair_cases[c].line;
        size_t nlen = pair_cases[c].nlen, vlen = pair_cases[c].vlen;
        char *name = filled(nlen, 'A', 26), *value = filled(vlen, '0', 10);
        size_t lb = (nlen < 128 ? 1 : 4) + (vlen < 128 ? 1 : 4);
        size_t need = fcgi_pair_encode(NULL, 0, name, nlen, value, vlen);
        if (need != lb + nlen + vlen)
            fail_msg("case at line %d: needs %zu, want %zu", line, need, lb + nlen + vlen);
        uint8_t *enc = malloc(need);
        assert_non_null(enc);
        assert_int_equal(fcgi_pair_encode(enc, need, name, nlen, value, vlen), need);
        /* the length bytes: 1 byte below 128, else 4 with the high bit */
        size_t at = 0;
        size_t lens[2] = {nlen, vlen};
        for (int k = 0; k < 2; k++) {
            if (lens[k] < 128) {
                if (enc[at] != lens[k])
                    fail_msg("case at line %d: length byte %u", line, enc[at]);
                at += 1;
            } else {
                uint32_t got = (uint32_t)enc[at] << 24 | (uint32_t)enc[at + 1] << 16 |
                               (uint32_t)enc[at + 2] << 8 | enc[at + 3];
                if (got != (0x80000000u | lens[k]))
                    fail_msg("case at line %d: 4-byte length %08x", line, got);
                at += 4;
            }
        }
        assert_memory_equal(enc + at, name, nlen);
        assert_memory_equal(enc + at + nlen, value, vlen);

        struct text want = {0};
        text_addf(&want, "%zu:", nlen);
        text_add_bytes(&want, name, nlen);
        text_addf(&want, " %zu:", vlen);
        text_add_bytes(&want, value, vlen);
        text_addf(&want, "\n");
        static const size_t pieces[] = {0, 1, 3, 4097};
        for (size_t pi = 0; pi < sizeof pieces / sizeof pieces[0]; pi++) {
            size_t piece = pieces[pi];
            struct plog l = {0};
            struct fcgi_pairs pp;
            fcgi_pairs_init(&pp, 1 << 20, plog_pair, &l);
            for (size_t o = 0; o < need;) {
                size_t n = piece == 0 || need - o < piece ? need - o : piece;
                enum lx_err e = fcgi_pairs_feed(&pp, enc + o, n);
                if (e != LX_OK)
                    fail_msg("case at line %d piece %zu: %s", line, piece, lx_strerror(e));
                o += n;
            }
            assert_int_equal(fcgi_pairs_finish(&pp), LX_OK);
            if (strcmp(text_str(&l.t), text_str(&want)) != 0)
                fail_msg("case at line %d piece %zu: got %.200s", line, piece, text_str(&l.t));
            fcgi_pairs_free(&pp);
            fcgi_pairs_free(&pp); /* twice is harmless */
            text_free(&l.t);
        }
        text_free(&want);
        free(enc);
        free(name);
        free(value);
    }
}

/* Several pairs: empty values, an empty name, 4-byte lengths (one of them for a short value,
 * which the spec allows), embedded NULs; split at every byte, and byte by byte. */
static void build_pairs(struct wire *w, size_t *bounds, size_t *nbounds)
{
    char n130[131], v200[201];
    memset(n130, 'N', 130);
    n130[130] = '\0';
    memset(v200, 'v', 200);
    v200[200] = '\0';
    *nbounds = 0;
    bounds[(*nbounds)++] = 0;
#define PB(n, nl, v, vl)                                                                           \
    do {                                                                                           \
        add_pair(w, n, nl, v, vl);                                                                 \
        bounds[(*nbounds)++] = w->len;                                                             \
    } while (0)
    PB("REQUEST_METHOD", 14, "GET", 3);
    PB("HTTP_X_EMPTY", 12, "", 0);
    PB("", 0, "nameless", 8);
    PB("", 0, "", 0);
    PB(n130, 130, "abc", 3);
    PB("HTTP_COOKIE", 11, v200, 200);
    PB(n130, 130, v200, 200);
    PB("A\0B", 3, "v\0w", 3);
    /* 4-byte lengths for short strings */
    static const uint8_t long_short[] = {0x80, 0, 0, 2, 0x80, 0, 0, 3, 'h', 'i', 'y', 'o', 'u'};
    wire_add(w, long_short, sizeof long_short);
    bounds[(*nbounds)++] = w->len;
    PB("CONTENT_LENGTH", 14, "0", 1);
#undef PB
}

static void test_pairs_splits(void **state)
{
    (void)state;
    struct wire w = {0};
    size_t bounds[32], nb;
    build_pairs(&w, bounds, &nb);

    struct plog one = {0};
    struct fcgi_pairs pp;
    fcgi_pairs_init(&pp, 64 * 1024, plog_pair, &one);
    assert_int_equal(fcgi_pairs_feed(&pp, w.b, w.len), LX_OK);
    assert_int_equal(fcgi_pairs_finish(&pp), LX_OK);
    fcgi_pairs_free(&pp);
    const char *want = text_str(&one.t);
    assert_int_equal(one.calls, 10);
    assert_non_null(strstr(want, "14:REQUEST_METHOD 3:GET\n12:HTTP_X_EMPTY 0:\n0: 8:nameless\n"
                                 "0: 0:\n130:NNN"));
    assert_non_null(strstr(want, "3:A\\x00B 3:v\\x00w\n2:hi 3:you\n14:CONTENT_LENGTH 1:0\n"));

    for (size_t cut = 0; cut <= w.len; cut++) {
        struct plog l = {0};
        fcgi_pairs_init(&pp, 64 * 1024, plog_pair, &l);
        enum lx_err e1 = fcgi_pairs_feed(&pp, w.b, cut);
        enum lx_err e2 = fcgi_pairs_feed(&pp, w.b + cut, w.len - cut);
        if (e1 != LX_OK || e2 != LX_OK || fcgi_pairs_finish(&pp) != LX_OK ||
            strcmp(text_str(&l.t), want) != 0)
            fail_msg("split at byte %zu: %s %s\n got: %s\nwant: %s", cut, lx_strerror(e1),
                     lx_strerror(e2), text_str(&l.t), want);
        fcgi_pairs_free(&pp);
        text_free(&l.t);
    }
    struct plog l = {0};
    fcgi_pairs_init(&pp, 64 * 1024, plog_pair, &l);
    for (size_t at = 0; at < w.len; at++)
        assert_int_equal(fcgi_pairs_feed(&pp, w.b + at, 1), LX_OK);
    assert_int_equal(fcgi_pairs_feed(&pp, NULL, 0), LX_OK);
    assert_int_equal(fcgi_pairs_finish(&pp), LX_OK);
    assert_string_equal(text_str(&l.t), want);
    fcgi_pairs_free(&pp);
    text_free(&l.t);
    text_free(&one.t);
    wire_free(&w);
}

/* The stream ends after every prefix: finish is LX_OK exactly at pair boundaries. */
static void test_pairs_finish_cut(void **state)
{
    (void)state;
    struct wire w = {0};
    size_t bounds[32], nb;
    build_pairs(&w, bounds, &nb);
    for (size_t at = 0; at <= w.len; at++) {
        int bound = 0;
        for (size_t k = 0; k < nb; k++)
            bound |= bounds[k] == at;
        struct plog l = {0};
        struct fcgi_pairs pp;
        fcgi_pairs_init(&pp, 64 * 1024, plog_pair, &l);
        assert_int_equal(fcgi_pairs_feed(&pp, w.b, at), LX_OK);
        enum lx_err want = bound ? LX_OK : LX_EPROTO;
        if (fcgi_pairs_finish(&pp) != want)
            fail_msg("ended after %zu bytes: finish %s, want %s", at,
                     lx_strerror(fcgi_pairs_finish(&pp)), lx_strerror(want));
        fcgi_pairs_free(&pp);
        text_free(&l.t);
    }
    wire_free(&w);
}

/* Limits: the total of names and values, and declared lengths far beyond it. */
static const struct {
    int line;
    size_t max_total;
    const char *wire;
    size_t len;
    enum lx_err want;
    int calls;
} limit_cases[] = {
    {__LINE__, 10,
     BYTES("\x05\x05"
           "abcdefghij"),
     LX_OK, 1},
    {__LINE__, 10,
     BYTES("\x05\x06"
           "abcdefghijk"),
     LX_ETOOBIG, 0},
    {__LINE__, 10,
     BYTES("\x03\x02"
           "abcde"
           "\x03\x02"
           "abcde"
           "\x01\x00"
           "x"),
     LX_ETOOBIG, 2},
    {__LINE__, 10,
     BYTES("\x03\x02"
           "abcde"
           "\x03\x02"
           "abcde"
           "\x00\x00"),
     LX_OK, 3},
    {__LINE__, 10,
     BYTES("\x0b\x00"
           "abcdefghijk"),
     LX_ETOOBIG, 0},
    /* huge declared lengths: refused at once, before any body byte or allocation */
    {__LINE__, 64 * 1024, BYTES("\xff\xff\xff\xff\x00"), LX_ETOOBIG, 0},
    {__LINE__, 64 * 1024, BYTES("\x01\xff\xff\xff\xff"), LX_ETOOBIG, 0},
    {__LINE__, 64 * 1024, BYTES("\xff\xff\xff\xff\xff\xff\xff\xff"), LX_ETOOBIG, 0},
    {__LINE__, 64 * 1024, BYTES("\xc0\x00\x00\x00\xc0\x00\x00\x00"), LX_ETOOBIG, 0},
    {__LINE__, 64 * 1024, BYTES("\x80\x01\x00\x01\x00"), LX_ETOOBIG, 0},
    {__LINE__, 64 * 1024, BYTES("\x80\x00\xff\xff\x80\x00\x00\x02"), LX_ETOOBIG, 0},
    /* within max_total one at a time, over it together */
    {__LINE__, 100, BYTES("\x80\x00\x00\x3c\x80\x00\x00\x3c"), LX_ETOOBIG, 0},
};

static void test_pairs_limits(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof limit_cases / sizeof limit_cases[0]; c++) {
        int line = limit_cases[c].line;
        for (size_t piece = 0; piece <= 1; piece++) {
            struct plog l = {0};
            struct fcgi_pairs pp;
            fcgi_pairs_init(&pp, limit_cases[c].max_total, plog_pair, &l);
            enum lx_err e = LX_OK;
            const uint8_t *b = (const uint8_t *)limit_cases[c].wire;
            for (size_t at = 0; at < limit_cases[c].len && e == LX_OK;) {
                size_t n = piece ? 1 : limit_cases[c].len;
                e = fcgi_pairs_feed(&pp, b + at, n);
                at += n;
            }
            if (e != limit_cases[c].want || l.calls != limit_cases[c].calls)
                fail_msg("case at line %d piece %zu: %s after %d pairs", line, piece,
                         lx_strerror(e), l.calls);
            if (e == LX_ETOOBIG && l.calls == 0 && (pp.buf != NULL || pp.cap != 0))
                fail_msg("case at line %d: allocated %zu bytes before refusing", line, pp.cap);
            if (limit_cases[c].max_total == 64 * 1024 && pp.cap > 64 * 1024 + 2)
                fail_msg("case at line %d: buffer of %zu bytes", line, pp.cap);
            fcgi_pairs_free(&pp);
            text_free(&l.t);
        }
    }
}

/* A PARAMS stream just at, and one byte over, LX_FCGI_PARAMS_MAX_BYTES-style limits. */
static void test_pairs_total(void **state)
{
    (void)state;
    const size_t max = 64 * 1024;
    for (int over = 0; over <= 1; over++) {
        struct wire w = {0};
        char *name = filled(100, 'n', 1), *value = filled(16000, 'v', 1);
        size_t total = 0;
        while (total + 100 + 16000 <= max) { /* four pairs: 64400 bytes */
            add_pair(&w, name, 100, value, 16000);
            total += 16100;
        }
        size_t last = max - total - 10 + (size_t)over;
        char *lv = filled(last, 'w', 1);
        uint8_t *enc = malloc(last + 16);
        assert_non_null(enc);
        size_t n = fcgi_pair_encode(enc, last + 16, "LAST_NAME0", 10, lv, last);
        wire_add(&w, enc, n);
        struct plog l = {0};
        struct fcgi_pairs pp;
        fcgi_pairs_init(&pp, max, plog_pair, &l);
        enum lx_err e = fcgi_pairs_feed(&pp, w.b, w.len);
        assert_int_equal(e, over ? LX_ETOOBIG : LX_OK);
        assert_int_equal(l.calls, over ? 4 : 5);
        fcgi_pairs_free(&pp);
        text_free(&l.t);
        free(enc);
        free(lv);
        free(name);
        free(value);
        wire_free(&w);
    }
}

/* The callback's error stops the feed; the pairs before it were delivered. */
static void test_pairs_callback_error(void **state)
{
    (void)state;
    struct wire w = {0};
    size_t bounds[32], nb;
    build_pairs(&w, bounds, &nb);
    for (int fail_call = 1; fail_call <= 3; fail_call++) {
        struct plog l = {.fail_call = fail_call};
        struct fcgi_pairs pp;
        fcgi_pairs_init(&pp, 64 * 1024, plog_pair, &l);
        assert_int_equal(fcgi_pairs_feed(&pp, w.b, w.len), LX_EINVAL);
        assert_int_equal(l.calls, fail_call);
        fcgi_pairs_free(&pp);
        text_free(&l.t);
    }
    wire_free(&w);
}

/* ---- encoders --------------------------------------------------------------------------- */

static void test_hdr_encode(void **state)
{
    (void)state;
    uint8_t h[9];
    memset(h, 0xee, sizeof h);
    fcgi_hdr_encode(h, FCGI_STDOUT, 0x0102, 0xfff8, 7);
    static const uint8_t want[9] = {1, 6, 1, 2, 0xff, 0xf8, 7, 0, 0xee};
    assert_memory_equal(h, want, sizeof want);
    fcgi_hdr_encode(h, FCGI_GET_VALUES_RESULT, FCGI_NULL_REQUEST_ID, 0, 0);
    static const uint8_t want0[9] = {1, 10, 0, 0, 0, 0, 0, 0, 0xee};
    assert_memory_equal(h, want0, sizeof want0);
}

static const struct {
    int line;
    uint32_t app_status;
    uint8_t proto;
    uint8_t want[8];
} end_cases[] = {
    {__LINE__, 0, FCGI_REQUEST_COMPLETE, {0, 0, 0, 0, 0, 0, 0, 0}},
    {__LINE__, 0x01020304, FCGI_OVERLOADED, {1, 2, 3, 4, 2, 0, 0, 0}},
    {__LINE__, 0xffffffff, FCGI_UNKNOWN_ROLE, {0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0}},
    {__LINE__, 500, FCGI_CANT_MPX_CONN, {0, 0, 1, 0xf4, 1, 0, 0, 0}},
};

static void test_end_body_encode(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof end_cases / sizeof end_cases[0]; c++) {
        uint8_t out[9];
        memset(out, 0xee, sizeof out);
        fcgi_end_body_encode(out, end_cases[c].app_status, end_cases[c].proto);
        if (memcmp(out, end_cases[c].want, 8) != 0 || out[8] != 0xee)
            fail_msg("case at line %d: %02x %02x %02x %02x %02x %02x %02x %02x", end_cases[c].line,
                     out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7]);
        /* layout matches fastcgi.h's FCGI_EndRequestBody */
        FCGI_EndRequestBody b;
        assert_int_equal(sizeof b, 8);
        memcpy(&b, out, 8);
        uint32_t st = (uint32_t)b.appStatusB3 << 24 | (uint32_t)b.appStatusB2 << 16 |
                      (uint32_t)b.appStatusB1 << 8 | b.appStatusB0;
        assert_int_equal(st, end_cases[c].app_status);
        assert_int_equal(b.protocolStatus, end_cases[c].proto);
    }
}

/* Too small a buffer: the size needed comes back, nothing is written past cap. */
static const struct {
    int line;
    size_t nlen, vlen, cap;
} small_cases[] = {
    {__LINE__, 3, 4, 0},     {__LINE__, 3, 4, 1},       {__LINE__, 3, 4, 2},
    {__LINE__, 3, 4, 8},     {__LINE__, 3, 4, 9},       {__LINE__, 200, 4, 3},
    {__LINE__, 200, 4, 4},   {__LINE__, 200, 4, 5},     {__LINE__, 4, 200, 2},
    {__LINE__, 4, 200, 4},   {__LINE__, 200, 200, 7},   {__LINE__, 200, 200, 8},
    {__LINE__, 200, 200, 9}, {__LINE__, 200, 200, 407},
};

static void test_pair_encode_small(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof small_cases / sizeof small_cases[0]; c++) {
        int line = small_cases[c].line;
        size_t nlen = small_cases[c].nlen, vlen = small_cases[c].vlen, cap = small_cases[c].cap;
        char *name = filled(nlen, 'a', 26), *value = filled(vlen, '0', 10);
        size_t need = (nlen < 128 ? 1 : 4) + (vlen < 128 ? 1 : 4) + nlen + vlen;
        uint8_t *buf = malloc(cap + 64);
        assert_non_null(buf);
        memset(buf, 0xee, cap + 64);
        size_t got = fcgi_pair_encode(buf, cap, name, nlen, value, vlen);
        if (got != need)
            fail_msg("case at line %d: returned %zu, want %zu", line, got, need);
        for (size_t i = cap; i < cap + 64; i++)
            if (buf[i] != 0xee)
                fail_msg("case at line %d: byte %zu past cap %zu written", line, i, cap);
        free(buf);
        /* and with exactly that size, it round-trips */
        buf = malloc(need);
        assert_non_null(buf);
        assert_int_equal(fcgi_pair_encode(buf, need, name, nlen, value, vlen), need);
        struct plog l = {0};
        struct fcgi_pairs pp;
        fcgi_pairs_init(&pp, 1024, plog_pair, &l);
        assert_int_equal(fcgi_pairs_feed(&pp, buf, need), LX_OK);
        assert_int_equal(l.calls, 1);
        fcgi_pairs_free(&pp);
        text_free(&l.t);
        free(buf);
        free(name);
        free(value);
    }
    /* no buffer at all: a size query */
    assert_int_equal(fcgi_pair_encode(NULL, 0, "FCGI_MPXS_CONNS", 15, "0", 1), 18);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_types),
        cmocka_unit_test(test_stream_splits),
        cmocka_unit_test(test_midrecord),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_zero_length),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_callback_error),
        cmocka_unit_test(test_pairs_lengths),
        cmocka_unit_test(test_pairs_splits),
        cmocka_unit_test(test_pairs_finish_cut),
        cmocka_unit_test(test_pairs_limits),
        cmocka_unit_test(test_pairs_total),
        cmocka_unit_test(test_pairs_callback_error),
        cmocka_unit_test(test_hdr_encode),
        cmocka_unit_test(test_end_body_encode),
        cmocka_unit_test(test_pair_encode_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
