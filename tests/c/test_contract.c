/*
 * Contract test for the grazr_proc C ABI, written against include/grazr_proc.h only.
 *
 * Every check runs real processes (sh, sleep, env, printf, true) and asserts what the header
 * promises. The program prints one line per failed check with its file:line, then
 * "N passed, M failed", and exits non-zero on any failure. GRAZR_TEST_KEEP_TMP=1 keeps the
 * temp dir for a post-mortem.
 *
 * Environment:
 *   GRAZR_TEST_UNDER_VALGRIND=1  valgrind emulates posix_spawn with a plain fork, so an exec
 *                                failure becomes a child that exits 127 instead of an error
 *                                returned by posix_spawn; the checks that depend on that are
 *                                relaxed, and upper time bounds are stretched.
 *   GRAZR_PROC_NO_PIDFD=1        read by the library, not by this program: forces its fallback
 *                                path; the whole contract must hold either way.
 *
 * Every process this program starts is remembered with its start time, and its process group
 * is killed at exit (also on failure, a crash or SIGINT), by PID and never by name.
 */
#define _GNU_SOURCE

#include "grazr_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* A tiny test framework                                                                      */
/* ------------------------------------------------------------------------------------------ */

static int g_passed;
static int g_failed;
static const char *g_test = "(setup)";
static int g_valgrind;   /* GRAZR_TEST_UNDER_VALGRIND=1 */
static int g_slow = 1;   /* multiplies upper time bounds: valgrind makes the host slow */

__attribute__((format(printf, 5, 6)))
static void check_at(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;
    if (ok) {
        g_passed++;
        return;
    }
    g_failed++;
    fprintf(stderr, "%s:%d: FAIL [%s] %s", file, line, g_test, expr);
    va_start(ap, fmt);
    if (fmt[0] != '\0') {
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
    }
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

#define CHECK(c) check_at(!!(c), __FILE__, __LINE__, #c, "%s", "")
#define CHECKF(c, ...) check_at(!!(c), __FILE__, __LINE__, #c, __VA_ARGS__)
#define CHECK_INT(a, op, b)                                                                      \
    do {                                                                                         \
        long long a_ = (long long)(a), b_ = (long long)(b);                                     \
        check_at(a_ op b_, __FILE__, __LINE__, #a " " #op " " #b, "left %lld, right %lld", a_, b_); \
    } while (0)
#define CHECK_STR(a, b) check_str((a), (b), __FILE__, __LINE__, #a " == " #b)
#define CHECK_RC(expected, call) check_rc((call), (expected), __FILE__, __LINE__, #call)
#define CHECK_STATUS(expected, id) check_status((id), (expected), __FILE__, __LINE__)
/* CHECK_RC that also times the call: `dt` gets how long it took, in ms. */
#define CHECK_RC_TIMED(dt, expected, call)                                                      \
    do {                                                                                         \
        int64_t t0_ = now_ms();                                                                  \
        CHECK_RC(expected, call);                                                                \
        (dt) = now_ms() - t0_;                                                                   \
    } while (0)

static const char *status_name(int32_t s)
{
    switch (s) {
    case GRAZR_STATUS_STOPPED: return "STOPPED";
    case GRAZR_STATUS_RUNNING: return "RUNNING";
    case GRAZR_STATUS_ERROR: return "ERROR";
    default: return grazr_result_name(s);
    }
}

static const char *state_name(int32_t s)
{
    static const char *const names[] = {"STOPPED", "STARTING", "RUNNING", "PID_FILE_PENDING",
                                        "STOPPING", "EXITED", "FAILED", "KILLED", "CRASHED",
                                        "REAPED_ELSEWHERE"};
    if (s >= 0 && s < (int32_t)(sizeof names / sizeof names[0]))
        return names[s];
    return "(no such state)";
}

/* Checks a result code, and with it the last-error rule: empty after a success, non-empty
 * after a failure, never NULL. */
static void check_rc(int32_t rc, int32_t expected, const char *file, int line, const char *expr)
{
    const char *msg = grazr_last_error_message();
    if (msg == NULL) {
        check_at(0, file, line, expr, "grazr_last_error_message() returned NULL");
        return;
    }
    check_at(rc == expected, file, line, expr, "expected %s (%d), got %s (%d); last error: \"%s\"",
             grazr_result_name(expected), (int)expected, grazr_result_name(rc), (int)rc, msg);
    if (rc != expected)
        return;
    if (expected >= 0)
        check_at(msg[0] == '\0', file, line, expr, "succeeded, but the last error is \"%s\"", msg);
    else
        check_at(msg[0] != '\0', file, line, expr, "failed with %s, but the last error is empty",
                 grazr_result_name(rc));
}

static void check_status(const char *id, int32_t expected, const char *file, int line)
{
    int32_t s = grazr_status(id);
    const char *msg = grazr_last_error_message();
    check_at(s == expected, file, line, "grazr_status", "id \"%s\": expected %s, got %s; last error: \"%s\"",
             id, status_name(expected), status_name(s), msg ? msg : "(NULL)");
}

static void check_str(const char *a, const char *b, const char *file, int line, const char *expr)
{
    int ok = (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
    check_at(ok, file, line, expr, "\"%s\" vs \"%s\"", a ? a : "(NULL)", b ? b : "(NULL)");
}

static void begin(const char *name)
{
    g_test = name;
    printf("-- %s\n", name);
    fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* Time, files, processes                                                                     */
/* ------------------------------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* Polls `cond` every 20 ms for up to `ms` (stretched under valgrind). */
#define WAIT_UNTIL(cond, ms)                                                                     \
    do {                                                                                         \
        int64_t dl_ = now_ms() + (int64_t)(ms) * g_slow;                                         \
        while (!(cond) && now_ms() < dl_)                                                        \
            sleep_ms(20);                                                                        \
    } while (0)

typedef char path_t[PATH_MAX];

static const char *join(path_t out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX) {
        fprintf(stderr, "path too long: %s/%s\n", dir, name);
        exit(2);
    }
    return out;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* Reads a whole (small) file into buf; -1 when it cannot be opened. */
static long read_text(const char *path, char *buf, size_t cap)
{
    size_t n;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (cap)
            buf[0] = '\0';
        return -1;
    }
    n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (long)n;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int file_nonempty(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

static int count_lines(const char *path)
{
    char buf[4096];
    int n = 0;
    if (read_text(path, buf, sizeof buf) < 0)
        return -1;
    for (char *p = buf; *p; p++)
        n += *p == '\n';
    return n;
}

/* The PID on the first line of a file the test's own helpers wrote, 0 if none yet. */
static pid_t pid_in_file(const char *path)
{
    char buf[64];
    if (read_text(path, buf, sizeof buf) <= 0)
        return 0;
    return (pid_t)atoi(buf);
}

/* 1 when `text` has a line that starts with `prefix`. */
static int has_line_prefix(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    const char *p = text;
    while (p && *p) {
        if (strncmp(p, prefix, n) == 0)
            return 1;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

/* 1 when `text` holds the decimal `number` with no digit right before or after it. */
static int has_number(const char *text, long number)
{
    char needle[32];
    size_t n;
    const char *p = text;
    snprintf(needle, sizeof needle, "%ld", number);
    n = strlen(needle);
    while ((p = strstr(p, needle)) != NULL) {
        int before = p > text && p[-1] >= '0' && p[-1] <= '9';
        int after = p[n] >= '0' && p[n] <= '9';
        if (!before && !after)
            return 1;
        p++;
    }
    return 0;
}

/* Fields of /proc/PID/stat: state, process group, start time in clock ticks since boot. */
static int read_stat(pid_t pid, char *state, pid_t *pgid, unsigned long long *start)
{
    char path[64], buf[1024];
    char *p;
    ssize_t n;
    int fd;
    char st;
    int ppid, pgrp;
    unsigned long long t;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p)
        return -1;
    if (sscanf(p + 1,
               " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               &st, &ppid, &pgrp, &t) != 4)
        return -1;
    if (state)
        *state = st;
    if (pgid)
        *pgid = pgrp;
    if (start)
        *start = t;
    return 0;
}

/* A process that no longer runs: gone from /proc, or a zombie (an orphan whose reaper, PID 1
 * here, may never reap it). */
static int proc_gone(pid_t pid)
{
    char st = '?';
    if (pid <= 0)
        return 1;
    if (read_stat(pid, &st, NULL, NULL) != 0)
        return 1;
    return st == 'Z' || st == 'X';
}

/* Gone from the process table entirely: reaped. */
static int proc_reaped(pid_t pid)
{
    return pid > 0 && kill(pid, 0) == -1 && errno == ESRCH;
}

static int proc_alive(pid_t pid)
{
    return !proc_gone(pid);
}

static char proc_state(pid_t pid)
{
    char st = '?';
    read_stat(pid, &st, NULL, NULL);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Cleanup: every process the test starts is killed at exit by PID / process group             */
/* ------------------------------------------------------------------------------------------ */

struct proc_rec {
    pid_t pid;
    pid_t pgid;
    unsigned long long start;
    int own; /* a child the test spawned itself, to be reaped by the test */
};

#define MAX_PROCS 1024
static struct proc_rec g_procs[MAX_PROCS];
static volatile int g_nprocs;
static pthread_mutex_t g_procs_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_root[PATH_MAX];

static void remember(pid_t pid, int own)
{
    struct proc_rec r = {pid, 0, 0, own};
    if (pid <= 1 || pid == getpid())
        return;
    if (read_stat(pid, NULL, &r.pgid, &r.start) != 0)
        return;
    pthread_mutex_lock(&g_procs_lock);
    for (int i = 0; i < g_nprocs; i++) {
        if (g_procs[i].pid == pid && g_procs[i].start == r.start) {
            pthread_mutex_unlock(&g_procs_lock);
            return;
        }
    }
    if (g_nprocs < MAX_PROCS) {
        g_procs[g_nprocs] = r;
        g_nprocs++;
    }
    pthread_mutex_unlock(&g_procs_lock);
}

/* Remembers the main PID and the spawned child of an id, and returns the main PID. */
static pid_t remember_id(const char *id)
{
    grazr_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    if (grazr_process_info(id, &info) != GRAZR_OK)
        return 0;
    remember(info.pid, 0);
    remember(info.child_pid, 0);
    return info.pid;
}

/* Kills what is left, only where the PID still names the process that was remembered (same
 * start time), and never the test's own group or session. Also runs from a signal handler,
 * so it sticks to system calls. */
static void kill_remembered(void)
{
    pid_t mygrp = getpgrp(), mysid = getsid(0);
    int n = g_nprocs;
    for (int i = 0; i < n; i++) {
        struct proc_rec *r = &g_procs[i];
        unsigned long long start = 0;
        char st = '?';
        if (r->pid <= 1 || read_stat(r->pid, &st, NULL, &start) != 0 || start != r->start)
            continue;
        if (st != 'Z' && st != 'X') {
            if (r->pgid > 1 && r->pgid != mygrp && r->pgid != mysid)
                kill(-r->pgid, SIGKILL);
            kill(r->pid, SIGKILL);
        }
        if (r->own)
            waitpid(r->pid, NULL, 0);
    }
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_root(void)
{
    if (g_root[0] && !getenv("GRAZR_TEST_KEEP_TMP"))
        nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void at_exit_cleanup(void)
{
    kill_remembered();
    remove_root();
}

static void on_fatal_signal(int sig)
{
    kill_remembered();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The library must never signal the host. A SIGTERM that reaches the test is recorded here and
 * fails the run, instead of killing it silently. */
static volatile sig_atomic_t g_got_sigterm;
static void on_sigterm(int sig)
{
    /* A second one is somebody who really wants the test gone. */
    if (g_got_sigterm) {
        kill_remembered();
        _exit(128 + sig);
    }
    g_got_sigterm = 1;
}

static volatile pid_t g_watchdog_tid;

static void *watchdog(void *arg)
{
    int seconds = *(int *)arg;
    g_watchdog_tid = gettid();
    sleep((unsigned)seconds);
    fprintf(stderr, "watchdog: the test hung for %d s in [%s]; killing its processes\n", seconds, g_test);
    kill_remembered();
    _exit(3);
    return NULL;
}

/* A fresh directory under the run's temp root. */
static const char *fresh_dir(path_t out, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s-XXXXXX", g_root, name);
    if (n < 0 || n >= PATH_MAX || !mkdtemp(out)) {
        perror("mkdtemp");
        exit(2);
    }
    return out;
}

/* Spawns a process the test itself owns, in its own session (as a real daemon would be). */
static pid_t spawn_own(const char *const argv[], int new_session)
{
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    pid_t pid = 0;
    int rc;
    posix_spawnattr_init(&attr);
    if (new_session)
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "posix_spawnp %s: %s\n", argv[0], strerror(rc));
        return 0;
    }
    remember(pid, 1);
    return pid;
}

/* Reaps a child of the test; returns its wait status, or -1 when it did not end in time (or
 * was not ours to reap). */
static int reap_own(pid_t pid, int ms)
{
    int status = 0;
    int64_t dl = now_ms() + (int64_t)ms * g_slow;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        if (now_ms() >= dl)
            return -1;
        sleep_ms(10);
    }
}

/* A daemon-like process of the test's own: `sh -c 'echo $$ > FILE; exec sleep 100'` in its
 * own session; waits until the file names it. */
static int proc_comm_is(pid_t pid, const char *comm)
{
    char path[64], buf[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    if (read_text(path, buf, sizeof buf) <= 0)
        return 0;
    buf[strcspn(buf, "\n")] = '\0';
    return strcmp(buf, comm) == 0;
}

static pid_t spawn_own_daemon(const char *pid_file)
{
    const char *argv[] = {"sh", "-c", "echo $$ > \"$1\"; exec sleep 100", "sh", pid_file, NULL};
    pid_t pid = spawn_own(argv, 1);
    /* Wait for the exec too, so that a `program` check sees sleep and not sh. */
    WAIT_UNTIL(pid_in_file(pid_file) == pid && proc_comm_is(pid, "sleep"), 3000);
    return pid;
}

/* A live process of the test's own that is not in a pid file. */
static pid_t spawn_own_sleep(void)
{
    const char *argv[] = {"sleep", "100", NULL};
    return spawn_own(argv, 1);
}

static void kill_own(pid_t pid)
{
    if (pid > 1) {
        kill(pid, SIGKILL);
        reap_own(pid, 3000);
    }
}

/* Children of this process, from /proc: live ones and zombies. Used to prove that a failed
 * start leaves no process behind and that the library reaps what it spawned. */
static void count_children(int *live, int *zombies)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t me = getpid();
    *live = *zombies = 0;
    while (d && (e = readdir(d)) != NULL) {
        char path[64], buf[512], *p, st;
        int ppid;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (read_text(path, buf, sizeof buf) <= 0 || (p = strrchr(buf, ')')) == NULL)
            continue;
        if (sscanf(p + 1, " %c %d", &st, &ppid) != 2 || ppid != me)
            continue;
        if (st == 'Z')
            (*zombies)++;
        else
            (*live)++;
    }
    if (d)
        closedir(d);
}

static int list_contains(const char *id)
{
    const char *const *ids = NULL;
    int32_t n = grazr_list(&ids);
    if (n < 0 || ids == NULL)
        return 0;
    for (int32_t i = 0; i < n; i++)
        if (ids[i] && strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

static int32_t info_of(const char *id, grazr_info *info)
{
    memset(info, 0, sizeof *info);
    info->size = sizeof *info;
    return grazr_process_info(id, info);
}

/* Starts `sh -c SCRIPT sh A1 A2` under id with the defaults. */
static int32_t start_sh(const char *id, const char *script, const char *a1, const char *a2)
{
    const char *argv[] = {"sh", "-c", script, "sh", a1, a2, NULL};
    if (a1 == NULL)
        argv[3] = NULL;
    return grazr_start_process(id, argv, NULL, NULL, NULL, NULL);
}

/* Starts `sh -c script` under `id` (CHECK_RC, GRAZR_OK), remembers what it started and waits
 * (3 s) until it has written the file `ready`; gives the PID. A macro, so that a failed check
 * names the line and the call of the caller. */
#define START_READY(ready, id, script, a1, a2)                                                   \
    start_ready_at((ready), (id), (script), (a1), (a2), __FILE__, __LINE__,                      \
                   "start_sh(" #id ", " #script ", " #a1 ", " #a2 ")")
static pid_t start_ready_at(const char *ready, const char *id, const char *script, const char *a1,
                            const char *a2, const char *file, int line, const char *expr)
{
    pid_t pid;
    check_rc(start_sh(id, script, a1, a2), GRAZR_OK, file, line, expr);
    pid = remember_id(id);
    WAIT_UNTIL(file_nonempty(ready), 3000);
    return pid;
}

/* Scripts of the helper processes. $1/$2 are paths given as separate arguments. */

/* Writes its PID (the shell's, which exec keeps) into $1, then sleeps. */
static const char SH_PIDFILE_SLEEP[] = "echo $$ > \"$1\"; exec sleep 100";
/* Ignores SIGTERM (an ignored disposition survives exec), then tells it is ready in $1. */
static const char SH_IGNORE_TERM[] = "trap '' TERM; echo ready > \"$1\"; exec sleep 100";

/* ------------------------------------------------------------------------------------------ */
/* Tests                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static void test_version_and_names(void)
{
    static const struct {
        int32_t code;
        const char *name;
    } codes[] = {
        {GRAZR_OK, "GRAZR_OK"},
        {GRAZR_ERR_INVALID_ARGUMENT, "GRAZR_ERR_INVALID_ARGUMENT"},
        {GRAZR_ERR_SPAWN, "GRAZR_ERR_SPAWN"},
        {GRAZR_ERR_EXITED, "GRAZR_ERR_EXITED"},
        {GRAZR_ERR_TIMEOUT, "GRAZR_ERR_TIMEOUT"},
        {GRAZR_ERR_PERMISSION, "GRAZR_ERR_PERMISSION"},
        {GRAZR_ERR_IO, "GRAZR_ERR_IO"},
        {GRAZR_ERR_NOT_RUNNING, "GRAZR_ERR_NOT_RUNNING"},
        {GRAZR_ERR_INTERNAL, "GRAZR_ERR_INTERNAL"},
    };
    static const int32_t unknown[] = {1, 2, -8, -99, -101, 12345, INT32_MIN, INT32_MAX};
    char expect[32];

    begin("version and result names");
    /* The values the issue fixes, so that a renumbering is caught here. */
    CHECK_INT(GRAZR_OK, ==, 0);
    CHECK_INT(GRAZR_ERR_INVALID_ARGUMENT, ==, -1);
    CHECK_INT(GRAZR_ERR_SPAWN, ==, -2);
    CHECK_INT(GRAZR_ERR_EXITED, ==, -3);
    CHECK_INT(GRAZR_ERR_TIMEOUT, ==, -4);
    CHECK_INT(GRAZR_ERR_PERMISSION, ==, -5);
    CHECK_INT(GRAZR_ERR_IO, ==, -6);
    CHECK_INT(GRAZR_ERR_NOT_RUNNING, ==, -7);
    CHECK_INT(GRAZR_ERR_INTERNAL, ==, -100);
    CHECK_INT(GRAZR_STATUS_STOPPED, ==, 0);
    CHECK_INT(GRAZR_STATUS_RUNNING, ==, 1);
    CHECK_INT(GRAZR_STATUS_ERROR, ==, 2);

    CHECK(grazr_version() != NULL);
    CHECK_STR(grazr_version(), GRAZR_PROC_VERSION);
    snprintf(expect, sizeof expect, "%d.%d.%d", GRAZR_PROC_VERSION_MAJOR, GRAZR_PROC_VERSION_MINOR,
             GRAZR_PROC_VERSION_PATCH);
    CHECK_STR(grazr_version(), expect);
    snprintf(expect, sizeof expect, "libgrazr_proc.so.%d.%d", GRAZR_PROC_VERSION_MAJOR,
             GRAZR_PROC_VERSION_MINOR);
    if (GRAZR_PROC_VERSION_MAJOR == 0)
        CHECK_STR(GRAZR_PROC_SONAME, expect);

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *name = grazr_result_name(codes[i].code);
        CHECKF(name != NULL && strcmp(name, codes[i].name) == 0, "code %d: got \"%s\", want \"%s\"",
               (int)codes[i].code, name ? name : "(NULL)", codes[i].name);
        /* Static: the same pointer every time. */
        CHECK(grazr_result_name(codes[i].code) == name);
    }
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *name = grazr_result_name(unknown[i]);
        CHECKF(name != NULL && strcmp(name, "GRAZR_ERR_UNKNOWN") == 0, "code %d: got \"%s\"",
               (int)unknown[i], name ? name : "(NULL)");
    }
}

struct thread_msg {
    int32_t rc_ok, rc_fail;
    char after_ok[256];
    char after_fail[256];
};

static void *last_error_thread(void *arg)
{
    struct thread_msg *t = arg;
    const char *m;
    t->rc_ok = grazr_status("thread-local-ok");
    m = grazr_last_error_message();
    snprintf(t->after_ok, sizeof t->after_ok, "%s", m ? m : "(NULL)");
    t->rc_fail = grazr_status("");
    m = grazr_last_error_message();
    snprintf(t->after_fail, sizeof t->after_fail, "%s", m ? m : "(NULL)");
    return NULL;
}

static void test_last_error(void)
{
    char saved[1024];
    const char *m;
    pthread_t th;
    struct thread_msg tm;

    begin("last error message");
    /* main() checked it before any other call; check again after a few. */
    CHECK(grazr_last_error_message() != NULL);

    CHECK_RC(GRAZR_STATUS_STOPPED, grazr_status("last-error-never-started"));
    CHECK_STR(grazr_last_error_message(), "");

    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_stop_process("last-error-id", 65, -1));
    m = grazr_last_error_message();
    snprintf(saved, sizeof saved, "%s", m ? m : "");
    CHECKF(strstr(saved, "last-error-id") != NULL || strstr(saved, "65") != NULL,
           "the message should say which id or which signal: \"%s\"", saved);

    /* version, result_name and last_error_message leave the message alone. */
    (void)grazr_version();
    (void)grazr_result_name(GRAZR_ERR_SPAWN);
    (void)grazr_last_error_message();
    CHECK_STR(grazr_last_error_message(), saved);
    /* The pointer stays valid and unchanged across those calls. */
    CHECK(grazr_last_error_message() == grazr_last_error_message());

    /* Thread-local: another thread's success and failure do not touch this thread's message. */
    memset(&tm, 0, sizeof tm);
    CHECK_INT(pthread_create(&th, NULL, last_error_thread, &tm), ==, 0);
    pthread_join(th, NULL);
    CHECK_INT(tm.rc_ok, ==, GRAZR_STATUS_STOPPED);
    CHECK_STR(tm.after_ok, "");
    CHECK_INT(tm.rc_fail, ==, GRAZR_ERR_INVALID_ARGUMENT);
    CHECK(tm.after_fail[0] != '\0');
    CHECK_STR(grazr_last_error_message(), saved);

    /* The next call on this thread clears it. */
    CHECK_RC(GRAZR_OK, grazr_stop_process("last-error-never-started", 0, -1));
    CHECK_STR(grazr_last_error_message(), "");
}

static void test_bad_input(void)
{
    const char *argv_ok[] = {"sleep", "100", NULL};
    const char *argv_empty[] = {NULL};
    const char *argv_empty0[] = {"", "100", NULL};
    const char *env_noname[] = {"=value", NULL};
    const char *const *ids = NULL;
    grazr_start_options so;
    grazr_stop_options sto;
    grazr_info info;
    static char long_id[5000];
    static char long_path[5000];
    int32_t n;

    begin("bad input");
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    long_path[0] = '/';
    memset(long_path + 1, 'p', sizeof long_path - 2);
    long_path[sizeof long_path - 1] = '\0';

    /* NULL, empty, non-UTF-8 and overlong ids, for every function that takes one. */
    {
        const char *bad_ids[] = {NULL, "", "\xff", "ok-prefix-\xc3", long_id};
        for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
            const char *id = bad_ids[i];
            CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process(id, argv_ok, NULL, NULL, NULL, NULL));
            CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process_ex(id, argv_ok, NULL));
            CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_stop_process(id, 0, -1));
            CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_stop_process_ex(id, NULL));
            CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_status(id));
            CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_get_pid(id));
            CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_signal_process(id, SIGHUP));
            CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, info_of(id, &info));
            CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_register_service(id, NULL, NULL, 0, -1));
        }
    }

    /* The longest id accepted is 4095 bytes. */
    long_id[4095] = '\0';
    CHECK_RC(GRAZR_STATUS_STOPPED, grazr_status(long_id));
    CHECK_RC(0, grazr_get_pid(long_id));
    long_id[4095] = 'a';
    long_id[4096] = '\0';
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_status(long_id));
    long_id[4096] = 'a';

    /* argv: NULL, empty, empty program name. */
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process("bad-argv", NULL, NULL, NULL, NULL, NULL));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process("bad-argv", argv_empty, NULL, NULL, NULL, NULL));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process("bad-argv", argv_empty0, NULL, NULL, NULL, NULL));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process_ex("bad-argv", NULL, NULL));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process_ex("bad-argv", argv_empty, NULL));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process_ex("bad-argv", argv_empty0, NULL));
    /* An env entry without a name. */
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process("bad-env", argv_ok, NULL, NULL, env_noname, NULL));
    /* Paths longer than PATH_MAX. */
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process("bad-path", argv_ok, long_path, NULL, NULL, NULL));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process("bad-path", argv_ok, NULL, long_path, NULL, NULL));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process("bad-path", argv_ok, NULL, NULL, NULL, long_path));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_read_pid_file(long_path));
    /* None of those started anything. */
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "bad-argv");
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "bad-env");
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "bad-path");

    /* Option structs with a size too small to hold even the size field. */
    memset(&so, 0, sizeof so);
    so.size = 0;
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process_ex("bad-opts", argv_ok, &so));
    so.size = 3;
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process_ex("bad-opts", argv_ok, &so));
    memset(&sto, 0, sizeof sto);
    sto.size = 0;
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_stop_process_ex("bad-opts", &sto));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "bad-opts");

    /* Signals: valid range 1..64; -1 and 65 are invalid everywhere; 0 cannot be sent. */
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_stop_process("bad-signal", -1, -1));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_stop_process("bad-signal", 65, -1));
    memset(&sto, 0, sizeof sto);
    sto.size = sizeof sto;
    sto.timeout_ms = -1;
    sto.signal = 65;
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_stop_process_ex("bad-signal", &sto));
    sto.signal = -1;
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_stop_process_ex("bad-signal", &sto));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_signal_process("bad-signal", -1));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_signal_process("bad-signal", 65));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_signal_process("bad-signal", 0));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_register_service("bad-signal", NULL, NULL, -1, -1));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_register_service("bad-signal", NULL, NULL, 65, -1));
    /* 64 (SIGRTMAX) is a valid number: the id is just not running. */
    CHECK_RC(GRAZR_ERR_NOT_RUNNING, grazr_signal_process("bad-signal", 64));

    /* read_pid_file: NULL and empty paths. */
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_read_pid_file(NULL));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_read_pid_file(""));

    /* process_info: NULL info, size 0 and size 3. */
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_process_info("bad-info", NULL));
    memset(&info, 0, sizeof info);
    info.size = 0;
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_process_info("bad-info", &info));
    info.size = 3;
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_process_info("bad-info", &info));

    /* register_service: a template placeholder the pattern lacks; empty placeholder. */
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT,
             grazr_register_service("bad-{a}", "/tmp/grazr-never/{b}.pid", NULL, 0, -1));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT,
             grazr_register_service("bad-exact", "/tmp/grazr-never/{b}.pid", NULL, 0, -1));

    /* The pointer arguments the contract makes optional accept NULL. */
    CHECK_RC(GRAZR_OK, grazr_stop_process_ex("never-started-optional", NULL));
    n = grazr_list(NULL);
    CHECKF(n >= 0, "grazr_list(NULL) = %d", (int)n);
    n = grazr_list(&ids);
    CHECKF(n >= 0 && ids != NULL && ids[n] == NULL, "grazr_list = %d", (int)n);
    CHECK_RC(GRAZR_OK, grazr_register_service("optional-null-service", NULL, NULL, 0, -1));

    /* pid_alive takes no pointer; nonsense PIDs are simply not alive. */
    CHECK_INT(grazr_pid_alive(-1), ==, 0);
    CHECK_INT(grazr_pid_alive(0), ==, 0);
    CHECK_INT(grazr_pid_alive(INT32_MIN), ==, 0);
    CHECK_INT(grazr_pid_alive(INT32_MAX), ==, 0);
}

struct count_start {
    const char *id;
    const char *count_file;
    pthread_barrier_t *barrier;
    int32_t rc;
};

static void test_start_basics(void)
{
    path_t dir, count, p;
    pid_t pid;
    grazr_info info;
    const char *argv_other[] = {"sleep", "7", NULL};
    int64_t t0;

    begin("start: runs, already running, missing program, bad cwd");
    fresh_dir(dir, "start");
    join(count, dir, "count");

    CHECK_RC(GRAZR_OK, start_sh("basic", "echo x >> \"$1\"; exec sleep 100", count, NULL));
    pid = remember_id("basic");
    CHECK(pid > 0);
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "basic");
    CHECK_INT(grazr_get_pid("basic"), ==, pid);
    CHECK(proc_alive(pid));
    /* Its own session: pgid = sid = pid. */
    CHECK_INT(getpgid(pid), ==, pid);
    CHECK_INT(getsid(pid), ==, pid);

    /* Already running: OK, nothing spawned, the first command stays. */
    CHECK_RC(GRAZR_OK, grazr_start_process("basic", argv_other, NULL, NULL, NULL, NULL));
    CHECK_RC(GRAZR_OK, start_sh("basic", "echo x >> \"$1\"; exec sleep 100", count, NULL));
    sleep_ms(300);
    CHECK_INT(count_lines(count), ==, 1);
    CHECK_INT(grazr_get_pid("basic"), ==, pid);
    CHECK_RC(GRAZR_OK, info_of("basic", &info));
    CHECK(info.argv != NULL && info.argv[0] && strcmp(info.argv[0], "sh") == 0);
    CHECK_RC(GRAZR_OK, grazr_stop_process("basic", 0, 2000));
    CHECK(proc_gone(pid));

    /* Missing program, by path and by PATH search; not executable; missing working dir.
     * Exec failures come back at once, without waiting for the startup window. */
    {
        const char *missing_abs[] = {"/nonexistent/grazr-no-such-program", NULL};
        const char *missing_rel[] = {"grazr-no-such-program-anywhere", "arg", NULL};
        const char *noexec[] = {p, NULL};
        const char *sleeper[] = {"sleep", "100", NULL};
        path_t badcwd;
        join(p, dir, "not-executable.sh");
        write_text(p, "#!/bin/sh\nexit 0\n");
        chmod(p, 0644);
        join(badcwd, dir, "no/such/dir");

        int live0, zombies0, live1, zombies1;
        count_children(&live0, &zombies0);
        if (g_valgrind) {
            /* valgrind runs posix_spawn as a fork whose failed exec exits 127: the library sees
             * an early exit. Only the absence of a running process can be checked. */
            int32_t rc = grazr_start_process("missing-abs", missing_abs, NULL, NULL, NULL, NULL);
            CHECKF(rc == GRAZR_ERR_SPAWN || rc == GRAZR_ERR_EXITED, "got %s", grazr_result_name(rc));
            rc = grazr_start_process("bad-cwd", sleeper, NULL, badcwd, NULL, NULL);
            CHECKF(rc == GRAZR_ERR_SPAWN || rc == GRAZR_ERR_EXITED, "got %s", grazr_result_name(rc));
        } else {
            t0 = now_ms();
            CHECK_RC(GRAZR_ERR_SPAWN, grazr_start_process("missing-abs", missing_abs, NULL, NULL, NULL, NULL));
            CHECK_INT(now_ms() - t0, <, 150);
            CHECKF(strstr(grazr_last_error_message(), "grazr-no-such-program") != NULL,
                   "the message names the program: \"%s\"", grazr_last_error_message());
            CHECKF(strstr(grazr_last_error_message(), "missing-abs") != NULL, "the message names the id: \"%s\"",
                   grazr_last_error_message());
            CHECKF(strstr(grazr_last_error_message(), strerror(ENOENT)) != NULL,
                   "the message has the OS error (%s): \"%s\"", strerror(ENOENT), grazr_last_error_message());
            t0 = now_ms();
            CHECK_RC(GRAZR_ERR_SPAWN, grazr_start_process("missing-rel", missing_rel, NULL, NULL, NULL, NULL));
            CHECK_INT(now_ms() - t0, <, 150);
            CHECK_RC(GRAZR_ERR_SPAWN, grazr_start_process("not-exec", noexec, NULL, NULL, NULL, NULL));
            t0 = now_ms();
            CHECK_RC(GRAZR_ERR_SPAWN, grazr_start_process("bad-cwd", sleeper, NULL, badcwd, NULL, NULL));
            CHECK_INT(now_ms() - t0, <, 150);
            CHECKF(strstr(grazr_last_error_message(), "no/such/dir") != NULL,
                   "the message names the directory: \"%s\"", grazr_last_error_message());
        }
        sleep_ms(50);
        count_children(&live1, &zombies1);
        CHECKF(live1 == live0 && zombies1 == zombies0, "a failed spawn left a process: children %d+%dZ -> %d+%dZ",
               live0, zombies0, live1, zombies1);
        /* Nothing runs and nothing is in ERROR after a failed spawn. */
        CHECK_INT(grazr_get_pid("missing-abs"), ==, 0);
        CHECK(grazr_status("missing-abs") != GRAZR_STATUS_RUNNING);
        CHECK(grazr_status("bad-cwd") != GRAZR_STATUS_RUNNING);
        CHECK_INT(grazr_get_pid("bad-cwd"), ==, 0);
        if (!g_valgrind) {
            CHECK_STATUS(GRAZR_STATUS_STOPPED, "missing-abs");
            CHECK_STATUS(GRAZR_STATUS_STOPPED, "missing-rel");
            CHECK_STATUS(GRAZR_STATUS_STOPPED, "bad-cwd");
        }
        grazr_stop_process("missing-abs", 0, 0);
        grazr_stop_process("bad-cwd", 0, 0);
    }

    /* A working directory that exists is where the child runs. */
    {
        path_t out, cwd_seen, real;
        const char *argv[] = {"sh", "-c", "pwd > \"$1\"; exec sleep 100", "sh", NULL, NULL};
        join(out, dir, "pwd.out");
        argv[4] = out;
        CHECK_RC(GRAZR_OK, grazr_start_process("cwd", argv, NULL, dir, NULL, NULL));
        remember_id("cwd");
        WAIT_UNTIL(file_nonempty(out), 3000);
        read_text(out, cwd_seen, sizeof cwd_seen);
        cwd_seen[strcspn(cwd_seen, "\n")] = '\0';
        CHECK(realpath(dir, real) != NULL);
        CHECK_STR(cwd_seen, real);
        CHECK_RC(GRAZR_OK, grazr_stop_process("cwd", 0, 0));
    }

    /* IO errors: the log's or the pid file's directory cannot be created (a file is in the way). */
    {
        path_t afile, log, pidf;
        const char *sleeper[] = {"sleep", "100", NULL};
        join(afile, dir, "a-file");
        write_text(afile, "not a directory\n");
        join(log, afile, "x.log");
        join(pidf, afile, "x.pid");
        CHECK_RC(GRAZR_ERR_IO, grazr_start_process("io-log", sleeper, NULL, NULL, NULL, log));
        CHECK_RC(GRAZR_ERR_IO, grazr_start_process("io-pid", sleeper, pidf, NULL, NULL, NULL));
        CHECK_INT(grazr_get_pid("io-log"), ==, 0);
        CHECK_INT(grazr_get_pid("io-pid"), ==, 0);
        grazr_stop_process("io-log", 0, 0);
        grazr_stop_process("io-pid", 0, 0);
    }
}

static void test_start_early_exit(void)
{
    path_t dir, log;
    grazr_info info;
    char msg[2048];
    int64_t t0;

    begin("start: early exit within the startup window");
    fresh_dir(dir, "early");

    CHECK_RC(GRAZR_ERR_EXITED, start_sh("early-exit-code", "exit 42", NULL, NULL));
    snprintf(msg, sizeof msg, "%s", grazr_last_error_message());
    CHECKF(has_number(msg, 42), "the message holds the exit code 42: \"%s\"", msg);
    CHECK_STATUS(GRAZR_STATUS_ERROR, "early-exit-code");
    CHECK_RC(GRAZR_OK, info_of("early-exit-code", &info));
    CHECK_INT(info.exit_code, ==, 42);
    CHECKF(info.state == GRAZR_STATE_FAILED, "state %s", state_name(info.state));
    CHECK_INT(info.pid, ==, 0);
    CHECK_INT(grazr_get_pid("early-exit-code"), ==, 0);
    CHECK(list_contains("early-exit-code"));
    /* A stop clears the error. */
    CHECK_RC(GRAZR_OK, grazr_stop_process("early-exit-code", 0, -1));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "early-exit-code");
    CHECK(!list_contains("early-exit-code"));

    /* Exit 0 inside the window is still a failed start, and leaves STOPPED. */
    CHECK_RC(GRAZR_ERR_EXITED, start_sh("early-exit-zero", "exit 0", NULL, NULL));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "early-exit-zero");
    CHECK_RC(GRAZR_OK, info_of("early-exit-zero", &info));
    CHECK_INT(info.exit_code, ==, 0);

    /* Killed by a signal inside the window: the message names the signal. */
    CHECK_RC(GRAZR_ERR_EXITED, start_sh("early-exit-signal", "kill -KILL $$", NULL, NULL));
    snprintf(msg, sizeof msg, "%s", grazr_last_error_message());
    CHECKF(has_number(msg, 9) || strstr(msg, "KILL") != NULL, "the message names SIGKILL: \"%s\"", msg);
    CHECK_STATUS(GRAZR_STATUS_ERROR, "early-exit-signal");
    CHECK_RC(GRAZR_OK, info_of("early-exit-signal", &info));
    CHECK_INT(info.term_signal, ==, SIGKILL);
    CHECKF(info.state == GRAZR_STATE_KILLED, "state %s", state_name(info.state));
    CHECK_RC(GRAZR_OK, grazr_stop_process("early-exit-signal", 0, -1));

    /* With a log: the message holds the log's last lines. */
    join(log, dir, "early.log");
    {
        const char *argv[] = {"sh", "-c", "echo first-line; echo boom-marker-line >&2; exit 5", NULL};
        t0 = now_ms();
        CHECK_RC(GRAZR_ERR_EXITED, grazr_start_process("early-exit-log", argv, NULL, NULL, NULL, log));
        snprintf(msg, sizeof msg, "%s", grazr_last_error_message());
        CHECKF(strstr(msg, "boom-marker-line") != NULL, "the message holds the log's last lines: \"%s\"", msg);
        CHECKF(has_number(msg, 5), "the message holds the exit code 5: \"%s\"", msg);
        /* It returned on the exit, well before a multiple of the 200 ms window. */
        CHECK_INT(now_ms() - t0, <, 2000 * g_slow);
        CHECK_RC(GRAZR_OK, grazr_stop_process("early-exit-log", 0, -1));
    }

    /* A process that lives past the window is a successful start, and what happens later is
     * reported by status: exit 0 is STOPPED, exit 3 is ERROR. */
    CHECK_RC(GRAZR_OK, start_sh("late-exit-zero", "sleep 0.5; exit 0", NULL, NULL));
    remember_id("late-exit-zero");
    CHECK_RC(GRAZR_OK, start_sh("late-exit-three", "sleep 0.5; exit 3", NULL, NULL));
    remember_id("late-exit-three");
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "late-exit-zero");
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "late-exit-three");
    WAIT_UNTIL(grazr_status("late-exit-zero") != GRAZR_STATUS_RUNNING &&
                   grazr_status("late-exit-three") != GRAZR_STATUS_RUNNING,
               3000);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "late-exit-zero");
    CHECK_STATUS(GRAZR_STATUS_ERROR, "late-exit-three");
    CHECK_RC(GRAZR_OK, info_of("late-exit-zero", &info));
    CHECKF(info.state == GRAZR_STATE_EXITED, "state %s", state_name(info.state));
    CHECK_INT(info.exit_code, ==, 0);
    CHECK_RC(GRAZR_OK, info_of("late-exit-three", &info));
    CHECKF(info.state == GRAZR_STATE_FAILED, "state %s", state_name(info.state));
    CHECK_INT(info.exit_code, ==, 3);
    CHECK(list_contains("late-exit-three"));
    CHECK(!list_contains("late-exit-zero"));
    /* ERROR lasts until the next start: a new start clears it. */
    CHECK_RC(GRAZR_OK, start_sh("late-exit-three", "exec sleep 100", NULL, NULL));
    remember_id("late-exit-three");
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "late-exit-three");
    CHECK_RC(GRAZR_OK, grazr_stop_process("late-exit-three", 0, 0));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "late-exit-three");
}

static void test_start_pid_file(void)
{
    path_t dir, pidf, pidf2, deep, p, marker;
    grazr_info info;
    grazr_start_options so;
    pid_t pid, daemon, launcher;
    int64_t dt;

    begin("start: pid files and daemonizing launchers");
    fresh_dir(dir, "pidfile");

    /* The child writes the pid file itself, a little later; the pid file's directory is made. */
    join(deep, dir, "run/deeper");
    join(pidf, deep, "svc.pid");
    {
        const char *argv[] = {"sh", "-c", "sleep 0.3; echo $$ > \"$1\"; exec sleep 100", "sh", pidf, NULL};
        CHECK_RC(GRAZR_OK, grazr_start_process("pf-child", argv, pidf, NULL, NULL, NULL));
    }
    pid = remember_id("pf-child");
    CHECK(file_exists(pidf));
    CHECK_INT(pid, ==, pid_in_file(pidf));
    CHECK_INT(grazr_get_pid("pf-child"), ==, pid_in_file(pidf));
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "pf-child");
    CHECK_RC(GRAZR_OK, info_of("pf-child", &info));
    CHECKF(info.state == GRAZR_STATE_RUNNING, "state %s", state_name(info.state));
    CHECK_STR(info.pid_file, pidf);
    CHECK_INT(info.pgid, ==, pid);
    CHECK_RC(GRAZR_OK, grazr_stop_process("pf-child", 0, 2000));
    CHECK(proc_gone(pid));
    CHECKF(!file_exists(pidf), "the pid file is removed once the process is gone");

    /* A daemonizing launcher: the parent exits 0 right away, the daemon's PID is tracked. */
    join(pidf2, dir, "daemon.pid");
    {
        const char *argv[] = {"sh", "-c", "sleep 100 & echo $! > \"$1\"", "sh", pidf2, NULL};
        CHECK_RC(GRAZR_OK, grazr_start_process("pf-daemon", argv, pidf2, NULL, NULL, NULL));
    }
    daemon = pid_in_file(pidf2);
    remember(daemon, 0);
    remember_id("pf-daemon");
    CHECK(daemon > 0);
    CHECK_INT(grazr_get_pid("pf-daemon"), ==, daemon);
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "pf-daemon");
    CHECK_RC(GRAZR_OK, info_of("pf-daemon", &info));
    launcher = info.child_pid;
    CHECK_INT(info.pid, ==, daemon);
    CHECK(launcher > 0 && launcher != daemon);
    CHECK_INT(info.pgid, ==, launcher); /* the daemon stays in the launcher's group */
    CHECKF(info.state == GRAZR_STATE_RUNNING, "state %s", state_name(info.state));
    CHECK_RC(GRAZR_OK, grazr_stop_process("pf-daemon", 0, 2000));
    CHECK(proc_gone(daemon));
    CHECK(!file_exists(pidf2));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "pf-daemon");

    /* A launcher that stays alive beside its daemon: the daemon is the main PID; a stop ends
     * (and reaps) the launcher too. */
    join(pidf2, dir, "waiting-launcher.pid");
    {
        const char *argv[] = {"sh", "-c", "sleep 100 & echo $! > \"$1\"; wait", "sh", pidf2, NULL};
        CHECK_RC(GRAZR_OK, grazr_start_process("pf-waiting-launcher", argv, pidf2, NULL, NULL, NULL));
        daemon = pid_in_file(pidf2);
        remember(daemon, 0);
        remember_id("pf-waiting-launcher");
        CHECK_RC(GRAZR_OK, info_of("pf-waiting-launcher", &info));
        launcher = info.child_pid;
        CHECK_INT(info.pid, ==, daemon);
        CHECK(launcher > 0 && launcher != daemon && proc_alive(launcher));
        CHECK_RC(GRAZR_OK, grazr_stop_process("pf-waiting-launcher", 0, 2000));
        CHECK(proc_gone(daemon));
        CHECKF(proc_reaped(launcher), "launcher %d left behind (state %c)", (int)launcher, proc_state(launcher));
        CHECK(!file_exists(pidf2));
    }

    /* A launcher that exits 0 and never writes the file: EXITED at the pid-file deadline. */
    join(p, dir, "never.pid");
    memset(&so, 0, sizeof so);
    so.size = sizeof so;
    so.pid_file_path = p;
    so.startup_window_ms = -1;
    so.pid_file_timeout_ms = 600;
    {
        const char *argv[] = {"sh", "-c", "exit 0", NULL};
        CHECK_RC_TIMED(dt, GRAZR_ERR_EXITED, grazr_start_process_ex("pf-never", argv, &so));
        CHECKF(dt >= 500 && dt < 4000 * g_slow, "waited %lld ms for a 600 ms pid-file timeout", (long long)dt);
    }
    CHECK(grazr_status("pf-never") != GRAZR_STATUS_RUNNING);
    grazr_stop_process("pf-never", 0, 0);

    /* A child that exits non-zero before writing the file: EXITED at once, not at the deadline. */
    {
        const char *argv[] = {"sh", "-c", "sleep 0.1; exit 9", NULL};
        CHECK_RC_TIMED(dt, GRAZR_ERR_EXITED, grazr_start_process("pf-fail", argv, p, NULL, NULL, NULL));
        CHECKF(dt < 2000 * g_slow, "took %lld ms; the pid-file timeout is 5000", (long long)dt);
        CHECKF(has_number(grazr_last_error_message(), 9), "message \"%s\"", grazr_last_error_message());
        CHECK_STATUS(GRAZR_STATUS_ERROR, "pf-fail");
        CHECK_RC(GRAZR_OK, grazr_stop_process("pf-fail", 0, 0));
    }

    /* A child alive at the deadline without a valid file: OK, RUNNING, tracked by its own PID
     * (PID_FILE_PENDING) until the file appears. A file holding no PID is never deleted. */
    join(p, dir, "pending.pid");
    write_text(p, "not a pid at all\n");
    join(marker, dir, "pending.pid.real");
    so.pid_file_path = p;
    so.pid_file_timeout_ms = 400;
    {
        /* After 1.5 s it writes its PID (atomically, via rename, so that no reader sees a
         * half-written file). */
        const char *argv[] = {"sh", "-c", "sleep 1.5; echo $$ > \"$2\"; mv \"$2\" \"$1\"; exec sleep 100",
                              "sh", p, marker, NULL};
        char content[128];
        CHECK_RC_TIMED(dt, GRAZR_OK, grazr_start_process_ex("pf-pending", argv, &so));
        CHECKF(dt >= 350 && dt < 1400, "returned after %lld ms for a 400 ms pid-file timeout", (long long)dt);
        pid = remember_id("pf-pending");
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "pf-pending");
        CHECK_RC(GRAZR_OK, info_of("pf-pending", &info));
        CHECKF(info.state == GRAZR_STATE_PID_FILE_PENDING, "state %s", state_name(info.state));
        CHECK(info.child_pid > 0);
        CHECK_INT(grazr_get_pid("pf-pending"), ==, info.child_pid);
        read_text(p, content, sizeof content);
        CHECK_STR(content, "not a pid at all\n");
        WAIT_UNTIL(pid_in_file(p) > 0, 4000);
        sleep_ms(100);
        CHECK_RC(GRAZR_OK, info_of("pf-pending", &info));
        CHECKF(info.state == GRAZR_STATE_RUNNING, "state %s", state_name(info.state));
        CHECK_INT(info.pid, ==, pid_in_file(p));
        CHECK_INT(grazr_get_pid("pf-pending"), ==, pid_in_file(p));
        CHECK_RC(GRAZR_OK, grazr_stop_process("pf-pending", 0, 0));
    }

    /* The real daemonizing case (nginx, redis --daemonize): the launcher exits 0 first, and
     * its daemon writes the pid file half a second later. */
    join(p, dir, "late-daemon.pid");
    {
        const char *argv[] = {"sh", "-c",
                              "sh -c 'sleep 0.5; echo $$ > \"$1\"; exec sleep 100' inner \"$1\" & exit 0",
                              "sh", p, NULL};
        CHECK_RC_TIMED(dt, GRAZR_OK, grazr_start_process("pf-late-daemon", argv, p, NULL, NULL, NULL));
        daemon = pid_in_file(p);
        remember(daemon, 0);
        remember_id("pf-late-daemon");
        CHECKF(dt >= 400, "start returned after %lld ms, before the daemon wrote its pid file", (long long)dt);
        CHECK(daemon > 0);
        CHECK_INT(grazr_get_pid("pf-late-daemon"), ==, daemon);
        CHECK_RC(GRAZR_OK, info_of("pf-late-daemon", &info));
        CHECK(info.child_pid > 0 && info.child_pid != daemon);
        CHECKF(info.state == GRAZR_STATE_RUNNING, "state %s", state_name(info.state));
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "pf-late-daemon");
        CHECK_RC(GRAZR_OK, grazr_stop_process("pf-late-daemon", 0, 2000));
        CHECK(proc_gone(daemon));
        CHECK(!file_exists(p));
    }

    /* Identity: a pid file that names a process older than the spawn is not the service's,
     * whatever the file says, and that process is never signalled. */
    {
        pid_t older = spawn_own_sleep();
        char older_text[16];
        path_t f;
        sleep_ms(30);
        snprintf(older_text, sizeof older_text, "%d", (int)older);
        join(f, dir, "older.pid");
        so.pid_file_path = f;
        so.pid_file_timeout_ms = 500;
        {
            /* The child stays alive: tracked by its own PID, the file is not trusted. */
            const char *argv[] = {"sh", "-c", "echo \"$2\" > \"$1\"; exec sleep 100", "sh", f, older_text, NULL};
            CHECK_RC(GRAZR_OK, grazr_start_process_ex("pf-older", argv, &so));
            remember_id("pf-older");
            CHECK_RC(GRAZR_OK, info_of("pf-older", &info));
            CHECKF(info.pid != older, "a process older than the spawn was accepted from the pid file");
            CHECK_INT(info.pid, ==, info.child_pid);
            CHECK_INT(grazr_get_pid("pf-older"), ==, info.child_pid);
            CHECK_RC(GRAZR_OK, grazr_stop_process("pf-older", 0, 0));
            CHECKF(proc_alive(older), "stop killed %d, a process the pid file named but that predates the spawn",
                   (int)older);
        }
        {
            /* The launcher exits 0: no valid pid file by the deadline is EXITED. (A fresh
             * file: the first one still names `older`, and a start finds a pid file that names
             * a verified live process again, as an already running service.) */
            const char *argv[] = {"sh", "-c", "echo \"$2\" > \"$1\"", "sh", f, older_text, NULL};
            join(f, dir, "older-launcher.pid");
            CHECK_RC(GRAZR_ERR_EXITED, grazr_start_process_ex("pf-older-launcher", argv, &so));
            CHECK_INT(grazr_get_pid("pf-older-launcher"), ==, 0);
            CHECK(grazr_status("pf-older-launcher") != GRAZR_STATUS_RUNNING);
            CHECK_RC(GRAZR_OK, grazr_stop_process("pf-older-launcher", 0, 0));
            CHECKF(proc_alive(older), "%d, named by a launcher's pid file but older than the spawn, was killed",
                   (int)older);
        }
        kill_own(older);
    }

    /* A stale pid file (a dead PID) is removed before the launch. */
    {
        const char *dead_argv[] = {"true", NULL};
        const char *argv[] = {"sleep", "100", NULL};
        char buf[32];
        pid_t dead = spawn_own(dead_argv, 1);
        reap_own(dead, 3000);
        join(p, dir, "stale.pid");
        snprintf(buf, sizeof buf, "%d\n", (int)dead);
        write_text(p, buf);
        so.pid_file_path = p;
        so.pid_file_timeout_ms = 300;
        CHECK_RC(GRAZR_OK, grazr_start_process_ex("pf-stale", argv, &so));
        remember_id("pf-stale");
        CHECKF(!file_exists(p), "a pid file naming a dead PID is removed before the launch");
        CHECK_RC(GRAZR_OK, grazr_stop_process("pf-stale", 0, 0));
    }
}

static void test_start_ex(void)
{
    path_t dir, log, bin, tool, notread;
    grazr_start_options so;
    grazr_info info;
    char text[8192];
    int64_t dt;

    begin("start_ex: window 0, environment, PATH search, options size");
    fresh_dir(dir, "startex");

    /* Window 0 returns once the exec succeeded. */
    memset(&so, 0, sizeof so);
    so.size = sizeof so;
    so.startup_window_ms = 0;
    so.pid_file_timeout_ms = -1;
    {
        const char *argv[] = {"sleep", "100", NULL};
        CHECK_RC_TIMED(dt, GRAZR_OK, grazr_start_process_ex("w0-sleep", argv, &so));
        CHECKF(dt < 150 * g_slow, "window 0 start took %lld ms", (long long)dt);
        remember_id("w0-sleep");
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "w0-sleep");
        CHECK_RC(GRAZR_OK, grazr_stop_process("w0-sleep", 0, 0));
    }
    /* ... even when the process then exits 3 at once: the failure shows up in status. */
    {
        const char *argv[] = {"sh", "-c", "exit 3", NULL};
        CHECK_RC(GRAZR_OK, grazr_start_process_ex("w0-exit", argv, &so));
        WAIT_UNTIL(grazr_status("w0-exit") != GRAZR_STATUS_RUNNING, 3000);
        CHECK_STATUS(GRAZR_STATUS_ERROR, "w0-exit");
        CHECK_RC(GRAZR_OK, info_of("w0-exit", &info));
        CHECK_INT(info.exit_code, ==, 3);
        CHECK_RC(GRAZR_OK, grazr_stop_process("w0-exit", 0, 0));
    }
    /* A longer window catches a later exit. */
    so.startup_window_ms = 1500;
    {
        const char *argv[] = {"sh", "-c", "sleep 0.4; exit 4", NULL};
        CHECK_RC(GRAZR_ERR_EXITED, grazr_start_process_ex("w-long", argv, &so));
        CHECK_STATUS(GRAZR_STATUS_ERROR, "w-long");
        CHECK_RC(GRAZR_OK, grazr_stop_process("w-long", 0, 0));
    }

    /* Clear environment plus entries: the child sees exactly those. Values may be empty, hold
     * '=' and any bytes but NUL. */
    join(log, dir, "clear-env.log");
    so.startup_window_ms = 0;
    so.flags = GRAZR_START_CLEAR_ENV;
    so.log_file_path = log;
    {
        const char *argv[] = {"/usr/bin/env", NULL};
        const char *env[] = {"GRAZR_SET=one", "GRAZR_EMPTY=", "GRAZR_EQ=a=b", "GRAZR_BYTES=\xff\xfe!", NULL};
        so.env = env;
        CHECK_RC(GRAZR_OK, grazr_start_process_ex("clear-env", argv, &so));
        remember_id("clear-env");
        WAIT_UNTIL(grazr_status("clear-env") != GRAZR_STATUS_RUNNING, 3000);
        CHECK_STATUS(GRAZR_STATUS_STOPPED, "clear-env");
        read_text(log, text, sizeof text);
        CHECKF(!has_line_prefix(text, "HOME="), "child env:\n%s", text);
        CHECKF(!has_line_prefix(text, "PATH="), "child env:\n%s", text);
        CHECKF(has_line_prefix(text, "GRAZR_SET=one\n"), "child env:\n%s", text);
        CHECKF(has_line_prefix(text, "GRAZR_EMPTY=\n"), "child env:\n%s", text);
        CHECKF(has_line_prefix(text, "GRAZR_EQ=a=b\n"), "child env:\n%s", text);
        CHECKF(has_line_prefix(text, "GRAZR_BYTES=\xff\xfe!\n"), "child env:\n%s", text);
        CHECK_INT(count_lines(log), ==, 4);
        grazr_stop_process("clear-env", 0, 0);
    }

    /* Overlay on the host's environment: set, override, remove with a bare KEY. */
    setenv("GRAZR_HOST_KEEP", "kept", 1);
    setenv("GRAZR_HOST_DROP", "dropped", 1);
    setenv("GRAZR_HOST_OVER", "host", 1);
    join(log, dir, "overlay.log");
    so.flags = 0;
    so.log_file_path = log;
    {
        const char *argv[] = {"env", NULL};
        const char *env[] = {"GRAZR_NEW=new", "GRAZR_HOST_DROP", "GRAZR_HOST_OVER=child", NULL};
        so.env = env;
        CHECK_RC(GRAZR_OK, grazr_start_process_ex("overlay-env", argv, &so));
        remember_id("overlay-env");
        WAIT_UNTIL(grazr_status("overlay-env") != GRAZR_STATUS_RUNNING, 3000);
        read_text(log, text, sizeof text);
        CHECKF(has_line_prefix(text, "GRAZR_NEW=new\n"), "child env:\n%s", text);
        CHECKF(has_line_prefix(text, "GRAZR_HOST_KEEP=kept\n"), "child env:\n%s", text);
        CHECKF(has_line_prefix(text, "GRAZR_HOST_OVER=child\n"), "child env:\n%s", text);
        CHECKF(!has_line_prefix(text, "GRAZR_HOST_OVER=host"), "child env:\n%s", text);
        CHECKF(!has_line_prefix(text, "GRAZR_HOST_DROP"), "a bare KEY removes it:\n%s", text);
        CHECKF(has_line_prefix(text, "PATH="), "the host's PATH is inherited:\n%s", text);
        grazr_stop_process("overlay-env", 0, 0);
    }
    unsetenv("GRAZR_HOST_KEEP");
    unsetenv("GRAZR_HOST_DROP");
    unsetenv("GRAZR_HOST_OVER");

    /* Arguments are passed as they are: empty, with spaces, with non-UTF-8 bytes; no shell. */
    join(log, dir, "args.log");
    so.env = NULL;
    so.log_file_path = log;
    {
        const char *argv[] = {"printf", "[%s][%s][%s][%s]\n", "", "two words", "\xff", "$HOME;*", NULL};
        CHECK_RC(GRAZR_OK, grazr_start_process_ex("args", argv, &so));
        remember_id("args");
        WAIT_UNTIL(grazr_status("args") != GRAZR_STATUS_RUNNING, 3000);
        read_text(log, text, sizeof text);
        CHECK_STR(text, "[][two words][\xff][$HOME;*]\n");
        grazr_stop_process("args", 0, 0);
    }

    /* argv[0] without a slash is searched in the PATH of the child's final environment. */
    join(bin, dir, "bin");
    mkdir(bin, 0755);
    join(tool, bin, "grazr-ctest-tool");
    write_text(tool, "#!/bin/sh\nexec sleep 100\n");
    chmod(tool, 0755);
    {
        char pathvar[PATH_MAX + 64];
        const char *argv[] = {"grazr-ctest-tool", NULL};
        const char *env[] = {pathvar, NULL};
        snprintf(pathvar, sizeof pathvar, "PATH=%s:/usr/bin:/bin", bin);
        so.log_file_path = NULL;
        so.env = env;
        CHECK_RC(GRAZR_OK, grazr_start_process_ex("path-search", argv, &so));
        remember_id("path-search");
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "path-search");
        CHECK_RC(GRAZR_OK, grazr_stop_process("path-search", 0, 0));
        /* The host's PATH lacks that directory. */
        so.env = NULL;
        if (!g_valgrind) {
            CHECK_RC(GRAZR_ERR_SPAWN, grazr_start_process_ex("path-search-host", argv, &so));
        }
        grazr_stop_process("path-search-host", 0, 0);
    }

    /* An older, shorter options struct: fields beyond `size` are not read. */
    join(notread, dir, "must-not-exist.log");
    memset(&so, 0, sizeof so);
    so.size = (uint32_t)offsetof(grazr_start_options, log_file_path);
    so.log_file_path = notread;          /* beyond size: ignored */
    so.startup_window_ms = 0;            /* beyond size: ignored (default window) */
    so.pid_file_timeout_ms = 0;
    {
        const char *argv[] = {"sleep", "100", NULL};
        CHECK_RC(GRAZR_OK, grazr_start_process_ex("short-opts", argv, &so));
        remember_id("short-opts");
        CHECKF(!file_exists(notread), "a field beyond options->size was used");
        CHECK_RC(GRAZR_OK, grazr_stop_process("short-opts", 0, 0));
    }
    /* NULL options: the defaults. */
    {
        const char *argv[] = {"sleep", "100", NULL};
        CHECK_RC(GRAZR_OK, grazr_start_process_ex("null-opts", argv, NULL));
        remember_id("null-opts");
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "null-opts");
        CHECK_RC(GRAZR_OK, grazr_stop_process("null-opts", 0, 0));
    }
}

static void test_child_setup(void)
{
    path_t dir, log, logdir, cwd0, here, expect;
    grazr_info info;
    char text[4096];
    struct stat st;
    sigset_t block, old;
    struct sigaction ign, old_hup;
    int leak;

    begin("child setup: fds, stdin, session, signals, logs, relative paths");
    fresh_dir(dir, "child");

    /* A host descriptor without O_CLOEXEC, a blocked signal and an ignored one: the child must
     * get none of them. */
    leak = fcntl(STDERR_FILENO, F_DUPFD, 47);
    CHECK(leak >= 47);
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &ign, &old_hup);

    join(logdir, dir, "logs/nested");
    join(log, logdir, "fds.log");
    {
        /* ls writes to the log (fd 1) with no redirection in the shell, so the listing is the
         * shell's own descriptors as the library left them. The signal state is read from
         * /proc once the shell has become sleep, which changes neither mask nor dispositions
         * (reading it from inside dash races with dash blocking signals around its forks). */
        const char *argv[] = {"sh", "-c", "ls /proc/$$/fd; readlink /proc/$$/fd/0; exec sleep 100", NULL};
        pid_t pid;
        char status_path[64];
        CHECK_RC(GRAZR_OK, grazr_start_process("child-setup", argv, NULL, NULL, NULL, log));
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        close(leak);
        pid = remember_id("child-setup");
        WAIT_UNTIL(proc_comm_is(pid, "sleep"), 3000);
        read_text(log, text, sizeof text);
        CHECK_STR(text, "0\n1\n2\n/dev/null\n");
        snprintf(status_path, sizeof status_path, "/proc/%d/status", (int)pid);
        read_text(status_path, text, sizeof text);
        CHECKF(strstr(text, "SigBlk:\t0000000000000000") != NULL, "child signal state:\n%s", text);
        CHECKF(strstr(text, "SigIgn:\t0000000000000000") != NULL, "child signal state:\n%s", text);
    }
    /* The log's directory was created; the log is 0644 (umask 022). */
    CHECK(stat(log, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK_RC(GRAZR_OK, info_of("child-setup", &info));
    CHECK_STR(info.log_file, log);
    CHECK_INT(info.pgid, ==, info.pid);
    CHECK_INT(getsid(info.pid), ==, info.pid);
    CHECK_RC(GRAZR_OK, grazr_stop_process("child-setup", 0, 0));

    /* The log is appended to, stdout and stderr alike. */
    join(log, dir, "append.log");
    write_text(log, "pre-existing line\n");
    {
        const char *argv[] = {"sh", "-c", "echo to-stdout; echo to-stderr >&2", NULL};
        grazr_start_options so;
        memset(&so, 0, sizeof so);
        so.size = sizeof so;
        so.log_file_path = log;
        so.startup_window_ms = 0;
        CHECK_RC(GRAZR_OK, grazr_start_process_ex("append-log", argv, &so));
        remember_id("append-log");
        WAIT_UNTIL(grazr_status("append-log") != GRAZR_STATUS_RUNNING, 3000);
        read_text(log, text, sizeof text);
        CHECK_STR(text, "pre-existing line\nto-stdout\nto-stderr\n");
        grazr_stop_process("append-log", 0, 0);
    }

    /* Relative paths resolve against the host's cwd at the call, and are stored absolute. */
    CHECK(getcwd(cwd0, sizeof cwd0) != NULL);
    CHECK_INT(chdir(dir), ==, 0);
    CHECK(getcwd(here, sizeof here) != NULL);
    {
        const char *argv[] = {"sh", "-c", "echo $$ > \"$1\"; exec sleep 100", "sh", NULL, NULL};
        path_t abs_pid;
        /* The child runs in the given (relative) working dir; its $1 must name the same file. */
        argv[4] = "../rel/run/rel.pid";
        mkdir("work", 0755);
        CHECK_RC(GRAZR_OK, grazr_start_process("relative", argv, "rel/run/rel.pid", "work", NULL, "rel/rel.log"));
        CHECK_INT(chdir(cwd0), ==, 0);
        remember_id("relative");
        CHECK_RC(GRAZR_OK, info_of("relative", &info));
        join(expect, here, "rel/run/rel.pid");
        CHECK_STR(info.pid_file, expect);
        join(expect, here, "rel/rel.log");
        CHECK_STR(info.log_file, expect);
        join(abs_pid, here, "rel/run/rel.pid");
        CHECK_INT(grazr_get_pid("relative"), ==, pid_in_file(abs_pid));
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "relative");
        CHECK_RC(GRAZR_OK, grazr_stop_process("relative", 0, 0));
        CHECK(!file_exists(abs_pid));
    }
    if (chdir(cwd0) != 0)
        perror("chdir");
}

static void test_stop(void)
{
    path_t dir, ready, member, ready2, out;
    grazr_stop_options sto;
    grazr_info info;
    pid_t pid, mpid;
    int64_t t0, dt;
    int32_t rc;

    begin("stop: unknown ids, escalation, never-kill, groups, SIGCONT");
    fresh_dir(dir, "stop");

    t0 = now_ms();
    CHECK_RC(GRAZR_OK, grazr_stop_process("stop-never-started", 0, -1));
    CHECK_RC(GRAZR_OK, grazr_stop_process("stop-never-started", SIGKILL, 0));
    CHECK_INT(now_ms() - t0, <, 500 * g_slow);

    /* A child that ignores SIGTERM: SIGKILL after 300 ms. */
    join(ready, dir, "ignterm.ready");
    pid = START_READY(ready, "ignore-term", SH_IGNORE_TERM, ready, NULL);
    CHECK_RC_TIMED(dt, GRAZR_OK, grazr_stop_process("ignore-term", SIGTERM, 300));
    CHECKF(dt >= 250 && dt < 2500 * g_slow, "stop took %lld ms for a 300 ms timeout", (long long)dt);
    CHECKF(proc_reaped(pid), "pid %d state %c", (int)pid, proc_state(pid));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "ignore-term");
    CHECK_RC(GRAZR_OK, info_of("ignore-term", &info));
    CHECK_INT(info.term_signal, ==, SIGKILL);

    /* Never SIGKILL: TIMEOUT at the timeout, and the process keeps running. */
    join(ready, dir, "nokill.ready");
    pid = START_READY(ready, "no-kill", SH_IGNORE_TERM, ready, NULL);
    memset(&sto, 0, sizeof sto);
    sto.size = sizeof sto;
    sto.flags = GRAZR_STOP_NO_KILL;
    sto.timeout_ms = 300;
    CHECK_RC_TIMED(dt, GRAZR_ERR_TIMEOUT, grazr_stop_process_ex("no-kill", &sto));
    CHECKF(dt >= 250 && dt < 2500 * g_slow, "stop took %lld ms for a 300 ms timeout", (long long)dt);
    CHECKF(strstr(grazr_last_error_message(), "no-kill") != NULL, "message \"%s\"", grazr_last_error_message());
    CHECK(proc_alive(pid));
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "no-kill");
    CHECK_INT(grazr_get_pid("no-kill"), ==, pid);
    /* Then a normal stop. */
    CHECK_RC(GRAZR_OK, grazr_stop_process("no-kill", 0, 0));
    CHECK(proc_reaped(pid));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "no-kill");

    /* Escalation reaches the whole group: a TERM-ignoring main with a TERM-ignoring member. */
    join(member, dir, "member.pid");
    join(ready, dir, "group.ready");
    pid = START_READY(ready, "group-kill",
                      "trap '' TERM; sleep 100 & echo $! > \"$1\"; echo r > \"$2\"; exec sleep 100",
                      member, ready);
    mpid = pid_in_file(member);
    remember(mpid, 0);
    CHECK(mpid > 0 && proc_alive(mpid));
    CHECK_RC(GRAZR_OK, grazr_stop_process("group-kill", 0, 300));
    CHECK(proc_gone(pid));
    CHECKF(proc_gone(mpid), "group member %d survived the stop (state %c)", (int)mpid, proc_state(mpid));

    /* KillMode=mixed: the main process exits on SIGTERM; what is left of its group gets
     * SIGKILL at once rather than after the timeout. */
    join(member, dir, "mixed-member.pid");
    join(ready2, dir, "mixed.ready");
    CHECK_RC(GRAZR_OK, start_sh("mixed",
                                "(trap '' TERM; echo r > \"$2\"; exec sleep 100) & echo $! > \"$1\"; exec sleep 100",
                                member, ready2));
    pid = remember_id("mixed");
    WAIT_UNTIL(file_nonempty(ready2) && file_nonempty(member), 3000);
    mpid = pid_in_file(member);
    remember(mpid, 0);
    CHECK(mpid > 0 && proc_alive(mpid));
    CHECK_RC_TIMED(dt, GRAZR_OK, grazr_stop_process("mixed", 0, 5000));
    CHECKF(dt < 2500 * g_slow, "stop took %lld ms; the group should be killed once the main exits", (long long)dt);
    CHECK(proc_gone(pid));
    CHECKF(proc_gone(mpid), "group member %d survived (state %c)", (int)mpid, proc_state(mpid));

    /* SIGCONT after the signal: a stopped process with a TERM handler can act on it. */
    join(ready, dir, "cont.ready");
    pid = START_READY(ready, "stopped-proc", "trap 'exit 0' TERM; echo r > \"$1\"; while :; do sleep 0.1; done",
                      ready, NULL);
    kill(pid, SIGSTOP);
    WAIT_UNTIL(proc_state(pid) == 'T', 2000);
    CHECK_INT(proc_state(pid), ==, 'T');
    CHECK_RC_TIMED(dt, GRAZR_OK, grazr_stop_process("stopped-proc", 0, 5000));
    CHECKF(dt < 2500 * g_slow, "stop of a SIGSTOPped process took %lld ms (SIGCONT missing?)", (long long)dt);
    CHECK(proc_gone(pid));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "stopped-proc");

    /* An explicit graceful signal. */
    join(out, dir, "int.out");
    join(ready, dir, "int.ready");
    pid = START_READY(ready, "sigint-stop",
                      "trap 'echo got-int > \"$1\"; exit 0' INT; echo r > \"$2\"; while :; do sleep 0.1; done",
                      out, ready);
    CHECK_RC(GRAZR_OK, grazr_stop_process("sigint-stop", SIGINT, 3000));
    {
        char text[64];
        read_text(out, text, sizeof text);
        CHECK_STR(text, "got-int\n");
    }
    CHECK(proc_gone(pid));

    /* Timeout 0: SIGKILL right after the signal. */
    join(ready, dir, "zero.ready");
    pid = START_READY(ready, "zero-timeout", SH_IGNORE_TERM, ready, NULL);
    t0 = now_ms();
    rc = grazr_stop_process("zero-timeout", 0, 0);
    dt = now_ms() - t0;
    CHECK_RC(GRAZR_OK, rc);
    CHECKF(dt < 1000 * g_slow, "a 0 ms stop took %lld ms", (long long)dt);
    CHECK(proc_gone(pid));

    /* A zeroed stop-options struct (size set) means timeout 0 too, and stop_ex can stop an
     * untracked process through its pid file. */
    {
        path_t pf;
        pid_t own;
        join(pf, dir, "untracked.pid");
        own = spawn_own_daemon(pf);
        CHECK(own > 0 && proc_alive(own));
        memset(&sto, 0, sizeof sto);
        sto.size = sizeof sto;
        sto.timeout_ms = -1;
        sto.pid_file_path = pf;
        CHECK_RC(GRAZR_OK, grazr_stop_process_ex("untracked-by-file", &sto));
        CHECK(proc_gone(own));
        {
            int st = reap_own(own, 3000);
            CHECKF(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "wait status %#x", st);
        }
        CHECK(!file_exists(pf));
    }
}

static void test_status_table(void)
{
    path_t dir, pf;
    grazr_info info;
    pid_t pid, daemon;

    begin("status table");
    fresh_dir(dir, "status");

    /* Row: main process alive (a child). */
    CHECK_RC(GRAZR_OK, start_sh("st-running", "exec sleep 100", NULL, NULL));
    pid = remember_id("st-running");
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "st-running");
    CHECK_RC(GRAZR_OK, info_of("st-running", &info));
    CHECK_INT(info.status, ==, GRAZR_STATUS_RUNNING);
    CHECKF(info.state == GRAZR_STATE_RUNNING, "state %s", state_name(info.state));
    /* Row: exited after a stop the library sent -> STOPPED. */
    CHECK_RC(GRAZR_OK, grazr_stop_process("st-running", 0, 2000));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "st-running");
    CHECK_RC(GRAZR_OK, info_of("st-running", &info));
    CHECKF(info.state == GRAZR_STATE_STOPPED, "state %s", state_name(info.state));
    CHECK_INT(info.term_signal, ==, SIGTERM);
    CHECK_INT(info.pid, ==, 0);
    CHECK_INT(grazr_get_pid("st-running"), ==, 0);
    CHECK(proc_reaped(pid));

    /* Row: died by a signal the library did not send -> ERROR; the child is reaped by the next
     * call that concerns it. */
    CHECK_RC(GRAZR_OK, start_sh("st-killed", "exec sleep 100", NULL, NULL));
    pid = remember_id("st-killed");
    CHECK(pid > 0);
    kill(pid, SIGKILL);
    WAIT_UNTIL(grazr_status("st-killed") != GRAZR_STATUS_RUNNING, 3000);
    CHECK_STATUS(GRAZR_STATUS_ERROR, "st-killed");
    CHECKF(proc_reaped(pid), "the dead child %d is reaped (state %c)", (int)pid, proc_state(pid));
    CHECK_RC(GRAZR_OK, info_of("st-killed", &info));
    CHECKF(info.state == GRAZR_STATE_KILLED, "state %s", state_name(info.state));
    CHECK_INT(info.term_signal, ==, SIGKILL);
    CHECK_INT(info.exit_code, ==, -1);
    CHECK_INT(grazr_get_pid("st-killed"), ==, 0);
    CHECK(list_contains("st-killed"));
    /* ERROR lasts until the next stop. */
    CHECK_STATUS(GRAZR_STATUS_ERROR, "st-killed");
    CHECK_RC(GRAZR_OK, grazr_stop_process("st-killed", 0, -1));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "st-killed");
    CHECK(!list_contains("st-killed"));

    /* Rows: exit 0 -> STOPPED, exit 3 -> ERROR (after the window). */
    CHECK_RC(GRAZR_OK, start_sh("st-exit0", "sleep 0.4; exit 0", NULL, NULL));
    remember_id("st-exit0");
    CHECK_RC(GRAZR_OK, start_sh("st-exit3", "sleep 0.4; exit 3", NULL, NULL));
    remember_id("st-exit3");
    WAIT_UNTIL(grazr_status("st-exit0") != GRAZR_STATUS_RUNNING && grazr_status("st-exit3") != GRAZR_STATUS_RUNNING,
               3000);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "st-exit0");
    CHECK_STATUS(GRAZR_STATUS_ERROR, "st-exit3");
    grazr_stop_process("st-exit3", 0, 0);

    /* Rows for a daemon tracked by its pid file. */
    join(pf, dir, "daemon.pid");
    {
        const char *argv[] = {"sh", "-c", "sleep 100 & echo $! > \"$1\"", "sh", pf, NULL};
        CHECK_RC(GRAZR_OK, grazr_start_process("st-daemon", argv, pf, NULL, NULL, NULL));
        daemon = pid_in_file(pf);
        remember(daemon, 0);
        remember_id("st-daemon");
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "st-daemon");
        /* Row: pid file deleted by someone else while the process lives -> RUNNING. */
        unlink(pf);
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "st-daemon");
        CHECK_INT(grazr_get_pid("st-daemon"), ==, daemon);
        /* Row: the daemon is gone and its pid file is gone -> STOPPED. */
        kill(daemon, SIGTERM);
        WAIT_UNTIL(grazr_status("st-daemon") != GRAZR_STATUS_RUNNING, 3000);
        CHECK_STATUS(GRAZR_STATUS_STOPPED, "st-daemon");
        CHECK_INT(grazr_get_pid("st-daemon"), ==, 0);

        /* Row: the daemon is gone and left its pid file behind (a crash) -> ERROR. */
        CHECK_RC(GRAZR_OK, grazr_start_process("st-daemon", argv, pf, NULL, NULL, NULL));
        daemon = pid_in_file(pf);
        remember(daemon, 0);
        remember_id("st-daemon");
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "st-daemon");
        kill(daemon, SIGKILL);
        WAIT_UNTIL(grazr_status("st-daemon") != GRAZR_STATUS_RUNNING, 3000);
        CHECK_STATUS(GRAZR_STATUS_ERROR, "st-daemon");
        CHECK_RC(GRAZR_OK, info_of("st-daemon", &info));
        CHECKF(info.state == GRAZR_STATE_CRASHED, "state %s", state_name(info.state));
        /* Status never deletes files. */
        CHECK(file_exists(pf));
        CHECK(list_contains("st-daemon"));
        CHECK_RC(GRAZR_OK, grazr_stop_process("st-daemon", 0, 0));
        CHECK_STATUS(GRAZR_STATUS_STOPPED, "st-daemon");
    }
    /* The registered-service rows (adoption, stale files, garbage) are in test_register. */
}

static void test_signal_process(void)
{
    path_t dir, out, ready;
    pid_t pid;
    char text[256];

    begin("signal_process");
    fresh_dir(dir, "signal");
    join(out, dir, "usr1.out");
    join(ready, dir, "usr1.ready");
    pid = START_READY(ready, "sig-usr1",
                      "trap 'echo got-usr1 >> \"$1\"' USR1; echo r > \"$2\"; while :; do sleep 0.1; done",
                      out, ready);
    CHECK_RC(GRAZR_OK, grazr_signal_process("sig-usr1", SIGUSR1));
    WAIT_UNTIL(file_nonempty(out), 3000);
    read_text(out, text, sizeof text);
    CHECK_STR(text, "got-usr1\n");
    /* A handled signal does not stop it. */
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "sig-usr1");
    CHECK(proc_alive(pid));
    /* Bad signal numbers leave it alone. */
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_signal_process("sig-usr1", -1));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_signal_process("sig-usr1", 65));
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_signal_process("sig-usr1", 0));
    CHECK(proc_alive(pid));
    CHECK_RC(GRAZR_OK, grazr_stop_process("sig-usr1", 0, 0));
    CHECK_RC(GRAZR_ERR_NOT_RUNNING, grazr_signal_process("sig-usr1", SIGUSR1));
    CHECK_RC(GRAZR_ERR_NOT_RUNNING, grazr_signal_process("sig-never-started", SIGHUP));

    /* A signal the process does not handle ends it. */
    CHECK_RC(GRAZR_OK, start_sh("sig-kill", "exec sleep 100", NULL, NULL));
    pid = remember_id("sig-kill");
    CHECK_RC(GRAZR_OK, grazr_signal_process("sig-kill", SIGKILL));
    WAIT_UNTIL(grazr_status("sig-kill") != GRAZR_STATUS_RUNNING, 3000);
    CHECK(proc_gone(pid));
    CHECK(grazr_status("sig-kill") != GRAZR_STATUS_RUNNING);
    CHECK_INT(grazr_get_pid("sig-kill"), ==, 0);
    CHECK_RC(GRAZR_OK, grazr_stop_process("sig-kill", 0, 0));
}

struct tid_thread {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pid_t tid;
    int done;
};

static void *tid_thread_main(void *arg)
{
    struct tid_thread *t = arg;
    pthread_mutex_lock(&t->lock);
    t->tid = gettid();
    pthread_cond_broadcast(&t->cond);
    while (!t->done)
        pthread_cond_wait(&t->cond, &t->lock);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

static void test_read_pid_file_and_pid_alive(void)
{
    path_t dir, p;
    pid_t live, dead, zombie;
    char buf[256];
    struct timespec old_times[2];
    struct tid_thread tt;
    pthread_t th;

    begin("read_pid_file and pid_alive");
    fresh_dir(dir, "readpid");
    live = spawn_own_sleep();
    CHECK(live > 0);
    {
        const char *argv[] = {"true", NULL};
        dead = spawn_own(argv, 1);
        reap_own(dead, 3000);
        zombie = spawn_own(argv, 1);
        WAIT_UNTIL(proc_state(zombie) == 'Z', 3000);
    }
    sleep_ms(20); /* file mtimes below must not precede the live process's start */

#define PIDFILE_CASE(name, content, expected)                                                    \
    do {                                                                                         \
        join(p, dir, name);                                                                      \
        write_text(p, content);                                                                  \
        CHECK_RC((expected), grazr_read_pid_file(p));                                            \
    } while (0)

    PIDFILE_CASE("garbage", "garbage\n", 0);
    PIDFILE_CASE("12abc", "12abc\n", 0);
    PIDFILE_CASE("minus-one", "-1\n", 0);
    PIDFILE_CASE("zero", "0\n", 0);
    PIDFILE_CASE("empty", "", 0);
    PIDFILE_CASE("underscore", "1_2\n", 0);
    PIDFILE_CASE("huge", "99999999999999999999\n", 0);
    PIDFILE_CASE("init", "1\n", 0);
    snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    PIDFILE_CASE("host", buf, 0);
    snprintf(buf, sizeof buf, "%d\n", (int)dead);
    PIDFILE_CASE("dead", buf, 0);
    snprintf(buf, sizeof buf, "%d\n", (int)zombie);
    PIDFILE_CASE("zombie", buf, 0);
    snprintf(buf, sizeof buf, "%d\n", (int)live);
    PIDFILE_CASE("live", buf, live);
    snprintf(buf, sizeof buf, "%d", (int)live);
    PIDFILE_CASE("no-newline", buf, live);
    snprintf(buf, sizeof buf, "  %d \t\n", (int)live);
    PIDFILE_CASE("whitespace", buf, live);
    /* postmaster.pid style: only the first line counts. */
    snprintf(buf, sizeof buf, "%d\n/var/lib/postgresql/data\n1700000000\n5432\n", (int)live);
    PIDFILE_CASE("multi-line", buf, live);
    snprintf(buf, sizeof buf, "garbage\n%d\n", (int)live);
    PIDFILE_CASE("second-line", buf, 0);
    PIDFILE_CASE("plus", "+5\n", 0);
    /* Not regular files: read without blocking, and hold no PID. */
    {
        int64_t t0 = now_ms();
        join(p, dir, "fifo.pid");
        CHECK_INT(mkfifo(p, 0644), ==, 0);
        CHECK_RC(0, grazr_read_pid_file(p));
        join(p, dir, "zero.pid");
        CHECK_INT(symlink("/dev/zero", p), ==, 0);
        CHECK_RC(0, grazr_read_pid_file(p));
        CHECK_INT(now_ms() - t0, <, 1000 * g_slow);
    }
    /* A huge file whose first line is a very long number. */
    {
        static char huge[1 << 20];
        memset(huge, '7', sizeof huge - 2);
        huge[sizeof huge - 2] = '\n';
        huge[sizeof huge - 1] = '\0';
        PIDFILE_CASE("huge-file", huge, 0);
    }
    /* A thread is not a process. */
    memset(&tt, 0, sizeof tt);
    pthread_mutex_init(&tt.lock, NULL);
    pthread_cond_init(&tt.cond, NULL);
    pthread_create(&th, NULL, tid_thread_main, &tt);
    pthread_mutex_lock(&tt.lock);
    while (tt.tid == 0)
        pthread_cond_wait(&tt.cond, &tt.lock);
    pthread_mutex_unlock(&tt.lock);
    snprintf(buf, sizeof buf, "%d\n", (int)tt.tid);
    PIDFILE_CASE("thread", buf, 0);
    CHECK_INT(grazr_pid_alive(tt.tid), ==, 0);
    pthread_mutex_lock(&tt.lock);
    tt.done = 1;
    pthread_cond_broadcast(&tt.cond);
    pthread_mutex_unlock(&tt.lock);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&tt.lock);
    pthread_cond_destroy(&tt.cond);

    /* A reused PID: the file was last written before the process started. */
    join(p, dir, "reused");
    snprintf(buf, sizeof buf, "%d\n", (int)live);
    write_text(p, buf);
    clock_gettime(CLOCK_REALTIME, &old_times[0]);
    old_times[0].tv_sec -= 3600;
    old_times[1] = old_times[0];
    CHECK_INT(utimensat(AT_FDCWD, p, old_times, 0), ==, 0);
    CHECK_RC(0, grazr_read_pid_file(p));
    CHECK(file_exists(p)); /* reading never deletes */

    /* Missing file: 0. Paths that exist but cannot be read as a file: IO, naming the path. A
     * directory, and a symlink loop (which fails even for root, who reads any mode). */
    join(p, dir, "missing.pid");
    CHECK_RC(0, grazr_read_pid_file(p));
    join(p, dir, "no/such/dir/x.pid");
    CHECK_RC(0, grazr_read_pid_file(p));
    CHECK_RC(GRAZR_ERR_IO, grazr_read_pid_file(dir));
    CHECKF(strstr(grazr_last_error_message(), dir) != NULL, "the message names the path: \"%s\"",
           grazr_last_error_message());
    join(p, dir, "loop.pid");
    CHECK_INT(symlink("loop.pid", p), ==, 0);
    CHECK_RC(GRAZR_ERR_IO, grazr_read_pid_file(p));
    CHECKF(strstr(grazr_last_error_message(), "loop.pid") != NULL, "the message names the path: \"%s\"",
           grazr_last_error_message());

    /* pid_alive. */
    CHECK_INT(grazr_pid_alive(live), ==, 1);
    CHECK_INT(grazr_pid_alive(getpid()), ==, 0);
    CHECK_INT(grazr_pid_alive(getppid()), ==, 0);
    CHECK_INT(grazr_pid_alive(getsid(0)), ==, 0);
    CHECK_INT(grazr_pid_alive(getpgrp()), ==, 0);
    CHECK_INT(grazr_pid_alive(1), ==, 0);
    CHECK_INT(grazr_pid_alive(0), ==, 0);
    CHECK_INT(grazr_pid_alive(-1), ==, 0);
    CHECK_INT(grazr_pid_alive(dead), ==, 0);
    CHECK_INT(grazr_pid_alive(zombie), ==, 0);

    kill_own(live);
    reap_own(zombie, 3000);
    CHECK_INT(grazr_pid_alive(live), ==, 0);
#undef PIDFILE_CASE
}

static void test_register_and_adopt(void)
{
    path_t dir, svc, other, tmpl, p, p2, runok;
    grazr_info info;
    char buf[PATH_MAX + 64];
    pid_t adopt, reused, trav_bad, trav_ok, special, prog_ok, prog_bad, prog_full, regstart;
    struct timespec old_times[2];
    int64_t t0, dt;

    begin("register_service and re-adoption");
    fresh_dir(dir, "register");
    join(svc, dir, "svc");
    join(other, dir, "other");
    mkdir(svc, 0755);
    mkdir(other, 0755);

    /* A pattern with a template. */
    join(tmpl, svc, "{name}.pid");
    CHECK_RC(GRAZR_OK, grazr_register_service("svc-{name}", tmpl, NULL, 0, -1));

    /* Row: untracked id whose registered pid file names a verified live process -> RUNNING,
     * adopted and tracked from now on. */
    join(p, svc, "adopt.pid");
    adopt = spawn_own_daemon(p);
    CHECK(adopt > 0);
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "svc-adopt");
    CHECK_INT(grazr_get_pid("svc-adopt"), ==, adopt);
    CHECK_RC(GRAZR_OK, info_of("svc-adopt", &info));
    CHECK_INT(info.pid, ==, adopt);
    CHECK_INT(info.child_pid, ==, 0);
    CHECK(info.argv == NULL);
    CHECK_STR(info.pid_file, p);
    CHECKF(info.state == GRAZR_STATE_RUNNING, "state %s", state_name(info.state));
    CHECK(list_contains("svc-adopt"));
    /* start on an adopted, running id: OK and nothing spawned. */
    {
        const char *argv[] = {"sh", "-c", "exit 1", NULL};
        CHECK_RC(GRAZR_OK, grazr_start_process("svc-adopt", argv, NULL, NULL, NULL, NULL));
        CHECK_INT(grazr_get_pid("svc-adopt"), ==, adopt);
    }
    /* signal_process on an adopted id works too (SIGCONT is harmless). */
    CHECK_RC(GRAZR_OK, grazr_signal_process("svc-adopt", SIGCONT));

    /* start finds a registered service again through its pid file: OK, nothing spawned. */
    {
        path_t count;
        pid_t own;
        join(p, svc, "startadopt.pid");
        join(count, dir, "startadopt.count");
        own = spawn_own_daemon(p);
        CHECK_RC(GRAZR_OK, start_sh("svc-startadopt", "echo x >> \"$1\"; exec sleep 100", count, NULL));
        sleep_ms(200);
        CHECKF(!file_exists(count), "start spawned a second instance of a running registered service");
        CHECK_INT(grazr_get_pid("svc-startadopt"), ==, own);
        CHECK_RC(GRAZR_OK, grazr_stop_process("svc-startadopt", 0, 2000));
        {
            int st = reap_own(own, 3000);
            CHECKF(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "wait status %#x", st);
        }
        CHECK(!file_exists(p));
    }

    /* Rows: untracked id with no file, garbage, a stale file, a reused PID -> STOPPED, and
     * status deletes none of those files. */
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-missing");
    CHECK_INT(grazr_get_pid("svc-missing"), ==, 0);
    join(p, svc, "garbage.pid");
    write_text(p, "hello\n");
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-garbage");
    CHECK(file_exists(p));
    /* A FIFO where a pid file should be: no PID, and nobody blocks on it (stop_all below globs
     * this directory too). */
    join(p, svc, "fifo.pid");
    mkfifo(p, 0644);
    t0 = now_ms();
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-fifo");
    CHECK_INT(now_ms() - t0, <, 1000 * g_slow);
    {
        const char *argv[] = {"true", NULL};
        pid_t dead = spawn_own(argv, 1);
        reap_own(dead, 3000);
        snprintf(buf, sizeof buf, "%d\n", (int)dead);
        join(p, svc, "stale.pid");
        write_text(p, buf);
        CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-stale");
        CHECK(file_exists(p));
    }
    reused = spawn_own_sleep();
    join(p, svc, "reused.pid");
    snprintf(buf, sizeof buf, "%d\n", (int)reused);
    write_text(p, buf);
    clock_gettime(CLOCK_REALTIME, &old_times[0]);
    old_times[0].tv_sec -= 3600;
    old_times[1] = old_times[0];
    utimensat(AT_FDCWD, p, old_times, 0);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-reused");
    CHECK_INT(grazr_get_pid("svc-reused"), ==, 0);
    CHECK(file_exists(p));
    /* The host itself in a registered pid file: never adopted, never signalled. */
    join(p, svc, "self.pid");
    snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    write_text(p, buf);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-self");
    {
        grazr_stop_options sto;
        memset(&sto, 0, sizeof sto);
        sto.size = sizeof sto;
        sto.flags = GRAZR_STOP_NO_KILL; /* if the library were wrong, SIGTERM only, which we catch */
        sto.timeout_ms = 200;
        CHECK_RC(GRAZR_OK, grazr_stop_process_ex("svc-self", &sto));
        sto.pid_file_path = p;
        CHECK_RC(GRAZR_OK, grazr_stop_process_ex("self-by-file", &sto));
        CHECK_INT(grazr_signal_process("svc-self", SIGTERM), ==, GRAZR_ERR_NOT_RUNNING);
        sleep_ms(50);
        CHECK(!g_got_sigterm);
    }
    /* A placeholder matches one or more characters: "svc-" is no id of the pattern. */
    join(p, svc, ".pid");
    snprintf(buf, sizeof buf, "%d\n", (int)adopt);
    write_text(p, buf);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-");

    /* A placeholder matches only [A-Za-z0-9._-]: no slash, no space. */
    join(p, svc, "a");
    mkdir(p, 0755);
    join(p, svc, "a/b.pid");
    snprintf(buf, sizeof buf, "%d\n", (int)adopt);
    write_text(p, buf);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-a/b");
    join(p, svc, "a b.pid");
    write_text(p, buf);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-a b");
    unlink(p);

    /* A placeholder never matches "..": no path traversal through an id. */
    join(runok, other, "run");
    join(tmpl, runok, "{name}/x.pid");
    CHECK_RC(GRAZR_OK, grazr_register_service("trav-{name}", tmpl, NULL, 0, -1));
    join(p, other, "x.pid"); /* what "trav-.." would name: other/run/../x.pid */
    trav_bad = spawn_own_daemon(p);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "trav-..");
    CHECK_INT(grazr_get_pid("trav-.."), ==, 0);
    join(p, runok, "ok");
    mkdir(runok, 0755);
    mkdir(p, 0755);
    join(p, runok, "ok/x.pid");
    trav_ok = spawn_own_daemon(p);
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "trav-ok");
    CHECK_INT(grazr_get_pid("trav-ok"), ==, trav_ok);

    /* An exact id beats a pattern. */
    join(p, other, "special-exact.pid");
    CHECK_RC(GRAZR_OK, grazr_register_service("svc-special", p, NULL, 0, -1));
    join(p2, svc, "special.pid");
    special = spawn_own_daemon(p2);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-special"); /* its exact file does not exist */
    snprintf(buf, sizeof buf, "%d\n", (int)special);
    write_text(p, buf);
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "svc-special");
    CHECK_RC(GRAZR_OK, info_of("svc-special", &info));
    CHECK_STR(info.pid_file, p);

    /* Registering the same pattern again replaces it. */
    join(p, other, "rep-a-{n}.pid");
    CHECK_RC(GRAZR_OK, grazr_register_service("rep-{n}", p, NULL, 0, -1));
    join(p, other, "rep-b-{n}.pid");
    CHECK_RC(GRAZR_OK, grazr_register_service("rep-{n}", p, NULL, 0, -1));
    join(p, other, "rep-b-x.pid");
    snprintf(buf, sizeof buf, "%d\n", (int)special);
    write_text(p, buf);
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "rep-x");
    CHECK_RC(GRAZR_OK, grazr_stop_process_ex("rep-x", NULL)); /* stops `special` */
    CHECK(proc_gone(special));
    CHECK(!file_exists(p));
    {
        int st = reap_own(special, 3000);
        CHECKF(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "wait status %#x", st);
    }
    /* svc-special had adopted the same process through its own file, which still names it:
     * a daemon gone with its pid file left behind is the crash row, ERROR, until a stop. */
    CHECK_STATUS(GRAZR_STATUS_ERROR, "svc-special");
    CHECK_RC(GRAZR_OK, info_of("svc-special", &info));
    CHECKF(info.state == GRAZR_STATE_CRASHED, "state %s", state_name(info.state));
    CHECK_RC(GRAZR_OK, grazr_stop_process("svc-special", 0, -1));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-special");

    /* program: a re-adopted process must run it (full path or basename). */
    {
        path_t exe;
        ssize_t n;
        join(p, other, "prog-ok.pid");
        prog_ok = spawn_own_daemon(p);
        CHECK_RC(GRAZR_OK, grazr_register_service("prog-ok", p, "sleep", 0, -1));
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "prog-ok");
        join(p, other, "prog-bad.pid");
        prog_bad = spawn_own_daemon(p);
        CHECK_RC(GRAZR_OK, grazr_register_service("prog-bad", p, "/usr/sbin/nginx", 0, -1));
        CHECK_STATUS(GRAZR_STATUS_STOPPED, "prog-bad");
        CHECK_INT(grazr_get_pid("prog-bad"), ==, 0);
        join(p, other, "prog-full.pid");
        prog_full = spawn_own_daemon(p);
        snprintf(buf, sizeof buf, "/proc/%d/exe", (int)prog_full);
        n = readlink(buf, exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        CHECK(n > 0);
        CHECK_RC(GRAZR_OK, grazr_register_service("prog-full", p, exe, 0, -1));
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "prog-full");
    }

    /* start with no pid file uses the id's registered one. */
    join(p, other, "regstart.pid");
    CHECK_RC(GRAZR_OK, grazr_register_service("regstart", p, NULL, 0, 1000));
    CHECK_RC(GRAZR_OK, start_sh("regstart", SH_PIDFILE_SLEEP, p, NULL));
    regstart = remember_id("regstart");
    CHECK_INT(regstart, ==, pid_in_file(p));
    CHECK_RC(GRAZR_OK, info_of("regstart", &info));
    CHECK_STR(info.pid_file, p);

    /* The registered stop signal and timeout are the defaults of stop. */
    {
        path_t out, ready;
        pid_t pid;
        join(out, dir, "sigsvc.out");
        join(ready, dir, "sigsvc.ready");
        CHECK_RC(GRAZR_OK, grazr_register_service("sigsvc", NULL, NULL, SIGUSR1, 3000));
        pid = START_READY(ready, "sigsvc",
                          "trap 'echo got-usr1 > \"$1\"; exit 0' USR1; echo r > \"$2\"; "
                          "while :; do sleep 0.1; done",
                          out, ready);
        CHECK_RC(GRAZR_OK, grazr_stop_process("sigsvc", 0, -1));
        read_text(out, buf, sizeof buf);
        CHECK_STR(buf, "got-usr1\n");
        CHECK(proc_gone(pid));

        join(ready, dir, "tmosvc.ready");
        CHECK_RC(GRAZR_OK, grazr_register_service("tmosvc", NULL, NULL, 0, 300));
        pid = START_READY(ready, "tmosvc", SH_IGNORE_TERM, ready, NULL);
        CHECK_RC_TIMED(dt, GRAZR_OK, grazr_stop_process("tmosvc", 0, -1));
        CHECKF(dt >= 250 && dt < 3000 * g_slow, "stop took %lld ms with a registered 300 ms timeout",
               (long long)dt);
        CHECK(proc_gone(pid));
    }

    /* stop_all stops every tracked id, every registered exact id and every template id whose
     * pid file passes the identity check: adopt, trav-ok, prog-ok, prog-full, regstart. It must
     * leave alone what failed the checks: reused, trav_bad, prog_bad. */
    CHECK_RC(GRAZR_OK, grazr_stop_all());
    {
        pid_t stopped[] = {adopt, trav_ok, prog_ok, prog_full};
        pid_t kept[] = {reused, trav_bad, prog_bad};
        for (size_t i = 0; i < sizeof stopped / sizeof stopped[0]; i++) {
            int st = reap_own(stopped[i], 3000);
            CHECKF(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "pid %d: wait status %#x",
                   (int)stopped[i], st);
        }
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
            CHECKF(proc_alive(kept[i]), "pid %d, which failed the identity check, was killed", (int)kept[i]);
            kill_own(kept[i]);
        }
        CHECK(proc_gone(regstart));
    }
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "svc-adopt");
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "regstart");
    join(p, svc, "adopt.pid");
    CHECKF(!file_exists(p), "the adopted process's pid file is removed once it is gone");
    CHECK(!g_got_sigterm);
}

static void test_process_info(void)
{
    path_t dir, pf, log;
    grazr_info info;
    union {
        grazr_info info;
        unsigned char bytes[sizeof(grazr_info) + 64];
    } big;
    pid_t pid;
    int64_t before, after;
    const char *argv[] = {"sh", "-c", SH_PIDFILE_SLEEP, "sh", NULL, NULL};
    size_t prefix;
    int untouched;

    begin("process_info");
    fresh_dir(dir, "info");
    join(pf, dir, "info.pid");
    join(log, dir, "info.log");
    argv[4] = pf;

    /* Unknown id: OK, STOPPED, zeros. */
    memset(&info, 0x5a, sizeof info);
    info.size = sizeof info;
    CHECK_RC(GRAZR_OK, grazr_process_info("info-unknown", &info));
    CHECK_INT(info.size, ==, sizeof info);
    CHECK_INT(info.status, ==, GRAZR_STATUS_STOPPED);
    CHECK_INT(info.state, ==, GRAZR_STATE_STOPPED);
    CHECK_INT(info.pid, ==, 0);
    CHECK_INT(info.pgid, ==, 0);
    CHECK_INT(info.child_pid, ==, 0);
    CHECK_INT(info.exit_code, ==, -1);
    CHECK_INT(info.term_signal, ==, 0);
    CHECK_INT(info.start_time_ms, ==, 0);
    CHECK(info.pid_file == NULL);
    CHECK(info.log_file == NULL);
    CHECK(info.argv == NULL);

    before = wall_ms();
    CHECK_RC(GRAZR_OK, grazr_start_process("info-a", argv, pf, NULL, NULL, log));
    after = wall_ms();
    pid = remember_id("info-a");
    CHECK_RC(GRAZR_OK, info_of("info-a", &info));
    CHECK_INT(info.size, ==, sizeof info);
    CHECK_INT(info.status, ==, GRAZR_STATUS_RUNNING);
    CHECKF(info.state == GRAZR_STATE_RUNNING, "state %s", state_name(info.state));
    CHECK_INT(info.pid, ==, pid_in_file(pf));
    CHECK_INT(info.pid, ==, pid);
    CHECK_INT(info.pgid, ==, pid);
    CHECK_INT(info.child_pid, ==, pid);
    CHECK_INT(info.exit_code, ==, -1);
    CHECK_INT(info.term_signal, ==, 0);
    /* Boot-tick granularity and 1 s of slack either way. */
    CHECKF(info.start_time_ms >= before - 1500 && info.start_time_ms <= after + 1500,
           "start_time_ms %lld, start called between %lld and %lld", (long long)info.start_time_ms,
           (long long)before, (long long)after);
    CHECK_STR(info.pid_file, pf);
    CHECK_STR(info.log_file, log);
    CHECK(info.argv != NULL);
    if (info.argv) {
        for (int i = 0; i < 5; i++)
            CHECK_STR(info.argv[i], argv[i]);
        CHECK(info.argv[5] == NULL);
    }

    /* Nothing passed in is kept after the call: the caller may reuse its buffers. */
    {
        char arg0[16], arg1[16], pfbuf[PATH_MAX], idbuf[32];
        const char *mut_argv[] = {arg0, arg1, NULL};
        snprintf(arg0, sizeof arg0, "sleep");
        snprintf(arg1, sizeof arg1, "100");
        snprintf(idbuf, sizeof idbuf, "info-copies");
        join(pfbuf, dir, "copies.pid");
        {
            grazr_start_options so;
            memset(&so, 0, sizeof so);
            so.size = sizeof so;
            so.log_file_path = pfbuf; /* any path: a log here */
            so.startup_window_ms = 0;
            CHECK_RC(GRAZR_OK, grazr_start_process_ex(idbuf, mut_argv, &so));
        }
        remember_id("info-copies");
        memset(arg0, 'X', sizeof arg0 - 1);
        memset(arg1, 'Y', sizeof arg1 - 1);
        memset(pfbuf + 1, 'Z', 20);
        snprintf(idbuf, sizeof idbuf, "something-else");
        CHECK_STATUS(GRAZR_STATUS_RUNNING, "info-copies");
        CHECK_RC(GRAZR_OK, info_of("info-copies", &info));
        CHECK(info.argv && info.argv[0] && strcmp(info.argv[0], "sleep") == 0);
        CHECK(info.argv && info.argv[1] && strcmp(info.argv[1], "100") == 0);
        join(pfbuf, dir, "copies.pid");
        CHECK_STR(info.log_file, pfbuf);
        CHECK_STATUS(GRAZR_STATUS_STOPPED, "something-else");
        CHECK_RC(GRAZR_OK, grazr_stop_process("info-copies", 0, 0));
    }

    /* A caller with an older, smaller struct: only `size` bytes are written. */
    memset(big.bytes, 0xA5, sizeof big.bytes);
    prefix = offsetof(grazr_info, pid);
    big.info.size = (uint32_t)prefix;
    CHECK_RC(GRAZR_OK, grazr_process_info("info-a", &big.info));
    CHECK_INT(big.info.size, ==, prefix);
    CHECK_INT(big.info.status, ==, GRAZR_STATUS_RUNNING);
    CHECK_INT(big.info.state, ==, GRAZR_STATE_RUNNING);
    untouched = 1;
    for (size_t i = prefix; i < sizeof big.bytes; i++)
        untouched &= big.bytes[i] == 0xA5;
    CHECKF(untouched, "bytes beyond info->size (%zu) were written", prefix);
    /* Just the size field. */
    memset(big.bytes, 0xA5, sizeof big.bytes);
    big.info.size = 4;
    CHECK_RC(GRAZR_OK, grazr_process_info("info-a", &big.info));
    untouched = 1;
    for (size_t i = 4; i < sizeof big.bytes; i++)
        untouched &= big.bytes[i] == 0xA5;
    CHECKF(untouched, "bytes beyond info->size (4) were written");
    /* A newer, larger struct: at most sizeof(ours) is written, the rest is left alone. */
    memset(big.bytes, 0xA5, sizeof big.bytes);
    big.info.size = (uint32_t)sizeof big.bytes;
    CHECK_RC(GRAZR_OK, grazr_process_info("info-a", &big.info));
    CHECK_INT(big.info.size, ==, sizeof big.bytes);
    CHECK_INT(big.info.pid, ==, pid);
    untouched = 1;
    for (size_t i = sizeof(grazr_info); i < sizeof big.bytes; i++)
        untouched &= big.bytes[i] == 0xA5;
    CHECKF(untouched, "bytes beyond sizeof(grazr_info) were written");

    /* The strings stay valid until the next call on this thread: copy before the next one. */
    CHECK_RC(GRAZR_OK, grazr_stop_process("info-a", 0, 0));
    CHECK_RC(GRAZR_OK, info_of("info-a", &info));
    CHECK_INT(info.status, ==, GRAZR_STATUS_STOPPED);
    CHECK_INT(info.pid, ==, 0);
    CHECK_INT(info.pgid, ==, 0);
    CHECK_INT(info.term_signal, ==, SIGTERM);
    (void)pid;
}

static void test_list(void)
{
    const char *const *ids = NULL;
    int32_t n, n2;
    int found_a = 0, found_b = 0;

    begin("list");
    CHECK_RC(GRAZR_OK, start_sh("list-a", "exec sleep 100", NULL, NULL));
    remember_id("list-a");
    CHECK_RC(GRAZR_OK, start_sh("list-b", "exec sleep 100", NULL, NULL));
    remember_id("list-b");
    n = grazr_list(&ids);
    CHECK(n >= 2);
    CHECK(ids != NULL);
    if (ids && n >= 0) {
        CHECK(ids[n] == NULL);
        for (int32_t i = 0; i < n; i++) {
            CHECK(ids[i] != NULL);
            if (ids[i] && strcmp(ids[i], "list-a") == 0)
                found_a++;
            if (ids[i] && strcmp(ids[i], "list-b") == 0)
                found_b++;
        }
    }
    CHECK_INT(found_a, ==, 1);
    CHECK_INT(found_b, ==, 1);
    CHECK_STR(grazr_last_error_message(), "");
    n2 = grazr_list(NULL);
    CHECK_INT(n2, ==, n);
    CHECK_RC(GRAZR_OK, grazr_stop_process("list-a", 0, 0));
    CHECK(!list_contains("list-a"));
    CHECK(list_contains("list-b"));
    CHECK_RC(GRAZR_OK, grazr_stop_process("list-b", 0, 0));
    CHECK(!list_contains("list-b"));
}

struct slow_start {
    const char *id;
    const char *pid_file;
    const char *own_file;
    int32_t rc;
    volatile int done;
    const char *argv[7];
};

static void *slow_start_main(void *arg)
{
    struct slow_start *s = arg;
    const char *argv[] = {"sh", "-c", "sleep 1; echo $$ > \"$2\"; echo $$ > \"$1\"; exec sleep 100", "sh",
                          s->pid_file, s->own_file, NULL};
    s->rc = grazr_start_process(s->id, argv, s->pid_file, NULL, NULL, NULL);
    s->done = 1;
    return NULL;
}

/* The same, ended by a cancellation at its first cancellation point after the call. Not
 * instrumented by ASan: the forced unwind of a cancellation skips ASan's unpoisoning of this
 * frame's redzones, and ASan then trips over them when the thread exits (a false positive). */
#if defined(__SANITIZE_ADDRESS__)
__attribute__((no_sanitize_address))
#endif
static void *cancelled_start_main(void *arg)
{
    struct slow_start *s = arg;
    static const char script[] = "sleep 1; echo $$ > \"$2\"; echo $$ > \"$1\"; exec sleep 100";
    s->argv[0] = "sh";
    s->argv[1] = "-c";
    s->argv[2] = script;
    s->argv[3] = "sh";
    s->argv[4] = s->pid_file;
    s->argv[5] = s->own_file;
    s->argv[6] = NULL;
    s->rc = grazr_start_process(s->id, s->argv, s->pid_file, NULL, NULL, NULL);
    s->done = 1;
    pthread_testcancel();
    return NULL;
}

static void *count_start_main(void *arg)
{
    struct count_start *c = arg;
    const char *argv[] = {"sh", "-c", "echo x >> \"$1\"; exec sleep 100", "sh", c->count_file, NULL};
    pthread_barrier_wait(c->barrier);
    c->rc = grazr_start_process(c->id, argv, NULL, NULL, NULL, NULL);
    return NULL;
}

static void test_concurrency(void)
{
    path_t dir, count, pf, own;
    pthread_t th[2];
    pthread_barrier_t barrier;
    struct count_start cs[2];
    struct slow_start ss;
    void *ret = NULL;
    int64_t t0, dt;
    pid_t pid;

    begin("concurrency and cancellation");
    fresh_dir(dir, "conc");

    /* Two threads starting one id at once get one process. */
    join(count, dir, "count");
    pthread_barrier_init(&barrier, NULL, 2);
    for (int i = 0; i < 2; i++) {
        cs[i].id = "race-one";
        cs[i].count_file = count;
        cs[i].barrier = &barrier;
        cs[i].rc = 99;
        pthread_create(&th[i], NULL, count_start_main, &cs[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    remember_id("race-one");
    CHECK_RC(GRAZR_OK, cs[0].rc);
    CHECK_RC(GRAZR_OK, cs[1].rc);
    sleep_ms(200);
    CHECK_INT(count_lines(count), ==, 1);
    CHECK_RC(GRAZR_OK, grazr_stop_process("race-one", 0, 0));

    /* status and get_pid do not wait for a start in progress; a stop waits for it, then stops. */
    join(pf, dir, "slow.pid");
    join(own, dir, "slow.own");
    memset(&ss, 0, sizeof ss);
    ss.id = "slow-start";
    ss.pid_file = pf;
    ss.own_file = own;
    pthread_create(&th[0], NULL, slow_start_main, &ss);
    sleep_ms(300);
    t0 = now_ms();
    (void)grazr_status("slow-start");
    (void)grazr_get_pid("slow-start");
    {
        grazr_info info;
        (void)info_of("slow-start", &info);
    }
    dt = now_ms() - t0;
    CHECKF(dt < 400 * g_slow, "status/get_pid/info took %lld ms during a start", (long long)dt);
    CHECK(!ss.done);
    CHECK_RC_TIMED(dt, GRAZR_OK, grazr_stop_process("slow-start", 0, 2000));
    pthread_join(th[0], NULL);
    CHECK_RC(GRAZR_OK, ss.rc);
    pid = pid_in_file(own);
    remember(pid, 0);
    CHECKF(dt >= 300, "the stop returned after %lld ms, before the start it must wait for", (long long)dt);
    CHECK(pid > 0);
    CHECKF(proc_gone(pid), "the process started during the stop survived (pid %d)", (int)pid);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "slow-start");

    /* Exported functions disable thread cancellation: a thread cancelled inside a start
     * finishes the call, and is cancelled at its next cancellation point. */
    join(pf, dir, "cancel.pid");
    join(own, dir, "cancel.own");
    memset(&ss, 0, sizeof ss);
    ss.id = "cancel-start";
    ss.pid_file = pf;
    ss.own_file = own;
    ss.rc = 99;
    pthread_create(&th[0], NULL, cancelled_start_main, &ss);
    sleep_ms(300);
    pthread_cancel(th[0]);
    pthread_join(th[0], &ret);
    CHECK(ret == PTHREAD_CANCELED);
    CHECK(ss.done);
    CHECK_RC(GRAZR_OK, ss.rc);
    remember_id("cancel-start");
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "cancel-start");
    CHECK_RC(GRAZR_OK, grazr_stop_process("cancel-start", 0, 0));
}


static void test_error_buffers(void)
{
    path_t dir, ready;
    grazr_start_options so;
    grazr_stop_options sto;
    char buf[256];
    char small[32];
    char last[1024];
    const char *missing[] = {"/nonexistent/grazr-error-buffer-program", NULL};
    const char *early[] = {"sh", "-c", "exit 7", NULL};
    const char *sleeper[] = {"sleep", "100", NULL};
    int untouched;

    begin("caller-supplied error buffers (start_ex, stop_ex, stop_all_ex)");
    fresh_dir(dir, "errbuf");

    /* A failed start fills the buffer with the message, as grazr_last_error_message has it. */
    memset(&so, 0, sizeof so);
    so.size = sizeof so;
    so.startup_window_ms = -1;
    so.error_message = buf;
    so.error_message_size = sizeof buf;
    memset(buf, 'x', sizeof buf);
    CHECK_RC(GRAZR_ERR_EXITED, grazr_start_process_ex("errbuf-early", early, &so));
    snprintf(last, sizeof last, "%s", grazr_last_error_message());
    CHECK(memchr(buf, '\0', sizeof buf) != NULL);
    CHECK(buf[0] != '\0');
    if (strlen(last) < sizeof buf)
        CHECK_STR(buf, last);
    else
        CHECK(strncmp(buf, last, sizeof buf - 1) == 0);
    grazr_stop_process("errbuf-early", 0, 0);

    /* An invalid argument is reported there too. */
    memset(buf, 'x', sizeof buf);
    CHECK_RC(GRAZR_ERR_INVALID_ARGUMENT, grazr_start_process_ex("", sleeper, &so));
    CHECK(memchr(buf, '\0', sizeof buf) != NULL && buf[0] != '\0');

    /* Truncated to the buffer, NUL-terminated, and nothing written past it. */
    memset(small, 'y', sizeof small);
    so.error_message = small;
    so.error_message_size = 9;
    if (!g_valgrind) {
        CHECK_RC(GRAZR_ERR_SPAWN, grazr_start_process_ex("errbuf-missing", missing, &so));
    } else {
        (void)grazr_start_process_ex("errbuf-missing", missing, &so);
    }
    snprintf(last, sizeof last, "%s", grazr_last_error_message());
    CHECKF(strlen(small) <= 8 && strlen(small) >= 5, "truncated message \"%s\"", small);
    CHECK(strncmp(small, last, strlen(small)) == 0);
    untouched = 1;
    for (size_t i = 9; i < sizeof small; i++)
        untouched &= small[i] == 'y';
    CHECKF(untouched, "bytes past error_message_size were written");
    grazr_stop_process("errbuf-missing", 0, 0);

    /* Size 0: nothing is written. */
    memset(small, 'y', sizeof small);
    so.error_message_size = 0;
    (void)grazr_start_process_ex("errbuf-missing", missing, &so);
    untouched = 1;
    for (size_t i = 0; i < sizeof small; i++)
        untouched &= small[i] == 'y';
    CHECKF(untouched, "a 0-byte error buffer was written");
    grazr_stop_process("errbuf-missing", 0, 0);

    /* NULL buffer with a size: ignored. */
    so.error_message = NULL;
    so.error_message_size = 100;
    if (!g_valgrind)
        CHECK_RC(GRAZR_ERR_SPAWN, grazr_start_process_ex("errbuf-missing", missing, &so));
    grazr_stop_process("errbuf-missing", 0, 0);

    /* A success leaves "" in it. */
    so.error_message = buf;
    so.error_message_size = sizeof buf;
    snprintf(buf, sizeof buf, "stale text");
    CHECK_RC(GRAZR_OK, grazr_start_process_ex("errbuf-ok", sleeper, &so));
    remember_id("errbuf-ok");
    CHECK_STR(buf, "");

    /* An older caller whose struct ends before error_message: the buffer is not touched. */
    {
        grazr_start_options old;
        memset(&old, 0, sizeof old);
        old.size = (uint32_t)offsetof(grazr_start_options, error_message);
        old.startup_window_ms = -1;
        old.error_message = small;
        old.error_message_size = sizeof small;
        memset(small, 'y', sizeof small);
        (void)grazr_start_process_ex("errbuf-old", missing, &old);
        untouched = 1;
        for (size_t i = 0; i < sizeof small; i++)
            untouched &= small[i] == 'y';
        CHECKF(untouched, "an error buffer beyond options->size was written");
        grazr_stop_process("errbuf-old", 0, 0);
    }

    /* stop_ex: the never-kill timeout's message, then "" on success. */
    join(ready, dir, "ready");
    START_READY(ready, "errbuf-stop", SH_IGNORE_TERM, ready, NULL);
    memset(&sto, 0, sizeof sto);
    sto.size = sizeof sto;
    sto.flags = GRAZR_STOP_NO_KILL;
    sto.timeout_ms = 200;
    sto.error_message = buf;
    sto.error_message_size = sizeof buf;
    memset(buf, 'x', sizeof buf);
    CHECK_RC(GRAZR_ERR_TIMEOUT, grazr_stop_process_ex("errbuf-stop", &sto));
    CHECK(memchr(buf, '\0', sizeof buf) != NULL);
    CHECKF(strstr(buf, "errbuf-stop") != NULL, "stop error buffer: \"%s\"", buf);
    sto.flags = 0;
    sto.timeout_ms = 0;
    CHECK_RC(GRAZR_OK, grazr_stop_process_ex("errbuf-stop", &sto));
    CHECK_STR(buf, "");

    /* stop_all_ex. */
    snprintf(buf, sizeof buf, "stale text");
    CHECK_RC(GRAZR_OK, grazr_stop_all_ex(buf, sizeof buf));
    CHECK_STR(buf, "");
    CHECK_RC(GRAZR_OK, grazr_stop_all_ex(NULL, 0));
    CHECK_RC(GRAZR_OK, grazr_stop_all_ex(NULL, 64));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "errbuf-ok");
}

/* Identity rule 1: the library reaps only its own children and leaves the host's signal
 * dispositions and mask alone; a child reaped by the host reads REAPED_ELSEWHERE. */
static void test_host_children_and_signals(void)
{
    struct sigaction chld_before, chld_after, ign, old;
    sigset_t mask_before, mask_after;
    grazr_info info;
    pid_t own, pid;
    int st = 0, same = 1;
    const char *sleeper[] = {"sleep", "100", NULL};
    const char *true_argv[] = {"true", NULL};

    begin("host children, signal dispositions and mask, reaping elsewhere");
    sigaction(SIGCHLD, NULL, &chld_before);
    pthread_sigmask(SIG_SETMASK, NULL, &mask_before);

    /* A child of the host's own, exited: it must stay a zombie for the host to reap. */
    own = spawn_own(true_argv, 1);
    WAIT_UNTIL(proc_state(own) == 'Z', 3000);
    CHECK_INT(proc_state(own), ==, 'Z');
    CHECK_RC(GRAZR_OK, grazr_start_process("host-kids", sleeper, NULL, NULL, NULL, NULL));
    remember_id("host-kids");
    (void)grazr_status("host-kids");
    CHECK_RC(GRAZR_OK, grazr_stop_process("host-kids", 0, 0));
    CHECK_RC(GRAZR_ERR_EXITED, start_sh("host-kids-early", "exit 1", NULL, NULL));
    grazr_stop_process("host-kids-early", 0, 0);
    CHECK_RC(GRAZR_OK, grazr_stop_all());
    CHECKF(proc_state(own) == 'Z', "the host's exited child %d was reaped by the library (state %c)", (int)own,
           proc_state(own));
    CHECK_INT(waitpid(own, &st, WNOHANG), ==, own);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    sigaction(SIGCHLD, NULL, &chld_after);
    pthread_sigmask(SIG_SETMASK, NULL, &mask_after);
    CHECK(chld_after.sa_handler == chld_before.sa_handler);
    CHECK_INT(chld_after.sa_flags, ==, chld_before.sa_flags);
    for (int s = 1; s <= 64; s++)
        same &= sigismember(&mask_before, s) == sigismember(&mask_after, s);
    CHECKF(same, "the calling thread's signal mask changed");

    /* The host reaps the library's child (as a host calling waitpid(-1) would). */
    CHECK_RC(GRAZR_OK, grazr_start_process("reaped-elsewhere", sleeper, NULL, NULL, NULL, NULL));
    pid = remember_id("reaped-elsewhere");
    CHECK(pid > 0);
    kill(pid, SIGKILL);
    CHECK_INT(waitpid(pid, &st, 0), ==, pid);
    CHECK(grazr_status("reaped-elsewhere") != GRAZR_STATUS_RUNNING);
    CHECK_RC(GRAZR_OK, info_of("reaped-elsewhere", &info));
    CHECKF(info.state == GRAZR_STATE_REAPED_ELSEWHERE, "state %s", state_name(info.state));
    CHECK_INT(info.exit_code, ==, -1);
    CHECK_INT(info.term_signal, ==, 0);
    CHECK_INT(grazr_get_pid("reaped-elsewhere"), ==, 0);
    CHECK_RC(GRAZR_ERR_NOT_RUNNING, grazr_signal_process("reaped-elsewhere", SIGTERM));
    CHECK_RC(GRAZR_OK, grazr_stop_process("reaped-elsewhere", 0, -1));

    /* A host that ignores SIGCHLD (its children are reaped by the kernel): the library still
     * starts, watches and stops correctly. */
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGCHLD, &ign, &old);
    CHECK_RC(GRAZR_OK, grazr_start_process("sigchld-ign", sleeper, NULL, NULL, NULL, NULL));
    pid = remember_id("sigchld-ign");
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "sigchld-ign");
    CHECK_INT(grazr_get_pid("sigchld-ign"), ==, pid);
    CHECK_RC(GRAZR_OK, grazr_stop_process("sigchld-ign", 0, 2000));
    CHECK(proc_gone(pid));
    CHECK(grazr_status("sigchld-ign") != GRAZR_STATUS_RUNNING);
    CHECK_RC(GRAZR_OK, grazr_start_process("sigchld-ign", sleeper, NULL, NULL, NULL, NULL));
    pid = remember_id("sigchld-ign");
    kill(pid, SIGKILL);
    WAIT_UNTIL(grazr_status("sigchld-ign") != GRAZR_STATUS_RUNNING, 3000);
    CHECK(grazr_status("sigchld-ign") != GRAZR_STATUS_RUNNING);
    CHECK_INT(grazr_get_pid("sigchld-ign"), ==, 0);
    CHECK_RC(GRAZR_OK, info_of("sigchld-ign", &info));
    CHECKF(info.state == GRAZR_STATE_REAPED_ELSEWHERE, "state %s", state_name(info.state));
    CHECK_RC(GRAZR_OK, grazr_stop_process("sigchld-ign", 0, 0));
    CHECK_RC(GRAZR_ERR_EXITED, start_sh("sigchld-ign-early", "exit 3", NULL, NULL));
    grazr_stop_process("sigchld-ign-early", 0, 0);
    sigaction(SIGCHLD, &old, NULL);
}

/* EMFILE while starting is GRAZR_ERR_IO, and nothing is left running. */
static void test_emfile(void)
{
    struct rlimit saved, low;
    int fds[4096];
    int nfds = 0, maxfd = 2;
    int live0, zombies0, live1, zombies1;
    DIR *d;
    struct dirent *e;
    int32_t rc;
    path_t dir, log;
    const char *sleeper[] = {"sleep", "100", NULL};

    begin("EMFILE");
    if (g_valgrind) {
        printf("   (not under valgrind: it reserves descriptors of its own)\n");
        return;
    }
    fresh_dir(dir, "emfile");
    join(log, dir, "x.log");
    d = opendir("/proc/self/fd");
    if (!d) {
        CHECK(d != NULL);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd > maxfd && fd != dirfd(d))
            maxfd = fd;
    }
    closedir(d);
    getrlimit(RLIMIT_NOFILE, &saved);
    low = saved;
    low.rlim_cur = (rlim_t)maxfd + 1;
    CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
    /* Fill every free number below the limit. */
    while (nfds < (int)(sizeof fds / sizeof fds[0])) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            break;
        fds[nfds++] = fd;
    }
    count_children(&live0, &zombies0);
    rc = grazr_start_process("emfile", sleeper, NULL, NULL, NULL, log);
    {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", grazr_last_error_message());
        while (nfds > 0)
            close(fds[--nfds]);
        setrlimit(RLIMIT_NOFILE, &saved);
        CHECKF(rc == GRAZR_ERR_IO, "start with no descriptor left: %s: %s", grazr_result_name(rc), msg);
    }
    sleep_ms(100);
    count_children(&live1, &zombies1);
    CHECKF(live1 == live0 && zombies1 == zombies0, "children before %d+%dZ, after %d+%dZ", live0, zombies0, live1,
           zombies1);
    remember_id("emfile");
    CHECK_INT(grazr_get_pid("emfile"), ==, 0);
    CHECK(grazr_status("emfile") != GRAZR_STATUS_RUNNING);
    grazr_stop_process("emfile", 0, 0);
    /* And the library works again once descriptors are back. */
    CHECK_RC(GRAZR_OK, grazr_start_process("emfile", sleeper, NULL, NULL, NULL, log));
    remember_id("emfile");
    CHECK_RC(GRAZR_OK, grazr_stop_process("emfile", 0, 0));
}

struct stop_job {
    const char *id;
    int32_t timeout_ms;
    int32_t rc;
    pid_t tid;
};

static void *stop_job_main(void *arg)
{
    struct stop_job *j = arg;
    j->tid = gettid();
    j->rc = grazr_stop_process(j->id, 0, j->timeout_ms);
    return NULL;
}

static void *stop_all_job_main(void *arg)
{
    struct stop_job *j = arg;
    j->tid = gettid();
    j->rc = grazr_stop_all();
    return NULL;
}

/* The signal mask of a thread, from /proc/self/task/TID/status. */
static int task_sigblk(pid_t tid, unsigned long long *mask)
{
    char path[64], text[4096];
    const char *p;
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    if (read_text(path, text, sizeof text) <= 0)
        return -1;
    p = strstr(text, "SigBlk:");
    if (!p)
        return -1;
    *mask = strtoull(p + 7, NULL, 16);
    return 0;
}

static void test_concurrency_stops(void)
{
    path_t dir, ready;
    struct stop_job job;
    pthread_t th;
    pid_t old_pid, new_pid;
    int64_t t0, dt;
    int32_t s;
    grazr_start_options so;
    const char *sleeper[] = {"sleep", "100", NULL};

    begin("concurrency: start, status and other ids during a stop; library threads");
    fresh_dir(dir, "concstop");
    join(ready, dir, "a.ready");
    old_pid = START_READY(ready, "sd-a", SH_IGNORE_TERM, ready, NULL);

    memset(&job, 0, sizeof job);
    job.id = "sd-a";
    job.timeout_ms = 1000;
    pthread_create(&th, NULL, stop_job_main, &job);
    sleep_ms(200);

    /* status and get_pid answer at once while the stop waits. */
    t0 = now_ms();
    s = grazr_status("sd-a");
    (void)grazr_get_pid("sd-a");
    dt = now_ms() - t0;
    CHECKF(dt < 300 * g_slow, "status/get_pid took %lld ms during a stop", (long long)dt);
    CHECKF(s == GRAZR_STATUS_RUNNING, "status during the stop: %s", status_name(s));

    /* Another id does not wait for this stop. */
    memset(&so, 0, sizeof so);
    so.size = sizeof so;
    so.startup_window_ms = 0;
    t0 = now_ms();
    CHECK_RC(GRAZR_OK, grazr_start_process_ex("sd-b", sleeper, &so));
    remember_id("sd-b");
    CHECK_RC(GRAZR_OK, grazr_stop_process("sd-b", 0, 0));
    dt = now_ms() - t0;
    CHECKF(dt < 500 * g_slow, "start+stop of another id took %lld ms during a stop", (long long)dt);

    /* A start of the same id waits for the stop, then spawns. */
    CHECK_RC_TIMED(dt, GRAZR_OK, grazr_start_process("sd-a", sleeper, NULL, NULL, NULL, NULL));
    pthread_join(th, NULL);
    CHECK_RC(GRAZR_OK, job.rc);
    new_pid = remember_id("sd-a");
    CHECKF(dt >= 500, "the start returned after %lld ms, before the stop (1000 ms) ended", (long long)dt);
    CHECK(new_pid > 0 && new_pid != old_pid);
    CHECK(proc_gone(old_pid));
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "sd-a");
    CHECK_RC(GRAZR_OK, grazr_stop_process("sd-a", 0, 0));

    /* Two stops of one id at once: both OK, one process gone. */
    join(ready, dir, "two.ready");
    old_pid = START_READY(ready, "sd-two", SH_IGNORE_TERM, ready, NULL);
    memset(&job, 0, sizeof job);
    job.id = "sd-two";
    job.timeout_ms = 300;
    pthread_create(&th, NULL, stop_job_main, &job);
    CHECK_RC(GRAZR_OK, grazr_stop_process("sd-two", 0, 300));
    pthread_join(th, NULL);
    CHECK_RC(GRAZR_OK, job.rc);
    CHECK(proc_gone(old_pid));
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "sd-two");

    /* Threads the library runs (stop_all's workers) block every signal, so that a signal
     * meant for the host never lands on them. */
    CHECK_RC(GRAZR_OK, grazr_register_service("blk-{n}", NULL, NULL, 0, 800));
    for (int i = 1; i <= 3; i++) {
        char id[16], name[32];
        path_t r;
        snprintf(id, sizeof id, "blk-%d", i);
        snprintf(name, sizeof name, "blk-%d.ready", i);
        join(r, dir, name);
        START_READY(r, id, SH_IGNORE_TERM, r, NULL);
    }
    memset(&job, 0, sizeof job);
    pthread_create(&th, NULL, stop_all_job_main, &job);
    sleep_ms(300);
    {
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        int library_threads = 0, unblocked = 0;
        pid_t me = gettid();
        while (d && (e = readdir(d)) != NULL) {
            pid_t tid = (pid_t)atoi(e->d_name);
            unsigned long long blk = 0;
            const int must[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM};
            if (tid <= 0 || tid == me || tid == job.tid || tid == g_watchdog_tid)
                continue;
            if (task_sigblk(tid, &blk) != 0)
                continue;
            library_threads++;
            for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
                if (!(blk & (1ULL << (must[i] - 1)))) {
                    unblocked++;
                    printf("   library thread %d does not block signal %d (SigBlk %016llx)\n", (int)tid, must[i],
                           blk);
                    break;
                }
            }
        }
        if (d)
            closedir(d);
        printf("   %d library thread(s) seen during stop_all\n", library_threads);
        CHECK_INT(unblocked, ==, 0);
    }
    pthread_join(th, NULL);
    CHECK_RC(GRAZR_OK, job.rc);
}

static void test_stop_all_parallel(void)
{
    path_t dir;
    char id[32];
    path_t ready[5];
    pid_t pids[5];
    int64_t t0, dt;

    begin("stop_all in parallel");
    fresh_dir(dir, "stopall");
    CHECK_RC(GRAZR_OK, grazr_register_service("par-{n}", NULL, NULL, 0, 500));
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "ready-%d", i + 1);
        join(ready[i], dir, id);
        snprintf(id, sizeof id, "par-%d", i + 1);
        CHECK_RC(GRAZR_OK, start_sh(id, SH_IGNORE_TERM, ready[i], NULL));
        pids[i] = remember_id(id);
    }
    for (int i = 0; i < 5; i++)
        WAIT_UNTIL(file_nonempty(ready[i]), 3000);
    CHECK_RC_TIMED(dt, GRAZR_OK, grazr_stop_all());
    printf("   stop_all of 5 TERM-ignoring children with 500 ms timeouts: %lld ms\n", (long long)dt);
    CHECKF(dt >= 400, "stop_all took %lld ms; the children ignore SIGTERM for 500 ms", (long long)dt);
    CHECKF(dt < 2000 * g_slow, "stop_all took %lld ms; sequential would be 2500", (long long)dt);
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "par-%d", i + 1);
        CHECKF(proc_reaped(pids[i]), "%s (pid %d) state %c", id, (int)pids[i], proc_state(pids[i]));
        CHECK_STATUS(GRAZR_STATUS_STOPPED, id);
    }
    /* Nothing is left to stop. */
    CHECK_INT(grazr_list(NULL), ==, 0);
    t0 = now_ms();
    CHECK_RC(GRAZR_OK, grazr_stop_all());
    CHECK_INT(now_ms() - t0, <, 1000 * g_slow);
}

static void test_shutdown(void)
{
    path_t dir, pf;
    pid_t reg, plain;
    grazr_info info;

    begin("shutdown");
    fresh_dir(dir, "shutdown");
    join(pf, dir, "shut.pid");
    CHECK_RC(GRAZR_OK, grazr_register_service("shut-svc", pf, NULL, 0, 2000));
    CHECK_RC(GRAZR_OK, start_sh("shut-svc", SH_PIDFILE_SLEEP, pf, NULL));
    reg = remember_id("shut-svc");
    CHECK_RC(GRAZR_OK, start_sh("shut-plain", "exec sleep 100", NULL, NULL));
    plain = remember_id("shut-plain");
    CHECK(reg > 0 && plain > 0);

    CHECK_RC(GRAZR_OK, grazr_shutdown());
    /* Processes keep running. */
    CHECK(proc_alive(reg));
    CHECK(proc_alive(plain));
    /* The registered one is found again through its pid file; the other is forgotten. */
    CHECK_STATUS(GRAZR_STATUS_RUNNING, "shut-svc");
    CHECK_INT(grazr_get_pid("shut-svc"), ==, reg);
    CHECK_RC(GRAZR_OK, info_of("shut-svc", &info));
    CHECK_INT(info.child_pid, ==, 0);
    CHECK_STATUS(GRAZR_STATUS_STOPPED, "shut-plain");
    CHECK(!list_contains("shut-plain"));
    CHECK_RC(GRAZR_OK, grazr_stop_process("shut-svc", 0, -1));
    CHECK(proc_gone(reg));
    CHECK(!file_exists(pf));
    /* Both are still children of this process; reap them (the library no longer does). */
    reap_own(reg, 2000);
    kill(plain, SIGKILL);
    reap_own(plain, 2000);
    CHECK_RC(GRAZR_OK, grazr_shutdown());
}

/* Identity rule 3 when the service shares the host's process group: whatever the stop does to
 * the service, it must never signal the group, which here holds the host. This runs in a
 * sandbox: a copy of this program in its own session (so that a wrong group kill ends only
 * the sandbox), whose exit status the parent checks. */
static int pgrp_sandbox(const char *dir)
{
    static const char *const scripts[] = {
        "trap '' TERM; echo $$ > \"$1\"; exec sleep 100", /* needs SIGKILL: escalation */
        "echo $$ > \"$1\"; exec sleep 100",               /* exits on SIGTERM: KillMode=mixed */
    };
    int failures = 0;
    g_test = "process-group sandbox";
    for (int i = 0; i < 2; i++) {
        path_t f;
        char id[32], name[32];
        const char *argv[] = {"sh", "-c", scripts[i], "sh", f, NULL};
        pid_t member;
        int32_t st, rc;
        snprintf(name, sizeof name, "member-%d.pid", i);
        snprintf(id, sizeof id, "pgrp-member-%d", i);
        join(f, dir, name);
        member = spawn_own(argv, 0); /* no setsid: in the host's process group */
        WAIT_UNTIL(pid_in_file(f) == member && proc_comm_is(member, "sleep"), 3000);
        if (getpgid(member) != getpgrp()) {
            fprintf(stderr, "sandbox: member %d is not in the host's group\n", (int)member);
            failures++;
        }
        rc = grazr_register_service(id, f, NULL, 0, 200);
        st = grazr_status(id);
        rc = rc ? rc : grazr_stop_process(id, 0, -1);
        if (rc != GRAZR_OK) {
            fprintf(stderr, "sandbox: stop %s: %s: %s\n", id, grazr_result_name(rc), grazr_last_error_message());
            failures++;
        }
        printf("   sandbox: %s in the host's group was %s, then stopped\n", id,
               st == GRAZR_STATUS_RUNNING ? "adopted" : "refused");
        if (st == GRAZR_STATUS_RUNNING && !proc_gone(member)) {
            fprintf(stderr, "sandbox: %s was adopted but survived its stop\n", id);
            failures++;
        }
        kill(member, SIGKILL);
        waitpid(member, NULL, 0);
    }
    /* Still here: the group was not signalled. */
    return failures ? 1 : 0;
}

static char g_self[PATH_MAX];

static void test_host_process_group(void)
{
    path_t dir;
    pid_t sandbox;
    int st;

    begin("identity: never signal the host's process group");
    fresh_dir(dir, "pgrp");
    {
        const char *argv[] = {g_self, "--pgrp-sandbox", dir, NULL};
        sandbox = spawn_own(argv, 1);
    }
    CHECK(sandbox > 0);
    st = reap_own(sandbox, 20000);
    CHECKF(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "the sandbox host %s (wait status %#x): %s", st != -1 && WIFSIGNALED(st) ? "was killed" : "failed", st,
           st != -1 && WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "see its messages above");
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    const char *m;
    pthread_t wd;
    static int watchdog_seconds;
    struct sigaction sa;

    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(022);
    if (!realpath(argv[0], g_self))
        snprintf(g_self, sizeof g_self, "%s", argv[0]);
    if (argc == 3 && strcmp(argv[1], "--pgrp-sandbox") == 0) {
        atexit(kill_remembered);
        return pgrp_sandbox(argv[2]);
    }
    g_valgrind = getenv("GRAZR_TEST_UNDER_VALGRIND") && strcmp(getenv("GRAZR_TEST_UNDER_VALGRIND"), "1") == 0;
    g_slow = g_valgrind ? 4 : 1;

    /* Before any other call: never NULL, and empty. */
    m = grazr_last_error_message();
    begin("initial state");
    CHECK(m != NULL);
    CHECK(m && m[0] == '\0');

    snprintf(g_root, sizeof g_root, "%s/grazr-ctest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_root)) {
        perror("mkdtemp");
        return 2;
    }
    atexit(at_exit_cleanup);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigterm;
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* as many hosts do; the children must not inherit it */
    sa.sa_handler = on_fatal_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
#ifndef __SANITIZE_ADDRESS__
    /* Under ASan its own handlers report crashes better. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
#endif
    watchdog_seconds = g_valgrind ? 900 : 300;
    pthread_create(&wd, NULL, watchdog, &watchdog_seconds);
    pthread_detach(wd);

    test_version_and_names();
    test_last_error();
    test_bad_input();
    test_start_basics();
    test_start_early_exit();
    test_start_pid_file();
    test_start_ex();
    test_child_setup();
    test_stop();
    test_status_table();
    test_signal_process();
    test_read_pid_file_and_pid_alive();
    test_register_and_adopt();
    test_process_info();
    test_list();
    test_concurrency();
    test_concurrency_stops();
    test_error_buffers();
    test_host_children_and_signals();
    test_emfile();
    test_stop_all_parallel();
    test_host_process_group();
    test_shutdown();

    begin("final");
    CHECKF(!g_got_sigterm, "the test process received a SIGTERM");
    /* Whatever is still tracked (a failed test's leftovers) is stopped by the library first. */
    CHECK_RC(GRAZR_OK, grazr_stop_all());
    CHECK_RC(GRAZR_OK, grazr_shutdown());
    {
        /* Everything the library spawned has been reaped by a call that concerned it. */
        int live, zombies;
        count_children(&live, &zombies);
        CHECKF(zombies == 0, "%d unreaped children (and %d live) at the end", zombies, live);
        CHECKF(live == 0, "%d children still running at the end", live);
    }

    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
