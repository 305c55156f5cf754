/* tests/fuzz/fuzz_sse.c -- libFuzzer harness for the event-stream parser and writers
 * (shared/sse.c). The first three input bytes pick the setup, the rest is the stream:
 *   byte 0: max_event_bytes, 0..127, or LX_SSE_EVENT_MAX_BYTES when the high bit is set;
 *   byte 1: bit 0 sets a comment callback; the byte seeds the split generator with byte 2.
 * The stream is parsed three ways: in one feed, in feeds cut where a generator seeded from the
 * input says (empty feeds included), and one byte at a time. Each way is logged (events,
 * comments, then the error, sse_midevent(), retry_ms and the counters) and the three logs must
 * be the same. Checked on every event and comment: NUL-terminated; data within the limit and
 * free of CR; type 1..LX_SSE_TYPE_MAX_BYTES bytes and id at most LX_SSE_ID_MAX_BYTES, neither
 * with CR or LF, id free of NUL; comments free of CR and LF; the buffer at most
 * max_event_bytes + 1. Each event and comment is also written back with sse_format() and
 * sse_format_comment() (the size query must match the write) and parsed again: the same data
 * and type come back.
 *
 *   make fuzz      (builds build/fuzz/fuzz_sse; tests/fuzz/test_fuzz.sh runs it in make check)
 *   build/fuzz/fuzz_sse -dict=tests/fuzz/fuzz_sse.dict -max_total_time=60 -max_len=4096 CORPUS
 *
 * (Debian 12: clang 14 needs libclang-rt-14-dev for -fsanitize=fuzzer.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../shared/lx_err.c"
#include "../../shared/sse.c"
#include "fuzz_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void flog_add_str(struct flog *l, char tag, const char *s, size_t n)
{
    flog_add(l, &tag, 1);
    flog_add(l, &n, sizeof n);
    flog_add(l, s, n);
}

static int fuzz_has(const char *s, size_t n, char c)
{
    return n > 0 && memchr(s, c, n) != NULL;
}

/* ---- writing back ----------------------------------------------------------------------- */

struct back {
    int events, comments;
    const char *type, *data, *text;
    size_t type_len, data_len, text_len;
    int check_type;
};

static enum lx_err back_event(void *ud, const struct sse_event *ev)
{
    struct back *b = ud;
    if (++b->events != 1 || ev->data_len != b->data_len ||
        (ev->data_len > 0 && memcmp(ev->data, b->data, ev->data_len) != 0))
        abort();
    if (b->check_type &&
        (ev->type_len != b->type_len || memcmp(ev->type, b->type, ev->type_len) != 0))
        abort();
    return LX_OK;
}

static enum lx_err back_comment(void *ud, const char *text, size_t len)
{
    struct back *b = ud;
    if (++b->comments != 1 || len != b->text_len || (len > 0 && memcmp(text, b->text, len) != 0))
        abort();
    return LX_OK;
}

static void back_parse(struct back *b, const char *frame, size_t n)
{
    struct sse_parser p;
    sse_init(&p, LX_SSE_EVENT_MAX_BYTES, back_event, b);
    sse_on_comment(&p, back_comment);
    if (sse_feed(&p, frame, n) != LX_OK || sse_midevent(&p))
        abort();
    sse_free(&p);
}

static void write_back_event(const struct sse_event *ev)
{
    struct back b = {0};
    b.data = ev->data;
    b.data_len = ev->data_len;
    b.type = ev->type;
    b.type_len = ev->type_len;
    b.check_type = !fuzz_has(ev->type, ev->type_len, '\0'); /* else cut at the NUL: skip */
    size_t need = sse_format(NULL, 0, ev->type, ev->data, ev->data_len);
    char *frame = malloc(need);
    if (frame == NULL || sse_format(frame, need, ev->type, ev->data, ev->data_len) != need)
        abort();
    back_parse(&b, frame, need);
    if (b.events != 1 || b.comments != 0)
        abort();
    free(frame);
}

static void write_back_comment(const char *text, size_t len)
{
    if (fuzz_has(text, len, '\0'))
        return; /* sse_format_comment takes a C string */
    struct back b = {0};
    b.text = text;
    b.text_len = len;
    size_t need = sse_format_comment(NULL, 0, text);
    char *frame = malloc(need);
    if (frame == NULL || sse_format_comment(frame, need, text) != need)
        abort();
    back_parse(&b, frame, need);
    if (b.events != 0 || b.comments != 1)
        abort();
    free(frame);
}

/* ---- the three parses ------------------------------------------------------------------- */

struct run {
    struct flog log;
    size_t max;     /* the parser's max_event_bytes */
    int write_back; /* once is enough: in the one-feed parse */
};

static enum lx_err run_event(void *ud, const struct sse_event *ev)
{
    struct run *r = ud;
    if (ev->type[ev->type_len] != '\0' || ev->data[ev->data_len] != '\0' ||
        ev->id[ev->id_len] != '\0' || strlen(ev->id) != ev->id_len)
        abort();
    if (ev->data_len > r->max || fuzz_has(ev->data, ev->data_len, '\r'))
        abort();
    if (ev->type_len == 0 || ev->type_len > LX_SSE_TYPE_MAX_BYTES ||
        fuzz_has(ev->type, ev->type_len, '\r') || fuzz_has(ev->type, ev->type_len, '\n'))
        abort();
    if (ev->id_len > LX_SSE_ID_MAX_BYTES || fuzz_has(ev->id, ev->id_len, '\r') ||
        fuzz_has(ev->id, ev->id_len, '\n'))
        abort();
    flog_add_str(&r->log, 'T', ev->type, ev->type_len);
    flog_add_str(&r->log, 'D', ev->data, ev->data_len);
    flog_add_str(&r->log, 'I', ev->id, ev->id_len);
    if (r->write_back)
        write_back_event(ev);
    return LX_OK;
}

static enum lx_err run_comment(void *ud, const char *text, size_t len)
{
    struct run *r = ud;
    if (text[len] != '\0' || fuzz_has(text, len, '\r') || fuzz_has(text, len, '\n'))
        abort();
    flog_add_str(&r->log, 'C', text, len);
    if (r->write_back)
        write_back_comment(text, len);
    return LX_OK;
}

static void run_start(struct run *r, struct sse_parser *p, size_t max, int comments)
{
    memset(r, 0, sizeof *r);
    r->max = max;
    sse_init(p, max, run_event, r);
    if (comments)
        sse_on_comment(p, run_comment);
}

static void run_end(struct run *r, struct sse_parser *p, enum lx_err e)
{
    int mid = sse_midevent(p);
    if (p->_cap > r->max + 1)
        abort();
    flog_add(&r->log, "X", 1);
    flog_add(&r->log, &e, sizeof e);
    flog_add(&r->log, &mid, sizeof mid);
    flog_add(&r->log, &p->retry_ms, sizeof p->retry_ms);
    flog_add(&r->log, &p->events, sizeof p->events);
    flog_add(&r->log, &p->comments, sizeof p->comments);
    sse_free(p);
}

/* xorshift32, never seeded with 0 */
static uint32_t fuzz_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t max = data[0] & 0x80 ? LX_SSE_EVENT_MAX_BYTES : data[0];
    int comments = data[1] & 1;
    uint32_t seed = ((uint32_t)data[1] << 8 | data[2]) * 2654435761u ^ (uint32_t)size;
    const char *in = (const char *)data + 3;
    size_t n = size - 3;
    struct run one, cut, bytes;
    struct sse_parser p;

    run_start(&one, &p, max, comments);
    one.write_back = 1;
    run_end(&one, &p, sse_feed(&p, in, n));

    run_start(&cut, &p, max, comments);
    enum lx_err e = LX_OK;
    uint32_t x = seed != 0 ? seed : 1;
    for (size_t at = 0; at <= n;) {
        uint32_t r = fuzz_next(&x);
        size_t take = r % 4 == 0 ? r >> 8 & 1 : r % 3 == 0 ? r >> 8 & 15 : r >> 8 & 255;
        if (take > n - at)
            take = n - at;
        e = sse_feed(&p, in + at, take);
        if (at == n)
            break;
        at += take;
    }
    run_end(&cut, &p, e);

    run_start(&bytes, &p, max, comments);
    e = sse_feed(&p, NULL, 0);
    for (size_t at = 0; at < n; at++)
        e = sse_feed(&p, in + at, 1);
    run_end(&bytes, &p, e);

    if (one.log.len != cut.log.len || memcmp(one.log.s, cut.log.s, one.log.len) != 0)
        abort();
    if (one.log.len != bytes.log.len || memcmp(one.log.s, bytes.log.s, one.log.len) != 0)
        abort();
    free(one.log.s);
    free(cut.log.s);
    free(bytes.log.s);
    return 0;
}
