/* tests/fcgi/fcgi_client.c -- a tiny FastCGI client that drives one lexrag-fcgi worker directly,
 * as a web server would, for tests/fcgi/test_fcgi_direct.sh (the mirror image of lighttpd's
 * tests/fcgi-responder.c). One connection at a time, non-blocking sockets with poll() for
 * timeouts, the worker's records read with the worker's own parser (fcgi_wire.c). Each scenario
 * checks the worker's answers itself: exit 0 on success, 1 with a message on stderr otherwise,
 * 2 on a usage error. It does not test itself: a failure names what the worker did.
 *   fcgi_client --connect PATH|HOST:PORT SCENARIO [options]      (usage() lists them) */
#include <ctype.h>
#include <errno.h>
#include <fastcgi.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../fcgi/fcgi_wire.c"
#include "../../shared/lx_err.c"

#define CL_READ_BYTES         (256 * 1024)
#define CL_KEEP_STDOUT_BYTES  (1024 * 1024) /* stdout kept for printing; the rest is counted */
#define CL_KEEP_STDERR_BYTES  (64 * 1024)
#define CL_RECORD_MAX_BYTES   65528 /* content per record we write: a multiple of 8 */
#define CL_MAX_HEADERS        32
#define CL_PARAMS_LIMIT_BYTES (64 * 1024) /* the worker's LX_FCGI_PARAMS_MAX_BYTES */
#define CL_CLOSE_WITHIN_MS    1000        /* a bad connection is closed this fast */
#define CL_ABORT_WITHIN_MS    1000        /* FCGI_ABORT_REQUEST is answered this fast */

static const char *cl_scenario = "";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fcgi_client: %s: ", cl_scenario);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "fcgi_client: gave up: --deadline-s passed\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(1);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- buffers ---------------------------------------------------------------------------- */

struct buf {
    uint8_t *b;
    size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        uint8_t *nb = realloc(b->b, cap);
        if (nb == NULL)
            die("out of memory");
        b->b = nb;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->b + b->len, p, n);
    b->len += n;
    b->b[b->len] = '\0'; /* always a C string too */
}

static void buf_free(struct buf *b)
{
    free(b->b);
    memset(b, 0, sizeof *b);
}

/* One record: header, content, padding to a multiple of 8 (as lighttpd writes them). */
static void put_record(struct buf *w, uint8_t type, uint16_t id, const void *p, size_t n)
{
    static const uint8_t zeros[8];
    uint8_t h[8];
    fcgi_hdr_encode(h, type, id, (uint16_t)n, fcgi_pad_for(n));
    buf_add(w, h, sizeof h);
    buf_add(w, p, n);
    buf_add(w, zeros, fcgi_pad_for(n));
}

/* A stream (PARAMS, STDIN, GET_VALUES content) in records of at most chunk bytes; with
 * close, the empty record that ends it. */
static void put_stream(struct buf *w, uint8_t type, uint16_t id, const uint8_t *p, size_t n,
                       size_t chunk, int close)
{
    if (chunk == 0 || chunk > CL_RECORD_MAX_BYTES)
        chunk = CL_RECORD_MAX_BYTES;
    for (size_t at = 0; at < n; at += chunk)
        put_record(w, type, id, p + at, n - at < chunk ? n - at : chunk);
    if (close)
        put_record(w, type, id, NULL, 0);
}

static void put_pair(struct buf *w, const char *name, const char *value, size_t vlen)
{
    size_t need = fcgi_pair_encode(NULL, 0, name, strlen(name), value, vlen);
    uint8_t *tmp = malloc(need);
    if (tmp == NULL)
        die("out of memory");
    fcgi_pair_encode(tmp, need, name, strlen(name), value, vlen);
    buf_add(w, tmp, need);
    free(tmp);
}

static const char *type_name(unsigned t)
{
    static const char *const names[] = {
        "type 0",
        "FCGI_BEGIN_REQUEST",
        "FCGI_ABORT_REQUEST",
        "FCGI_END_REQUEST",
        "FCGI_PARAMS",
        "FCGI_STDIN",
        "FCGI_STDOUT",
        "FCGI_STDERR",
        "FCGI_DATA",
        "FCGI_GET_VALUES",
        "FCGI_GET_VALUES_RESULT",
        "FCGI_UNKNOWN_TYPE",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : "an unknown type";
}

/* ---- sockets ---------------------------------------------------------------------------- */

static int cl_connect(const char *addr)
{
    int fd = -1;
    const char *colon = strrchr(addr, ':');
    if (strchr(addr, '/') != NULL || colon == NULL) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(addr) >= sizeof sa.sun_path)
            die("socket path too long: %s", addr);
        strcpy(sa.sun_path, addr);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
            die("cannot connect to %s: %s", addr, strerror(errno));
    } else {
        char host[256], port[32];
        snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
        snprintf(port, sizeof port, "%s", colon + 1);
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
        int rc = getaddrinfo(host, port, &hints, &res);
        if (rc != 0)
            die("cannot resolve %s: %s", addr, gai_strerror(rc));
        for (ai = res; ai != NULL; ai = ai->ai_next) {
            fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
                break;
            if (fd >= 0)
                close(fd);
            fd = -1;
        }
        freeaddrinfo(res);
        if (fd < 0)
            die("cannot connect to %s: %s", addr, strerror(errno));
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* pieces stay pieces */
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Write all of p, in pieces of `piece` bytes (0: at once) with pause_us after each piece but
 * the last. Returns 0, or -1 with errno (EPIPE or ECONNRESET: the worker closed; ETIMEDOUT: it
 * took nothing for timeout_ms). */
static int write_all(int fd, const uint8_t *p, size_t n, size_t piece, long pause_us,
                     long timeout_ms)
{
    size_t at = 0;
    while (at < n) {
        size_t want = piece == 0 || n - at < piece ? n - at : piece;
        size_t done = 0;
        while (done < want) {
            ssize_t w = send(fd, p + at + done, want - done, MSG_NOSIGNAL);
            if (w > 0) {
                done += (size_t)w;
                continue;
            }
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            struct pollfd pfd = {fd, POLLOUT, 0};
            int pr = poll(&pfd, 1, (int)timeout_ms);
            if (pr == 0) {
                errno = ETIMEDOUT;
                return -1;
            }
        }
        at += want;
        if (piece != 0 && at < n && pause_us > 0)
            sleep_us(pause_us);
    }
    return 0;
}

/* ---- one connection's answers ----------------------------------------------------------- */

struct resp {
    uint16_t id;
    struct buf out; /* the first CL_KEEP_STDOUT_BYTES of FCGI_STDOUT */
    size_t out_bytes;
    struct buf err;
    int out_closed; /* the empty FCGI_STDOUT record came */
    int ended;
    uint32_t app_status;
    uint8_t proto_status;
};

struct cl {
    int fd;
    struct fcgi_parser p;
    struct resp *r;  /* the request being answered, or NULL */
    struct buf mgmt; /* content of the END_REQUEST or management record being read */
    struct buf values;
    int got_values, got_unknown;
    uint8_t unknown_type;
    int eof;
    long records;
    char why[512];
};

static void cl_vwhy(struct cl *c, const char *fmt, va_list ap)
{
    if (c->why[0] == '\0') /* the first reason is the one that counts */
        vsnprintf(c->why, sizeof c->why, fmt, ap);
}

/* In the parser's callbacks: say why, stop the parser. */
static enum lx_err cl_bad(struct cl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum lx_err cl_bad(struct cl *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cl_vwhy(c, fmt, ap);
    va_end(ap);
    return LX_EPROTO;
}

/* Elsewhere: say why, return -1. */
static int cl_fail(struct cl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cl_fail(struct cl *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cl_vwhy(c, fmt, ap);
    va_end(ap);
    return -1;
}

static enum lx_err cl_on_begin(void *ud, const struct fcgi_hdr *h)
{
    struct cl *c = ud;
    const char *tn = type_name(h->type);
    c->records++;
    c->mgmt.len = 0;
    switch (h->type) {
    case FCGI_STDOUT:
    case FCGI_STDERR:
    case FCGI_END_REQUEST:
        if (c->r == NULL)
            return cl_bad(c, "%s for request %u while no request was in flight", tn, h->id);
        if (h->id != c->r->id)
            return cl_bad(c, "%s for request %u, expected %u", tn, h->id, c->r->id);
        if (c->r->ended)
            return cl_bad(c, "%s after FCGI_END_REQUEST of request %u", tn, h->id);
        if (h->type == FCGI_STDOUT && c->r->out_closed && h->clen > 0)
            return cl_bad(c, "FCGI_STDOUT data after the empty record that closed it");
        if (h->type == FCGI_END_REQUEST && h->clen != 8)
            return cl_bad(c, "FCGI_END_REQUEST with %u content bytes, want 8", h->clen);
        return LX_OK;
    case FCGI_GET_VALUES_RESULT:
    case FCGI_UNKNOWN_TYPE:
        if (h->id != FCGI_NULL_REQUEST_ID)
            return cl_bad(c, "%s with request id %u, want 0", tn, h->id);
        if (h->type == FCGI_UNKNOWN_TYPE && h->clen != 8)
            return cl_bad(c, "FCGI_UNKNOWN_TYPE with %u content bytes, want 8", h->clen);
        return LX_OK;
    default: return cl_bad(c, "record of type %u (%s) from the application", h->type, tn);
    }
}

static enum lx_err cl_on_data(void *ud, const struct fcgi_hdr *h, const uint8_t *p, size_t n)
{
    struct cl *c = ud;
    switch (h->type) {
    case FCGI_STDOUT:
        c->r->out_bytes += n;
        if (c->r->out.len < CL_KEEP_STDOUT_BYTES) {
            size_t room = CL_KEEP_STDOUT_BYTES - c->r->out.len;
            buf_add(&c->r->out, p, n < room ? n : room);
        }
        break;
    case FCGI_STDERR:
        if (c->r->err.len < CL_KEEP_STDERR_BYTES)
            buf_add(&c->r->err, p, n);
        break;
    default: buf_add(&c->mgmt, p, n); break;
    }
    return LX_OK;
}

static enum lx_err cl_on_end(void *ud, const struct fcgi_hdr *h)
{
    struct cl *c = ud;
    const uint8_t *b = c->mgmt.b;
    switch (h->type) {
    case FCGI_STDOUT:
        if (h->clen == 0)
            c->r->out_closed = 1;
        break;
    case FCGI_END_REQUEST:
        c->r->app_status = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        c->r->proto_status = b[4];
        c->r->ended = 1;
        break;
    case FCGI_GET_VALUES_RESULT:
        c->values.len = 0;
        buf_add(&c->values, c->mgmt.b, c->mgmt.len);
        c->got_values++;
        break;
    case FCGI_UNKNOWN_TYPE:
        c->unknown_type = b[0];
        c->got_unknown++;
        break;
    default: break;
    }
    return LX_OK;
}

static const struct fcgi_parser_cbs cl_cbs = {cl_on_begin, cl_on_data, cl_on_end};

static void cl_open(struct cl *c, const char *addr)
{
    memset(c, 0, sizeof *c);
    c->fd = cl_connect(addr);
    fcgi_parser_init(&c->p, &cl_cbs, c);
}

static void cl_close(struct cl *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_free(&c->mgmt);
    buf_free(&c->values);
}

static void resp_init(struct resp *r, uint16_t id)
{
    memset(r, 0, sizeof *r);
    r->id = id;
}

static void resp_free(struct resp *r)
{
    buf_free(&r->out);
    buf_free(&r->err);
}

/* Read what is there (waiting up to wait_ms for something); 1 if bytes came, 0 if none, -1 on
 * EOF or a protocol error (c->why says). */
static int cl_read_some(struct cl *c, long wait_ms)
{
    static uint8_t in[CL_READ_BYTES];
    struct pollfd pfd = {c->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, (int)(wait_ms < 0 ? 0 : wait_ms));
    if (pr <= 0)
        return 0;
    ssize_t n = recv(c->fd, in, sizeof in, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        c->eof = 1;
        return cl_fail(c, "the worker closed the connection");
    }
    if (n < 0)
        return cl_fail(c, "recv: %s", strerror(errno));
    fcgi_parse(&c->p, in, (size_t)n);
    if (c->p.err != LX_OK)
        return cl_fail(c, "unparseable output from the worker: %s", lx_strerror(c->p.err));
    return 1;
}

static int pred_ended(const struct cl *c)
{
    return c->r != NULL && c->r->ended;
}

/* Send p as write_all() does, reading the worker's answer meanwhile, as a web server does (a
 * worker may answer before it has read the whole body, e.g. 413). Stops sending once the
 * request has ended. Returns 0, or -1 (c->why). */
static int cl_send(struct cl *c, const uint8_t *p, size_t n, size_t piece, long pause_us,
                   long timeout_ms)
{
    size_t at = 0;
    while (at < n && !pred_ended(c)) {
        size_t want = piece == 0 || n - at < piece ? n - at : piece;
        size_t done = 0;
        long deadline = now_ms() + timeout_ms;
        while (done < want && !pred_ended(c)) {
            ssize_t w = send(c->fd, p + at + done, want - done, MSG_NOSIGNAL);
            if (w > 0) {
                done += (size_t)w;
                continue;
            }
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
                /* closed: what it answered before is still to be read */
                return c->eof ? cl_fail(c, "the worker closed the connection") : 0;
            }
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return cl_fail(c, "send: %s", strerror(errno));
            long left = deadline - now_ms();
            if (left <= 0)
                return cl_fail(c, "the worker took no input for %ld ms", timeout_ms);
            struct pollfd pfd = {c->fd, POLLOUT | POLLIN, 0};
            if (poll(&pfd, 1, (int)left) > 0 && (pfd.revents & (POLLIN | POLLHUP)) && !c->eof &&
                cl_read_some(c, 0) < 0 && !c->eof)
                return -1;
            if (c->eof)
                return 0; /* closed: the answer so far decides */
        }
        at += want;
        if (piece != 0 && at < n && pause_us > 0)
            sleep_us(pause_us);
    }
    return 0;
}

/* Read and parse until pred holds; 0, or -1 (timeout, EOF, a protocol error: c->why). */
static int cl_wait(struct cl *c, int (*pred)(const struct cl *), long timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    while (!pred(c)) {
        long left = deadline - now_ms();
        if (left <= 0)
            return cl_fail(c, "no answer within %ld ms", timeout_ms);
        if (cl_read_some(c, left) < 0)
            return -1;
    }
    return 0;
}

/* Nothing arrives for ms and the connection stays open: 0, or -1 (c->why). */
static int cl_quiet(struct cl *c, long ms)
{
    long deadline = now_ms() + ms;
    long records = c->records;
    for (long left = ms; left > 0; left = deadline - now_ms()) {
        int rc = cl_read_some(c, left);
        if (rc < 0)
            return -1;
        if (rc > 0 && c->records != records)
            return cl_fail(c, "an unexpected record (%s, request %u)", type_name(c->p.h.type),
                           c->p.h.id);
    }
    return 0;
}

/* The worker closes the connection within ms (what it sends first is read and dropped).
 * Returns the milliseconds it took, or -1. */
static long cl_wait_close(int fd, long ms)
{
    long t0 = now_ms(), deadline = t0 + ms;
    static uint8_t in[CL_READ_BYTES];
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        ssize_t n = recv(fd, in, sizeof in, 0);
        if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE)))
            return now_ms() - t0;
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
    }
}

/* ---- requests --------------------------------------------------------------------------- */

struct reqspec {
    const char *method, *uri;
    const uint8_t *body;
    size_t body_len;
    int has_body;
    const char *const *headers; /* NAME=VALUE */
    int nheaders;
    size_t params_chunk;
};

struct param {
    char name[128];
    const char *value;
    size_t vlen;
    char own[64];
};

static void param_set(struct param *ps, int *n, const char *name, const char *value, size_t vlen)
{
    int i;
    for (i = 0; i < *n; i++)
        if (strcmp(ps[i].name, name) == 0)
            break;
    if (i == *n) {
        if (*n >= CL_MAX_HEADERS + 24)
            die("too many params");
        (*n)++;
    }
    snprintf(ps[i].name, sizeof ps[i].name, "%s", name);
    ps[i].value = value;
    ps[i].vlen = vlen;
}

#define PARAM(name, v) param_set(ps, &np, name, v, strlen(v))

/* The whole request stream: BEGIN_REQUEST, PARAMS as lighttpd or Apache send them, the empty
 * PARAMS, STDIN with the body, the empty STDIN. */
static void build_request(struct buf *w, const struct reqspec *s, uint16_t id, int keep)
{
    struct param ps[CL_MAX_HEADERS + 24];
    int np = 0;
    char path[2048], clen[32];
    const char *q = strchr(s->uri, '?');
    snprintf(path, sizeof path, "%.*s", (int)(q ? q - s->uri : (long)strlen(s->uri)), s->uri);
    PARAM("GATEWAY_INTERFACE", "CGI/1.1");
    PARAM("SERVER_SOFTWARE", "fcgi_client");
    PARAM("SERVER_PROTOCOL", "HTTP/1.1");
    PARAM("SERVER_NAME", "localhost");
    PARAM("SERVER_ADDR", "127.0.0.1");
    PARAM("SERVER_PORT", "80");
    PARAM("REMOTE_ADDR", "127.0.0.1");
    PARAM("REMOTE_PORT", "54321");
    PARAM("REQUEST_SCHEME", "http");
    PARAM("REQUEST_METHOD", s->method);
    PARAM("REQUEST_URI", s->uri);
    PARAM("DOCUMENT_URI", path);
    PARAM("SCRIPT_NAME", path);
    PARAM("PATH_INFO", "");
    PARAM("QUERY_STRING", q ? q + 1 : "");
    if (s->has_body) {
        snprintf(clen, sizeof clen, "%zu", s->body_len);
        PARAM("CONTENT_LENGTH", clen);
        PARAM("CONTENT_TYPE", "application/json");
    }
    PARAM("HTTP_HOST", "localhost");
    PARAM("HTTP_USER_AGENT", "fcgi_client");
    PARAM("HTTP_ACCEPT", "*/*");
    for (int i = 0; i < s->nheaders; i++) { /* Name=Value: HTTP_NAME, CONTENT_* as CGI has them */
        const char *eq = strchr(s->headers[i], '=');
        char name[128];
        int nl = (int)(eq - s->headers[i]);
        if (strncasecmp(s->headers[i], "content-type=", 13) == 0 ||
            strncasecmp(s->headers[i], "content-length=", 15) == 0)
            snprintf(name, sizeof name, "%.*s", nl, s->headers[i]);
        else
            snprintf(name, sizeof name, "HTTP_%.*s", nl, s->headers[i]);
        for (char *p = name; *p; p++)
            *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        param_set(ps, &np, name, eq + 1, strlen(eq + 1));
    }
    struct buf pairs = {0};
    for (int i = 0; i < np; i++)
        put_pair(&pairs, ps[i].name, ps[i].value, ps[i].vlen);

    uint8_t begin[8] = {0, FCGI_RESPONDER, keep ? FCGI_KEEP_CONN : 0, 0, 0, 0, 0, 0};
    put_record(w, FCGI_BEGIN_REQUEST, id, begin, sizeof begin);
    put_stream(w, FCGI_PARAMS, id, pairs.b, pairs.len, s->params_chunk, 1);
    put_stream(w, FCGI_STDIN, id, s->body, s->body_len, 0, 1);
    buf_free(&pairs);
}

/* The CGI response: a header block ending in CRLF CRLF, with Status and X-Request-Id. Returns
 * the status, or -1 with why. */
static int cgi_status(const struct resp *r, char *why, size_t cap, size_t *header_len)
{
    const char *s = (const char *)r->out.b;
    const char *end = s ? strstr(s, "\r\n\r\n") : NULL;
    if (end == NULL) {
        snprintf(why, cap, "no CGI header block (CRLF CRLF) in %zu bytes of FCGI_STDOUT",
                 r->out_bytes);
        return -1;
    }
    *header_len = (size_t)(end - s) + 4;
    int status = -1, rid = 0;
    for (const char *line = s; line < end;) {
        const char *eol = strstr(line, "\r\n");
        if (memchr(line, ':', (size_t)(eol - line)) == NULL) {
            snprintf(why, cap, "header line without a colon: %.*s", (int)(eol - line), line);
            return -1;
        }
        if (strncasecmp(line, "Status:", 7) == 0)
            status = atoi(line + 7);
        if (strncasecmp(line, "X-Request-Id:", 13) == 0 && eol - line > 14)
            rid = 1;
        line = eol + 2;
    }
    if (status < 100 || status > 599) {
        snprintf(why, cap, "no valid Status header in: %.*s", (int)(end - s), s);
        return -1;
    }
    if (!rid) {
        snprintf(why, cap, "no X-Request-Id header in: %.*s", (int)(end - s), s);
        return -1;
    }
    return status;
}

struct opts {
    const char *connect, *scenario;
    const char *method, *uri, *body_path;
    const char *headers[CL_MAX_HEADERS];
    int nheaders;
    int keep_conn;
    size_t split, params_chunk;
    long pause_us, timeout_ms, deadline_s, pid, max_rss_kb;
    int expect_status;
};

/* Send one request on c and read its whole answer into r; dies on any failure. */
static void do_request(struct cl *c, struct resp *r, const struct reqspec *s, uint16_t id, int keep,
                       size_t split, long pause_us, long timeout_ms, int expect_status)
{
    struct buf w = {0};
    build_request(&w, s, id, keep);
    resp_init(r, id);
    c->r = r;
    if (cl_send(c, w.b, w.len, split, pause_us, timeout_ms) != 0)
        die("%s %s (request %u): sending the request: %s", s->method, s->uri, id, c->why);
    buf_free(&w);
    if (cl_wait(c, pred_ended, timeout_ms) != 0)
        die("%s %s (request %u): %s", s->method, s->uri, id, c->why);
    if (r->proto_status != FCGI_REQUEST_COMPLETE)
        die("%s %s: FCGI_END_REQUEST protocolStatus %u, want FCGI_REQUEST_COMPLETE", s->method,
            s->uri, r->proto_status);
    if (!r->out_closed)
        die("%s %s: FCGI_END_REQUEST without the empty FCGI_STDOUT record closing the stream",
            s->method, s->uri);
    char why[1024];
    size_t hl;
    int status = cgi_status(r, why, sizeof why, &hl);
    if (status < 0)
        die("%s %s: %s", s->method, s->uri, why);
    if (expect_status != 0 && status != expect_status)
        die("%s %s: status %d, want %d; response: %.2000s", s->method, s->uri, status,
            expect_status, (const char *)r->out.b);
}

static uint8_t *read_body(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        die("cannot open %s: %s", path, strerror(errno));
    struct buf b = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    if (f != stdin)
        fclose(f);
    *len = b.len;
    if (b.b == NULL)
        buf_add(&b, "", 0);
    return b.b;
}

/* The request of a scenario: --method and --uri if given, else the scenario's own. */
static struct reqspec spec_from(const struct opts *o, const char *method, const char *uri)
{
    struct reqspec s = {.method = o->method ? o->method : method,
                        .uri = o->uri ? o->uri : uri,
                        .headers = o->headers,
                        .nheaders = o->nheaders,
                        .params_chunk = o->params_chunk};
    return s;
}

/* ---- scenarios -------------------------------------------------------------------------- */

/* request: one request (or --keep-conn N in turn on one connection); prints the CGI answers. */
static int sc_request(const struct opts *o)
{
    struct reqspec s = spec_from(o, o->body_path ? "POST" : "GET", "/api/health");
    uint8_t *body = NULL;
    if (o->body_path != NULL) {
        body = read_body(o->body_path, &s.body_len);
        s.body = body;
        s.has_body = 1;
    }
    int n = o->keep_conn > 0 ? o->keep_conn : 1, keep = o->keep_conn > 0;
    struct cl c;
    cl_open(&c, o->connect);
    for (int i = 0; i < n; i++) {
        struct resp r;
        uint16_t id = (uint16_t)(1 + i % 3); /* ids are reused, as web servers do */
        do_request(&c, &r, &s, id, keep, o->split, o->pause_us, o->timeout_ms, o->expect_status);
        fwrite(r.out.b, 1, r.out.len, stdout);
        if (r.out.len < r.out_bytes)
            printf("\n[... %zu more bytes]\n", r.out_bytes - r.out.len);
        if (r.err.len > 0)
            fprintf(stderr, "fcgi_client: FCGI_STDERR of request %d: %s\n", i + 1,
                    (const char *)r.err.b);
        fflush(stdout);
        if (keep && cl_quiet(&c, 20) != 0)
            die("after request %d of %d with FCGI_KEEP_CONN: %s", i + 1, n, c.why);
        c.r = NULL;
        resp_free(&r);
    }
    if (keep) {
        if (cl_quiet(&c, 200) != 0)
            die("after %d requests with FCGI_KEEP_CONN the connection did not stay open: %s", n,
                c.why);
    } else if (cl_wait_close(c.fd, CL_CLOSE_WITHIN_MS) < 0) {
        die("the worker did not close the connection within %d ms of FCGI_END_REQUEST "
            "(no FCGI_KEEP_CONN)",
            CL_CLOSE_WITHIN_MS);
    }
    cl_close(&c);
    free(body);
    return 0;
}

/* splits: the request stream cut at every byte, on a fresh connection each time. */
static int sc_splits(const struct opts *o)
{
    struct reqspec s = spec_from(o, "GET", "/api/health");
    struct buf w = {0};
    build_request(&w, &s, 1, 0);
    long t0 = now_ms(), slowest = 0;
    for (size_t k = 1; k < w.len; k++) {
        struct cl c;
        struct resp r;
        cl_open(&c, o->connect);
        resp_init(&r, 1);
        c.r = &r;
        long t = now_ms();
        if (write_all(c.fd, w.b, k, 0, 0, o->timeout_ms) != 0)
            die("split at byte %zu of %zu: first write: %s", k, w.len, strerror(errno));
        sleep_us(2000);
        if (write_all(c.fd, w.b + k, w.len - k, 0, 0, o->timeout_ms) != 0)
            die("split at byte %zu of %zu: second write: %s", k, w.len, strerror(errno));
        if (cl_wait(&c, pred_ended, o->timeout_ms) != 0)
            die("split at byte %zu of %zu: %s", k, w.len, c.why);
        char why[1024];
        size_t hl;
        int status = cgi_status(&r, why, sizeof why, &hl);
        if (status != 200)
            die("split at byte %zu of %zu: %s", k, w.len, status < 0 ? why : (const char *)r.out.b);
        if (!r.out_closed || r.proto_status != FCGI_REQUEST_COMPLETE)
            die("split at byte %zu of %zu: stdout closed %d, protocolStatus %u", k, w.len,
                r.out_closed, r.proto_status);
        if (now_ms() - t > slowest)
            slowest = now_ms() - t;
        resp_free(&r);
        cl_close(&c);
    }
    printf("splits: %zu cut positions of a %zu-byte request, all 200 (%ld ms, slowest %ld ms)\n",
           w.len - 1, w.len, now_ms() - t0, slowest);
    buf_free(&w);
    return 0;
}

struct values {
    char names[8][64], vals[8][64];
    int n;
};

static enum lx_err on_value(void *ud, const char *name, size_t nlen, const char *value, size_t vlen)
{
    struct values *v = ud;
    if (v->n == 8 || nlen >= 64 || vlen >= 64)
        return LX_ETOOBIG;
    memcpy(v->names[v->n], name, nlen + 1);
    memcpy(v->vals[v->n], value, vlen + 1);
    v->n++;
    return LX_OK;
}

static int pred_values(const struct cl *c)
{
    return c->got_values > 0;
}

static int pred_unknown(const struct cl *c)
{
    return c->got_unknown > 0;
}

static void check_values(const struct cl *c, const char *how)
{
    struct values v = {0};
    struct fcgi_pairs pp;
    fcgi_pairs_init(&pp, 4096, on_value, &v);
    enum lx_err e = fcgi_pairs_feed(&pp, c->values.b, c->values.len);
    if (e == LX_OK)
        e = fcgi_pairs_finish(&pp);
    fcgi_pairs_free(&pp);
    if (e != LX_OK)
        die("%s: FCGI_GET_VALUES_RESULT content is not name-value pairs: %s", how, lx_strerror(e));
    static const char *const want[] = {FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS};
    for (int k = 0; k < 3; k++) {
        int found = 0;
        for (int i = 0; i < v.n; i++) {
            if (strcmp(v.names[i], want[k]) != 0)
                continue;
            found++;
            const char *val = v.vals[i];
            if (val[0] == '\0' || strspn(val, "0123456789") != strlen(val))
                die("%s: %s=%s is not a number", how, want[k], val);
            if (k == 2 && strcmp(val, "0") != 0)
                die("%s: FCGI_MPXS_CONNS=%s, want 0", how, val);
            if (k < 2 && strtoul(val, NULL, 10) == 0)
                die("%s: %s=0", how, want[k]);
            if (how[0] == '1')
                printf("%s=%s\n", want[k], val);
        }
        if (found != 1)
            die("%s: %s appears %d times in FCGI_GET_VALUES_RESULT", how, want[k], found);
    }
    if (v.n != 3)
        die("%s: FCGI_GET_VALUES_RESULT has %d values (an unknown name must be left out)", how,
            v.n);
}

/* get-values: FCGI_GET_VALUES (whole, then byte by byte), an unknown management type, and a
 * request on the same connection afterwards. */
static int sc_get_values(const struct opts *o)
{
    struct cl c;
    cl_open(&c, o->connect);
    struct buf q = {0}, w = {0};
    put_pair(&q, FCGI_MAX_CONNS, "", 0);
    put_pair(&q, FCGI_MAX_REQS, "", 0);
    put_pair(&q, "LEXRAG_NO_SUCH_VALUE", "", 0);
    put_pair(&q, FCGI_MPXS_CONNS, "", 0);
    put_record(&w, FCGI_GET_VALUES, FCGI_NULL_REQUEST_ID, q.b, q.len);
    for (int round = 1; round <= 2; round++) {
        c.got_values = 0;
        if (write_all(c.fd, w.b, w.len, round == 1 ? 0 : 1, round == 1 ? 0 : 1000, o->timeout_ms) !=
            0)
            die("sending FCGI_GET_VALUES: %s", strerror(errno));
        if (cl_wait(&c, pred_values, o->timeout_ms) != 0)
            die("FCGI_GET_VALUES%s: %s", round == 1 ? "" : " (byte by byte)", c.why);
        check_values(&c, round == 1 ? "1 FCGI_GET_VALUES" : "2 FCGI_GET_VALUES byte by byte");
    }
    /* an unknown management record type, with content and padding */
    w.len = 0;
    put_record(&w, 200, FCGI_NULL_REQUEST_ID, "hello", 5);
    if (write_all(c.fd, w.b, w.len, 0, 0, o->timeout_ms) != 0)
        die("sending record type 200: %s", strerror(errno));
    if (cl_wait(&c, pred_unknown, o->timeout_ms) != 0)
        die("record type 200: %s", c.why);
    if (c.unknown_type != 200)
        die("FCGI_UNKNOWN_TYPE names type %u, want 200", c.unknown_type);
    printf("FCGI_UNKNOWN_TYPE type=%u\n", c.unknown_type);
    /* the connection still serves a request */
    struct resp r;
    struct reqspec s = {.method = "GET", .uri = "/api/health"};
    do_request(&c, &r, &s, 1, 0, 0, 0, o->timeout_ms, 200);
    printf("then GET /api/health: 200\n");
    resp_free(&r);
    buf_free(&q);
    buf_free(&w);
    cl_close(&c);
    return 0;
}

static void send_abort(struct cl *c, uint16_t id, long timeout_ms)
{
    struct buf w = {0};
    put_record(&w, FCGI_ABORT_REQUEST, id, NULL, 0);
    if (write_all(c->fd, w.b, w.len, 0, 0, timeout_ms) != 0)
        die("sending FCGI_ABORT_REQUEST: %s", strerror(errno));
    buf_free(&w);
}

/* abort: FCGI_ABORT_REQUEST for a request that holds 5 s (with and without FCGI_KEEP_CONN),
 * and for one whose params are not even complete; answered at once with FCGI_END_REQUEST. A
 * stale abort (inactive id) is ignored. */
static int sc_abort(const struct opts *o)
{
    struct reqspec s = spec_from(o, "GET", "/api/_test/hold?ms=5000");
    struct reqspec health = {.method = "GET", .uri = "/api/health"};
    for (int variant = 0; variant < 3; variant++) {
        int keep = variant != 1;
        const char *what = variant == 0   ? "held request, FCGI_KEEP_CONN"
                           : variant == 1 ? "held request, no FCGI_KEEP_CONN"
                                          : "request cut inside its params";
        struct cl c;
        struct resp r;
        struct buf w = {0};
        cl_open(&c, o->connect);
        resp_init(&r, 1);
        c.r = &r;
        s.params_chunk = variant == 2 ? 20 : o->params_chunk;
        build_request(&w, &s, 1, keep);
        size_t n = w.len;
        if (variant == 2) /* BEGIN_REQUEST and a first PARAMS record cutting a pair: 20 bytes */
            n = 8 + 8 + 8 + 20 + fcgi_pad_for(20);
        if (write_all(c.fd, w.b, n, 0, 0, o->timeout_ms) != 0)
            die("%s: sending: %s", what, strerror(errno));
        buf_free(&w);
        if (cl_quiet(&c, 300) != 0) /* in flight: nothing yet */
            die("%s: before the abort: %s", what, c.why);
        long t0 = now_ms();
        send_abort(&c, 1, o->timeout_ms);
        if (cl_wait(&c, pred_ended, 4000) != 0)
            die("%s: after FCGI_ABORT_REQUEST: %s", what, c.why);
        long took = now_ms() - t0;
        if (took > CL_ABORT_WITHIN_MS)
            die("%s: FCGI_END_REQUEST came %ld ms after FCGI_ABORT_REQUEST (want < %d)", what, took,
                CL_ABORT_WITHIN_MS);
        printf("abort (%s): FCGI_END_REQUEST after %ld ms, appStatus %u protocolStatus %u, "
               "%zu stdout bytes\n",
               what, took, r.app_status, r.proto_status, r.out_bytes);
        resp_free(&r);
        c.r = NULL;
        if (!keep) {
            if (cl_wait_close(c.fd, CL_CLOSE_WITHIN_MS) < 0)
                die("%s: the connection was not closed after FCGI_END_REQUEST", what);
        } else {
            if (cl_quiet(&c, 100) != 0)
                die("%s: after the abort: %s", what, c.why);
            do_request(&c, &r, &health, 2, 1, 0, 0, o->timeout_ms, 200);
            resp_free(&r);
            c.r = NULL;
            send_abort(&c, 1, o->timeout_ms); /* request 1 is over: ignored */
            send_abort(&c, 2, o->timeout_ms); /* so is 2 */
            if (cl_quiet(&c, 200) != 0)
                die("%s: FCGI_ABORT_REQUEST for an inactive request id: %s", what, c.why);
            do_request(&c, &r, &health, 1, 1, 0, 0, o->timeout_ms, 200);
            resp_free(&r);
            printf("abort (%s): the connection serves the next requests; stale aborts "
                   "ignored\n",
                   what);
        }
        cl_close(&c);
    }
    return 0;
}

static long vm_rss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("cannot read %s: %s", path, strerror(errno));
    long kb = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    if (kb < 0)
        die("no VmRSS in %s", path);
    return kb;
}

static unsigned long query_num(const char *uri, const char *name, unsigned long def)
{
    const char *q = strchr(uri, '?');
    size_t nl = strlen(name);
    for (const char *p = q; p != NULL; p = strchr(p + 1, '&'))
        if (strncmp(p + 1, name, nl) == 0 && p[1 + nl] == '=')
            return strtoul(p + 2 + nl, NULL, 10);
    return def;
}

/* slow-reader: a 256 MB stream not read for 2 s; the worker's RSS must stay bounded (and it
 * must serve others meanwhile), then every byte must arrive. */
static int sc_slow_reader(const struct opts *o)
{
    if (o->pid <= 0)
        die("needs --pid (the worker's)");
    struct reqspec s =
        spec_from(o, "GET", "/api/_test/stream?chunks=4000&interval_ms=0&bytes=65536");
    unsigned long want = query_num(s.uri, "chunks", 1) * query_num(s.uri, "bytes", 1);
    long rss0 = vm_rss_kb(o->pid);
    struct cl c;
    struct resp r;
    struct buf w = {0};
    cl_open(&c, o->connect);
    resp_init(&r, 1);
    c.r = &r;
    build_request(&w, &s, 1, 0);
    if (write_all(c.fd, w.b, w.len, 0, 0, o->timeout_ms) != 0)
        die("sending: %s", strerror(errno));
    buf_free(&w);

    long t0 = now_ms(), rss_max = 0, health_ms = -1;
    while (now_ms() - t0 < 2000) {
        sleep_us(100 * 1000);
        long rss = vm_rss_kb(o->pid);
        if (rss > rss_max)
            rss_max = rss;
        if (health_ms < 0 && now_ms() - t0 >= 1000) { /* others are served meanwhile */
            struct cl h;
            struct resp hr;
            struct reqspec hs = {.method = "GET", .uri = "/api/health"};
            long th = now_ms();
            cl_open(&h, o->connect);
            do_request(&h, &hr, &hs, 1, 0, 0, 0, 1000, 200);
            health_ms = now_ms() - th;
            resp_free(&hr);
            cl_close(&h);
        }
    }
    printf("slow-reader: worker VmRSS %ld kB before, at most %ld kB while not read for 2 s; "
           "GET /api/health meanwhile took %ld ms\n",
           rss0, rss_max, health_ms);
    fflush(stdout);

    long t1 = now_ms();
    if (cl_wait(&c, pred_ended, o->timeout_ms > 120000 ? o->timeout_ms : 120000) != 0)
        die("reading the stream (%zu bytes so far): %s", r.out_bytes, c.why);
    char why[1024];
    size_t hl = 0;
    int status = cgi_status(&r, why, sizeof why, &hl);
    if (status != 200)
        die("stream: %s", status < 0 ? why : (const char *)r.out.b);
    if (!r.out_closed)
        die("stream: no empty FCGI_STDOUT record before FCGI_END_REQUEST");
    size_t got = r.out_bytes - hl;
    long ms = now_ms() - t1;
    printf("slow-reader: %zu body bytes (want %lu) read in %ld ms (%.0f MB/s)\n", got, want, ms,
           ms > 0 ? (double)got / 1e3 / (double)ms : 0.0);
    if (got != want)
        die("stream body has %zu bytes, want %lu", got, want);
    if (o->max_rss_kb > 0 && rss_max > o->max_rss_kb)
        die("the worker's VmRSS reached %ld kB while the client was not reading (bound %ld kB, "
            "%ld kB before)",
            rss_max, o->max_rss_kb, rss0);
    resp_free(&r);
    cl_close(&c);
    return 0;
}

/* garbage: bad input, each on its own connection, must make the worker close it quickly;
 * a good request on a new connection still succeeds. */
static int sc_garbage(const struct opts *o)
{
    struct buf cases[7] = {{0}};
    const char *names[7];
    int nc = 0;
    uint8_t begin[8] = {0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0};

    names[nc] = "a wrong version byte";
    put_record(&cases[nc], FCGI_BEGIN_REQUEST, 1, begin, 8);
    cases[nc++].b[0] = 2;

    names[nc] = "HTTP spoken to the FastCGI socket";
    {
        static const char http[] = "GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n";
        buf_add(&cases[nc++], http, sizeof http - 1);
    }

    names[nc] = "a PARAMS stream over 64 KiB";
    {
        struct buf pairs = {0};
        char *big = malloc(1000);
        memset(big, 'x', 1000);
        put_pair(&pairs, "REQUEST_METHOD", "GET", 3);
        put_pair(&pairs, "REQUEST_URI", "/api/health", 11);
        for (int i = 0; pairs.len <= CL_PARAMS_LIMIT_BYTES + 1024; i++) {
            char name[32];
            snprintf(name, sizeof name, "HTTP_X_PAD_%d", i);
            put_pair(&pairs, name, big, 1000);
        }
        put_record(&cases[nc], FCGI_BEGIN_REQUEST, 1, begin, 8);
        put_stream(&cases[nc], FCGI_PARAMS, 1, pairs.b, pairs.len, 8192, 1);
        put_stream(&cases[nc++], FCGI_STDIN, 1, NULL, 0, 0, 1);
        buf_free(&pairs);
        free(big);
    }

    names[nc] = "a pair whose value runs past the end of PARAMS";
    {
        static const uint8_t cut[] = {11,  100, 'R', 'E', 'Q', 'U', 'E', 'S', 'T', '_',
                                      'U', 'R', 'I', '/', 'a', 'p', 'i', '/', 'h'};
        put_record(&cases[nc], FCGI_BEGIN_REQUEST, 1, begin, 8);
        put_record(&cases[nc], FCGI_PARAMS, 1, cut, sizeof cut);
        put_record(&cases[nc], FCGI_PARAMS, 1, NULL, 0);
        put_record(&cases[nc++], FCGI_STDIN, 1, NULL, 0);
    }

    names[nc] = "a pair length of 0x7fffffff";
    {
        static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x01, 'x'};
        put_record(&cases[nc], FCGI_BEGIN_REQUEST, 1, begin, 8);
        put_record(&cases[nc++], FCGI_PARAMS, 1, huge, sizeof huge);
    }

    names[nc] = "4 KiB of random bytes";
    {
        uint8_t rnd[4096];
        unsigned long x = 0x2545f4914f6cdd1dUL;
        for (size_t i = 0; i < sizeof rnd; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            rnd[i] = (uint8_t)(x >> 24);
        }
        if (rnd[0] == FCGI_VERSION_1)
            rnd[0] = 0x55;
        buf_add(&cases[nc++], rnd, sizeof rnd);
    }

    for (int i = 0; i < nc; i++) {
        int fd = cl_connect(o->connect);
        if (write_all(fd, cases[i].b, cases[i].len, 0, 0, o->timeout_ms) != 0 && errno != EPIPE &&
            errno != ECONNRESET)
            die("%s: sending: %s", names[i], strerror(errno));
        long ms = cl_wait_close(fd, CL_CLOSE_WITHIN_MS);
        if (ms < 0)
            die("%s: the worker did not close the connection within %d ms", names[i],
                CL_CLOSE_WITHIN_MS);
        printf("garbage: %s: closed after %ld ms\n", names[i], ms);
        close(fd);
        buf_free(&cases[i]);
    }
    struct cl c;
    struct resp r;
    struct reqspec s = {.method = "GET", .uri = "/api/health"};
    cl_open(&c, o->connect);
    do_request(&c, &r, &s, 1, 0, 0, 0, o->timeout_ms, 200);
    printf("garbage: then GET /api/health on a new connection: 200\n");
    resp_free(&r);
    cl_close(&c);
    return 0;
}

/* ---- command line ----------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: fcgi_client --connect PATH|HOST:PORT SCENARIO [options]\n"
               "scenarios:\n"
               "  request      one request; prints the CGI response (headers and body)\n"
               "  splits       GET /api/health cut at every byte over two writes, 200 each time\n"
               "  get-values   FCGI_GET_VALUES (MPXS_CONNS=0) and an unknown record type\n"
               "  abort        FCGI_ABORT_REQUEST of GET /api/_test/hold?ms=5000 is answered at "
               "once\n"
               "  slow-reader  GET /api/_test/stream (256 MB) unread for 2 s: bounded worker RSS\n"
               "  garbage      bad input closes the connection; the worker serves on\n"
               "options:\n"
               "  --method M            (GET; POST with --body)\n"
               "  --uri URI             (/api/health; each scenario has its own default)\n"
               "  --body FILE|-         request body (sets CONTENT_LENGTH, CONTENT_TYPE)\n"
               "  --header NAME=VALUE   an HTTP header, as HTTP_NAME (repeatable)\n"
               "  --keep-conn N         N requests in turn on one connection, FCGI_KEEP_CONN\n"
               "  --split K             write in K-byte pieces, pausing between them\n"
               "  --bytewise            --split 1\n"
               "  --pause-us US         the pause between pieces (1000)\n"
               "  --params-chunk N      PARAMS records of at most N bytes (pairs straddle them)\n"
               "  --expect-status N     fail unless the response status is N\n"
               "  --timeout-ms MS       wait for an answer this long (10000)\n"
               "  --pid PID             the worker's pid (slow-reader)\n"
               "  --max-rss-kb KB       slow-reader: fail if the worker's VmRSS exceeds this\n"
               "  --deadline-s S        give up after S seconds in all (300)\n");
}

static long num_arg(const char *opt, const char *v)
{
    char *end;
    long n = v ? strtol(v, &end, 10) : -1;
    if (v == NULL || *v == '\0' || *end != '\0' || n < 0) {
        fprintf(stderr, "fcgi_client: %s wants a number, got %s\n", opt, v ? v : "nothing");
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    struct opts o = {.pause_us = 1000, .timeout_ms = 10000, .deadline_s = 300};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 1;
        if (strcmp(a, "--connect") == 0 && v)
            o.connect = v;
        else if (strcmp(a, "--method") == 0 && v)
            o.method = v;
        else if (strcmp(a, "--uri") == 0 && v)
            o.uri = v;
        else if (strcmp(a, "--body") == 0 && v)
            o.body_path = v;
        else if (strcmp(a, "--header") == 0 && v && strchr(v, '=') && strchr(v, '=') != v &&
                 o.nheaders < CL_MAX_HEADERS)
            o.headers[o.nheaders++] = v;
        else if (strcmp(a, "--keep-conn") == 0)
            o.keep_conn = (int)num_arg(a, v);
        else if (strcmp(a, "--split") == 0)
            o.split = (size_t)num_arg(a, v);
        else if (strcmp(a, "--pause-us") == 0)
            o.pause_us = num_arg(a, v);
        else if (strcmp(a, "--params-chunk") == 0)
            o.params_chunk = (size_t)num_arg(a, v);
        else if (strcmp(a, "--expect-status") == 0)
            o.expect_status = (int)num_arg(a, v);
        else if (strcmp(a, "--timeout-ms") == 0)
            o.timeout_ms = num_arg(a, v);
        else if (strcmp(a, "--pid") == 0)
            o.pid = num_arg(a, v);
        else if (strcmp(a, "--max-rss-kb") == 0)
            o.max_rss_kb = num_arg(a, v);
        else if (strcmp(a, "--deadline-s") == 0)
            o.deadline_s = num_arg(a, v);
        else if (strcmp(a, "--bytewise") == 0)
            o.split = 1, used = 0;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage(stdout), 0;
        else if (a[0] != '-' && o.scenario == NULL)
            o.scenario = a, used = 0;
        else
            return fprintf(stderr, "fcgi_client: bad argument %s\n", a), usage(stderr), 2;
        i += used;
    }
    if (o.connect == NULL || o.scenario == NULL)
        return usage(stderr), 2;
    cl_scenario = o.scenario;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)o.deadline_s);
    static const struct {
        const char *name;
        int (*fn)(const struct opts *);
    } scenarios[] = {
        {"request", sc_request}, {"splits", sc_splits},           {"get-values", sc_get_values},
        {"abort", sc_abort},     {"slow-reader", sc_slow_reader}, {"garbage", sc_garbage},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(o.scenario, scenarios[i].name) == 0)
            return scenarios[i].fn(&o);
    fprintf(stderr, "fcgi_client: unknown scenario %s\n", o.scenario);
    usage(stderr);
    return 2;
}
