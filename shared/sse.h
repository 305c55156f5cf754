/* shared/sse.h -- server-sent events, free of I/O: a parser for text/event-stream that takes
 * input split at any byte (the chat upstream's stream=true body, as libcurl hands it over),
 * and writers for the frames the service sends its own clients.
 *
 * The parser follows the WHATWG HTML "event stream interpretation" rules: lines end in CRLF, LF
 * or CR (a CR ending one feed waits for the next byte, which is dropped if it is an LF); a
 * blank line dispatches the event, unless no data: line came (then only the type is reset);
 * "data" values are joined with "\n"; "event" sets the type ("message" when unset or empty);
 * "id" sets the last event ID, which persists across events (ignored if it holds a NUL);
 * "retry" sets the reconnection time if it is all ASCII digits; lines starting with ':' are
 * comments; a line with no colon is a field with an empty value; one space after the colon is
 * dropped; field names are case-sensitive and unknown ones are ignored; one UTF-8 BOM at the
 * very start of the stream is skipped. At the end of the stream an event not yet followed by a
 * blank line is discarded (sse_midevent() tells the caller it happened). Bytes are passed on as
 * they are: no UTF-8 decoding (the JSON layer validates text).
 *
 * Bounded: the parser's buffer holds the data of the event being read (as joined) and, while
 * a comment line is read with a comment callback set, that comment; more than max_event_bytes of
 * these together stops it with LX_ETOOBIG, and the buffer never grows past max_event_bytes + 1.
 * Types and IDs live in fixed arrays in the struct: one longer than LX_SSE_TYPE_MAX_BYTES or
 * LX_SSE_ID_MAX_BYTES is LX_ETOOBIG too. Lines of unknown fields are skipped without being
 * held, and so are comments when no comment callback is set. Memory: that one buffer
 * (malloc/realloc), freed by sse_free(). */
#ifndef LX_SHARED_SSE_H
#define LX_SHARED_SSE_H

#include <stddef.h>

#include "lx_err.h"

/* A sensible max_event_bytes for a chat stream: its chunks are a few hundred bytes each. */
#define LX_SSE_EVENT_MAX_BYTES (1024 * 1024)
/* event: values; the types seen in practice ("message", "content_block_delta") are short. */
#define LX_SSE_TYPE_MAX_BYTES 128
/* id: values (the last event ID). */
#define LX_SSE_ID_MAX_BYTES 256
/* retry: values above this are taken as this. */
#define LX_SSE_RETRY_MAX_MS 2147483647L

/* One dispatched event. Every pointer is borrowed: valid only during the callback. All three
 * strings are NUL-terminated; the lengths are exact (data and type may hold NULs, id never). */
struct sse_event {
    const char *type; /* "message" unless an event: line set a non-empty type */
    size_t type_len;
    const char *data; /* the data: values joined with "\n"; "" for a lone "data:" */
    size_t data_len;
    const char *id; /* the last event ID so far (it persists); "" when none was set */
    size_t id_len;
};

/* Callbacks return LX_OK to go on; anything else stops the parser with that error. They must
 * not feed or free the parser they are called from. */
typedef enum lx_err (*sse_event_cb)(void *ud, const struct sse_event *ev);
/* A comment line: the text after the ':' (one leading space dropped), NUL-terminated,
 * borrowed. ": ping" gives "ping". */
typedef enum lx_err (*sse_comment_cb)(void *ud, const char *text, size_t len);

/* Embedded by its owner (an upstream call); fields starting with '_' are private. */
struct sse_parser {
    long retry_ms;          /* the last valid retry: value, -1 until one came */
    unsigned long events;   /* events dispatched so far */
    unsigned long comments; /* comment lines read so far, with or without a comment callback */
    enum lx_err _err;
    int _state, _field;
    unsigned _bom; /* BOM bytes matched at the start; 3 once past it */
    int _cr;       /* the last byte was a CR: an LF next belongs to it */
    char _name[8];
    unsigned _nlen;
    char *_buf; /* data of the event, then the comment being read */
    size_t _cap, _max;
    size_t _dlen;         /* data bytes (joined) */
    size_t _vlen;         /* bytes of the comment (after the data) or of _idv */
    unsigned long _ndata; /* data: lines in this event */
    long _retry;
    int _retry_bad;
    unsigned _retry_digits;
    char _type[LX_SSE_TYPE_MAX_BYTES + 1];
    size_t _tlen;
    char _id[LX_SSE_ID_MAX_BYTES + 1];
    size_t _idlen;
    char _idv[LX_SSE_ID_MAX_BYTES]; /* the id: value being read */
    sse_event_cb _cb;
    sse_comment_cb _ccb;
    void *_ud;
};

/* cb may be NULL (events are then parsed and dropped). Allocates nothing. */
void sse_init(struct sse_parser *p, size_t max_event_bytes, sse_event_cb cb, void *ud);
/* Report comment lines to ccb (same ud); NULL stops it. Set it before the first feed. */
void sse_on_comment(struct sse_parser *p, sse_comment_cb ccb);
/* Feed n bytes (buf may be NULL when n is 0); calls the callbacks for what they complete.
 * Returns LX_OK, or why it stopped: LX_ETOOBIG, LX_ENOMEM, or a callback's error. Once stopped
 * it stays stopped: later feeds return the same error and take nothing. */
enum lx_err sse_feed(struct sse_parser *p, const char *buf, size_t n);
/* Nonzero when the stream read so far ends inside an event or a line (a half-read line or
 * BOM, or data: lines not yet followed by a blank line): if it ends here, that is lost. */
int sse_midevent(const struct sse_parser *p);
/* Frees the buffer; the parser may be sse_init()ed again. NULL is fine. */
void sse_free(struct sse_parser *p);

/* The OpenAI stream's end: an event whose data is exactly "[DONE]". */
int sse_is_done(const struct sse_event *ev);

/* Writers. Each returns the bytes the frame takes and writes at most cap bytes of it: out
 * holds the whole frame only when the return value is <= cap (out may be NULL when cap is 0:
 * a size query). No NUL is written. */

/* "event: <event>\n" (left out when event is NULL or ""), one "data: <line>\n" per line of
 * data ("data:\n" for an empty line), then "\n". Data lines end at LF, CRLF or CR, as the
 * parser reads them, so the frame parses back to data with CRLF and CR turned into LF (an
 * event stream cannot carry a CR). event is cut at its first CR or LF, so it cannot break the
 * frame. */
size_t sse_format(char *out, size_t cap, const char *event, const char *data, size_t len);
/* A comment, ": <text>\n" per line of text (":\n" for an empty one, "ping" when text is NULL),
 * then "\n": a keep-alive that no client dispatches. */
size_t sse_format_comment(char *out, size_t cap, const char *text);

#endif
