/* tests/unit/evloop_test.h -- what the adapter tests (test_pg_ev.c, test_rds.c,
 * test_up_multi.c) share: a monotonic clock, running an event_base until a counter reaches a
 * value or a deadline passes, a watchdog that turns a stuck loop into a failure instead of a
 * hang, an environment lookup that skips a test when its backend is not configured, and a
 * loopback port nobody listens on, and the fixture every such test starts from. Header-only
 * (static inline): each test is one program. */
#ifndef LX_TESTS_UNIT_EVLOOP_TEST_H
#define LX_TESTS_UNIT_EVLOOP_TEST_H

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline struct timeval tv_ms(unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

static inline void evt_set_flag(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    *(int *)ud = 1;
}

/* Run the loop until *count >= want or max_ms pass. 0 if the count was reached. A loop that
 * has nothing left to wait for ends the run early (the count then decides). */
static inline int run_until(struct event_base *b, const int *count, int want, unsigned max_ms)
{
    int expired = 0;
    struct event *deadline = evtimer_new(b, evt_set_flag, &expired);
    struct timeval tv = tv_ms(max_ms);
    if (deadline == NULL || evtimer_add(deadline, &tv) != 0)
        abort();
    while (*count < want && !expired)
        if (event_base_loop(b, EVLOOP_ONCE) != 0)
            break;
    event_free(deadline);
    return *count >= want ? 0 : -1;
}

/* Run the loop for ms milliseconds, whatever happens. */
static inline void run_for(struct event_base *b, unsigned ms)
{
    int never = 0;
    (void)run_until(b, &never, 1, ms);
}

/* A loop blocked inside a library call never returns to the deadline timer: the alarm ends the
 * test program instead (tests/run then counts a failure). */
static const char *watchdog_what = "";

static inline void watchdog_fire(int sig)
{
    (void)sig;
    static const char msg[] = "not ok - watchdog: the event loop is stuck in: ";
    ssize_t w = write(2, msg, sizeof msg - 1);
    w = write(2, watchdog_what, strlen(watchdog_what));
    w = write(2, "\n", 1);
    (void)w;
    _exit(3);
}

static inline void watchdog_arm(const char *what, unsigned s)
{
    watchdog_what = what;
    signal(SIGALRM, watchdog_fire);
    alarm(s);
}

static inline void watchdog_disarm(void)
{
    alarm(0);
}

/* Skipping. cmocka 1.1.5 prints a skipped test as "not ok N # SKIP" in TAP, which tests/run
 * counts as a failure. So under TAP (CMOCKA_MESSAGE_OUTPUT=TAP, as tests/run runs them) a
 * program whose backend is not configured prints "1..0 # SKIP why" and exits 0 (skip_all), and
 * a test that cannot run prints its reason and passes; elsewhere SKIP_TEST is cmocka's skip(). */
static inline int tap_output(void)
{
    const char *o = getenv("CMOCKA_MESSAGE_OUTPUT");
    return o != NULL && strcasecmp(o, "TAP") == 0;
}

#define SKIP_TEST(why)                                                                             \
    do {                                                                                           \
        printf("# SKIP: %s\n", why);                                                               \
        fflush(stdout);                                                                            \
        if (tap_output())                                                                          \
            return;                                                                                \
        skip();                                                                                    \
    } while (0)

/* Under TAP, when the variable is unset or empty: print the plan of a skipped program and
 * say so (the caller returns 0 from main); otherwise 0, and the tests skip one by one. */
static inline int skip_all(const char *var)
{
    const char *v = getenv(var);
    if ((v != NULL && v[0] != '\0') || !tap_output())
        return 0;
    printf("1..0 # SKIP %s is not set (tests/web/test_adapters.sh sets it)\n", var);
    return 1;
}

/* The value of an environment variable, or NULL when it is unset or empty. */
static inline const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* A loopback TCP port with no listener: bound to port 0, then closed. */
static inline int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        abort();
    close(fd);
    return ntohs(sa.sin_port);
}

/* A loopback port whose SYNs go unanswered: a listener with a backlog of 0 whose accept queue
 * is already full (one connection, never accepted). Connecting to it hangs in SYN_SENT, as to
 * a host behind a firewall that drops packets. fds[0] is the listener, fds[1] the filler;
 * returns the port, or -1 if the kernel answered anyway (then the caller skips). */
static inline int blackhole_port(int fds[2])
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[0] < 0 || bind(fds[0], (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fds[0], (struct sockaddr *)&sa, &sl) != 0 || listen(fds[0], 0) != 0)
        abort();
    fds[1] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[1] < 0 || connect(fds[1], (struct sockaddr *)&sa, sizeof sa) != 0)
        abort();
    /* Probe: a third connection must not complete within 200 ms. */
    int probe = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int rc = connect(probe, (struct sockaddr *)&sa, sizeof sa);
    int hangs = rc != 0;
    if (hangs) {
        fd_set w;
        FD_ZERO(&w);
        FD_SET(probe, &w);
        struct timeval tv = {0, 200000};
        hangs = select(probe + 1, NULL, &w, NULL, &tv) == 0;
    }
    close(probe);
    if (!hangs) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    return ntohs(sa.sin_port);
}

/* The fixture of an adapter test: a fresh loop in *base, the callback counter zeroed, a watchdog
 * of 60 s named what. 0, or -1 if the loop cannot be made. */
static inline int evloop_setup(struct event_base **base, int *ndone, const char *what)
{
    *base = event_base_new();
    *ndone = 0;
    watchdog_arm(what, 60);
    return *base == NULL ? -1 : 0;
}

static inline void evloop_teardown(struct event_base **base)
{
    watchdog_disarm();
    event_base_free(*base);
    *base = NULL;
}

#endif
