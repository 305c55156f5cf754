/* shared/spool.c -- the durable spool of unwritten exchanges (spool.h). One file per record,
 * written to a temporary name, fsynced, renamed into place, and the directory fsynced.
 *
 * A scan hands records out oldest first: its first spool_next() reads the directory into a
 * snapshot sorted by (mtime, id) and walks it; when the snapshot is used up, the directory is
 * read once more for records put since, so a scan costs about two directory reads however many
 * records it hands out. The ids handed out in the scan are kept in a sorted array, which is what
 * "not yet handed out" means across those re-reads; spool_rewind() empties it. The directory is
 * held open (dfd) and every file operation is relative to it. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SPOOL_SUFFIX     ".json"
#define SPOOL_TMP_PREFIX ".tmp-"
/* "<id>.json" and ".tmp-<id>-<pid>" fit easily. */
#define SPOOL_NAME_BYTES (LX_SPOOL_ID_MAX_BYTES + 32)

struct spool_ent {
    struct timespec mtime;
    char id[LX_SPOOL_ID_MAX_BYTES + 1];
};

struct spool {
    char *dir; /* as given, for messages */
    int dfd;   /* the directory, O_DIRECTORY */
    size_t max, count;
    struct spool_ent *snap; /* the current scan pass: not yet handed out, oldest first */
    size_t nsnap, pos;
    char (*handed)[LX_SPOOL_ID_MAX_BYTES + 1]; /* ids handed out in this scan, sorted */
    size_t nhanded, caphanded;
};

/* ---------------------------------------------------------------- helpers */

static void spool_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void spool_set_err(char **err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(*err);
    *err = strdup(buf); /* NULL if even that fails: the caller still sees the -1 / NULL */
}

int spool_id_valid(const char *id)
{
    if (id == NULL)
        return 0;
    size_t n = 0;
    for (; id[n] != '\0'; n++) {
        char c = id[n];
        if (n == LX_SPOOL_ID_MAX_BYTES || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                            (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return n > 0;
}

/* The id of a record file name ("<id>.json"), into id; 0 if name is not one. */
static int record_id(const char *name, char *id)
{
    size_t n = strlen(name), sl = sizeof SPOOL_SUFFIX - 1;
    if (n <= sl || n - sl > LX_SPOOL_ID_MAX_BYTES || strcmp(name + n - sl, SPOOL_SUFFIX) != 0)
        return 0;
    memcpy(id, name, n - sl);
    id[n - sl] = '\0';
    return spool_id_valid(id);
}

static void record_name(char *out, const char *id)
{
    snprintf(out, SPOOL_NAME_BYTES, "%s" SPOOL_SUFFIX, id);
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

static int ent_cmp(const void *pa, const void *pb)
{
    const struct spool_ent *a = pa, *b = pb;
    int c = ts_cmp(&a->mtime, &b->mtime);
    return c != 0 ? c : strcmp(a->id, b->id);
}

/* A temporary file ".tmp-<id>-<pid>" whose writer is gone: old, and its pid not alive. Our own
 * pid counts as gone: a single-threaded process opening its spool is in no put, so such a
 * file was left by an earlier process that had our pid. kill(pid, 0) failing with EPERM means
 * the pid is alive under another user. */
static int tmp_is_stale(const char *name, const struct stat *st, time_t now)
{
    if (st->st_mtime > now - LX_SPOOL_TMP_STALE_S)
        return 0;
    const char *dash = strrchr(name, '-');
    char *end;
    long pid = dash ? strtol(dash + 1, &end, 10) : 0;
    if (dash == NULL || end == dash + 1 || *end != '\0' || pid <= 0 || pid == (long)getpid())
        return 1;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Read the directory: every record (its id and mtime) into *out (malloc'ed, unsorted; NULL
 * when want_list is 0) and their number into *n; with clean_tmp, remove stale temporary
 * files. 0, or -1 with errno set. */
static int read_dir(struct spool *s, int want_list, int clean_tmp, struct spool_ent **out,
                    size_t *n)
{
    struct spool_ent *ents = NULL;
    size_t cnt = 0, cap = 0;
    int fd = openat(s->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    time_t now = time(NULL);
    struct dirent *de;
    int rc = 0;
    for (;;) {
        errno = 0;
        if ((de = readdir(d)) == NULL) {
            rc = errno != 0 ? -1 : 0;
            break;
        }
        struct stat st;
        char id[LX_SPOOL_ID_MAX_BYTES + 1];
        if (clean_tmp && strncmp(de->d_name, SPOOL_TMP_PREFIX, sizeof SPOOL_TMP_PREFIX - 1) == 0) {
            if (fstatat(s->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
                tmp_is_stale(de->d_name, &st, now))
                unlinkat(s->dfd, de->d_name, 0); /* ENOENT: another process cleaned it */
            continue;
        }
        if (!record_id(de->d_name, id))
            continue;
        if (fstatat(s->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue; /* removed meanwhile, or not ours */
        if (want_list) {
            if (cnt == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                struct spool_ent *ne = realloc(ents, ncap * sizeof *ne);
                if (ne == NULL) {
                    rc = -1;
                    errno = ENOMEM;
                    break;
                }
                ents = ne;
                cap = ncap;
            }
            ents[cnt].mtime = st.st_mtim;
            memcpy(ents[cnt].id, id, sizeof id);
        }
        cnt++;
    }
    int e = errno;
    closedir(d);
    if (rc != 0) {
        free(ents);
        errno = e;
        return -1;
    }
    if (out != NULL)
        *out = ents;
    *n = cnt;
    return 0;
}

/* ---------------------------------------------------------------- open, close */

struct spool *spool_open(const char *dir, size_t max_records, char **err)
{
    if (dir == NULL || dir[0] == '\0') {
        spool_set_err(err, "spool: no directory given");
        return NULL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        spool_set_err(err, "spool: cannot create directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        spool_set_err(err, "spool: cannot open directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    /* AT_EACCESS: the effective ids, which are the ones that will create the files. Root
     * passes this on any mode bits, but a read-only file system still fails. */
    if (faccessat(dfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
        spool_set_err(err, "spool: directory %s is not writable: %s", dir, strerror(errno));
        close(dfd);
        return NULL;
    }
    struct spool *s = calloc(1, sizeof *s);
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        spool_set_err(err, "spool: out of memory");
        free(s);
        close(dfd);
        return NULL;
    }
    s->dfd = dfd;
    s->max = max_records;
    if (read_dir(s, 0, 1, NULL, &s->count) != 0) {
        spool_set_err(err, "spool: cannot read directory %s: %s", dir, strerror(errno));
        spool_close(s);
        return NULL;
    }
    return s;
}

void spool_close(struct spool *s)
{
    if (s == NULL)
        return;
    if (s->dfd >= 0)
        close(s->dfd);
    free(s->snap);
    free(s->handed);
    free(s->dir);
    free(s);
}

size_t spool_count(const struct spool *s)
{
    return s->count;
}

/* ---------------------------------------------------------------- put */

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int spool_put(struct spool *s, const char *id, const void *data, size_t len, char **err)
{
    if (!spool_id_valid(id)) {
        spool_set_err(err, "spool: invalid record id (want [A-Za-z0-9-]{1,%d})",
                      LX_SPOOL_ID_MAX_BYTES);
        return -1;
    }
    if (len > LX_SPOOL_RECORD_MAX_BYTES) {
        spool_set_err(err, "spool: record %s too large (%zu bytes, at most %d)", id, len,
                      LX_SPOOL_RECORD_MAX_BYTES);
        return -1;
    }
    char name[SPOOL_NAME_BYTES], tmp[SPOOL_NAME_BYTES];
    record_name(name, id);
    struct stat st;
    int exists = fstatat(s->dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (!exists && s->max != 0 && s->count >= s->max) {
        /* Our count may be stale (other processes remove records too): look again. */
        size_t n;
        if (read_dir(s, 0, 0, NULL, &n) == 0)
            s->count = n;
        if (s->count >= s->max) {
            spool_set_err(err, "spool: %s is full (%zu records, max_records %zu)", s->dir, s->count,
                          s->max);
            return -1;
        }
    }
    snprintf(tmp, sizeof tmp, SPOOL_TMP_PREFIX "%s-%ld", id, (long)getpid());
    int fd = openat(s->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        spool_set_err(err, "spool: cannot create %s/%s: %s", s->dir, tmp, strerror(errno));
        return -1;
    }
    const char *what = "write";
    int ok = write_all(fd, data, len) == 0;
    if (ok && !(ok = fsync(fd) == 0))
        what = "fsync";
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
        what = "close";
    }
    if (ok && !(ok = renameat(s->dfd, tmp, s->dfd, name) == 0)) {
        e = errno;
        what = "rename";
    }
    if (!ok) {
        unlinkat(s->dfd, tmp, 0);
        spool_set_err(err, "spool: cannot %s %s/%s: %s", what, s->dir, tmp, strerror(e));
        return -1;
    }
    if (!exists)
        s->count++;
    if (fsync(s->dfd) != 0) { /* the record is in place, but a crash might lose it */
        spool_set_err(err, "spool: cannot fsync directory %s: %s", s->dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- scan */

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int handed_has(const struct spool *s, const char *id)
{
    return s->nhanded > 0 && bsearch(id, s->handed, s->nhanded, sizeof s->handed[0], id_cmp);
}

static int handed_add(struct spool *s, const char *id)
{
    size_t lo = 0, hi = s->nhanded;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->handed[mid], id);
        if (c == 0)
            return 0;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (s->nhanded == s->caphanded) {
        size_t ncap = s->caphanded ? s->caphanded * 2 : 64;
        void *nh = realloc(s->handed, ncap * sizeof s->handed[0]);
        if (nh == NULL) {
            errno = ENOMEM;
            return -1;
        }
        s->handed = nh;
        s->caphanded = ncap;
    }
    memmove(s->handed[lo + 1], s->handed[lo], (s->nhanded - lo) * sizeof s->handed[0]);
    snprintf(s->handed[lo], sizeof s->handed[0], "%s", id);
    s->nhanded++;
    return 0;
}

/* A new snapshot: the records of the directory not handed out yet, oldest first. */
static int load_snapshot(struct spool *s)
{
    struct spool_ent *ents;
    size_t n, keep = 0;
    if (read_dir(s, 1, 0, &ents, &n) != 0)
        return -1;
    s->count = n;
    for (size_t i = 0; i < n; i++)
        if (!handed_has(s, ents[i].id))
            ents[keep++] = ents[i];
    if (keep > 1)
        qsort(ents, keep, sizeof ents[0], ent_cmp);
    free(s->snap);
    s->snap = ents;
    s->nsnap = keep;
    s->pos = 0;
    return 0;
}

/* Read the record file name whole. 0, or -1 with errno set (ENOENT: it is gone). */
static int read_record(struct spool *s, const char *name, void **data, size_t *len)
{
    int fd = openat(s->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int e = 0;
    if (fstat(fd, &st) != 0) {
        e = errno;
    } else if (!S_ISREG(st.st_mode) || st.st_size > LX_SPOOL_RECORD_MAX_BYTES) {
        e = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
    } else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        e = ENOMEM;
    } else {
        /* A record file never changes once renamed into place (a new put replaces the
         * inode), so its size is its length; stop short at an early EOF all the same. */
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                e = errno;
                break;
            }
            if (r == 0)
                break;
            got += (size_t)r;
        }
    }
    close(fd);
    if (e != 0) {
        free(buf);
        errno = e;
        return -1;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return 0;
}

int spool_next(struct spool *s, char *id_out, size_t cap, void **data, size_t *len)
{
    if (cap <= LX_SPOOL_ID_MAX_BYTES) {
        errno = ERANGE;
        return -1;
    }
    id_out[0] = '\0';
    *data = NULL;
    *len = 0;
    int reloaded = 0;
    for (;;) {
        while (s->pos < s->nsnap) {
            const struct spool_ent *e = &s->snap[s->pos++];
            if (handed_has(s, e->id))
                continue;
            if (handed_add(s, e->id) != 0)
                return -1;
            char name[SPOOL_NAME_BYTES];
            record_name(name, e->id);
            if (read_record(s, name, data, len) == 0) {
                snprintf(id_out, cap, "%s", e->id);
                return 1;
            }
            if (errno == ENOENT) /* removed by another process since the directory read */
                continue;
            int err = errno;
            snprintf(id_out, cap, "%s", e->id);
            errno = err;
            return -1;
        }
        if (reloaded)
            return 0;
        if (load_snapshot(s) != 0)
            return -1;
        reloaded = 1;
    }
}

void spool_rewind(struct spool *s)
{
    s->nhanded = 0;
    s->nsnap = 0;
    s->pos = 0;
}

/* ---------------------------------------------------------------- remove */

int spool_remove(struct spool *s, const char *id)
{
    if (!spool_id_valid(id)) {
        errno = EINVAL;
        return -1;
    }
    char name[SPOOL_NAME_BYTES];
    record_name(name, id);
    if (unlinkat(s->dfd, name, 0) != 0)
        return errno == ENOENT ? 0 : -1;
    if (s->count > 0)
        s->count--;
    return 0;
}
