/* tests/fakes/mock_openai.c -- the stand-in for the outside AI APIs in integration tests and
 * benchmarks: a real HTTP/1.1 server (libevent's evhttp; one process, one loop) speaking the
 * OpenAI-compatible protocol.
 *   POST /v1/embeddings        deterministic vectors: hashed bag of words, L2-normalised, so
 *                              texts sharing words are close; "float" or "base64" encoding
 *   POST /v1/chat/completions  the answer 'Jawaban uji: "<first words of the last user
 *                              message>" ... [1]' in chat_tokens pieces, whole, or streamed as
 *                              SSE chunk events on timers, optionally dribbled in odd splits
 *   GET  /v1/models            the two mock model names
 *   POST|GET /_control         change or show the behaviour: latencies, token count, injected
 *                              errors, hangs, mid-stream drops, dimension, dribbling, seed, key
 *   GET /_stats, POST /_reset  counters (and in_flight, max_in_flight); reset zeroes them
 * Every delay is a libevent timer, never a sleep: N concurrent requests with L ms of latency
 * all finish after about L ms. A client that goes away is noticed (a watcher on the socket, or
 * evhttp's own write error), its request freed and counted as cancelled.
 * What it does not do: TLS, HTTP/2, real tokenisation (a "token" is a word or group of words),
 * token-array inputs, tools, n > 1, logprobs; a config change does not reach requests already
 * in flight (each takes a snapshot when it arrives); /_control needs no API key. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <jansson.h>

#define MO_BODY_MAX_BYTES       (8 * 1024 * 1024) /* larger bodies get evhttp's 413 */
#define MO_HEADERS_MAX_BYTES    (64 * 1024)
#define MO_LISTEN_BACKLOG       4096 /* 200+ clients connecting at once must not hit SYN retries */
#define MO_DIM_MAX              8192
#define MO_INPUTS_MAX           2048 /* OpenAI's limit on inputs per embeddings request */
#define MO_TOKENS_MAX           100000
#define MO_DELAY_MAX_MS         (10 * 60 * 1000)
#define MO_QUOTE_WORDS          8   /* words of the last user message quoted in the answer */
#define MO_QUOTE_WORD_MAX_BYTES 40  /* each cut there, on a UTF-8 boundary */
#define MO_DRIBBLE_GAP_MS       3   /* the rest of a split event follows this much later */
#define MO_DRIBBLE_HOLD_MAX_MS  100 /* a held event waits at most this long for company */
#define MO_LOG_LINE_BYTES       1024

/* ---- state ---------------------------------------------------------------------------- */

struct mo_cfg {
    int embed_latency_ms;
    int chat_first_token_ms;    /* stream: to the first event; whole: plus the intervals */
    int chat_token_interval_ms; /* between two content tokens */
    int chat_tokens;
    double error_rate_embed, error_rate_chat; /* answer error_status with this probability */
    int error_status;
    int hang_embed, hang_chat; /* never answer; wait for the client to go away */
    int fail_after_tokens;     /* stream: drop the connection after N tokens; -1: never */
    int dim;
    int dribble; /* cut the SSE byte stream at odd places, merge events */
    int crlf;    /* SSE lines end in CRLF instead of LF */
    unsigned long long seed;
};

struct mo_stats {
    unsigned long long requests, embeddings_requests, embeddings_inputs, embeddings_cancelled;
    unsigned long long chat_requests, chat_streams, chat_streams_completed;
    unsigned long long chat_streams_cancelled, chat_streams_dropped, chat_cancelled;
    unsigned long long chat_tokens_sent, errors_injected, hangs, unauthorized, bad_requests;
    long in_flight, max_in_flight;
};

struct job;

struct mock {
    struct event_base *base;
    struct evhttp *http;
    struct mo_cfg cfg, defaults; /* defaults: from the command line, for {"defaults": true} */
    char *api_key, *default_api_key;
    struct mo_stats st;
    uint64_t rng;
    unsigned long next_id;
    struct job *jobs; /* live ones, doubly linked */
    int quiet;
};

enum job_kind { JOB_EMBED, JOB_CHAT };
enum job_end { END_OK, END_ERROR, END_CANCELLED, END_DROPPED };
enum job_defer { DEFER_NONE, DEFER_FREE, DEFER_DROP };

/* One /v1 request between its arrival and its end. The evhttp request is ours until we hand it
 * back (evhttp_send_reply, _reply_end) or its connection dies; then req is NULL. */
struct job {
    struct mock *m;
    struct job *prev, *next;
    unsigned long id;
    enum job_kind kind;
    struct mo_cfg cfg; /* snapshot at arrival */
    double t0_ms;
    struct evhttp_request *req;
    int req_orphan;                  /* evhttp detached req from its dead connection: we free it */
    struct evhttp_connection *evcon; /* while our close callback is on it */
    struct event *timer;             /* latency, first token, token interval */
    struct event *flush;             /* dribble: send the bytes held back */
    struct event *watch;             /* client close detection on the socket */
    struct event *defer;             /* free or drop outside evhttp's callbacks */
    enum job_defer defer_what;
    int status;           /* of the whole reply */
    json_t *reply;        /* embeddings, whole chat, or an error: the body to send */
    const char *outcome;  /* for the log: ok, error, hang, ... */
    unsigned inputs, dim; /* embeddings, for the log */
    /* chat */
    int stream, want_usage, role_sent, produced_all, dropping;
    char *model;
    char cid[48];
    long long created;
    json_t *tokens; /* array of strings */
    size_t ntok, sent;
    const char *finish;
    unsigned prompt_tokens;
    struct evbuffer *pend; /* SSE bytes produced and not yet sent */
    struct evbuffer *out;  /* the piece being sent */
};

/* ---- small helpers ---------------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void rng_seed(struct mock *m, unsigned long long seed)
{
    m->rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    if (m->rng == 0)
        m->rng = 0x9E3779B97F4A7C15ull;
}

static uint64_t rng_next(struct mock *m) /* xorshift64* */
{
    uint64_t x = m->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    m->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static double rng_unit(struct mock *m) /* [0, 1) */
{
    return (double)(rng_next(m) >> 11) * (1.0 / 9007199254740992.0);
}

static void mo_log(const struct mock *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mo_log(const struct mock *m, const char *fmt, ...)
{
    char line[MO_LOG_LINE_BYTES];
    va_list ap;
    if (m->quiet)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "mock_openai %s\n", line);
}

static void arm_ms(struct event *ev, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    default: return "OTHER";
    }
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 400 ? "OK" : "Error";
    }
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static unsigned count_words(const char *s, size_t n)
{
    unsigned words = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_space((unsigned char)s[i]) && (i == 0 || is_space((unsigned char)s[i - 1])))
            words++;
    return words;
}

/* An OpenAI-style error body: {"error": {"message", "type", "param", "code"}}. New reference. */
static json_t *oai_error(const char *msg, const char *type, const char *param, const char *code)
{
    return json_pack("{s:{s:s, s:s, s:s?, s:s?}}", "error", "message", msg, "type", type, "param",
                     param, "code", code);
}

/* Send body (stolen) as the whole reply. */
static void send_json(struct evhttp_request *req, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    struct evbuffer *b = evbuffer_new();
    json_decref(body);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    if (s == NULL || b == NULL) {
        status = 500;
    } else {
        evbuffer_add(b, s, strlen(s));
    }
    evhttp_send_reply(req, status, reason_phrase(status), b);
    if (b)
        evbuffer_free(b);
    free(s);
}

static const char *req_path(struct evhttp_request *req)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *p = u ? evhttp_uri_get_path(u) : NULL;
    return p && *p ? p : "/";
}

/* Answer at once (no job): control endpoints and rejected requests. */
static void reply_now(struct mock *m, struct evhttp_request *req, unsigned long id, int status,
                      json_t *body)
{
    mo_log(m, "req=%lu method=%s path=%s status=%d outcome=%s ms=0", id,
           method_name(evhttp_request_get_command(req)), req_path(req), status,
           status < 400 ? "ok" : "rejected");
    send_json(req, status, body);
}

static void bad_request(struct mock *m, struct evhttp_request *req, unsigned long id,
                        const char *msg, const char *param)
{
    m->st.bad_requests++;
    reply_now(m, req, id, 400, oai_error(msg, "invalid_request_error", param, NULL));
}

/* The request body as a JSON object, or NULL after answering 400. New reference. */
static json_t *read_json_object(struct mock *m, struct evhttp_request *req, unsigned long id)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const char *p = n ? (const char *)evbuffer_pullup(in, -1) : "";
    json_error_t jerr;
    json_t *o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
    char msg[300];
    if (o == NULL) {
        snprintf(msg, sizeof msg,
                 "We could not parse the JSON body of your request: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        bad_request(m, req, id, msg, NULL);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        bad_request(m, req, id, "The request body must be a JSON object", NULL);
        return NULL;
    }
    return o;
}

/* ---- embeddings: hashed bag of words --------------------------------------------------- */

static uint64_t mix64(uint64_t x) /* splitmix64's finaliser */
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

/* Words are runs of ASCII letters and digits and of non-ASCII bytes, ASCII lower-cased; each
 * adds +-1 at a hashed index; the sum is L2-normalised. No word: the unit vector e0. Returns
 * the number of words (the "tokens" of the usage). */
static unsigned embed_text(const char *s, size_t len, unsigned dim, float *out)
{
    const uint64_t fnv_offset = 0xcbf29ce484222325ull, fnv_prime = 0x100000001b3ull;
    uint64_t h = fnv_offset;
    unsigned words = 0;
    int in_word = 0;
    double norm = 0;
    memset(out, 0, dim * sizeof *out);
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)s[i] : ' ';
        int wc =
            c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (wc) {
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            h = (h ^ c) * fnv_prime;
            in_word = 1;
        } else if (in_word) {
            uint64_t x = mix64(h);
            out[x % dim] += (x >> 63) ? -1.0f : 1.0f;
            words++;
            h = fnv_offset;
            in_word = 0;
        }
    }
    for (unsigned i = 0; i < dim; i++)
        norm += (double)out[i] * out[i];
    if (norm == 0) {
        out[0] = 1.0f;
    } else {
        float inv = (float)(1.0 / sqrt(norm));
        for (unsigned i = 0; i < dim; i++)
            out[i] *= inv;
    }
    return words;
}

/* Little-endian float32s in base64, as OpenAI's encoding_format "base64". New reference. */
static json_t *floats_base64(const float *v, unsigned n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t nb = (size_t)n * 4, olen = (nb + 2) / 3 * 4, o = 0;
    unsigned char *bytes = malloc(nb ? nb : 1);
    char *s = malloc(olen + 1);
    json_t *j = NULL;
    if (bytes && s) {
        for (unsigned i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            for (int k = 0; k < 4; k++)
                bytes[i * 4 + (unsigned)k] = (unsigned char)(u >> (8 * k));
        }
        for (size_t i = 0; i < nb; i += 3) {
            uint32_t w = (uint32_t)bytes[i] << 16;
            if (i + 1 < nb)
                w |= (uint32_t)bytes[i + 1] << 8;
            if (i + 2 < nb)
                w |= bytes[i + 2];
            s[o++] = tab[(w >> 18) & 63];
            s[o++] = tab[(w >> 12) & 63];
            s[o++] = i + 1 < nb ? tab[(w >> 6) & 63] : '=';
            s[o++] = i + 2 < nb ? tab[w & 63] : '=';
        }
        j = json_stringn(s, o);
    }
    free(bytes);
    free(s);
    return j;
}

/* ---- chat: the deterministic answer ----------------------------------------------------- */

struct span {
    const char *p;
    size_t n;
};

static size_t utf8_cut(const char *p, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)p[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* 'Jawaban uji: "<up to MO_QUOTE_WORDS words of text>" <filler...> [1]' as exactly n tokens
 * (n >= 1): words grouped when there are fewer tokens than words, filler words added when
 * there are more; every token but the first starts with a space. New reference or NULL. */
static json_t *answer_tokens(const char *text, size_t len, size_t n)
{
    static const char *const filler[] = {"menurut",  "ketentuan", "yang",  "berlaku", "sebagaimana",
                                         "dimaksud", "dalam",     "pasal", "tersebut"};
    struct span q[MO_QUOTE_WORDS];
    size_t k = 0, i = 0;
    while (i < len && k < MO_QUOTE_WORDS) {
        size_t s;
        while (i < len && is_space((unsigned char)text[i]))
            i++;
        s = i;
        while (i < len && !is_space((unsigned char)text[i]))
            i++;
        if (i > s) {
            q[k].p = text + s;
            q[k].n = utf8_cut(text + s, i - s, MO_QUOTE_WORD_MAX_BYTES);
            k++;
        }
    }
    if (k == 0) {
        q[0].p = "(kosong)";
        q[0].n = 8;
        k = 1;
    }
    size_t base = k + 3, total = n > base ? n : base;
    struct span *w = malloc(total * sizeof *w);
    struct evbuffer *b = evbuffer_new();
    json_t *arr = json_array();
    if (w == NULL || b == NULL || arr == NULL)
        goto fail;
    w[0] = (struct span){"Jawaban", 7};
    w[1] = (struct span){"uji:", 4};
    for (i = 0; i < k; i++)
        w[2 + i] = q[i];
    for (i = 2 + k; i < total - 1; i++)
        w[i] = (struct span){filler[(i - 2 - k) % (sizeof filler / sizeof filler[0])],
                             strlen(filler[(i - 2 - k) % (sizeof filler / sizeof filler[0])])};
    w[total - 1] = (struct span){"[1]", 3};
    for (size_t t = 0; t < n; t++) {
        size_t from = t * total / n, to = (t + 1) * total / n, blen;
        if (t > 0)
            evbuffer_add(b, " ", 1);
        for (i = from; i < to; i++) {
            if (i > from)
                evbuffer_add(b, " ", 1);
            if (i == 2)
                evbuffer_add(b, "\"", 1);
            evbuffer_add(b, w[i].p, w[i].n);
            if (i == 1 + k)
                evbuffer_add(b, "\"", 1);
        }
        blen = evbuffer_get_length(b);
        if (json_array_append_new(arr, json_stringn((const char *)evbuffer_pullup(b, -1), blen)))
            goto fail;
        evbuffer_drain(b, blen);
    }
    free(w);
    evbuffer_free(b);
    return arr;
fail:
    free(w);
    if (b)
        evbuffer_free(b);
    json_decref(arr);
    return NULL;
}

/* Append a message's text (a string, or an array of {"type": "text", "text"} parts) to b.
 * -1 when content has another shape. null counts as empty. */
static int content_text(const json_t *content, struct evbuffer *b)
{
    size_t i;
    const json_t *part;
    if (content == NULL || json_is_null(content))
        return 0;
    if (json_is_string(content)) {
        evbuffer_add(b, json_string_value(content), json_string_length(content));
        return 0;
    }
    if (!json_is_array(content))
        return -1;
    json_array_foreach(content, i, part)
    {
        const json_t *t = json_object_get(part, "text");
        if (!json_is_string(t))
            return -1;
        if (i > 0)
            evbuffer_add(b, " ", 1);
        evbuffer_add(b, json_string_value(t), json_string_length(t));
    }
    return 0;
}

/* ---- jobs: life, end, client going away ------------------------------------------------ */

static void on_job_timer(evutil_socket_t fd, short what, void *arg);
static void on_job_flush(evutil_socket_t fd, short what, void *arg);
static void on_job_watch(evutil_socket_t fd, short what, void *arg);
static void on_job_defer(evutil_socket_t fd, short what, void *arg);
static void on_conn_close(struct evhttp_connection *evcon, void *arg);

static void job_destroy(struct job *j) /* memory only: neither req nor evcon */
{
    if (j->timer)
        event_free(j->timer);
    if (j->flush)
        event_free(j->flush);
    if (j->watch)
        event_free(j->watch);
    if (j->defer)
        event_free(j->defer);
    if (j->pend)
        evbuffer_free(j->pend);
    if (j->out)
        evbuffer_free(j->out);
    json_decref(j->reply);
    json_decref(j->tokens);
    free(j->model);
    free(j);
}

static struct job *job_new(struct mock *m, struct evhttp_request *req, unsigned long id,
                           enum job_kind kind)
{
    struct job *j = calloc(1, sizeof *j);
    evutil_socket_t fd;
    if (j == NULL)
        return NULL;
    j->m = m;
    j->id = id;
    j->kind = kind;
    j->cfg = m->cfg;
    j->t0_ms = now_ms();
    j->req = req;
    j->status = 200;
    j->outcome = "ok";
    j->evcon = evhttp_request_get_connection(req);
    fd = bufferevent_getfd(evhttp_connection_get_bufferevent(j->evcon));
    j->timer = evtimer_new(m->base, on_job_timer, j);
    j->flush = evtimer_new(m->base, on_job_flush, j);
    j->defer = evtimer_new(m->base, on_job_defer, j);
    j->watch = event_new(m->base, fd, EV_READ | EV_PERSIST, on_job_watch, j);
    j->pend = evbuffer_new();
    j->out = evbuffer_new();
    if (!j->timer || !j->flush || !j->defer || !j->watch || !j->pend || !j->out ||
        event_add(j->watch, NULL) != 0) {
        job_destroy(j);
        return NULL;
    }
    evhttp_connection_set_closecb(j->evcon, on_conn_close, j);
    j->next = m->jobs;
    if (m->jobs)
        m->jobs->prev = j;
    m->jobs = j;
    if (++m->st.in_flight > m->st.max_in_flight)
        m->st.max_in_flight = m->st.in_flight;
    return j;
}

/* Stop watching the connection (before handing req back or freeing the connection). */
static void job_release_conn(struct job *j)
{
    if (j->evcon) {
        evhttp_connection_set_closecb(j->evcon, NULL, NULL);
        j->evcon = NULL;
    }
    if (j->watch) {
        event_free(j->watch);
        j->watch = NULL;
    }
}

/* The job is over: count, log, free. req is NULL by now unless orphaned. */
static void job_finish(struct job *j, enum job_end how)
{
    struct mock *m = j->m;
    double ms = now_ms() - j->t0_ms;
    if (how == END_CANCELLED) {
        j->outcome = j->outcome && strcmp(j->outcome, "hang") == 0 ? "hang-cancelled" : "cancelled";
        if (j->kind == JOB_EMBED) {
            m->st.embeddings_cancelled++;
        } else {
            m->st.chat_cancelled++;
            if (j->stream)
                m->st.chat_streams_cancelled++;
        }
    } else if (how == END_DROPPED) {
        j->outcome = "dropped";
        m->st.chat_streams_dropped++;
    } else if (how == END_OK && j->kind == JOB_CHAT && j->stream) {
        m->st.chat_streams_completed++;
    }
    if (j->kind == JOB_EMBED)
        mo_log(m,
               "req=%lu method=POST path=/v1/embeddings status=%d outcome=%s inputs=%u dim=%u "
               "ms=%.1f",
               j->id, how == END_CANCELLED ? 499 : j->status, j->outcome, j->inputs, j->dim, ms);
    else
        mo_log(m,
               "req=%lu method=POST path=/v1/chat/completions status=%d outcome=%s stream=%d "
               "tokens=%zu/%zu ms=%.1f",
               j->id, how == END_CANCELLED ? 499 : j->status, j->outcome, j->stream, j->sent,
               j->ntok, ms);
    if (j->req_orphan && j->req)
        evhttp_request_free(j->req);
    j->req = NULL;
    job_release_conn(j);
    if (j->prev)
        j->prev->next = j->next;
    else
        m->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    m->st.in_flight--;
    job_destroy(j);
}

/* The client went away and we noticed first: free the connection (and req with it). */
static void job_cancel(struct job *j)
{
    struct evhttp_connection *evcon = j->evcon;
    job_release_conn(j);
    if (evcon)
        evhttp_connection_free(evcon);
    j->req = NULL;
    job_finish(j, END_CANCELLED);
}

static void on_job_watch(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    (void)what;
    if (n > 0) { /* a pipelined request: we can no longer tell, stop looking */
        event_del(j->watch);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    job_cancel(j); /* EOF or reset */
}

/* evhttp noticed first (a write failed, a timeout, or shutdown): we are inside
 * evhttp_connection_free. If evhttp detached req (its reply unfinished) it is ours to free;
 * otherwise evhttp frees it right after this. The job ends a moment later, outside. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    struct job *j = arg;
    (void)evcon;
    if (j->req && evhttp_request_get_connection(j->req) == NULL)
        j->req_orphan = 1;
    else
        j->req = NULL;
    j->evcon = NULL;
    if (j->watch) {
        event_free(j->watch);
        j->watch = NULL;
    }
    evtimer_del(j->timer);
    evtimer_del(j->flush);
    j->defer_what = DEFER_FREE;
    event_active(j->defer, EV_TIMEOUT, 1);
}

static void job_drop(struct job *j) /* fail_after_tokens: cut the stream */
{
    struct evhttp_connection *evcon = j->evcon;
    job_release_conn(j);
    if (evcon)
        evhttp_connection_free(evcon); /* req is still on it (reply unfinished): freed too */
    j->req = NULL;
    job_finish(j, END_DROPPED);
}

static void on_job_defer(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    (void)fd;
    (void)what;
    if (j->defer_what == DEFER_DROP)
        job_drop(j);
    else
        job_finish(j, END_CANCELLED);
}

static void on_drop_drained(struct evhttp_connection *evcon, void *arg)
{
    struct job *j = arg; /* inside evhttp's write callback: drop from outside it */
    (void)evcon;
    if (j->defer_what == DEFER_NONE) {
        j->defer_what = DEFER_DROP;
        event_active(j->defer, EV_TIMEOUT, 1);
    }
}

/* Send j->reply as the whole answer and end the job. */
static void job_reply(struct job *j)
{
    struct evhttp_request *req = j->req;
    json_t *body = j->reply;
    char rid[32];
    j->reply = NULL;
    job_release_conn(j);
    snprintf(rid, sizeof rid, "mock-%lu", j->id);
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Request-Id", rid);
    if (j->status == 429 || j->status == 503)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
    send_json(req, j->status, body);
    j->req = NULL;
    job_finish(j, j->status < 400 ? END_OK : END_ERROR);
}

/* ---- chat streaming -------------------------------------------------------------------- */

static void sse_add(struct job *j, const char *data)
{
    const char *eol = j->cfg.crlf ? "\r\n" : "\n";
    evbuffer_add_printf(j->pend, "data: %s%s%s", data, eol, eol);
}

static void sse_add_json(struct job *j, json_t *o) /* o: stolen */
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s)
        sse_add(j, s);
    free(s);
}

static json_t *chunk_new(const struct job *j, json_t *delta, const char *finish)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:n, s:s?}]}", "id", j->cid, "object",
                     "chat.completion.chunk", "created", (json_int_t)j->created, "model", j->model,
                     "choices", "index", 0, "delta", delta, "logprobs", "finish_reason", finish);
}

static json_t *usage_new(const struct job *j)
{
    return json_pack("{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)j->prompt_tokens,
                     "completion_tokens", (json_int_t)j->ntok, "total_tokens",
                     (json_int_t)(j->prompt_tokens + j->ntok));
}

/* Send the first n bytes of pend as one HTTP chunk (one write, unless the socket is full). */
static void send_piece(struct job *j, size_t n)
{
    evbuffer_remove_buffer(j->pend, j->out, n);
    if (j->dropping && evbuffer_get_length(j->pend) == 0)
        evhttp_send_reply_chunk_with_cb(j->req, j->out, on_drop_drained, j);
    else
        evhttp_send_reply_chunk(j->req, j->out);
    evbuffer_drain(j->out, evbuffer_get_length(j->out));
}

static void stream_end(struct job *j)
{
    struct evhttp_request *req = j->req;
    job_release_conn(j);
    evhttp_send_reply_end(req);
    j->req = NULL;
    job_finish(j, END_OK);
}

/* After pend is empty: end the reply, or (dropping) wait for the bytes to leave. */
static void stream_after_flush(struct job *j)
{
    if (evbuffer_get_length(j->pend) > 0)
        return;
    if (j->dropping) {
        struct bufferevent *bev = j->evcon ? evhttp_connection_get_bufferevent(j->evcon) : NULL;
        if (bev && evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
            j->defer_what == DEFER_NONE) {
            j->defer_what = DEFER_DROP; /* nothing in flight: drop now (from the loop) */
            event_active(j->defer, EV_TIMEOUT, 1);
        }
        return; /* otherwise on_drop_drained does it */
    }
    if (j->produced_all)
        stream_end(j);
}

/* Send what pend holds: all of it, or when dribbling, maybe a prefix now and the rest a few
 * ms later (an event split across writes), or nothing yet (events merged into one write). */
static void stream_pump(struct job *j)
{
    size_t len = evbuffer_get_length(j->pend), now = len;
    int finishing = j->produced_all || j->dropping;
    evtimer_del(j->flush);
    if (j->cfg.dribble && len > 0) {
        switch (rng_next(j->m) % 4) {
        case 1: /* split at any byte */
            if (len > 1)
                now = 1 + (size_t)(rng_next(j->m) % (len - 1));
            break;
        case 2: /* hold: the next event joins it */
            if (!finishing)
                now = 0;
            break;
        case 3: /* one to three bytes only */
            if (len > 1)
                now = 1 + (size_t)(rng_next(j->m) % (len - 1 < 3 ? len - 1 : 3));
            break;
        default: break;
        }
    }
    if (now > 0)
        send_piece(j, now);
    if (evbuffer_get_length(j->pend) > 0) {
        int hold = j->cfg.chat_token_interval_ms + MO_DRIBBLE_GAP_MS;
        arm_ms(j->flush, now > 0 ? MO_DRIBBLE_GAP_MS
                                 : (hold < MO_DRIBBLE_HOLD_MAX_MS ? hold : MO_DRIBBLE_HOLD_MAX_MS));
        return;
    }
    stream_after_flush(j);
}

static void on_job_flush(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    size_t len = evbuffer_get_length(j->pend);
    (void)fd;
    (void)what;
    if (len > 0)
        send_piece(j, len);
    stream_after_flush(j);
}

/* One step of a stream: the role event (first), one content token, and after the last token
 * the finish event, the usage event (stream_options.include_usage) and [DONE]. */
static void chat_tick(struct job *j)
{
    struct mock *m = j->m;
    int fail_after = j->cfg.fail_after_tokens;
    if (!j->role_sent) {
        if (j->cfg.dribble) /* a comment and an empty event: parsers must skip both */
            evbuffer_add_printf(j->pend, ": mock keep-alive%s%s", j->cfg.crlf ? "\r\n" : "\n",
                                j->cfg.crlf ? "\r\n" : "\n");
        sse_add_json(
            j, chunk_new(j, json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL));
        j->role_sent = 1;
    }
    if (fail_after >= 0 && j->sent >= (size_t)fail_after) {
        j->dropping = 1;
    } else {
        json_t *tok = json_array_get(j->tokens, j->sent);
        sse_add_json(j, chunk_new(j, json_pack("{s:O}", "content", tok), NULL));
        j->sent++;
        m->st.chat_tokens_sent++;
        if (j->sent == j->ntok) {
            sse_add_json(j, chunk_new(j, json_object(), j->finish));
            if (j->want_usage)
                sse_add_json(j,
                             json_pack("{s:s, s:s, s:I, s:s, s:[], s:o}", "id", j->cid, "object",
                                       "chat.completion.chunk", "created", (json_int_t)j->created,
                                       "model", j->model, "choices", "usage", usage_new(j)));
            sse_add(j, "[DONE]");
            j->produced_all = 1;
        } else if (fail_after >= 0 && j->sent >= (size_t)fail_after) {
            j->dropping = 1;
        } else {
            arm_ms(j->timer, j->cfg.chat_token_interval_ms);
        }
    }
    stream_pump(j);
}

static void on_job_timer(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    (void)fd;
    (void)what;
    if (j->kind == JOB_CHAT && j->stream && j->status == 200)
        chat_tick(j);
    else
        job_reply(j);
}

/* ---- /v1 handlers --------------------------------------------------------------------- */

static int auth_ok(const struct mock *m, struct evhttp_request *req)
{
    const char *h;
    if (m->api_key == NULL)
        return 1;
    h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    return strcmp(h, m->api_key) == 0;
}

/* Decide hang / injected error for a new job; returns 1 if it hangs. */
static int job_fate(struct job *j, int hang, double error_rate)
{
    struct mock *m = j->m;
    if (hang) {
        m->st.hangs++;
        j->outcome = "hang";
        return 1;
    }
    if (error_rate > 0 && rng_unit(m) < error_rate) {
        m->st.errors_injected++;
        json_decref(j->reply);
        j->reply = oai_error("mock: injected failure",
                             j->cfg.error_status == 429 ? "rate_limit_exceeded" : "server_error",
                             NULL, j->cfg.error_status == 429 ? "rate_limit_exceeded" : NULL);
        j->status = j->cfg.error_status;
        j->outcome = "injected-error";
    }
    return 0;
}

static void h_embeddings(struct mock *m, struct evhttp_request *req, unsigned long id)
{
    json_t *body, *model, *input, *fmt, *dims, *data = NULL, *reply;
    const json_t *item;
    int base64 = 0;
    unsigned dim = (unsigned)m->cfg.dim, words = 0;
    size_t n, i;
    float *vec = NULL;
    struct job *j;

    m->st.embeddings_requests++;
    if ((body = read_json_object(m, req, id)) == NULL)
        return;
    model = json_object_get(body, "model");
    input = json_object_get(body, "input");
    fmt = json_object_get(body, "encoding_format");
    dims = json_object_get(body, "dimensions");
    if (!json_is_string(model)) {
        bad_request(m, req, id, "'model' is a required property and must be a string", "model");
        goto out;
    }
    if (json_is_string(input)) {
        n = 1;
    } else if (json_is_array(input) && json_array_size(input) > 0 &&
               json_array_size(input) <= MO_INPUTS_MAX) {
        n = json_array_size(input);
    } else {
        bad_request(m, req, id, "'input' must be a string or an array of 1 to 2048 strings",
                    "input");
        goto out;
    }
    for (i = 0; i < n; i++) {
        item = json_is_string(input) ? input : json_array_get(input, i);
        if (!json_is_string(item) || json_string_length(item) == 0) {
            bad_request(m, req, id, "'input' items must be non-empty strings", "input");
            goto out;
        }
    }
    if (fmt && !json_is_null(fmt)) {
        if (json_is_string(fmt) && strcmp(json_string_value(fmt), "base64") == 0) {
            base64 = 1;
        } else if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "float") != 0) {
            bad_request(m, req, id, "'encoding_format' must be \"float\" or \"base64\"",
                        "encoding_format");
            goto out;
        }
    }
    if (dims && !json_is_null(dims)) {
        if (!json_is_integer(dims) || json_integer_value(dims) < 1 ||
            json_integer_value(dims) > MO_DIM_MAX) {
            bad_request(m, req, id, "'dimensions' must be an integer from 1 to 8192", "dimensions");
            goto out;
        }
        dim = (unsigned)json_integer_value(dims);
    }
    if ((vec = malloc(dim * sizeof *vec)) == NULL || (data = json_array()) == NULL)
        goto oom;
    for (i = 0; i < n; i++) {
        json_t *emb;
        item = json_is_string(input) ? input : json_array_get(input, i);
        words += embed_text(json_string_value(item), json_string_length(item), dim, vec);
        if (base64) {
            emb = floats_base64(vec, dim);
        } else {
            emb = json_array();
            for (unsigned k = 0; emb && k < dim; k++)
                if (json_array_append_new(emb, json_real(vec[k])))
                    break;
        }
        if (emb == NULL ||
            json_array_append_new(data, json_pack("{s:s, s:I, s:o}", "object", "embedding", "index",
                                                  (json_int_t)i, "embedding", emb)))
            goto oom;
    }
    reply =
        json_pack("{s:s, s:O, s:O, s:{s:I, s:I}}", "object", "list", "data", data, "model", model,
                  "usage", "prompt_tokens", (json_int_t)words, "total_tokens", (json_int_t)words);
    if (reply == NULL || (j = job_new(m, req, id, JOB_EMBED)) == NULL) {
        json_decref(reply);
        goto oom;
    }
    m->st.embeddings_inputs += n;
    j->reply = reply;
    j->inputs = (unsigned)n;
    j->dim = dim;
    if (!job_fate(j, j->cfg.hang_embed, j->cfg.error_rate_embed))
        arm_ms(j->timer, j->cfg.embed_latency_ms);
    goto out;
oom:
    reply_now(m, req, id, 500, oai_error("mock: out of memory", "server_error", NULL, NULL));
out:
    free(vec);
    json_decref(data);
    json_decref(body);
}

static void h_chat(struct mock *m, struct evhttp_request *req, unsigned long id)
{
    json_t *body, *model, *msgs, *stream, *maxt, *temp, *sopt, *msg, *tokens = NULL;
    struct evbuffer *all = evbuffer_new(), *last = evbuffer_new();
    size_t i, ntok;
    long long max_tokens = -1;
    unsigned prompt_tokens = 0;
    struct job *j;

    m->st.chat_requests++;
    if (all == NULL || last == NULL) {
        reply_now(m, req, id, 500, oai_error("mock: out of memory", "server_error", NULL, NULL));
        goto out_buffers;
    }
    if ((body = read_json_object(m, req, id)) == NULL)
        goto out_buffers;
    model = json_object_get(body, "model");
    msgs = json_object_get(body, "messages");
    stream = json_object_get(body, "stream");
    maxt = json_object_get(body, "max_tokens");
    if (maxt == NULL || json_is_null(maxt))
        maxt = json_object_get(body, "max_completion_tokens");
    temp = json_object_get(body, "temperature");
    sopt = json_object_get(body, "stream_options");
    if (!json_is_string(model)) {
        bad_request(m, req, id, "'model' is a required property and must be a string", "model");
        goto out;
    }
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
        bad_request(m, req, id, "'messages' must be a non-empty array", "messages");
        goto out;
    }
    json_array_foreach(msgs, i, msg)
    {
        const json_t *role = json_object_get(msg, "role");
        size_t before = evbuffer_get_length(all);
        if (!json_is_string(role) || content_text(json_object_get(msg, "content"), all) != 0) {
            bad_request(m, req, id,
                        "each message needs a string 'role' and a string, null or text-part "
                        "'content'",
                        "messages");
            goto out;
        }
        if (evbuffer_get_length(all) > before) /* pullup of an empty buffer is NULL */
            prompt_tokens += count_words((const char *)evbuffer_pullup(all, -1) + before,
                                         evbuffer_get_length(all) - before);
        if (strcmp(json_string_value(role), "user") == 0) {
            evbuffer_drain(last, evbuffer_get_length(last));
            content_text(json_object_get(msg, "content"), last);
        }
        evbuffer_add(all, " ", 1);
    }
    if (stream && !json_is_null(stream) && !json_is_boolean(stream)) {
        bad_request(m, req, id, "'stream' must be a boolean", "stream");
        goto out;
    }
    if (maxt && !json_is_null(maxt)) {
        if (!json_is_integer(maxt) || json_integer_value(maxt) < 1) {
            bad_request(m, req, id, "'max_tokens' must be a positive integer", "max_tokens");
            goto out;
        }
        max_tokens = json_integer_value(maxt);
    }
    if (temp && !json_is_null(temp) &&
        (!json_is_number(temp) || json_number_value(temp) < 0 || json_number_value(temp) > 2)) {
        bad_request(m, req, id, "'temperature' must be a number from 0 to 2", "temperature");
        goto out;
    }
    if (sopt && !json_is_null(sopt) &&
        (!json_is_object(sopt) || (json_object_get(sopt, "include_usage") &&
                                   !json_is_boolean(json_object_get(sopt, "include_usage"))))) {
        bad_request(m, req, id, "'stream_options' must be an object {\"include_usage\": bool}",
                    "stream_options");
        goto out;
    }
    tokens = answer_tokens((const char *)evbuffer_pullup(last, -1), evbuffer_get_length(last),
                           (size_t)m->cfg.chat_tokens);
    if (tokens == NULL || (j = job_new(m, req, id, JOB_CHAT)) == NULL) {
        reply_now(m, req, id, 500, oai_error("mock: out of memory", "server_error", NULL, NULL));
        goto out;
    }
    ntok = json_array_size(tokens);
    j->finish = "stop";
    if (max_tokens > 0 && (size_t)max_tokens < ntok) {
        ntok = (size_t)max_tokens;
        j->finish = "length";
    }
    j->tokens = tokens;
    tokens = NULL;
    j->ntok = ntok;
    j->stream = json_is_true(stream);
    j->want_usage = j->stream && json_is_true(json_object_get(sopt, "include_usage"));
    j->model = strdup(json_string_value(model));
    j->created = (long long)time(NULL);
    j->prompt_tokens = prompt_tokens;
    snprintf(j->cid, sizeof j->cid, "chatcmpl-mock-%lu", id);
    if (j->stream)
        m->st.chat_streams++;
    if (j->model == NULL) {
        j->status = 500;
        j->reply = oai_error("mock: out of memory", "server_error", NULL, NULL);
        arm_ms(j->timer, 0);
        goto out;
    }
    if (!j->stream) {
        struct evbuffer *c = last; /* reuse: the whole content */
        evbuffer_drain(c, evbuffer_get_length(c));
        for (i = 0; i < ntok; i++) {
            const json_t *t = json_array_get(j->tokens, i);
            evbuffer_add(c, json_string_value(t), json_string_length(t));
        }
        j->reply =
            json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:{s:s, s:s%}, s:n, s:s}], s:o}", "id", j->cid,
                      "object", "chat.completion", "created", (json_int_t)j->created, "model",
                      j->model, "choices", "index", 0, "message", "role", "assistant", "content",
                      (const char *)evbuffer_pullup(c, -1), evbuffer_get_length(c), "logprobs",
                      "finish_reason", j->finish, "usage", usage_new(j));
        j->sent = ntok;
    }
    if (job_fate(j, j->cfg.hang_chat, j->cfg.error_rate_chat))
        goto out;
    if (j->status != 200 || !j->stream) {
        long long ms = j->cfg.chat_first_token_ms;
        if (j->status == 200 && ntok > 1)
            ms += (long long)(ntok - 1) * j->cfg.chat_token_interval_ms;
        arm_ms(j->timer, ms > MO_DELAY_MAX_MS ? MO_DELAY_MAX_MS : (int)ms);
        goto out;
    }
    {
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        char rid[32];
        snprintf(rid, sizeof rid, "mock-%lu", id);
        evhttp_add_header(h, "Content-Type", "text/event-stream");
        evhttp_add_header(h, "Cache-Control", "no-cache");
        evhttp_add_header(h, "X-Request-Id", rid);
        evhttp_send_reply_start(req, 200, "OK");
    }
    arm_ms(j->timer, j->cfg.chat_first_token_ms);
out:
    json_decref(tokens);
    json_decref(body);
out_buffers:
    if (all)
        evbuffer_free(all);
    if (last)
        evbuffer_free(last);
}

static void h_models(struct mock *m, struct evhttp_request *req, unsigned long id)
{
    reply_now(m, req, id, 200,
              json_pack("{s:s, s:[{s:s, s:s, s:i, s:s}, {s:s, s:s, s:i, s:s}]}", "object", "list",
                        "data", "id", "mock-embed", "object", "model", "created", 0, "owned_by",
                        "lexrag-mock", "id", "mock-chat", "object", "model", "created", 0,
                        "owned_by", "lexrag-mock"));
}

/* ---- control endpoints ---------------------------------------------------------------- */

static json_t *cfg_json(const struct mock *m)
{
    const struct mo_cfg *c = &m->cfg;
    return json_pack(
        "{s:i, s:i, s:i, s:i, s:f, s:f, s:i, s:b, s:b, s:i, s:i, s:b, s:b, s:I, "
        "s:s?}",
        "embed_latency_ms", c->embed_latency_ms, "chat_first_token_ms", c->chat_first_token_ms,
        "chat_token_interval_ms", c->chat_token_interval_ms, "chat_tokens", c->chat_tokens,
        "error_rate_embeddings", c->error_rate_embed, "error_rate_chat", c->error_rate_chat,
        "error_status", c->error_status, "hang_embeddings", c->hang_embed, "hang_chat",
        c->hang_chat, "fail_after_tokens", c->fail_after_tokens, "dim", c->dim, "dribble",
        c->dribble, "crlf", c->crlf, "seed", (json_int_t)c->seed, "api_key", m->api_key);
}

static json_t *stats_json(const struct mock *m)
{
    const struct mo_stats *s = &m->st;
    json_t *o = json_object();
#define MO_STAT(name) json_object_set_new(o, #name, json_integer((json_int_t)s->name))
    MO_STAT(requests);
    MO_STAT(embeddings_requests);
    MO_STAT(embeddings_inputs);
    MO_STAT(embeddings_cancelled);
    MO_STAT(chat_requests);
    MO_STAT(chat_streams);
    MO_STAT(chat_streams_completed);
    MO_STAT(chat_streams_cancelled);
    MO_STAT(chat_streams_dropped);
    MO_STAT(chat_cancelled);
    MO_STAT(chat_tokens_sent);
    MO_STAT(errors_injected);
    MO_STAT(hangs);
    MO_STAT(unauthorized);
    MO_STAT(bad_requests);
    MO_STAT(in_flight);
    MO_STAT(max_in_flight);
#undef MO_STAT
    return o;
}

static int int_in(const json_t *v, long long lo, long long hi, int *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

static int rate_in(const json_t *v, double *out)
{
    if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
        return -1;
    *out = json_number_value(v);
    return 0;
}

static int bool_in(const json_t *v, int *out)
{
    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

/* Apply a /_control object to m: all of it, or nothing (-1, *bad names the key at fault). */
static int cfg_apply(struct mock *m, json_t *o, const char **bad)
{
    int defaults = json_is_true(json_object_get(o, "defaults"));
    struct mo_cfg c = defaults ? m->defaults : m->cfg;
    const char *key, *new_key = defaults ? m->default_api_key : NULL;
    json_t *v;
    int key_given = defaults, seed, rc;
    json_object_foreach(o, key, v)
    {
        *bad = key;
        if (strcmp(key, "defaults") == 0) {
            rc = json_is_boolean(v) ? 0 : -1;
        } else if (strcmp(key, "embed_latency_ms") == 0) {
            rc = int_in(v, 0, MO_DELAY_MAX_MS, &c.embed_latency_ms);
        } else if (strcmp(key, "chat_first_token_ms") == 0) {
            rc = int_in(v, 0, MO_DELAY_MAX_MS, &c.chat_first_token_ms);
        } else if (strcmp(key, "chat_token_interval_ms") == 0) {
            rc = int_in(v, 0, MO_DELAY_MAX_MS, &c.chat_token_interval_ms);
        } else if (strcmp(key, "chat_tokens") == 0) {
            rc = int_in(v, 1, MO_TOKENS_MAX, &c.chat_tokens);
        } else if (strcmp(key, "error_rate") == 0) {
            rc = rate_in(v, &c.error_rate_embed);
            c.error_rate_chat = c.error_rate_embed;
        } else if (strcmp(key, "error_rate_embeddings") == 0) {
            rc = rate_in(v, &c.error_rate_embed);
        } else if (strcmp(key, "error_rate_chat") == 0) {
            rc = rate_in(v, &c.error_rate_chat);
        } else if (strcmp(key, "error_status") == 0) {
            rc = int_in(v, 400, 599, &c.error_status);
        } else if (strcmp(key, "hang") == 0) {
            rc = bool_in(v, &c.hang_embed);
            c.hang_chat = c.hang_embed;
        } else if (strcmp(key, "hang_embeddings") == 0) {
            rc = bool_in(v, &c.hang_embed);
        } else if (strcmp(key, "hang_chat") == 0) {
            rc = bool_in(v, &c.hang_chat);
        } else if (strcmp(key, "fail_after_tokens") == 0) {
            c.fail_after_tokens = -1; /* null: off */
            rc = json_is_null(v) ? 0 : int_in(v, -1, MO_TOKENS_MAX, &c.fail_after_tokens);
        } else if (strcmp(key, "dim") == 0) {
            rc = int_in(v, 1, MO_DIM_MAX, &c.dim);
        } else if (strcmp(key, "dribble") == 0) {
            rc = bool_in(v, &c.dribble);
        } else if (strcmp(key, "crlf") == 0) {
            rc = bool_in(v, &c.crlf);
        } else if (strcmp(key, "seed") == 0) {
            rc = int_in(v, 0, INT32_MAX, &seed);
            c.seed = (unsigned long long)seed;
        } else if (strcmp(key, "api_key") == 0) { /* a string, or null: no check */
            rc = json_is_null(v) || (json_is_string(v) && json_string_length(v) > 0) ? 0 : -1;
            key_given = 1;
            new_key = json_string_value(v);
        } else {
            rc = -1; /* an unknown key: a typo in a test must fail loudly */
        }
        if (rc != 0)
            return -1;
    }
    if (key_given) {
        char *k = new_key ? strdup(new_key) : NULL;
        if (new_key && k == NULL)
            return -1;
        free(m->api_key);
        m->api_key = k;
    }
    if (c.seed != m->cfg.seed || json_object_get(o, "seed"))
        rng_seed(m, c.seed);
    m->cfg = c;
    return 0;
}

static void h_control(struct mock *m, struct evhttp_request *req, unsigned long id)
{
    json_t *body;
    const char *bad = "";
    char msg[200];
    if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
        if ((body = read_json_object(m, req, id)) == NULL)
            return;
        if (cfg_apply(m, body, &bad) != 0) {
            snprintf(msg, sizeof msg, "/_control: bad or unknown setting '%s'", bad);
            bad_request(m, req, id, msg, bad); /* bad: a key of body */
            json_decref(body);
            return;
        }
        json_decref(body);
    }
    reply_now(m, req, id, 200, cfg_json(m));
}

static void h_reset(struct mock *m, struct evhttp_request *req, unsigned long id)
{
    long in_flight = m->st.in_flight;
    memset(&m->st, 0, sizeof m->st);
    m->st.in_flight = m->st.max_in_flight = in_flight;
    rng_seed(m, m->cfg.seed);
    reply_now(m, req, id, 200, stats_json(m));
}

/* ---- routing ----------------------------------------------------------------------------- */

static void on_request(struct evhttp_request *req, void *arg)
{
    struct mock *m = arg;
    unsigned long id = ++m->next_id;
    const char *path = req_path(req);
    enum evhttp_cmd_type meth = evhttp_request_get_command(req);
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    evutil_socket_t fd = evcon ? bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)) : -1;
    int one = 1;
    int post = meth == EVHTTP_REQ_POST, get = meth == EVHTTP_REQ_GET;

    m->st.requests++;
    if (fd >= 0) /* each SSE piece its own segment, at once */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (strncmp(path, "/v1/", 4) == 0 && !auth_ok(m, req)) {
        m->st.unauthorized++;
        reply_now(m, req, id, 401,
                  oai_error("Incorrect API key provided", "invalid_request_error", NULL,
                            "invalid_api_key"));
        return;
    }
    if (strcmp(path, "/v1/embeddings") == 0 && post)
        h_embeddings(m, req, id);
    else if (strcmp(path, "/v1/chat/completions") == 0 && post)
        h_chat(m, req, id);
    else if (strcmp(path, "/v1/models") == 0 && get)
        h_models(m, req, id);
    else if (strcmp(path, "/_control") == 0 && (post || get))
        h_control(m, req, id);
    else if (strcmp(path, "/_stats") == 0 && get)
        reply_now(m, req, id, 200, stats_json(m));
    else if (strcmp(path, "/_reset") == 0 && post)
        h_reset(m, req, id);
    else if (strcmp(path, "/v1/embeddings") == 0 || strcmp(path, "/v1/chat/completions") == 0 ||
             strcmp(path, "/v1/models") == 0 || strcmp(path, "/_control") == 0 ||
             strcmp(path, "/_stats") == 0 || strcmp(path, "/_reset") == 0)
        reply_now(m, req, id, 405,
                  oai_error("Method not allowed", "invalid_request_error", NULL, NULL));
    else
        reply_now(m, req, id, 404,
                  oai_error("Unknown request URL", "invalid_request_error", NULL, "unknown_url"));
}

/* ---- startup ---------------------------------------------------------------------------- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct mock *m = arg;
    (void)what;
    fprintf(stderr, "mock_openai signal=%d stopping\n", (int)sig);
    event_base_loopbreak(m->base);
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v = 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* "HOST:PORT" or "[V6]:PORT": a listening, non-blocking socket, or -1. */
static evutil_socket_t listen_on(const char *spec, unsigned *port_out)
{
    char host[256], *colon;
    const char *port;
    struct addrinfo hints = {0}, *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    evutil_socket_t fd = -1;
    int one = 1, rc;
    if (strlen(spec) >= sizeof host)
        return -1;
    strcpy(host, spec);
    if ((colon = strrchr(host, ':')) == NULL)
        return -1;
    *colon = '\0';
    port = colon + 1;
    if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
        colon[-1] = '\0';
        memmove(host, host + 1, strlen(host + 1) + 1);
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0) {
        fprintf(stderr, "mock_openai: %s: %s\n", spec, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, MO_LISTEN_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        fprintf(stderr, "mock_openai: listen %s: %s\n", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return -1;
    if ((f = fopen(tmp, "w")) == NULL)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: mock_openai --listen HOST:PORT [--port-file FILE] [--dim N]\n"
                "         [--embed-latency-ms N] [--chat-first-token-ms N]\n"
                "         [--chat-token-interval-ms N] [--chat-tokens N] [--error-rate F]\n"
                "         [--error-status N] [--fail-after-tokens N] [--dribble] [--crlf]\n"
                "         [--api-key K] [--seed N] [--quiet]\n"
                "PORT 0 binds an ephemeral port; --port-file receives the port chosen.\n"
                "Runtime: POST /_control {json}, GET /_control, GET /_stats, POST /_reset.\n");
}

int main(int argc, char **argv)
{
    enum {
        O_LISTEN = 256,
        O_PORT_FILE,
        O_DIM,
        O_EMBED_MS,
        O_FIRST_MS,
        O_INTERVAL_MS,
        O_TOKENS,
        O_ERROR_RATE,
        O_ERROR_STATUS,
        O_FAIL_AFTER,
        O_DRIBBLE,
        O_CRLF,
        O_API_KEY,
        O_SEED,
        O_QUIET,
        O_HELP
    };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"port-file", required_argument, NULL, O_PORT_FILE},
        {"dim", required_argument, NULL, O_DIM},
        {"embed-latency-ms", required_argument, NULL, O_EMBED_MS},
        {"chat-first-token-ms", required_argument, NULL, O_FIRST_MS},
        {"chat-token-interval-ms", required_argument, NULL, O_INTERVAL_MS},
        {"chat-tokens", required_argument, NULL, O_TOKENS},
        {"error-rate", required_argument, NULL, O_ERROR_RATE},
        {"error-status", required_argument, NULL, O_ERROR_STATUS},
        {"fail-after-tokens", required_argument, NULL, O_FAIL_AFTER},
        {"dribble", no_argument, NULL, O_DRIBBLE},
        {"crlf", no_argument, NULL, O_CRLF},
        {"api-key", required_argument, NULL, O_API_KEY},
        {"seed", required_argument, NULL, O_SEED},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    static struct mock mock; /* zeroed */
    struct mock *m = &mock;
    struct mo_cfg *c = &m->cfg;
    const char *listen_spec = NULL, *port_file = NULL;
    struct event *sig_term = NULL, *sig_int = NULL;
    evutil_socket_t fd;
    unsigned port = 0;
    long long v = 0;
    char *end;
    int opt, rc = 1;

    c->dim = 384;
    c->chat_tokens = 12;
    c->error_status = 500;
    c->fail_after_tokens = -1;
    c->seed = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case O_LISTEN: listen_spec = optarg; break;
        case O_PORT_FILE: port_file = optarg; break;
        case O_DIM:
            bad = parse_ll(optarg, 1, MO_DIM_MAX, &v);
            c->dim = (int)v;
            break;
        case O_EMBED_MS:
            bad = parse_ll(optarg, 0, MO_DELAY_MAX_MS, &v);
            c->embed_latency_ms = (int)v;
            break;
        case O_FIRST_MS:
            bad = parse_ll(optarg, 0, MO_DELAY_MAX_MS, &v);
            c->chat_first_token_ms = (int)v;
            break;
        case O_INTERVAL_MS:
            bad = parse_ll(optarg, 0, MO_DELAY_MAX_MS, &v);
            c->chat_token_interval_ms = (int)v;
            break;
        case O_TOKENS:
            bad = parse_ll(optarg, 1, MO_TOKENS_MAX, &v);
            c->chat_tokens = (int)v;
            break;
        case O_ERROR_RATE:
            errno = 0;
            c->error_rate_embed = c->error_rate_chat = strtod(optarg, &end);
            bad = errno || end == optarg || *end || !(c->error_rate_embed >= 0) ||
                  c->error_rate_embed > 1;
            break;
        case O_ERROR_STATUS:
            bad = parse_ll(optarg, 400, 599, &v);
            c->error_status = (int)v;
            break;
        case O_FAIL_AFTER:
            bad = parse_ll(optarg, -1, MO_TOKENS_MAX, &v);
            c->fail_after_tokens = (int)v;
            break;
        case O_DRIBBLE: c->dribble = 1; break;
        case O_CRLF: c->crlf = 1; break;
        case O_API_KEY: m->default_api_key = optarg; break;
        case O_SEED:
            bad = parse_ll(optarg, 0, INT32_MAX, &v);
            c->seed = (unsigned long long)v;
            break;
        case O_QUIET: m->quiet = 1; break;
        case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "mock_openai: bad value for --%s: %s\n", opts[opt - O_LISTEN].name,
                    optarg);
            return 2;
        }
    }
    if (listen_spec == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    m->defaults = m->cfg;
    if (m->default_api_key && (m->api_key = strdup(m->default_api_key)) == NULL)
        return 1;
    rng_seed(m, c->seed);
    signal(SIGPIPE, SIG_IGN);

    if ((m->base = event_base_new()) == NULL || (m->http = evhttp_new(m->base)) == NULL)
        goto out;
    evhttp_set_max_body_size(m->http, MO_BODY_MAX_BYTES);
    evhttp_set_max_headers_size(m->http, MO_HEADERS_MAX_BYTES);
    evhttp_set_flags(m->http, EVHTTP_SERVER_LINGERING_CLOSE);
    evhttp_set_gencb(m->http, on_request, m);
    if ((fd = listen_on(listen_spec, &port)) < 0)
        goto out;
    if (evhttp_accept_socket_with_handle(m->http, fd) == NULL) {
        close(fd);
        goto out;
    }
    if (port_file && write_port_file(port_file, port) != 0) {
        fprintf(stderr, "mock_openai: cannot write %s: %s\n", port_file, strerror(errno));
        goto out;
    }
    sig_term = evsignal_new(m->base, SIGTERM, on_signal, m);
    sig_int = evsignal_new(m->base, SIGINT, on_signal, m);
    if (!sig_term || !sig_int || evsignal_add(sig_term, NULL) || evsignal_add(sig_int, NULL))
        goto out;
    fprintf(stderr, "mock_openai listening=%s port=%u dim=%d pid=%ld\n", listen_spec, port, c->dim,
            (long)getpid());
    event_base_dispatch(m->base);
    rc = 0;
out:
    while (m->jobs) { /* requests still open: evhttp_free frees those still on a connection */
        struct job *j = m->jobs;
        m->jobs = j->next;
        if (j->evcon)
            evhttp_connection_set_closecb(j->evcon, NULL, NULL);
        if (j->req_orphan && j->req)
            evhttp_request_free(j->req);
        job_destroy(j);
    }
    if (m->http)
        evhttp_free(m->http);
    if (sig_term)
        event_free(sig_term);
    if (sig_int)
        event_free(sig_int);
    if (m->base)
        event_base_free(m->base);
    free(m->api_key);
    libevent_global_shutdown();
    return rc;
}
