/* tests/unit/test_spool.c -- the on-disk spool (shared/spool.c): put/next/remove round trips,
 * the scan order (mtime, then id), persistence across close and open (a worker restart), ids
 * that must be refused, max_records, putting an id twice, two handles on one directory (as two
 * workers), removal of stale temporary files at open, unreadable records, and directories that
 * cannot be used giving a clear error. Each test works in its own temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <sys/wait.h>

#include "../../shared/spool.c"

/* ---------------------------------------------------------------- fixture */

struct fx {
    char root[64];  /* mkdtemp */
    char dir[128];  /* root/spool: created by spool_open */
    char path[256]; /* scratch */
};

#include "test_helpers.h"

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->root, sizeof f->root, "%s/lx_test_spool.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->root) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof f->dir, "%s/spool", f->root);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    chmod(f->root, 0700);
    chmod(f->dir, 0700);
    rm_tree(f->root);
    free(f);
    return 0;
}

static const char *fx_path(struct fx *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    return f->path;
}

static struct spool *open_ok(const char *dir, size_t max)
{
    char *err = NULL;
    struct spool *s = spool_open(dir, max, &err);
    if (s == NULL)
        fail_msg("spool_open(%s): %s", dir, err ? err : "?");
    assert_null(err);
    return s;
}

static void put_ok(struct spool *s, const char *id, const char *data)
{
    char *err = NULL;
    if (spool_put(s, id, data, strlen(data), &err) != 0)
        fail_msg("spool_put(%s): %s", id, err ? err : "?");
    assert_null(err);
}

/* Set the mtime of dir/name to sec (seconds since the epoch). */
static void set_mtime(struct fx *f, const char *name, time_t sec)
{
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    assert_int_equal(utimensat(AT_FDCWD, fx_path(f, name), ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void set_record_mtime(struct fx *f, const char *id, time_t sec)
{
    char name[SPOOL_NAME_BYTES];
    record_name(name, id);
    set_mtime(f, name, sec);
}

/* The next record must be want_id holding want_data. */
static void next_is(struct spool *s, const char *want_id, const char *want_data, int line)
{
    char id[LX_SPOOL_ID_MAX_BYTES + 1];
    void *data = NULL;
    size_t len = 0;
    int rc = spool_next(s, id, sizeof id, &data, &len);
    if (rc != 1)
        fail_msg("line %d: spool_next gave %d (errno %d), want %s", line, rc, errno, want_id);
    if (strcmp(id, want_id) != 0)
        fail_msg("line %d: spool_next gave %s, want %s", line, id, want_id);
    if (want_data != NULL) {
        assert_int_equal(len, strlen(want_data));
        assert_memory_equal(data, want_data, len);
        assert_int_equal(((char *)data)[len], '\0');
    }
    free(data);
}

static void next_none(struct spool *s, int line)
{
    char id[LX_SPOOL_ID_MAX_BYTES + 1];
    void *data = (void *)1;
    size_t len = 1;
    int rc = spool_next(s, id, sizeof id, &data, &len);
    if (rc != 0)
        fail_msg("line %d: spool_next gave %d (%s), want none", line, rc, rc == 1 ? id : "-1");
    assert_null(data);
    assert_int_equal(len, 0);
}

/* Entries of dir other than . and .. */
static size_t dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void touch(struct fx *f, const char *name, const char *content)
{
    FILE *fp = fopen(fx_path(f, name), "w");
    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
}

/* ---------------------------------------------------------------- tests */

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, 0);
    struct stat st;
    assert_int_equal(stat(f->dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0077, 0); /* 0700 */
    assert_int_equal(spool_count(s), 0);
    next_none(s, __LINE__);

    put_ok(s, "msg-1", "{\"q\":\"satu\"}");
    put_ok(s, "msg-2", "{\"q\":\"dua \xe2\x80\x94 Pasal 2\"}");
    put_ok(s, "msg-3", "");
    assert_int_equal(spool_count(s), 3);
    assert_int_equal(stat(fx_path(f, "msg-1.json"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(dir_entries(f->dir), 3); /* no temporary file left */
    set_record_mtime(f, "msg-1", 1000);
    set_record_mtime(f, "msg-2", 2000);
    set_record_mtime(f, "msg-3", 3000);

    spool_rewind(s);
    next_is(s, "msg-1", "{\"q\":\"satu\"}", __LINE__);
    next_is(s, "msg-2", "{\"q\":\"dua \xe2\x80\x94 Pasal 2\"}", __LINE__);
    next_is(s, "msg-3", "", __LINE__);
    next_none(s, __LINE__);
    next_none(s, __LINE__); /* stays exhausted */

    spool_rewind(s); /* a new scan hands everything out again */
    next_is(s, "msg-1", NULL, __LINE__);
    assert_int_equal(spool_remove(s, "msg-1"), 0);
    assert_int_equal(spool_count(s), 2);
    next_is(s, "msg-2", NULL, __LINE__);
    assert_int_equal(spool_remove(s, "msg-2"), 0);
    assert_int_equal(spool_remove(s, "msg-3"), 0);
    next_none(s, __LINE__);
    assert_int_equal(spool_count(s), 0);
    assert_int_equal(dir_entries(f->dir), 0);
    assert_int_equal(spool_remove(s, "msg-3"), 0); /* already gone: fine */
    assert_int_equal(spool_count(s), 0);

    /* binary data, NULs included */
    const char bin[] = {'a', '\0', 'b', '\xff', '\0'};
    assert_int_equal(spool_put(s, "bin", bin, sizeof bin, NULL), 0);
    char id[LX_SPOOL_ID_MAX_BYTES + 1];
    void *data;
    size_t len;
    assert_int_equal(spool_next(s, id, sizeof id, &data, &len), 1);
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(data, bin, sizeof bin);
    free(data);
    spool_close(s);
    spool_close(NULL);
}

/* The scan order: mtime, then id; table-driven. */
static const struct {
    int line;
    const char *ids[5];
    time_t mtime[5];
    const char *order[5];
} order_cases[] = {
    {__LINE__, {"c", "a", "b"}, {300, 200, 100}, {"b", "a", "c"}},
    {__LINE__, {"c", "a", "b"}, {100, 100, 100}, {"a", "b", "c"}},
    {__LINE__, {"b-2", "b-10", "a"}, {50, 50, 60}, {"b-10", "b-2", "a"}},
    {__LINE__, {"Z", "z", "0", "-"}, {7, 7, 7, 6}, {"-", "0", "Z", "z"}},
    {__LINE__, {"x"}, {1}, {"x"}},
};

static void test_order(void **state)
{
    struct fx *f = *state;
    for (size_t c = 0; c < sizeof order_cases / sizeof order_cases[0]; c++) {
        struct spool *s = open_ok(f->dir, 0);
        size_t n = 0;
        for (; n < 5 && order_cases[c].ids[n]; n++) {
            put_ok(s, order_cases[c].ids[n], order_cases[c].ids[n]);
            set_record_mtime(f, order_cases[c].ids[n], order_cases[c].mtime[n]);
        }
        spool_rewind(s);
        for (size_t i = 0; i < n; i++)
            next_is(s, order_cases[c].order[i], order_cases[c].order[i], order_cases[c].line);
        next_none(s, order_cases[c].line);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(spool_remove(s, order_cases[c].ids[i]), 0);
        assert_int_equal(dir_entries(f->dir), 0);
        spool_close(s);
    }
}

static void test_restart(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, 10);
    put_ok(s, "a1", "first");
    put_ok(s, "b2", "second");
    set_record_mtime(f, "a1", 100);
    set_record_mtime(f, "b2", 200);
    next_is(s, "a1", "first", __LINE__); /* handed out, never removed: the worker died */
    spool_close(s);

    s = open_ok(f->dir, 10); /* the restarted worker */
    assert_int_equal(spool_count(s), 2);
    next_is(s, "a1", "first", __LINE__);
    next_is(s, "b2", "second", __LINE__);
    next_none(s, __LINE__);
    assert_int_equal(spool_remove(s, "a1"), 0);
    spool_close(s);

    s = open_ok(f->dir, 10);
    assert_int_equal(spool_count(s), 1);
    next_is(s, "b2", "second", __LINE__);
    next_none(s, __LINE__);
    spool_close(s);
}

static const struct {
    int line;
    const char *id;
    int valid;
} id_cases[] = {
    {__LINE__, "0b6c1c9e-1d2f-4c33-9a57-2f1e7f1f0a11", 1},
    {__LINE__, "a", 1},
    {__LINE__, "-", 1},
    {__LINE__, "ABC-xyz-019", 1},
    {__LINE__, "1234567890123456789012345678901234567890123456789012345678901234", 1},  /* 64 */
    {__LINE__, "12345678901234567890123456789012345678901234567890123456789012345", 0}, /* 65 */
    {__LINE__, "", 0},
    {__LINE__, NULL, 0},
    {__LINE__, ".", 0},
    {__LINE__, "..", 0},
    {__LINE__, "../etc/passwd", 0},
    {__LINE__, "a/b", 0},
    {__LINE__, "a.json", 0},
    {__LINE__, ".tmp-a-1", 0},
    {__LINE__, "a b", 0},
    {__LINE__, "a_b", 0},
    {__LINE__, "a\nb", 0},
    {__LINE__, "caf\xc3\xa9", 0},
    {__LINE__, "a*", 0},
};

static void test_ids(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, 0);
    size_t want = 0;
    for (size_t i = 0; i < sizeof id_cases / sizeof id_cases[0]; i++) {
        char *err = NULL;
        int v = spool_id_valid(id_cases[i].id);
        if (v != id_cases[i].valid)
            fail_msg("line %d: spool_id_valid gave %d", id_cases[i].line, v);
        int rc = spool_put(s, id_cases[i].id, "x", 1, &err);
        if (id_cases[i].valid) {
            if (rc != 0)
                fail_msg("line %d: put refused: %s", id_cases[i].line, err);
            want++;
        } else {
            if (rc != -1 || err == NULL || strstr(err, "invalid record id") == NULL)
                fail_msg("line %d: put gave %d, err %s", id_cases[i].line, rc, err ? err : "-");
            errno = 0;
            if (spool_remove(s, id_cases[i].id) != -1 || errno != EINVAL)
                fail_msg("line %d: remove accepted a bad id", id_cases[i].line);
        }
        free(err);
    }
    assert_int_equal(spool_count(s), want);
    assert_int_equal(dir_entries(f->dir), want);
    assert_int_equal(dir_entries(f->root), 1); /* nothing escaped the directory */
    spool_close(s);
}

static void test_max_records(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, 3);
    put_ok(s, "r1", "1");
    put_ok(s, "r2", "2");
    put_ok(s, "r3", "3");
    char *err = NULL;
    assert_int_equal(spool_put(s, "r4", "4", 1, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "full"));
    assert_non_null(strstr(err, f->dir));
    assert_int_equal(spool_count(s), 3);
    put_ok(s, "r2", "2 again"); /* replacing a record needs no room */
    assert_int_equal(spool_count(s), 3);
    assert_int_equal(spool_remove(s, "r1"), 0);
    put_ok(s, "r4", "4");
    assert_int_equal(spool_count(s), 3);
    assert_int_equal(spool_put(s, "r5", "5", 1, &err), -1); /* err replaced, not leaked */
    assert_non_null(strstr(err, "full"));
    free(err);
    err = NULL;

    /* Another process removes a record: our count is stale, the put looks again. */
    assert_int_equal(unlink(fx_path(f, "r3.json")), 0);
    assert_int_equal(spool_count(s), 3);
    put_ok(s, "r5", "5");
    assert_int_equal(spool_count(s), 3);

    /* a record over the size limit (the buffer is never read) */
    assert_int_equal(spool_remove(s, "r5"), 0);
    assert_int_equal(spool_put(s, "big", "", (size_t)LX_SPOOL_RECORD_MAX_BYTES + 1, &err), -1);
    assert_non_null(strstr(err, "too large"));
    free(err);
    spool_close(s);

    s = open_ok(f->dir, 2); /* reopened with a lower limit than it holds */
    assert_int_equal(spool_count(s), 2);
    assert_int_equal(spool_put(s, "r9", "9", 1, NULL), -1);
    spool_close(s);
}

static void test_same_id_twice(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, 0);
    put_ok(s, "dup", "one");
    put_ok(s, "dup", "two, longer than one");
    put_ok(s, "dup", "3");
    assert_int_equal(spool_count(s), 1);
    assert_int_equal(dir_entries(f->dir), 1);
    next_is(s, "dup", "3", __LINE__);
    next_none(s, __LINE__);
    /* put again after it was handed out: not again in this scan, in the next one */
    put_ok(s, "dup", "4");
    next_none(s, __LINE__);
    spool_rewind(s);
    next_is(s, "dup", "4", __LINE__);
    spool_close(s);
}

/* Two handles on one directory, as two worker processes. */
static void test_two_handles(void **state)
{
    struct fx *f = *state;
    struct spool *a = open_ok(f->dir, 0), *b = open_ok(f->dir, 0);
    static const char *const ids[] = {"m1", "m2", "m3", "m4", "m5"};
    for (int i = 0; i < 5; i++) {
        put_ok(i % 2 ? b : a, ids[i], ids[i]);
        set_record_mtime(f, ids[i], 100 + i);
    }
    assert_int_equal(spool_count(a), 3); /* its own puts; the others show at a scan */
    assert_int_equal(spool_count(b), 2);

    /* both pick m1: fine, both remove it: fine */
    next_is(a, "m1", "m1", __LINE__);
    next_is(b, "m1", "m1", __LINE__);
    assert_int_equal(spool_count(a), 5);
    assert_int_equal(spool_remove(a, "m1"), 0);
    assert_int_equal(spool_remove(b, "m1"), 0);

    /* a removes m3 after b read the directory: b skips it */
    next_is(b, "m2", "m2", __LINE__);
    assert_int_equal(spool_remove(a, "m3"), 0);
    next_is(b, "m4", "m4", __LINE__);

    /* a puts m6 while b scans: b hands it out in the same scan, after the older ones */
    put_ok(a, "m6", "m6");
    set_record_mtime(f, "m6", 50); /* even if it looks older than all */
    next_is(b, "m5", "m5", __LINE__);
    next_is(b, "m6", "m6", __LINE__);
    next_none(b, __LINE__);

    /* a goes on with its own pass (m3 is gone), then finds m6 */
    next_is(a, "m2", NULL, __LINE__);
    next_is(a, "m4", NULL, __LINE__);
    next_is(a, "m5", NULL, __LINE__);
    next_is(a, "m6", NULL, __LINE__);
    next_none(a, __LINE__);
    /* a new scan of a: what is left, oldest first */
    spool_rewind(a);
    next_is(a, "m6", NULL, __LINE__);
    next_is(a, "m2", NULL, __LINE__);
    next_is(a, "m4", NULL, __LINE__);
    next_is(a, "m5", NULL, __LINE__);
    next_none(a, __LINE__);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(spool_remove(a, ids[i]), 0);
        assert_int_equal(spool_remove(b, ids[i]), 0);
    }
    assert_int_equal(spool_remove(b, "m6"), 0);
    spool_rewind(a);
    spool_rewind(b);
    next_none(a, __LINE__);
    next_none(b, __LINE__);
    assert_int_equal(spool_count(a), 0);
    assert_int_equal(spool_count(b), 0);
    assert_int_equal(dir_entries(f->dir), 0);
    spool_close(a);
    spool_close(b);
}

/* A pid that no process has now: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0)
        _exit(0);
    assert_int_equal(waitpid(p, NULL, 0), p);
    return p;
}

/* A pid that is alive: a child that waits to be killed. */
static pid_t live_pid(void)
{
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        for (;;)
            pause();
    }
    return p;
}

static const struct {
    int line;
    const char *name; /* %ld: a pid of kind who */
    enum { DEAD, LIVE, SELF, NONE } who;
    int age_s;
    int kept;
} tmp_cases[] = {
    {__LINE__, ".tmp-m1-%ld", DEAD, 120, 0},  {__LINE__, ".tmp-m2-%ld", DEAD, 61, 0},
    {__LINE__, ".tmp-m3-%ld", DEAD, 5, 1},    /* young: perhaps still being written */
    {__LINE__, ".tmp-m4-%ld", LIVE, 3600, 1}, /* its writer lives */
    {__LINE__, ".tmp-m5-%ld", SELF, 120, 0},  /* an earlier process with our pid */
    {__LINE__, ".tmp-m6", NONE, 120, 0},      /* no pid at all */
    {__LINE__, ".tmp-m7-x%ld", DEAD, 120, 0}, {__LINE__, ".tmp-m8-%ld", NONE, 0, 1},
};

static void test_tmp_cleanup(void **state)
{
    struct fx *f = *state;
    spool_close(open_ok(f->dir, 0));
    pid_t dead = dead_pid(), live = live_pid();
    time_t now = time(NULL);
    char name[64];
    for (size_t i = 0; i < sizeof tmp_cases / sizeof tmp_cases[0]; i++) {
        long pid = tmp_cases[i].who == DEAD   ? (long)dead
                   : tmp_cases[i].who == LIVE ? (long)live
                   : tmp_cases[i].who == SELF ? (long)getpid()
                                              : 0;
        snprintf(name, sizeof name, tmp_cases[i].name, pid);
        touch(f, name, "partial");
        set_mtime(f, name, now - tmp_cases[i].age_s);
    }
    touch(f, "ok-1.json", "{}");
    touch(f, "README", "not a record");
    touch(f, "bad id.json", "not a record");
    assert_int_equal(mkdir(fx_path(f, "d.json"), 0700), 0);

    struct spool *s = open_ok(f->dir, 0);
    assert_int_equal(spool_count(s), 1);
    for (size_t i = 0; i < sizeof tmp_cases / sizeof tmp_cases[0]; i++) {
        long pid = tmp_cases[i].who == DEAD   ? (long)dead
                   : tmp_cases[i].who == LIVE ? (long)live
                   : tmp_cases[i].who == SELF ? (long)getpid()
                                              : 0;
        snprintf(name, sizeof name, tmp_cases[i].name, pid);
        int there = access(fx_path(f, name), F_OK) == 0;
        if (there != tmp_cases[i].kept)
            fail_msg("line %d: %s %s", tmp_cases[i].line, name, there ? "kept" : "removed");
    }
    next_is(s, "ok-1", "{}", __LINE__);
    next_none(s, __LINE__);
    assert_int_equal(access(fx_path(f, "README"), F_OK), 0);
    spool_close(s);
    kill(live, SIGKILL);
    waitpid(live, NULL, 0);
}

/* A record that cannot be read is reported with its id and skipped by the next call. */
static void test_unreadable_record(void **state)
{
    struct fx *f = *state;
    struct spool *s = open_ok(f->dir, 0);
    put_ok(s, "a", "A");
    put_ok(s, "big", "");
    put_ok(s, "c", "C");
    set_record_mtime(f, "a", 10);
    set_record_mtime(f, "big", 20);
    set_record_mtime(f, "c", 30);
    assert_int_equal(truncate(fx_path(f, "big.json"), LX_SPOOL_RECORD_MAX_BYTES + 1), 0);
    set_record_mtime(f, "big", 20);

    char id[LX_SPOOL_ID_MAX_BYTES + 1];
    void *data;
    size_t len;
    errno = 0;
    assert_int_equal(spool_next(s, id, LX_SPOOL_ID_MAX_BYTES, &data, &len), -1); /* cap */
    assert_int_equal(errno, ERANGE);
    next_is(s, "a", "A", __LINE__);
    errno = 0;
    assert_int_equal(spool_next(s, id, sizeof id, &data, &len), -1);
    assert_int_equal(errno, EFBIG);
    assert_string_equal(id, "big");
    assert_null(data);
    next_is(s, "c", "C", __LINE__);
    next_none(s, __LINE__);
    spool_close(s);
}

/* Run spool_open(dir) in a child (as nobody when we are root, so that mode bits count) and
 * return its error message, malloc'ed; NULL if it opened. */
static char *open_err_as_user(const char *dir)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0) {
        close(fds[0]);
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(2);
        char *err = NULL;
        struct spool *s = spool_open(dir, 0, &err);
        if (s == NULL && err != NULL && write(fds[1], err, strlen(err)) < 0)
            _exit(3);
        _exit(s == NULL ? 1 : 0);
    }
    close(fds[1]);
    char buf[600];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(p, &st, 0), p);
    assert_true(WIFEXITED(st));
    assert_true(WEXITSTATUS(st) <= 1);
    return WEXITSTATUS(st) == 1 ? strdup(buf) : NULL;
}

static void test_unusable_dir(void **state)
{
    struct fx *f = *state;
    char *err = NULL, path[300];

    /* a component is a file */
    snprintf(path, sizeof path, "%s/file", f->root);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_null(spool_open(path, 0, &err));
    assert_non_null(strstr(err, "cannot open directory"));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, strerror(ENOTDIR)));
    snprintf(path, sizeof path, "%s/file/spool", f->root);
    assert_null(spool_open(path, 0, &err)); /* the previous message is replaced */
    assert_non_null(strstr(err, "cannot create directory"));
    assert_non_null(strstr(err, path));

    /* the parent is missing */
    snprintf(path, sizeof path, "%s/no/such/spool", f->root);
    assert_null(spool_open(path, 0, &err));
    assert_non_null(strstr(err, strerror(ENOENT)));
    assert_null(spool_open("", 0, &err));
    assert_non_null(strstr(err, "no directory"));
    free(err);
    err = NULL;

    /* a directory the user may read but not write */
    assert_int_equal(chmod(f->root, 0755), 0);
    assert_int_equal(mkdir(f->dir, 0555), 0);
    assert_int_equal(chmod(f->dir, 0555), 0);
    err = open_err_as_user(f->dir);
    assert_non_null(err);
    assert_non_null(strstr(err, "not writable"));
    assert_non_null(strstr(err, f->dir));
    assert_non_null(strstr(err, strerror(EACCES)));
    free(err);
    err = NULL;

    /* a directory that goes away under an open spool: the put fails, saying where */
    assert_int_equal(chmod(f->dir, 0700), 0);
    struct spool *s = open_ok(f->dir, 0);
    assert_int_equal(rmdir(f->dir), 0);
    assert_int_equal(spool_put(s, "m1", "x", 1, &err), -1);
    assert_non_null(strstr(err, "cannot create"));
    assert_non_null(strstr(err, f->dir));
    free(err);
    next_none(s, __LINE__); /* glibc reads a removed directory as an empty one */
    assert_int_equal(spool_count(s), 0);
    spool_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restart, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ids, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_max_records, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_same_id_twice, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_two_handles, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tmp_cleanup, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_record, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unusable_dir, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
