/* tests/unit/test_sse.c -- server-sent events (shared/sse.c): the WHATWG spec's examples; every
 * line ending, and a CR ending one feed; fields, BOM, comments, unknown fields; a realistic
 * OpenAI chat.completion.chunk stream fed whole, cut at every byte into two feeds and one byte
 * at a time, with the same events each way; the size limits; callbacks stopping the parser;
 * the writers, and sse_format -> sse_feed round trips. Every table case is parsed whole, cut in
 * two at every byte, in every stride up to 7 bytes and, when short, cut in three everywhere.
 * Events and comments are logged as text lines so a mismatch prints readably:
 *   "type=<t> id=<id> data=<data>" per event, "comment=<text>" per comment, then one line
 *   "end" [+ " mid" if sse_midevent()] [+ " err=<why it stopped>"] [+ " retry=<ms>"]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../shared/sse.c"
#include "../../shared/lx_err.c"

/* ---- helpers: a growing text log -------------------------------------------------------- */

#include "test_helpers.h"

/* Bytes as text: printable ASCII as is; LF, CR and NUL as \n, \r, \0; backslash and the rest
 * as \xNN. */
static void text_add_bytes(struct text *t, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\n')
            text_addf(t, "\\n");
        else if (b[i] == '\r')
            text_addf(t, "\\r");
        else if (b[i] == '\0')
            text_addf(t, "\\0");
        else if (b[i] >= ' ' && b[i] < 0x7f && b[i] != '\\')
            text_addf(t, "%c", b[i]);
        else
            text_addf(t, "\\x%02x", b[i]);
    }
}

static void text_add_raw(struct text *t, const void *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        t->s = realloc(t->s, cap);
        assert_non_null(t->s);
        t->cap = cap;
    }
    memcpy(t->s + t->len, p, n);
    t->len += n;
    t->s[t->len] = '\0';
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

/* ---- the event recorder ----------------------------------------------------------------- */

struct rec {
    struct text log;
    size_t max;    /* the parser's max_event_bytes: no event's data is longer */
    int calls;     /* event and comment callbacks so far */
    int fail_call; /* callback number fail_call (1-based) returns fail_err */
    enum lx_err fail_err;
};

static enum lx_err rec_fail(struct rec *r)
{
    if (++r->calls != r->fail_call)
        return LX_OK;
    text_addf(&r->log, "fail\n");
    return r->fail_err;
}

static enum lx_err rec_event(void *ud, const struct sse_event *ev)
{
    struct rec *r = ud;
    if (ev->type[ev->type_len] != '\0' || ev->data[ev->data_len] != '\0' ||
        ev->id[ev->id_len] != '\0' || strlen(ev->id) != ev->id_len)
        text_addf(&r->log, "NOT NUL-TERMINATED ");
    if (ev->data_len > r->max || ev->type_len == 0 || ev->type_len > LX_SSE_TYPE_MAX_BYTES ||
        ev->id_len > LX_SSE_ID_MAX_BYTES)
        text_addf(&r->log, "OVER A LIMIT ");
    text_addf(&r->log, "type=");
    text_add_bytes(&r->log, ev->type, ev->type_len);
    text_addf(&r->log, " id=");
    text_add_bytes(&r->log, ev->id, ev->id_len);
    text_addf(&r->log, " data=");
    text_add_bytes(&r->log, ev->data, ev->data_len);
    text_addf(&r->log, "\n");
    return rec_fail(r);
}

static enum lx_err rec_comment(void *ud, const char *s, size_t len)
{
    struct rec *r = ud;
    if (s[len] != '\0')
        text_addf(&r->log, "NOT NUL-TERMINATED ");
    text_addf(&r->log, "comment=");
    text_add_bytes(&r->log, s, len);
    text_addf(&r->log, "\n");
    return rec_fail(r);
}

static void rec_init(struct rec *r, size_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max;
}

/* A parser logging to r; with_comments sets the comment callback. */
static void rec_parser(struct sse_parser *p, struct rec *r, int with_comments)
{
    sse_init(p, r->max, rec_event, r);
    if (with_comments)
        sse_on_comment(p, rec_comment);
}

/* Log how the parse ended, check the counters and the buffer bound, free the parser. */
static void rec_end(struct rec *r, struct sse_parser *p, enum lx_err e)
{
    text_addf(&r->log, "end%s", sse_midevent(p) ? " mid" : "");
    if (e != LX_OK)
        text_addf(&r->log, " err=%s", lx_strerror(e));
    if (p->retry_ms != -1)
        text_addf(&r->log, " retry=%ld", p->retry_ms);
    text_addf(&r->log, "\n");
    if (p->_cap > r->max + 1)
        text_addf(&r->log, "BUFFER OF %zu BYTES\n", p->_cap);
    sse_free(p);
}

/* Parse in pieces of at most `piece` bytes (0: all at once). Feeds go on after an error: they
 * must keep returning it and call nothing. */
static void parse_pieces(struct rec *r, const char *b, size_t len, size_t piece, int with_comments)
{
    struct sse_parser p;
    enum lx_err e = LX_OK, first = LX_OK;
    rec_parser(&p, r, with_comments);
    for (size_t at = 0; at < len;) {
        size_t n = piece == 0 || len - at < piece ? len - at : piece;
        int calls = r->calls;
        e = sse_feed(&p, b + at, n);
        if (first != LX_OK && (e != first || r->calls != calls))
            text_addf(&r->log, "FED AFTER STOPPING\n");
        if (first == LX_OK)
            first = e;
        at += n;
    }
    rec_end(r, &p, e);
}

/* Parse in feeds cut at the given offsets (sorted, each <= len). */
static void parse_cuts(struct rec *r, const char *b, size_t len, const size_t *cuts, size_t ncuts,
                       int with_comments)
{
    struct sse_parser p;
    enum lx_err e = LX_OK;
    size_t at = 0;
    rec_parser(&p, r, with_comments);
    for (size_t k = 0; k <= ncuts; k++) {
        size_t to = k < ncuts ? cuts[k] : len;
        e = sse_feed(&p, b + at, to - at);
        at = to;
    }
    rec_end(r, &p, e);
}

/* Parse b every way (see the top of the file); each must log want. */
static void check_all_ways(int line, const char *b, size_t len, size_t max, int with_comments,
                           const char *want)
{
    struct rec r;
    for (size_t piece = 0; piece <= 7; piece++) {
        rec_init(&r, max);
        parse_pieces(&r, b, len, piece, with_comments);
        if (strcmp(text_str(&r.log), want) != 0)
            fail_msg("case at line %d, %zu bytes at a time:\n got: %s\nwant: %s", line, piece,
                     text_str(&r.log), want);
        text_free(&r.log);
    }
    for (size_t cut = 0; cut <= len; cut++) {
        rec_init(&r, max);
        parse_cuts(&r, b, len, &cut, 1, with_comments);
        if (strcmp(text_str(&r.log), want) != 0)
            fail_msg("case at line %d, cut at byte %zu:\n got: %s\nwant: %s", line, cut,
                     text_str(&r.log), want);
        text_free(&r.log);
    }
    if (len > 96)
        return;
    for (size_t c1 = 0; c1 <= len; c1++) {
        for (size_t c2 = c1; c2 <= len; c2++) {
            size_t cuts[2] = {c1, c2};
            rec_init(&r, max);
            parse_cuts(&r, b, len, cuts, 2, with_comments);
            if (strcmp(text_str(&r.log), want) != 0)
                fail_msg("case at line %d, cut at bytes %zu and %zu:\n got: %s\nwant: %s", line, c1,
                         c2, text_str(&r.log), want);
            text_free(&r.log);
        }
    }
}

/* want without its comment= lines: what a parser without a comment callback logs. */
static void drop_comments(struct text *out, const char *want)
{
    for (const char *s = want; *s != '\0';) {
        const char *nl = strchr(s, '\n');
        size_t n = nl != NULL ? (size_t)(nl - s) + 1 : strlen(s);
        if (strncmp(s, "comment=", 8) != 0)
            text_addf(out, "%.*s", (int)n, s);
        s += n;
    }
}

/* Contents are byte strings; "" "" splits keep hex escapes from swallowing the next letter. */
#define BYTES(lit) lit, sizeof(lit) - 1

struct sse_case {
    int line;
    const char *in;
    size_t len;
    const char *want;
};

/* Run a table with a 1 MiB limit, with the comment callback and (comments dropped) without. */
static void run_cases(const struct sse_case *cases, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        check_all_ways(cases[c].line, cases[c].in, cases[c].len, LX_SSE_EVENT_MAX_BYTES, 1,
                       cases[c].want);
        struct text bare = {0};
        drop_comments(&bare, cases[c].want);
        check_all_ways(cases[c].line, cases[c].in, cases[c].len, LX_SSE_EVENT_MAX_BYTES, 0,
                       text_str(&bare));
        text_free(&bare);
    }
}

#define RUN_CASES(t) run_cases(t, sizeof t / sizeof t[0])

/* ---- the examples of the WHATWG HTML standard, 9.2.6 ------------------------------------ */

static const struct sse_case whatwg_cases[] = {
    /* "three lines": one event, the data joined by LF */
    {__LINE__, BYTES("data: YHOO\ndata: +2\ndata: 10\n\n"),
     "type=message id= data=YHOO\\n+2\\n10\nend\n"},
    /* four blocks: a comment; an event with id 1; one resetting the id; one never dispatched
     * because the stream ends before its blank line */
    {__LINE__,
     BYTES(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
           "data:  third event\n"),
     "comment=test stream\n"
     "type=message id=1 data=first event\n"
     "type=message id= data=second event\n"
     "end mid\n"},
    {__LINE__,
     BYTES(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
           "data:  third event\n\n"),
     "comment=test stream\n"
     "type=message id=1 data=first event\n"
     "type=message id= data=second event\n"
     "type=message id= data= third event\n"
     "end\n"},
    /* empty data, a single newline, and a last block discarded */
    {__LINE__, BYTES("data\n\ndata\ndata\n\ndata:\n"),
     "type=message id= data=\ntype=message id= data=\\n\nend mid\n"},
    /* the space after the colon is optional */
    {__LINE__, BYTES("data:test\n\ndata: test\n\n"),
     "type=message id= data=test\ntype=message id= data=test\nend\n"},
    /* event types */
    {__LINE__,
     BYTES("event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\n"
           "data: 113411\n\n"),
     "type=add id= data=73857293\ntype=remove id= data=2153\ntype=add id= data=113411\nend\n"},
    /* the stock-ticker example's stream shape: a comment as keep-alive, then data */
    {__LINE__, BYTES(":\n\ndata: GOOG\n\n"), "comment=\ntype=message id= data=GOOG\nend\n"},
};

static void test_whatwg_examples(void **state)
{
    (void)state;
    RUN_CASES(whatwg_cases);
}

/* ---- line endings ----------------------------------------------------------------------- */

static const struct sse_case eol_cases[] = {
    {__LINE__, BYTES("data:a\n\n"), "type=message id= data=a\nend\n"},
    {__LINE__, BYTES("data:a\r\n\r\n"), "type=message id= data=a\nend\n"},
    {__LINE__, BYTES("data:a\r\r"), "type=message id= data=a\nend\n"},
    {__LINE__, BYTES("data:a\r\n\n"), "type=message id= data=a\nend\n"},
    {__LINE__, BYTES("data:a\n\r\n"), "type=message id= data=a\nend\n"},
    {__LINE__, BYTES("data:a\n\r"), "type=message id= data=a\nend\n"},
    {__LINE__, BYTES("data:a\r\n\r"), "type=message id= data=a\nend\n"},
    {__LINE__, BYTES("data:a\r\r\n"), "type=message id= data=a\nend\n"}, /* LF is the CR's */
    /* mixed in one event */
    {__LINE__, BYTES("data:a\r\ndata:b\rdata:c\ndata:d\r\n\r\n"),
     "type=message id= data=a\\nb\\nc\\nd\nend\n"},
    /* a blank line by itself dispatches once; more blank lines, nothing */
    {__LINE__, BYTES("data:a\r\r\r\r\n\n\r\n"), "type=message id= data=a\nend\n"},
    {__LINE__, BYTES("data:a\n\n\n\n"), "type=message id= data=a\nend\n"},
    {__LINE__, BYTES("\n\r\n\r\r\n\n"), "end\n"},
    /* LF then CR are two line endings; CR then LF is one */
    {__LINE__, BYTES("data:a\n\rdata:b\n\n"),
     "type=message id= data=a\ntype=message id= data=b\nend\n"},
    {__LINE__, BYTES("data:a\r\ndata:b\r\n\r\n"), "type=message id= data=a\\nb\nend\n"},
    {__LINE__, BYTES("event:x\rdata:y\r\r"), "type=x id= data=y\nend\n"},
    {__LINE__, BYTES("data\r\r"), "type=message id= data=\nend\n"},
    {__LINE__, BYTES("data\r\ndata\r\r"), "type=message id= data=\\n\nend\n"},
    {__LINE__, BYTES("id:7\rdata:x\r\r"), "type=message id=7 data=x\nend\n"},
    /* unfinished */
    {__LINE__, BYTES("data:a"), "end mid\n"},
    {__LINE__, BYTES("data:a\r"), "end mid\n"},
    {__LINE__, BYTES("data:a\r\n"), "end mid\n"},
    {__LINE__, BYTES("data:a\n"), "end mid\n"},
    {__LINE__, BYTES("data"), "end mid\n"},
    {__LINE__, BYTES("d"), "end mid\n"},
    {__LINE__, BYTES(""), "end\n"},
    {__LINE__, BYTES("\r"), "end\n"},
};

static void test_line_endings(void **state)
{
    (void)state;
    RUN_CASES(eol_cases);
}

/* A CR ending one feed: the line ends at once (a blank line dispatches at once), and an LF
 * starting the next feed is dropped, not taken for a blank line. */
static void test_cr_at_feed_end(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *feed;
        const char *log; /* the whole log after this feed */
    } steps[] = {
        {__LINE__, "data: x\r", ""},
        {__LINE__, "\n", ""},
        {__LINE__, "\r", "type=message id= data=x\n"},
        {__LINE__, "\n", "type=message id= data=x\n"},
        {__LINE__, "\n", "type=message id= data=x\n"},
        {__LINE__, "data: y\r", "type=message id= data=x\n"},
        {__LINE__, "\r", "type=message id= data=x\ntype=message id= data=y\n"},
        {__LINE__, "data: w\r", "type=message id= data=x\ntype=message id= data=y\n"},
        {__LINE__, "\ndata: v\r", "type=message id= data=x\ntype=message id= data=y\n"},
        {__LINE__, "data: u\r", "type=message id= data=x\ntype=message id= data=y\n"},
        {__LINE__, "\n\r",
         "type=message id= data=x\ntype=message id= data=y\ntype=message id= data=w\\nv\\nu\n"},
        {__LINE__, "\n",
         "type=message id= data=x\ntype=message id= data=y\ntype=message id= data=w\\nv\\nu\n"},
        {__LINE__, "\r",
         "type=message id= data=x\ntype=message id= data=y\ntype=message id= data=w\\nv\\nu\n"},
        {__LINE__, ":c\r", /* the CR before it was not followed by LF: ":c" is a new line */
         "type=message id= data=x\ntype=message id= data=y\ntype=message id= data=w\\nv\\nu\n"
         "comment=c\n"},
    };
    struct rec r;
    struct sse_parser p;
    rec_init(&r, 1024);
    rec_parser(&p, &r, 1);
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        assert_int_equal(sse_feed(&p, steps[k].feed, strlen(steps[k].feed)), LX_OK);
        if (strcmp(text_str(&r.log), steps[k].log) != 0)
            fail_msg("step at line %d:\n got: %s\nwant: %s", steps[k].line, text_str(&r.log),
                     steps[k].log);
    }
    assert_int_equal(p.events, 3);
    assert_int_equal(p.comments, 1);
    assert_false(sse_midevent(&p));
    sse_free(&p);
    text_free(&r.log);
}

/* ---- fields ----------------------------------------------------------------------------- */

static const struct sse_case field_cases[] = {
    /* event: the last one before the blank line wins, even after the data; reset each event */
    {__LINE__, BYTES("event: add\ndata: 1\n\n"), "type=add id= data=1\nend\n"},
    {__LINE__, BYTES("event:add\nevent: remove\ndata:1\n\n"), "type=remove id= data=1\nend\n"},
    {__LINE__, BYTES("data:1\nevent: late\n\n"), "type=late id= data=1\nend\n"},
    {__LINE__, BYTES("event: add\n\ndata: 1\n\n"), "type=message id= data=1\nend\n"},
    {__LINE__, BYTES("event: add\ndata: 1\n\ndata: 2\n\n"),
     "type=add id= data=1\ntype=message id= data=2\nend\n"},
    {__LINE__, BYTES("event:\ndata:1\n\n"), "type=message id= data=1\nend\n"},
    {__LINE__, BYTES("event\ndata:1\n\n"), "type=message id= data=1\nend\n"},
    {__LINE__, BYTES("event: x\nevent\ndata:1\n\n"), "type=message id= data=1\nend\n"},
    {__LINE__, BYTES("event:  a b \ndata:x\n\n"), "type= a b  id= data=x\nend\n"},
    {__LINE__, BYTES("event: a\0b\ndata:x\n\n"), "type=a\\0b id= data=x\nend\n"},
    /* id: persists across events; set even by a block without data; a NUL voids the line */
    {__LINE__, BYTES("id: 7\ndata: a\n\ndata: b\n\n"),
     "type=message id=7 data=a\ntype=message id=7 data=b\nend\n"},
    {__LINE__, BYTES("id: 7\ndata: a\n\nid\ndata: b\n\nid:\ndata: c\n\n"),
     "type=message id=7 data=a\ntype=message id= data=b\ntype=message id= data=c\nend\n"},
    {__LINE__, BYTES("id: 7\n\ndata: a\n\n"), "type=message id=7 data=a\nend\n"},
    {__LINE__, BYTES("id: 7\ndata: a\n\nid: 8\0x\ndata: b\n\n"),
     "type=message id=7 data=a\ntype=message id=7 data=b\nend\n"},
    {__LINE__, BYTES("id: \0\ndata: b\n\n"), "type=message id= data=b\nend\n"},
    {__LINE__, BYTES("data:a\nid:1\nid:2\n\n"), "type=message id=2 data=a\nend\n"},
    {__LINE__, BYTES("id:  two spaces\ndata\n\n"), "type=message id= two spaces data=\nend\n"},
    {__LINE__, BYTES("id: chatcmpl-9xYz\ndata: x\n\n"),
     "type=message id=chatcmpl-9xYz data=x\nend\n"},
    /* retry: all ASCII digits, or ignored; it applies at once, no blank line needed */
    {__LINE__, BYTES("retry: 3000\n"), "end retry=3000\n"},
    {__LINE__, BYTES("retry:3000\n"), "end retry=3000\n"},
    {__LINE__, BYTES("retry: 0\n"), "end retry=0\n"},
    {__LINE__, BYTES("retry: 0012\n"), "end retry=12\n"},
    {__LINE__, BYTES("retry: 30x\n"), "end\n"},
    {__LINE__, BYTES("retry: -5\n"), "end\n"},
    {__LINE__, BYTES("retry: +5\n"), "end\n"},
    {__LINE__, BYTES("retry: 12 \n"), "end\n"},
    {__LINE__, BYTES("retry:  100\n"), "end\n"},
    {__LINE__, BYTES("retry: 1.5\n"), "end\n"},
    {__LINE__, BYTES("retry:\n"), "end\n"},
    {__LINE__, BYTES("retry\n"), "end\n"},
    {__LINE__, BYTES("retry: 1000\nretry: abc\nretry:\n"), "end retry=1000\n"},
    {__LINE__, BYTES("retry: 1000\nretry: 20\n"), "end retry=20\n"},
    {__LINE__, BYTES("retry: 2147483647\n"), "end retry=2147483647\n"},
    {__LINE__, BYTES("retry: 99999999999999999999999999\n"), "end retry=2147483647\n"},
    {__LINE__, BYTES("retry: 500"), "end mid\n"}, /* the line is not whole yet */
    {__LINE__, BYTES("data: x\nretry: 5\n\n"), "type=message id= data=x\nend retry=5\n"},
    /* the value: one leading space dropped, no more; colons after the first are the value's */
    {__LINE__, BYTES("data:x\n\n"), "type=message id= data=x\nend\n"},
    {__LINE__, BYTES("data: x\n\n"), "type=message id= data=x\nend\n"},
    {__LINE__, BYTES("data:  x\n\n"), "type=message id= data= x\nend\n"},
    {__LINE__, BYTES("data:\tx\n\n"), "type=message id= data=\\x09x\nend\n"},
    {__LINE__, BYTES("data: \n\n"), "type=message id= data=\nend\n"},
    {__LINE__, BYTES("data:  \n\n"), "type=message id= data= \nend\n"},
    {__LINE__, BYTES("data: x \n\n"), "type=message id= data=x \nend\n"},
    {__LINE__, BYTES("data: a:b: c\n\n"), "type=message id= data=a:b: c\nend\n"},
    {__LINE__, BYTES("data::\n\n"), "type=message id= data=:\nend\n"},
    {__LINE__, BYTES("data\ndata:x\n\n"), "type=message id= data=\\nx\nend\n"},
    {__LINE__, BYTES("data:x\ndata\n\n"), "type=message id= data=x\\n\nend\n"},
    /* bytes are passed on as they are */
    {__LINE__, BYTES("data: a\0b\n\n"), "type=message id= data=a\\0b\nend\n"},
    {__LINE__, BYTES("data: \xff\xfe\x80\n\n"), "type=message id= data=\\xff\\xfe\\x80\nend\n"},
    {__LINE__, BYTES("data: Pasal 2 \xe2\x80\x94 korupsi\n\n"),
     "type=message id= data=Pasal 2 \\xe2\\x80\\x94 korupsi\nend\n"},
    /* a BOM: one, at the very start only; a partial one is ordinary bytes */
    {__LINE__,
     BYTES("\xef\xbb\xbf"
           "data: x\n\n"),
     "type=message id= data=x\nend\n"},
    {__LINE__,
     BYTES("\xef\xbb\xbf"
           ": c\n"),
     "comment=c\nend\n"},
    {__LINE__, BYTES("\xef\xbb\xbf\n"), "end\n"},
    {__LINE__, BYTES("\xef\xbb\xbf"), "end\n"},
    {__LINE__, BYTES("\xef\xbb"), "end mid\n"},
    {__LINE__, BYTES("\xef"), "end mid\n"},
    {__LINE__, BYTES("\xef\xbb\n"), "end\n"}, /* a field named "\xef\xbb": unknown */
    {__LINE__,
     BYTES("\xef\xbb\xbf\xef\xbb\xbf"
           "data: x\n\n"),
     "end\n"},
    {__LINE__,
     BYTES("\xef\xbb"
           "data: x\n\n"),
     "end\n"},
    {__LINE__,
     BYTES("\xef"
           "data: x\n\n"),
     "end\n"},
    {__LINE__,
     BYTES("\xef\xbb\xef\xbb\xbf"
           "data: x\n\n"),
     "end\n"},
    {__LINE__,
     BYTES("\xef\n"
           "data: x\n\n"),
     "type=message id= data=x\nend\n"},
    {__LINE__,
     BYTES("data: x\n\n\xef\xbb\xbf"
           "data: y\n\n"),
     "type=message id= data=x\nend\n"},
    {__LINE__,
     BYTES("\xef\xbb\xbf"
           "data:\xef\xbb\xbf\n\n"),
     "type=message id= data=\\xef\\xbb\\xbf\nend\n"},
};

static void test_fields(void **state)
{
    (void)state;
    RUN_CASES(field_cases);
}

/* ---- comments and unknown fields -------------------------------------------------------- */

static const struct sse_case comment_cases[] = {
    {__LINE__, BYTES(": ping\n\n"), "comment=ping\nend\n"},
    {__LINE__, BYTES(":ping\n"), "comment=ping\nend\n"},
    {__LINE__, BYTES(":  two\n"), "comment= two\nend\n"},
    {__LINE__, BYTES(":\n"), "comment=\nend\n"},
    {__LINE__, BYTES(":\r: x\r\n:y\n"), "comment=\ncomment=x\ncomment=y\nend\n"},
    {__LINE__, BYTES(": a:b: c\n"), "comment=a:b: c\nend\n"},
    {__LINE__, BYTES(": data: x\n\n"), "comment=data: x\nend\n"},
    {__LINE__, BYTES(": ping"), "end mid\n"},
    /* a comment inside an event does not end it */
    {__LINE__, BYTES("data: a\n: keep-alive\ndata: b\n\n"),
     "comment=keep-alive\ntype=message id= data=a\\nb\nend\n"},
    {__LINE__, BYTES("event: x\n:\nid: 3\n:\ndata: y\n:\n\n"),
     "comment=\ncomment=\ncomment=\ntype=x id=3 data=y\nend\n"},
    {__LINE__, BYTES(": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: {}\n\n"),
     "comment=OPENROUTER PROCESSING\ncomment=OPENROUTER PROCESSING\ntype=message id= "
     "data={}\nend\n"},
};

static void test_comments(void **state)
{
    (void)state;
    RUN_CASES(comment_cases);

    /* keep-alives counted, with and without a callback; without one nothing is allocated */
    for (int with = 0; with <= 1; with++) {
        struct rec r;
        struct sse_parser p;
        rec_init(&r, 1024);
        rec_parser(&p, &r, with);
        for (int k = 0; k < 1000; k++)
            assert_int_equal(sse_feed(&p, BYTES(": ping\n\n")), LX_OK);
        assert_int_equal(sse_feed(&p, BYTES(":\r\n")), LX_OK);
        assert_int_equal(p.comments, 1001);
        assert_int_equal(p.events, 0);
        assert_int_equal(r.calls, with ? 1001 : 0);
        if (!with)
            assert_null(p._buf);
        else
            assert_true(p._cap <= 256);
        sse_free(&p);
        text_free(&r.log);
    }
}

static const struct sse_case unknown_cases[] = {
    {__LINE__, BYTES("foo: bar\ndata: x\n\n"), "type=message id= data=x\nend\n"},
    {__LINE__, BYTES("data:x\nfoo\nbar:\n:\nbaz: q\n\n"),
     "comment=\ntype=message id= data=x\nend\n"},
    /* names are case-sensitive and exact */
    {__LINE__, BYTES("Data: x\n\n"), "end\n"},
    {__LINE__, BYTES("DATA:x\n\n"), "end\n"},
    {__LINE__, BYTES("data : x\n\n"), "end\n"},
    {__LINE__, BYTES(" data: x\n\n"), "end\n"},
    {__LINE__, BYTES("dat: x\n\n"), "end\n"},
    {__LINE__, BYTES("datax: x\n\n"), "end\n"},
    {__LINE__, BYTES("data\0: x\n\n"), "end\n"},
    {__LINE__, BYTES("dataxxxxxxxxxxxxxxxxxxxxxxxx: y\n\n"), "end\n"},
    {__LINE__, BYTES("dataxxxxxxxxxxxxxxxxxxxxxxxx\n\n"), "end\n"},
    {__LINE__, BYTES("eventtype: foo\ndata: x\n\n"), "type=message id= data=x\nend\n"},
    {__LINE__, BYTES("Event: foo\ndata: x\n\n"), "type=message id= data=x\nend\n"},
    {__LINE__, BYTES("ids: 5\nID: 6\ndata:x\n\n"), "type=message id= data=x\nend\n"},
    {__LINE__, BYTES("retryx: 5\nRetry: 6\nretr: 7\n"), "end\n"},
    {__LINE__, BYTES("x:data: y\n\n"), "end\n"},
    /* an unknown field after the data does not dispatch, a blank line still does */
    {__LINE__, BYTES("data: a\nfoo: b\n"), "end mid\n"},
    {__LINE__, BYTES("data: a\nfoo: b"), "end mid\n"},
    {__LINE__, BYTES("data: a\nfoo: b\n\n"), "type=message id= data=a\nend\n"},
};

static void test_unknown_fields(void **state)
{
    (void)state;
    RUN_CASES(unknown_cases);
}

/* ---- a realistic OpenAI chat stream ----------------------------------------------------- */

#define CHUNK_HEAD                                                                                 \
    "{\"id\":\"chatcmpl-9xYzAbCdEf\",\"object\":\"chat.completion.chunk\",\"created\":1718000000," \
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\","
#define DELTA(content)                                                                             \
    "data: " CHUNK_HEAD "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" content "\"},"       \
    "\"logprobs\":null,\"finish_reason\":null}]}\n\n"

static const char openai_stream[] =
    ": OPENROUTER PROCESSING\n\n"
    "data: " CHUNK_HEAD "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n" DELTA(
        "Menurut") DELTA(" Pasal 2 ayat (1)") DELTA(" UU No. 31 Tahun 1999,")
        DELTA(" setiap orang yang secara melawan hukum\\n\\n- memperkaya diri")
            DELTA(" dipidana penjara \\\"seumur hidup\\\" [1].") ": keep-alive\n\n"
                                                                 "data: " CHUNK_HEAD
                                                                 "\"choices\":[{\"index\":0,"
                                                                 "\"delta\":{},\"logprobs\":null,"
                                                                 "\"finish_reason\":\"stop\"}]}\n\n"
                                                                 "data: " CHUNK_HEAD
                                                                 "\"choices\":[],\"usage\":{"
                                                                 "\"prompt_tokens\":812,"
                                                                 "\"completion_tokens\":57,\"total_"
                                                                 "tokens\":869}}\n\n"
                                                                 "data: [DONE]\n\n";

struct done_log {
    int events, done, done_at;
};

static enum lx_err done_event(void *ud, const struct sse_event *ev)
{
    struct done_log *d = ud;
    d->events++;
    if (sse_is_done(ev)) {
        d->done++;
        d->done_at = d->events;
    }
    return LX_OK;
}

/* The stream with every "\n" turned into eol. */
static char *with_eol(const char *s, const char *eol, size_t *len)
{
    size_t n = 0, el = strlen(eol);
    for (const char *c = s; *c != '\0'; c++)
        n += *c == '\n' ? el : 1;
    char *out = malloc(n + 1), *o = out;
    assert_non_null(out);
    for (const char *c = s; *c != '\0'; c++) {
        if (*c == '\n') {
            memcpy(o, eol, el);
            o += el;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    *len = n;
    return out;
}

static void test_openai_stream(void **state)
{
    (void)state;
    size_t len = sizeof openai_stream - 1;
    struct rec one;
    rec_init(&one, LX_SSE_EVENT_MAX_BYTES);
    parse_pieces(&one, openai_stream, len, 0, 1);
    const char *want = text_str(&one.log);
    /* the reference itself: spot checks */
    size_t nev = 0, ncom = 0;
    for (const char *s = want; (s = strstr(s, "type=message id= data=")) != NULL; s++)
        nev++;
    for (const char *s = want; (s = strstr(s, "comment=")) != NULL; s++)
        ncom++;
    assert_int_equal(nev, 9);
    assert_int_equal(ncom, 2);
    assert_non_null(strstr(want, "comment=OPENROUTER PROCESSING\ntype=message id= data={\"id\":"
                                 "\"chatcmpl-9xYzAbCdEf\",\"object\":\"chat.completion.chunk\""));
    assert_non_null(strstr(want, "{\"content\":\"Menurut\"}"));
    assert_non_null(strstr(want, "hukum\\x5cn\\x5cn- memperkaya"));
    assert_non_null(strstr(want, "\\x5c\"seumur hidup\\x5c\""));
    assert_non_null(strstr(want, "\"total_tokens\":869}}\ntype=message id= data=[DONE]\nend\n"));
    assert_null(strstr(want, "NOT NUL"));
    assert_null(strstr(want, "OVER"));

    /* cut at every byte into two feeds, and fed 1..7 bytes at a time */
    check_all_ways(__LINE__, openai_stream, len, LX_SSE_EVENT_MAX_BYTES, 1, want);

    /* the same stream with CRLF or CR line endings gives the same events */
    static const char *const eols[] = {"\r\n", "\r"};
    for (size_t k = 0; k < 2; k++) {
        size_t n;
        char *s = with_eol(openai_stream, eols[k], &n);
        check_all_ways(__LINE__, s, n, LX_SSE_EVENT_MAX_BYTES, 1, want);
        free(s);
    }

    /* [DONE] is the last event and the only one sse_is_done() takes */
    for (size_t piece = 0; piece <= 1; piece++) {
        struct done_log d = {0};
        struct sse_parser p;
        sse_init(&p, LX_SSE_EVENT_MAX_BYTES, done_event, &d);
        for (size_t at = 0; at < len; at += piece ? 1 : len)
            assert_int_equal(sse_feed(&p, openai_stream + at, piece ? 1 : len), LX_OK);
        assert_int_equal(d.events, 9);
        assert_int_equal(d.done, 1);
        assert_int_equal(d.done_at, 9);
        assert_int_equal(p.events, 9);
        assert_int_equal(p.comments, 2);
        assert_false(sse_midevent(&p));
        sse_free(&p);
    }
    text_free(&one.log);
}

/* Several events in one read, and reads that end inside events. */
static void test_several_in_one_read(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *feed;
        int events; /* events after this feed, in all */
        int mid;
    } steps[] = {
        {__LINE__, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 3, 0},
        {__LINE__, "data: 4\n\ndata: 5\n\ndata: 6", 5, 1},
        {__LINE__, "\n\ndata: 7\n\nevent: x\ndata: 8\n\ndata: ", 8, 1},
        {__LINE__, "9\r\n\r\n: c\n\ndata: 10\r\rdata: 11\n\n", 11, 0},
    };
    struct rec r;
    struct sse_parser p;
    rec_init(&r, 64);
    rec_parser(&p, &r, 0);
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        assert_int_equal(sse_feed(&p, steps[k].feed, strlen(steps[k].feed)), LX_OK);
        if (r.calls != steps[k].events || sse_midevent(&p) != steps[k].mid)
            fail_msg("step at line %d: %d events, mid %d", steps[k].line, r.calls,
                     sse_midevent(&p));
    }
    assert_string_equal(text_str(&r.log), "type=message id= data=1\ntype=message id= data=2\n"
                                          "type=message id= data=3\ntype=message id= data=4\n"
                                          "type=message id= data=5\ntype=message id= data=6\n"
                                          "type=message id= data=7\ntype=x id= data=8\n"
                                          "type=message id= data=9\ntype=message id= data=10\n"
                                          "type=message id= data=11\n");
    sse_free(&p);
    text_free(&r.log);
}

/* ---- limits ----------------------------------------------------------------------------- */

static const struct {
    int line;
    size_t max;
    const char *in;
    size_t len;
    const char *want;
} limit_cases[] = {
    {__LINE__, 5, BYTES("data: 12345\n\n"), "type=message id= data=12345\nend\n"},
    {__LINE__, 5, BYTES("data: 123456\n\n"), "end mid err=over a size limit\n"},
    {__LINE__, 5, BYTES("data: 12\ndata: 45\n\n"), "type=message id= data=12\\n45\nend\n"},
    {__LINE__, 5, BYTES("data: 12\ndata: 456\n\n"), "end mid err=over a size limit\n"},
    {__LINE__, 5, BYTES("data\ndata\ndata\ndata\ndata\ndata\n\n"),
     "type=message id= data=\\n\\n\\n\\n\\n\nend\n"},
    {__LINE__, 5, BYTES("data\ndata\ndata\ndata\ndata\ndata\ndata\n\n"),
     "end mid err=over a size limit\n"},
    /* the limit is per event */
    {__LINE__, 5, BYTES("data: 12345\n\ndata: 12345\n\n"),
     "type=message id= data=12345\ntype=message id= data=12345\nend\n"},
    {__LINE__, 5, BYTES("data: 12345\n\ndata: 123456\n\ndata: 1\n\n"),
     "type=message id= data=12345\nend mid err=over a size limit\n"},
    /* stopped for good: nothing after the error is dispatched, not even a whole event */
    {__LINE__, 3, BYTES("data: 1234\n\ndata: 1\n\n"), "end mid err=over a size limit\n"},
    /* event and id have their own caps, not counted with the data */
    {__LINE__, 5, BYTES("data: 1234\nevent: abcdef\nid: ghijkl\n\n"),
     "type=abcdef id=ghijkl data=1234\nend\n"},
    /* a comment, when reported, is held with the data */
    {__LINE__, 5, BYTES("data: 123\n: 45\ndata: \n\n"),
     "comment=45\ntype=message id= data=123\\n\n"
     "end\n"},
    {__LINE__, 5, BYTES("data: 123\n: 456\n\n"), "end mid err=over a size limit\n"},
    {__LINE__, 5, BYTES(": 123456\n"), "end mid err=over a size limit\n"},
    /* lines not held: unknown fields, retry */
    {__LINE__, 5, BYTES("foo: 1234567890\ndata: 1\n\n"), "type=message id= data=1\nend\n"},
    {__LINE__, 5, BYTES("retry: 000000000000000000000000000042\n"), "end retry=42\n"},
    /* a limit of 0 still passes empty events */
    {__LINE__, 0, BYTES("data\n\ndata:\n\nevent: e\ndata: \n\n"),
     "type=message id= data=\ntype=message id= data=\ntype=e id= data=\nend\n"},
    {__LINE__, 0, BYTES("data: x\n\n"), "end mid err=over a size limit\n"},
    {__LINE__, 0, BYTES("data\ndata\n\n"), "end mid err=over a size limit\n"},
};

static void test_size_limit(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof limit_cases / sizeof limit_cases[0]; c++) {
        check_all_ways(limit_cases[c].line, limit_cases[c].in, limit_cases[c].len,
                       limit_cases[c].max, 1, limit_cases[c].want);
    }
    /* without a comment callback a long comment is skipped, not held */
    check_all_ways(__LINE__, BYTES(": 123456\ndata: 1\n\n"), 5, 0,
                   "type=message id= data=1\nend\n");

    /* 1 MiB: an event of exactly the limit passes; one byte more stops the parser, whose buffer
     * never grows past the limit; fed in 64 KiB reads as libcurl would */
    const size_t max = LX_SSE_EVENT_MAX_BYTES;
    size_t cap = max + 64;
    char *big = malloc(cap);
    assert_non_null(big);
    for (int over = 0; over <= 1; over++) {
        size_t n = 0;
        memcpy(big + n, "data: ", 6);
        n += 6;
        size_t half = max / 2;
        memset(big + n, 'a', half);
        n += half;
        memcpy(big + n, "\ndata:", 6); /* the join counts: the two halves total max - 1 */
        n += 6;
        memset(big + n, 'b', max - half - 1 + (size_t)over);
        n += max - half - 1 + (size_t)over;
        memcpy(big + n, "\n\n", 2);
        n += 2;
        struct done_log d = {0};
        struct sse_parser p;
        sse_init(&p, max, done_event, &d);
        enum lx_err e = LX_OK;
        for (size_t at = 0; at < n; at += 65536)
            e = sse_feed(&p, big + at, n - at < 65536 ? n - at : 65536);
        assert_int_equal(e, over ? LX_ETOOBIG : LX_OK);
        assert_int_equal(d.events, over ? 0 : 1);
        assert_true(p._cap <= max + 1);
        if (!over)
            assert_int_equal(p._cap, max + 1);
        sse_free(&p);
    }
    /* a 3 MiB line with a 1 MiB limit: stopped without growing past it */
    {
        struct sse_parser p;
        sse_init(&p, max, NULL, NULL);
        memset(big, 'x', cap);
        enum lx_err e = sse_feed(&p, BYTES("data: "));
        for (int k = 0; k < 3 && e == LX_OK; k++)
            e = sse_feed(&p, big, max);
        assert_int_equal(e, LX_ETOOBIG);
        assert_true(p._cap <= max + 1);
        assert_int_equal(sse_feed(&p, BYTES("\n\n")), LX_ETOOBIG);
        assert_int_equal(p.events, 0);
        sse_free(&p);
    }
    /* and a 3 MiB unknown field, or comment without a callback: skipped, nothing held */
    for (int k = 0; k < 2; k++) {
        struct sse_parser p;
        sse_init(&p, max, NULL, NULL);
        memset(big, 'x', cap);
        assert_int_equal(sse_feed(&p, k ? ":" : "foo:", k ? 1 : 4), LX_OK);
        for (int j = 0; j < 3; j++)
            assert_int_equal(sse_feed(&p, big, max), LX_OK);
        assert_int_equal(sse_feed(&p, BYTES("\ndata: ok\n\n")), LX_OK);
        assert_int_equal(p.events, 1);
        assert_true(p._cap <= 256);
        sse_free(&p);
    }
    free(big);
}

/* Types and IDs up to their caps, and one byte over. */
static void test_type_id_caps(void **state)
{
    (void)state;
    char in[1024], want[1024];
    char val[LX_SSE_ID_MAX_BYTES + 2];
    for (int field = 0; field <= 1; field++) {
        size_t capb = field ? LX_SSE_ID_MAX_BYTES : LX_SSE_TYPE_MAX_BYTES;
        for (int over = 0; over <= 1; over++) {
            size_t n = capb + (size_t)over;
            memset(val, field ? 'i' : 't', n);
            val[n] = '\0';
            int len = snprintf(in, sizeof in, "%s: %s\ndata: x\n\n", field ? "id" : "event", val);
            if (over)
                snprintf(want, sizeof want, "end mid err=over a size limit\n");
            else if (field)
                snprintf(want, sizeof want, "type=message id=%s data=x\nend\n", val);
            else
                snprintf(want, sizeof want, "type=%s id= data=x\nend\n", val);
            check_all_ways(__LINE__, in, (size_t)len, 64, 1, want);
        }
    }
}

/* ---- callbacks stopping the parser ------------------------------------------------------ */

static void test_callback_stop(void **state)
{
    (void)state;
    static const char stream[] = ": hello\n\ndata: 1\n\nevent: e\ndata: 2\n\n:\ndata: 3\n\n"
                                 "data: [DONE]\n\n";
    size_t len = sizeof stream - 1;
    static const enum lx_err errs[] = {LX_ECANCELED, LX_EUPSTREAM, LX_EBADJSON, LX_EPROTO};
    struct rec whole;
    rec_init(&whole, 1024);
    parse_pieces(&whole, stream, len, 0, 1);
    assert_int_equal(whole.calls, 6);
    for (int fail_call = 1; fail_call <= 6; fail_call++) {
        for (size_t piece = 0; piece <= 3; piece++) {
            struct rec r;
            struct sse_parser p;
            rec_init(&r, 1024);
            r.fail_call = fail_call;
            r.fail_err = errs[fail_call % 4];
            rec_parser(&p, &r, 1);
            enum lx_err e = LX_OK;
            for (size_t at = 0; at < len && e == LX_OK;) {
                size_t n = piece == 0 || len - at < piece ? len - at : piece;
                e = sse_feed(&p, stream + at, n);
                at += n;
            }
            if (e != r.fail_err || r.calls != fail_call)
                fail_msg("fail at call %d, piece %zu: %s after %d calls", fail_call, piece,
                         lx_strerror(e), r.calls);
            /* the log is the whole log's prefix up to the failing callback */
            const char *f = strstr(text_str(&r.log), "fail\n");
            assert_non_null(f);
            assert_string_equal(f, "fail\n");
            size_t plen = (size_t)(f - text_str(&r.log));
            if (strncmp(text_str(&r.log), text_str(&whole.log), plen) != 0)
                fail_msg("fail at call %d: log %s", fail_call, text_str(&r.log));
            /* stopped for good */
            assert_int_equal(sse_feed(&p, stream, len), r.fail_err);
            assert_int_equal(sse_feed(&p, NULL, 0), r.fail_err);
            assert_int_equal(r.calls, fail_call);
            sse_free(&p);
            text_free(&r.log);
        }
    }
    text_free(&whole.log);
}

/* Init, empty feeds, no callback at all, free and init again. */
static void test_lifecycle(void **state)
{
    (void)state;
    struct sse_parser p;
    sse_init(&p, 16, NULL, NULL);
    assert_int_equal(p.retry_ms, -1);
    assert_false(sse_midevent(&p));
    assert_int_equal(sse_feed(&p, NULL, 0), LX_OK);
    assert_int_equal(sse_feed(&p, "", 0), LX_OK);
    assert_null(p._buf); /* nothing allocated until data comes */
    assert_int_equal(sse_feed(&p, BYTES("event: x\nid: 1\nretry: 9\n:c\ndata\n\n")), LX_OK);
    assert_null(p._buf);
    assert_int_equal(p.events, 1);
    assert_int_equal(p.retry_ms, 9);
    assert_int_equal(sse_feed(&p, BYTES("data: abc\n\n")), LX_OK);
    assert_non_null(p._buf);
    assert_int_equal(p.events, 2);
    sse_free(&p);
    assert_null(p._buf);
    assert_int_equal(sse_feed(&p, BYTES("data: abc\n\n")), LX_ECANCELED); /* freed: stopped */
    sse_free(&p);
    sse_free(NULL);
    struct rec r;
    rec_init(&r, 16);
    rec_parser(&p, &r, 1);
    assert_int_equal(sse_feed(&p, BYTES("data: again\n\n")), LX_OK);
    assert_string_equal(text_str(&r.log), "type=message id= data=again\n");
    sse_free(&p);
    text_free(&r.log);
}

/* ---- sse_is_done ------------------------------------------------------------------------ */

static const struct {
    int line;
    const char *in;
    size_t len;
    int done;
} done_cases[] = {
    {__LINE__, BYTES("data: [DONE]\n\n"), 1},
    {__LINE__, BYTES("data:[DONE]\r\n\r\n"), 1},
    {__LINE__, BYTES("event: end\ndata: [DONE]\n\n"), 1},
    {__LINE__, BYTES("data:  [DONE]\n\n"), 0},
    {__LINE__, BYTES("data: [DONE] \n\n"), 0},
    {__LINE__, BYTES("data: [done]\n\n"), 0},
    {__LINE__, BYTES("data: [DONE\n\n"), 0},
    {__LINE__, BYTES("data: [DONE]\ndata\n\n"), 0},
    {__LINE__, BYTES("data: [DONE]\0\n\n"), 0},
    {__LINE__, BYTES("data: \"[DONE]\"\n\n"), 0},
    {__LINE__, BYTES("data\n\n"), 0},
};

static void test_is_done(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof done_cases / sizeof done_cases[0]; c++) {
        struct done_log d = {0};
        struct sse_parser p;
        sse_init(&p, 64, done_event, &d);
        assert_int_equal(sse_feed(&p, done_cases[c].in, done_cases[c].len), LX_OK);
        if (d.events != 1 || d.done != done_cases[c].done)
            fail_msg("case at line %d: %d events, done %d", done_cases[c].line, d.events, d.done);
        sse_free(&p);
    }
    struct sse_event ev = {"message", 7, "[DONE]", 6, "", 0};
    assert_true(sse_is_done(&ev));
    ev.data_len = 5;
    assert_false(sse_is_done(&ev));
}

/* ---- writers ---------------------------------------------------------------------------- */

static const struct {
    int line;
    const char *event;
    const char *data;
    size_t len;
    const char *want;
    size_t want_len;
} format_cases[] = {
    {__LINE__, NULL, BYTES("hi"), BYTES("data: hi\n\n")},
    {__LINE__, "delta", BYTES("{\"t\":\"Pasal 2\"}"),
     BYTES("event: delta\ndata: {\"t\":\"Pasal 2\"}\n\n")},
    {__LINE__, NULL, BYTES("a\nb"), BYTES("data: a\ndata: b\n\n")},
    {__LINE__, NULL, BYTES(""), BYTES("data:\n\n")},
    {__LINE__, NULL, NULL, 0, BYTES("data:\n\n")},
    {__LINE__, NULL, BYTES("\n"), BYTES("data:\ndata:\n\n")},
    {__LINE__, NULL, BYTES("a\n"), BYTES("data: a\ndata:\n\n")},
    {__LINE__, NULL, BYTES("\na"), BYTES("data:\ndata: a\n\n")},
    {__LINE__, NULL, BYTES("a\r\nb\rc\n\nd"),
     BYTES("data: a\ndata: b\ndata: c\ndata:\ndata: d\n\n")},
    {__LINE__, NULL, BYTES("\r\r\n\n"), BYTES("data:\ndata:\ndata:\ndata:\n\n")},
    {__LINE__, NULL, BYTES(" x"), BYTES("data:  x\n\n")},
    {__LINE__, NULL, BYTES("a\0b"), BYTES("data: a\0b\n\n")},
    {__LINE__, NULL, BYTES("abc"), BYTES("data: abc\n\n")},
    {__LINE__, NULL, "abc", 2, BYTES("data: ab\n\n")}, /* len, not the NUL, ends the data */
    {__LINE__, "", BYTES("x"), BYTES("data: x\n\n")},
    {__LINE__, "x\ny", BYTES("z"), BYTES("event: x\ndata: z\n\n")},
    {__LINE__, "x\r\ny", BYTES("z"), BYTES("event: x\ndata: z\n\n")},
    {__LINE__, "\nx", BYTES("z"), BYTES("data: z\n\n")},
    {__LINE__, "done", BYTES("[DONE]"), BYTES("event: done\ndata: [DONE]\n\n")},
};

static void test_format(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof format_cases / sizeof format_cases[0]; c++) {
        int line = format_cases[c].line;
        const char *ev = format_cases[c].event, *data = format_cases[c].data;
        size_t len = format_cases[c].len, need = sse_format(NULL, 0, ev, data, len);
        if (need != format_cases[c].want_len)
            fail_msg("case at line %d: needs %zu, want %zu", line, need, format_cases[c].want_len);
        /* every cap: returns the same, writes a prefix, nothing past cap */
        char out[128];
        for (size_t cap = 0; cap <= need + 1; cap++) {
            memset(out, 0xee, sizeof out);
            size_t got = sse_format(out, cap, ev, data, len);
            size_t w = cap < need ? cap : need;
            if (got != need || memcmp(out, format_cases[c].want, w) != 0 ||
                (unsigned char)out[cap] != 0xee)
                fail_msg("case at line %d, cap %zu: returned %zu, wrote %.*s", line, cap, got,
                         (int)w, out);
        }
    }
}

static const struct {
    int line;
    const char *text;
    const char *want;
    const char *parsed;
} comment_fmt_cases[] = {
    {__LINE__, NULL, ": ping\n\n", "comment=ping\nend\n"},
    {__LINE__, "ping", ": ping\n\n", "comment=ping\nend\n"},
    {__LINE__, "", ":\n\n", "comment=\nend\n"},
    {__LINE__, "keep-alive", ": keep-alive\n\n", "comment=keep-alive\nend\n"},
    {__LINE__, "a\nb", ": a\n: b\n\n", "comment=a\ncomment=b\nend\n"},
    {__LINE__, "a\r\n", ": a\n:\n\n", "comment=a\ncomment=\nend\n"},
    {__LINE__, " x", ":  x\n\n", "comment= x\nend\n"},
};

static void test_format_comment(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof comment_fmt_cases / sizeof comment_fmt_cases[0]; c++) {
        int line = comment_fmt_cases[c].line;
        char out[64];
        size_t need = sse_format_comment(NULL, 0, comment_fmt_cases[c].text);
        assert_true(need < sizeof out);
        for (size_t cap = 0; cap <= need; cap++) {
            memset(out, 0xee, sizeof out);
            if (sse_format_comment(out, cap, comment_fmt_cases[c].text) != need ||
                (unsigned char)out[cap] != 0xee)
                fail_msg("case at line %d, cap %zu", line, cap);
        }
        if (need != strlen(comment_fmt_cases[c].want) ||
            memcmp(out, comment_fmt_cases[c].want, need) != 0)
            fail_msg("case at line %d: wrote %.*s", line, (int)need, out);
        /* a client reads it as comments, and no event */
        check_all_ways(line, out, need, 64, 1, comment_fmt_cases[c].parsed);
    }
}

/* sse_format -> sse_feed: the data comes back, with CRLF and CR as LF (an event stream cannot
 * carry a CR). All cases are written into one stream, with pings between, and parsed every
 * way. */
static const struct {
    int line;
    const char *event;
    const char *data;
    size_t len;
    const char *back; /* as logged */
} trip_cases[] = {
    {__LINE__, NULL, BYTES(""), "type=message id= data="},
    {__LINE__, NULL, BYTES("a"), "type=message id= data=a"},
    {__LINE__, "delta", BYTES("a\nb"), "type=delta id= data=a\\nb"},
    {__LINE__, NULL, BYTES("\n"), "type=message id= data=\\n"},
    {__LINE__, NULL, BYTES("\n\n"), "type=message id= data=\\n\\n"},
    {__LINE__, NULL, BYTES("a\n\nb"), "type=message id= data=a\\n\\nb"},
    {__LINE__, NULL, BYTES("a\r\nb"), "type=message id= data=a\\nb"},
    {__LINE__, NULL, BYTES("a\rb"), "type=message id= data=a\\nb"},
    {__LINE__, NULL, BYTES("\r"), "type=message id= data=\\n"},
    {__LINE__, NULL, BYTES("\r\n"), "type=message id= data=\\n"},
    {__LINE__, NULL, BYTES("\r\r\n\n"), "type=message id= data=\\n\\n\\n"},
    {__LINE__, NULL, BYTES("\n\r"), "type=message id= data=\\n\\n"},
    {__LINE__, NULL, BYTES(" leading"), "type=message id= data= leading"},
    {__LINE__, NULL, BYTES("  two"), "type=message id= data=  two"},
    {__LINE__, NULL, BYTES("trailing \n"), "type=message id= data=trailing \\n"},
    {__LINE__, NULL, BYTES(":colon"), "type=message id= data=:colon"},
    {__LINE__, NULL, BYTES("data: inner\n\nevent: x\n: c\n"),
     "type=message id= data=data: inner\\n\\nevent: x\\n: c\\n"},
    {__LINE__, NULL, BYTES("a\0b"), "type=message id= data=a\\0b"},
    {__LINE__, "message", BYTES("[DONE]"), "type=message id= data=[DONE]"},
    {__LINE__, "bad\nname", BYTES("x"), "type=bad id= data=x"},
    {__LINE__, "error",
     BYTES("{\"error\":{\"code\":\"upstream_failed\",\n\"message\":\"chat model down\"}}"),
     "type=error id= data={\"error\":{\"code\":\"upstream_failed\",\\n\"message\":\"chat model "
     "down\"}}"},
};

static void test_round_trip(void **state)
{
    (void)state;
    struct text stream = {0}, want = {0};
    for (size_t c = 0; c < sizeof trip_cases / sizeof trip_cases[0]; c++) {
        size_t need =
            sse_format(NULL, 0, trip_cases[c].event, trip_cases[c].data, trip_cases[c].len);
        char *buf = malloc(need + 16);
        assert_non_null(buf);
        assert_int_equal(
            sse_format(buf, need, trip_cases[c].event, trip_cases[c].data, trip_cases[c].len),
            need);
        /* alone */
        struct text one = {0};
        text_addf(&one, "%s\nend\n", trip_cases[c].back);
        check_all_ways(trip_cases[c].line, buf, need, 1024, 1, text_str(&one));
        text_free(&one);
        /* in one stream, a ping after each */
        size_t pl = sse_format_comment(buf + need, 16, NULL);
        assert_int_equal(pl, 8);
        text_add_raw(&stream, buf, need + pl);
        text_addf(&want, "%s\ncomment=ping\n", trip_cases[c].back);
        free(buf);
    }
    text_addf(&want, "end\n");
    check_all_ways(__LINE__, stream.s, stream.len, 1024, 1, text_str(&want));
    text_free(&stream);
    text_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whatwg_examples), cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_cr_at_feed_end),  cmocka_unit_test(test_fields),
        cmocka_unit_test(test_comments),        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_openai_stream),   cmocka_unit_test(test_several_in_one_read),
        cmocka_unit_test(test_size_limit),      cmocka_unit_test(test_type_id_caps),
        cmocka_unit_test(test_callback_stop),   cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_is_done),         cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_comment),  cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
