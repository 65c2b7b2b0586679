/* Shared by driver.c and floor.c: options, helper paths, scenario dispatch, clocks, raw
 * spawning, a small JSON writer. Header-only so that each benchmark stays one translation
 * unit. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static inline int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void sleep_ms(double ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

/* The options every bench program takes. --bin, --samples and --n set the globals below; a
 * program that needs a temp dir (usage says so) also gets --tmp. */
static char g_bin[4096], g_tmp[4096];
static int g_samples = 100;
static int g_n = 10; /* --n: processes for the scale scenarios */

struct bench_args {
    const char *scenario;
    long touch; /* --touch-mib: memory the host touches first */
};

static inline struct bench_args parse_args(int argc, char **argv, int need_tmp, const char *usage) {
    struct bench_args a = {NULL, 0};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--bin"))
            snprintf(g_bin, sizeof g_bin, "%s", argv[i + 1]);
        else if (need_tmp && !strcmp(argv[i], "--tmp"))
            snprintf(g_tmp, sizeof g_tmp, "%s", argv[i + 1]);
        else if (!strcmp(argv[i], "--scenario"))
            a.scenario = argv[i + 1];
        else if (!strcmp(argv[i], "--samples"))
            g_samples = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--n"))
            g_n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--touch-mib"))
            a.touch = atol(argv[i + 1]);
        else
            die("unknown option %s", argv[i]);
    }
    if (!a.scenario || !g_bin[0] || (need_tmp && !g_tmp[0]))
        die("%s", usage);
    return a;
}

/* The path of a helper program in --bin. Rotates over 8 buffers, so that one argv can hold a
 * few of them. */
static inline char *helper(const char *name) {
    static char buf[8][4200];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", g_bin, name);
    return b;
}

/* A bench program's scenarios by name. */
struct scenario {
    const char *name;
    void (*run)(void);
};

static inline void run_scenario(const struct scenario *table, size_t count, const char *name) {
    for (size_t i = 0; i < count; i++) {
        if (!strcmp(table[i].name, name)) {
            table[i].run();
            return;
        }
    }
    die("unknown scenario %s", name);
}

static inline int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

/* Blocks until the pidfd is readable (the process has exited); -1 on timeout. */
static inline int pidfd_wait(int pidfd, int timeout_ms) {
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r >= 0)
            return r > 0 ? 0 : -1;
        if (errno != EINTR)
            return -1;
    }
}

/* posix_spawn with a new session, the same shape as the library's spawn. glibc's posix_spawn
 * uses CLONE_VFORK, so it returns once the exec has succeeded or failed. */
static inline pid_t raw_spawn(char *const argv[]) {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        die("posix_spawn %s: %s", argv[0], strerror(rc));
    return pid;
}

/* fork + exec the way Python's subprocess and most older code do it: the parent learns that
 * exec succeeded when a close-on-exec pipe reaches EOF. */
static inline pid_t fork_exec(char *const argv[]) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        die("pipe2: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        setsid();
        execve(argv[0], argv, environ);
        int e = errno;
        if (write(p[1], &e, sizeof e) < 0) {
        }
        _exit(127);
    }
    close(p[1]);
    int e = 0;
    ssize_t n;
    while ((n = read(p[0], &e, sizeof e)) < 0 && errno == EINTR) {
    }
    close(p[0]);
    if (n > 0)
        die("exec %s: %s", argv[0], strerror(e));
    return pid;
}

static inline void kill_reap(pid_t pid) {
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

static inline int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own fd */
}

static inline long rss_kib(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* VmHWM of this process image. getrusage's ru_maxrss would not do: it survives execve, so a
 * driver started by a Python runner would report the runner's peak. */
static inline long peak_rss_kib(void) {
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kib = atol(line + 6);
    fclose(f);
    return kib;
}

/* Touches `mib` MiB so the page tables are populated: what a browser-sized host looks like
 * to fork(). The memory stays mapped for the life of the process. */
static inline void touch_memory(long mib) {
    if (mib <= 0)
        return;
    size_t len = (size_t)mib << 20;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        die("mmap %ld MiB: %s", mib, strerror(errno));
    for (size_t i = 0; i < len; i += 4096)
        m[i] = (char)i;
}

static inline void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- results: {"tool":..., "metrics": {name: {"unit":..,"values":[..]}}, "checks": {..}} */

#define MAX_METRICS 128
#define MAX_CHECKS 64

struct metric {
    char name[96];
    char unit[8];
    double *v;
    size_t n, cap;
};

static struct metric g_metrics[MAX_METRICS];
static size_t g_nmetrics;
static char g_checks[MAX_CHECKS][256];
static size_t g_nchecks;

static inline struct metric *metric_get(const char *name, const char *unit) {
    for (size_t i = 0; i < g_nmetrics; i++)
        if (strcmp(g_metrics[i].name, name) == 0)
            return &g_metrics[i];
    if (g_nmetrics == MAX_METRICS)
        die("too many metrics");
    struct metric *m = &g_metrics[g_nmetrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->unit, sizeof m->unit, "%s", unit);
    return m;
}

static inline void record(const char *name, const char *unit, double value) {
    struct metric *m = metric_get(name, unit);
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
        if (!m->v)
            die("out of memory");
    }
    m->v[m->n++] = value;
}

/* Timings are recorded in microseconds: readable in the JSON, and precise enough (ns part
 * kept as fraction). */
static inline void record_ns(const char *name, int64_t ns) { record(name, "us", (double)ns / 1000.0); }

/* record and record_ns for a name made from a format ("s7_lib_n%d_start_per_proc"). */
static inline void recordf(const char *unit, double value, const char *fmt, ...) {
    char name[sizeof g_metrics[0].name];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    record(name, unit, value);
}

#define record_nsf(ns, ...) recordf("us", (double)(ns) / 1000.0, __VA_ARGS__)

/* A check is a JSON member written verbatim: "\"name\": value". */
static inline void check(const char *fmt, ...) {
    if (g_nchecks == MAX_CHECKS)
        die("too many checks");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_checks[g_nchecks++], sizeof g_checks[0], fmt, ap);
    va_end(ap);
}

static inline void emit_json(const char *tool, const char *scenario) {
    printf("{\"tool\": \"%s\", \"scenario\": \"%s\", \"metrics\": {", tool, scenario);
    for (size_t i = 0; i < g_nmetrics; i++) {
        struct metric *m = &g_metrics[i];
        printf("%s\n  \"%s\": {\"unit\": \"%s\", \"values\": [", i ? "," : "", m->name, m->unit);
        for (size_t j = 0; j < m->n; j++)
            printf("%s%.3f", j ? ", " : "", m->v[j]);
        printf("]}");
    }
    printf("\n}, \"checks\": {");
    for (size_t i = 0; i < g_nchecks; i++)
        printf("%s\n  %s", i ? "," : "", g_checks[i]);
    printf("\n}}\n");
    fflush(stdout);
}

#endif
