/* shared/sse.c -- server-sent events (sse.h): the event-stream parser and the frame writers.
 * The parser is a small state machine kept between feeds: a field name is read into a fixed
 * array (no known name is longer than five bytes, so longer ones are unknown and their lines
 * are skipped unread); values go straight to where they belong: data to the event's data in
 * the buffer, a comment just after it until its line ends, an event: value to the type, an id:
 * value to a scratch array (it replaces the last event ID only if it holds no NUL); retry:
 * digits are summed as they come. Values are taken in bulk up to the next CR or LF. A BOM at
 * the start is matched byte by byte, and a partial match that fails is replayed as ordinary
 * bytes. */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

enum { S_NAME, S_SPACE, S_VALUE };                                   /* where in a line */
enum { F_NONE, F_DATA, F_EVENT, F_ID, F_RETRY, F_COMMENT, F_OTHER }; /* which field */

static const char sse_bom[3] = {'\xef', '\xbb', '\xbf'};

void sse_init(struct sse_parser *p, size_t max_event_bytes, sse_event_cb cb, void *ud)
{
    memset(p, 0, sizeof *p);
    p->retry_ms = -1;
    p->_state = S_NAME;
    p->_field = F_NONE;
    p->_max = max_event_bytes < (size_t)-1 / 4 ? max_event_bytes : (size_t)-1 / 4;
    p->_cb = cb;
    p->_ud = ud;
}

void sse_on_comment(struct sse_parser *p, sse_comment_cb ccb)
{
    p->_ccb = ccb;
}

void sse_free(struct sse_parser *p)
{
    if (p == NULL)
        return;
    free(p->_buf);
    p->_buf = NULL;
    p->_cap = 0;
    p->_dlen = p->_vlen = 0;
    p->_err = LX_ECANCELED; /* stopped until sse_init() */
}

int sse_midevent(const struct sse_parser *p)
{
    return (p->_bom > 0 && p->_bom < 3) || p->_state != S_NAME || p->_nlen > 0 || p->_ndata > 0;
}

int sse_is_done(const struct sse_event *ev)
{
    return ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0;
}

/* Offset of the first CR or LF in s[0..n), or n. */
static size_t sse_eol(const char *s, size_t n)
{
    const char *lf = memchr(s, '\n', n);
    size_t m = lf != NULL ? (size_t)(lf - s) : n;
    const char *cr = memchr(s, '\r', m);
    return cr != NULL ? (size_t)(cr - s) : m;
}

/* ---- the parser's buffer: data [0, _dlen), then a comment [_dlen, _dlen + _vlen), then room
 * for a NUL. Invariant: _buf != NULL implies _cap >= _dlen + _vlen + 1; _cap <= _max + 1. --- */

static enum lx_err sse_put(struct sse_parser *p, const char *s, size_t m, size_t *len)
{
    if (m > p->_max - p->_dlen - p->_vlen)
        return LX_ETOOBIG;
    size_t need = p->_dlen + p->_vlen + m + 1;
    if (need > p->_cap) {
        size_t cap = p->_cap != 0 ? p->_cap : 256;
        while (cap < need)
            cap *= 2;
        if (cap > p->_max + 1)
            cap = p->_max + 1;
        char *nb = realloc(p->_buf, cap);
        if (nb == NULL)
            return LX_ENOMEM;
        p->_buf = nb;
        p->_cap = cap;
    }
    memcpy(p->_buf + p->_dlen + p->_vlen, s, m);
    *len += m;
    return LX_OK;
}

/* The comment being read, NUL-terminated ("" before anything was put). */
static const char *sse_comment_str(struct sse_parser *p)
{
    if (p->_buf == NULL)
        return "";
    p->_buf[p->_dlen + p->_vlen] = '\0';
    return p->_buf + p->_dlen;
}

/* ---- fields --------------------------------------------------------------------------- */

static int sse_classify(const char *name, unsigned n)
{
    static const struct {
        const char *name;
        unsigned len;
        int field;
    } known[] = {
        {"data", 4, F_DATA}, {"event", 5, F_EVENT}, {"id", 2, F_ID}, {"retry", 5, F_RETRY}};
    if (n == 0)
        return F_COMMENT;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        if (n == known[k].len && memcmp(name, known[k].name, n) == 0)
            return known[k].field;
    return F_OTHER;
}

/* The field's name is whole (a colon, or the end of a line without one). */
static enum lx_err sse_field_start(struct sse_parser *p)
{
    p->_field = sse_classify(p->_name, p->_nlen);
    p->_vlen = 0;
    p->_state = S_SPACE;
    switch (p->_field) {
    case F_DATA:
        if (p->_ndata++ > 0)
            return sse_put(p, "\n", 1, &p->_dlen); /* joins this line to the last one */
        break;
    case F_EVENT:
        p->_tlen = 0; /* the type is replaced whatever comes */
        break;
    case F_RETRY:
        p->_retry = 0;
        p->_retry_bad = 0;
        p->_retry_digits = 0;
        break;
    }
    return LX_OK;
}

/* Value bytes s[0..m), free of CR and LF. */
static enum lx_err sse_value(struct sse_parser *p, const char *s, size_t m)
{
    switch (p->_field) {
    case F_DATA: return sse_put(p, s, m, &p->_dlen);
    case F_EVENT:
        if (m > LX_SSE_TYPE_MAX_BYTES - p->_tlen)
            return LX_ETOOBIG;
        memcpy(p->_type + p->_tlen, s, m);
        p->_tlen += m;
        return LX_OK;
    case F_ID:
        if (m > LX_SSE_ID_MAX_BYTES - p->_vlen)
            return LX_ETOOBIG;
        memcpy(p->_idv + p->_vlen, s, m);
        p->_vlen += m;
        return LX_OK;
    case F_COMMENT: return p->_ccb != NULL ? sse_put(p, s, m, &p->_vlen) : LX_OK;
    case F_RETRY:
        for (size_t k = 0; k < m; k++) {
            if (s[k] < '0' || s[k] > '9') {
                p->_retry_bad = 1;
                break;
            }
            long d = s[k] - '0';
            p->_retry_digits = 1;
            p->_retry = p->_retry > (LX_SSE_RETRY_MAX_MS - d) / 10 ? LX_SSE_RETRY_MAX_MS
                                                                   : p->_retry * 10 + d;
        }
        return LX_OK;
    }
    return LX_OK; /* unknown field: ignored */
}

/* The line ended: apply the field. The value is dropped from the buffer either way. */
static enum lx_err sse_field_end(struct sse_parser *p)
{
    enum lx_err e = LX_OK;
    switch (p->_field) {
    case F_EVENT: p->_type[p->_tlen] = '\0'; break;
    case F_ID:
        if (memchr(p->_idv, '\0', p->_vlen) == NULL) {
            memcpy(p->_id, p->_idv, p->_vlen);
            p->_id[p->_vlen] = '\0';
            p->_idlen = p->_vlen;
        }
        break;
    case F_RETRY:
        if (!p->_retry_bad && p->_retry_digits)
            p->retry_ms = p->_retry;
        break;
    case F_COMMENT:
        p->comments++;
        if (p->_ccb != NULL)
            e = p->_ccb(p->_ud, sse_comment_str(p), p->_vlen);
        break;
    }
    p->_vlen = 0;
    return e;
}

/* A blank line: hand the event over if a data: line came; reset data and type either way. */
static enum lx_err sse_dispatch(struct sse_parser *p)
{
    if (p->_ndata == 0) {
        p->_tlen = 0;
        return LX_OK;
    }
    struct sse_event ev;
    ev.data = "";
    ev.data_len = p->_dlen;
    if (p->_buf != NULL) { /* at a line's start _vlen is 0: the NUL goes right after the data */
        p->_buf[p->_dlen] = '\0';
        ev.data = p->_buf;
    }
    ev.type = p->_tlen > 0 ? p->_type : "message";
    ev.type_len = p->_tlen > 0 ? p->_tlen : strlen("message");
    ev.id = p->_id;
    ev.id_len = p->_idlen;
    p->_dlen = 0;
    p->_ndata = 0;
    p->_tlen = 0;
    p->events++;
    return p->_cb != NULL ? p->_cb(p->_ud, &ev) : LX_OK;
}

static enum lx_err sse_line_end(struct sse_parser *p)
{
    enum lx_err e = LX_OK;
    if (p->_state == S_NAME) {
        if (p->_nlen == 0)
            return sse_dispatch(p);
        e = sse_field_start(p); /* a name without a colon: a field with an empty value */
    }
    if (e == LX_OK)
        e = sse_field_end(p);
    p->_state = S_NAME;
    p->_field = F_NONE;
    p->_nlen = 0;
    return e;
}

/* ---- the state machine ---------------------------------------------------------------- */

static enum lx_err sse_run(struct sse_parser *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && p->_err == LX_OK) {
        char c = s[i];
        if (p->_cr) { /* a CR ended the last line: an LF now is part of that ending */
            p->_cr = 0;
            if (c == '\n') {
                i++;
                continue;
            }
        }
        if (c == '\r' || c == '\n') {
            p->_cr = c == '\r';
            i++;
            p->_err = sse_line_end(p);
            continue;
        }
        switch (p->_state) {
        case S_NAME:
            i++;
            if (c == ':') {
                p->_err = sse_field_start(p);
            } else if (p->_nlen < sizeof p->_name) {
                p->_name[p->_nlen++] = c;
            } else { /* longer than any known name: skip the line */
                p->_field = F_OTHER;
                p->_state = S_VALUE;
            }
            break;
        case S_SPACE:
            if (c == ' ')
                i++; /* one space after the colon is not part of the value */
            p->_state = S_VALUE;
            break;
        case S_VALUE: {
            size_t m = sse_eol(s + i, n - i);
            p->_err = sse_value(p, s + i, m);
            i += m;
            break;
        }
        }
    }
    return p->_err;
}

enum lx_err sse_feed(struct sse_parser *p, const char *buf, size_t n)
{
    size_t i = 0;
    if (p->_err != LX_OK)
        return p->_err;
    while (p->_bom < 3 && i < n) { /* the stream's first bytes: a BOM is skipped */
        if (buf[i] == sse_bom[p->_bom]) {
            p->_bom++;
            i++;
            continue;
        }
        unsigned had = p->_bom;
        p->_bom = 3;
        if (had > 0 && sse_run(p, sse_bom, had) != LX_OK)
            return p->_err;
    }
    if (i < n)
        sse_run(p, buf + i, n - i);
    return p->_err;
}

/* ---- writers -------------------------------------------------------------------------- */

/* Put s[0..n) at out[at..], as much as fits in cap; returns the new end. */
static size_t sse_out(char *out, size_t cap, size_t at, const char *s, size_t n)
{
    if (at < cap && n > 0)
        memcpy(out + at, s, cap - at < n ? cap - at : n);
    return at + n;
}

/* One "<field> <line>\n" per line of s (LF, CRLF or CR ends one), "<field>\n" for an empty
 * one; an empty s is one empty line, and a final line ending leaves an empty last line. */
static size_t sse_out_lines(char *out, size_t cap, size_t at, const char *field, const char *s,
                            size_t len)
{
    size_t i = 0, flen = strlen(field);
    for (;;) {
        size_t m = sse_eol(s + i, len - i);
        at = sse_out(out, cap, at, field, flen);
        if (m > 0) {
            at = sse_out(out, cap, at, " ", 1);
            at = sse_out(out, cap, at, s + i, m);
        }
        at = sse_out(out, cap, at, "\n", 1);
        i += m;
        if (i == len)
            return at;
        i += s[i] == '\r' && i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
    }
}

size_t sse_format(char *out, size_t cap, const char *event, const char *data, size_t len)
{
    size_t at = 0;
    size_t elen = event != NULL ? strcspn(event, "\r\n") : 0;
    if (elen > 0) {
        at = sse_out(out, cap, at, "event: ", 7);
        at = sse_out(out, cap, at, event, elen);
        at = sse_out(out, cap, at, "\n", 1);
    }
    at = sse_out_lines(out, cap, at, "data:", data != NULL ? data : "", data != NULL ? len : 0);
    return sse_out(out, cap, at, "\n", 1);
}

size_t sse_format_comment(char *out, size_t cap, const char *text)
{
    if (text == NULL)
        text = "ping";
    size_t at = sse_out_lines(out, cap, 0, ":", text, strlen(text));
    return sse_out(out, cap, at, "\n", 1);
}
