/* fcgi/main.c -- lexrag-fcgi: command line, config, the listening socket, then the worker's
 * loop. The socket is fd 0 when spawned by spawn-fcgi (the FastCGI convention), or made here
 * from --listen (a unix socket path or host:port) for development and tests. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../shared/cfg.h"
#include "../shared/log.h"
#include "worker.h"

#define LISTEN_BACKLOG 1024

static void usage(FILE *f)
{
    fprintf(f, "usage: lexrag-fcgi [--config PATH] [--listen PATH|HOST:PORT] [--check-config]\n"
               "\n"
               "A lexrag FastCGI worker. Without --listen (or server.listen) it serves the\n"
               "listening socket on fd 0, as spawn-fcgi hands it over. The config path may also\n"
               "come from LEXRAG_CONFIG; without one the embedded defaults are used.\n");
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "lexrag-fcgi: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* a stale socket of an earlier run */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(fd, LISTEN_BACKLOG) != 0) {
        fprintf(stderr, "lexrag-fcgi: cannot listen on %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int listen_tcp(const char *spec)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || (size_t)(colon - spec) >= sizeof host) {
        fprintf(stderr, "lexrag-fcgi: --listen wants PATH or HOST:PORT, got %s\n", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE},
                    *ai;
    int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "lexrag-fcgi: %s: %s\n", spec, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        fprintf(stderr, "lexrag-fcgi: cannot listen on %s: %s\n", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* fd 0 must be a listening stream socket: say so plainly when run by hand from a terminal. */
static int stdin_socket(void)
{
    int type = 0, acc = 0;
    socklen_t len = sizeof type, len2 = sizeof acc;
    if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
        getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len2) != 0 || !acc) {
        fprintf(stderr, "lexrag-fcgi: fd 0 is not a listening socket; run under spawn-fcgi or "
                        "give --listen PATH|HOST:PORT\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"check-config", no_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = getenv("LEXRAG_CONFIG"), *listen_spec = NULL;
    int check_only = 0, o;
    while ((o = getopt_long(argc, argv, "c:l:kh", opts, NULL)) != -1) {
        switch (o) {
        case 'c': config_path = optarg; break;
        case 'l': listen_spec = optarg; break;
        case 'k': check_only = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    struct cfg cfg;
    char *err = NULL;
    if (cfg_load(&cfg, config_path, &err) != 0) {
        fprintf(stderr, "lexrag-fcgi: config: %s\n", err);
        free(err);
        return 2;
    }
    if (check_only) {
        printf("config ok: %s\n", config_path ? config_path : "(embedded defaults)");
        return 0;
    }
    enum log_level lvl;
    if (log_level_parse(cfg.log_level, &lvl) == 0)
        log_set_level(lvl);
    signal(SIGPIPE, SIG_IGN);

    if (listen_spec == NULL && cfg.listen[0] != '\0')
        listen_spec = cfg.listen;
    int fd;
    if (listen_spec != NULL)
        fd = strchr(listen_spec, '/') != NULL || strchr(listen_spec, ':') == NULL
                 ? listen_unix(listen_spec)
                 : listen_tcp(listen_spec);
    else
        fd = stdin_socket() == 0 ? 0 : -1;
    if (fd < 0)
        return 1;

    struct worker *w = worker_new(&cfg, config_path, fd);
    if (w == NULL) {
        fprintf(stderr, "lexrag-fcgi: cannot start the event loop\n");
        return 1;
    }
    int rc = worker_run(w);
    worker_free(w);
    return rc;
}
