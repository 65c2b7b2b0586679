/* The library through its C ABI (statically linked), scenario by scenario; prints JSON (see
 * common.h). Every timed call is a real start/stop/status of a real process.
 *
 *   driver --bin DIR --tmp DIR --scenario S [--samples N] [--n N] [--touch-mib M]
 *
 * S: s1 (start, window 0), s2 (start from a host that touched --touch-mib MiB), s3 (start with
 * a pid file), s4 (stop), s5 (stop_all of 20 TERM-ignoring), s6 (status), s7 (scale, --n). */
#include "common.h"

#include <malloc.h>

#include "grazr_proc.h"

static int g_failures;

static char *tmp_path(const char *fmt, ...) {
    static char buf[8][4400];
    static int k;
    char *b = buf[k++ % 8];
    char name[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    snprintf(b, sizeof buf[0], "%s/%s", g_tmp, name);
    return b;
}

/* A library failure is not a number: it is reported and counted, and the run fails. */
static int ok(int rc, const char *what, const char *id) {
    if (rc >= 0)
        return 1;
    fprintf(stderr, "driver: %s %s: %s: %s\n", what, id, grazr_result_name(rc), grazr_last_error_message());
    g_failures++;
    return 0;
}

static int start_opts(const char *id, const char *const *argv, const char *pid_file, int window_ms) {
    grazr_start_options o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.pid_file_path = pid_file;
    o.startup_window_ms = window_ms;
    return grazr_start_process_ex(id, argv, &o);
}

/* Called explicitly before main returns, not through atexit, so that a failure is counted and
 * the JSON says so (and libraries before 529b514 aborted when called from atexit). */
static void cleanup(void) { ok(grazr_stop_all(), "stop_all", "cleanup"); }

/* `samples` times: a timed start of `id` (recorded as `metric`), then an untimed stop. */
static void time_starts(const char *id, const char *const *argv, const char *pid_file, int window_ms,
                        int samples, const char *metric) {
    for (int i = 0; i < samples; i++) {
        int64_t t0 = now_ns();
        int rc = start_opts(id, argv, pid_file, window_ms);
        int64_t dt = now_ns() - t0;
        if (ok(rc, "start", id))
            record_ns(metric, dt);
        ok(grazr_stop_process(id, SIGTERM, 5000), "stop", id);
    }
}

/* `samples` times: an untimed start of `id`, `settle_ms` to settle, then a timed stop
 * (recorded as `metric`). */
static void time_stops(const char *id, const char *const *argv, const char *pid_file, int window_ms,
                       double settle_ms, int samples, const char *metric) {
    for (int i = 0; i < samples; i++) {
        if (!ok(start_opts(id, argv, pid_file, window_ms), "start", id))
            continue;
        sleep_ms(settle_ms);
        int64_t t0 = now_ns();
        int rc = grazr_stop_process(id, SIGTERM, 5000);
        int64_t dt = now_ns() - t0;
        if (ok(rc, "stop", id))
            record_ns(metric, dt);
    }
}

/* Scenario 1 (and 2 when the host has touched memory): the library's start with window 0
 * against posix_spawn of the same command, interleaved so both see the same machine state.
 * fork+exec runs in its own loop afterwards: after a fork every page of the host is
 * copy-on-write, and the next call of whoever came next would pay the write faults. */
static void lib_start_sample(const char *prefix, const char *const *argv) {
    char name[96];
    snprintf(name, sizeof name, "%s_lib_start_window0", prefix);
    time_starts("s1", argv, NULL, 0, 1, name);
}

static void raw_spawn_sample(const char *prefix, const char *const *argv) {
    int64_t t0 = now_ns();
    pid_t pid = raw_spawn((char *const *)argv);
    record_nsf(now_ns() - t0, "%s_ref_posix_spawn_setsid", prefix);
    kill_reap(pid);
}

static void s_start(const char *prefix) {
    const char *argv[] = {helper("pause"), NULL};
    /* Which one goes first alternates: what ran just before a sample moves it by several µs. */
    for (int i = 0; i < g_samples; i++) {
        if (i % 2) {
            lib_start_sample(prefix, argv);
            raw_spawn_sample(prefix, argv);
        } else {
            raw_spawn_sample(prefix, argv);
            lib_start_sample(prefix, argv);
        }
    }
    for (int i = 0; i < g_samples / 2 + 1; i++) {
        int64_t t0 = now_ns();
        pid_t pid = fork_exec((char *const *)argv);
        record_nsf(now_ns() - t0, "%s_ref_fork_exec", prefix);
        kill_reap(pid);
    }
}

static void s1(void) { s_start("s1"); }
static void s2(void) { s_start("s2"); }

/* Scenario 3: the child writes its pid file at once; start returns when the file names it. */
static void s3(void) {
    char *pf = tmp_path("s3.pid");
    const char *argv[] = {helper("pidfile"), pf, NULL};
    const char *dargv[] = {helper("pidfile"), "-d", pf, NULL};
    time_starts("s3", argv, pf, -1, g_samples, "s3_lib_start_pidfile_foreground");
    time_starts("s3d", dargv, pf, -1, g_samples / 2 + 1, "s3_lib_start_pidfile_daemonizing");
}

/* Scenario 4: stop of a process that exits at once on SIGTERM, and of one that takes 50 ms. */
static void s4(void) {
    const char *argv[] = {helper("pause"), NULL};
    const char *sargv[] = {helper("termslow"), "50", NULL};
    time_stops("s4", argv, NULL, 0, 1, g_samples, "s4_lib_stop_exits_on_term");
    time_stops("s4b", sargv, NULL, 0, 20, g_samples / 5 + 1, "s4_lib_stop_exits_50ms_after_term");
    /* A daemon (tracked by its pid file, not our child) that dies at once on SIGTERM. Its
     * zombie is reaped by its new parent (init, or the bench runner, a subreaper that reaps
     * between jobs), not by the library. */
    char *pf = tmp_path("s4d.pid");
    const char *dargv[] = {helper("pidfile"), "-d", pf, NULL};
    time_stops("s4d", dargv, pf, -1, 1, g_samples / 5 + 1, "s4_lib_stop_pidfile_daemon_exits_on_term");
    int procs = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        procs += e->d_name[0] >= '1' && e->d_name[0] <= '9';
    if (d)
        closedir(d);
    check("\"s4_processes_on_the_machine\": %d", procs);
}

/* /proc/PID/status SigIgn has SIGTERM (bit 15, value 1<<14). */
static int ignores_term(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    int yes = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "SigIgn:", 7))
            yes = (strtoull(line + 7, NULL, 16) >> (SIGTERM - 1)) & 1;
    fclose(f);
    return yes;
}

/* Scenario 5: stop_all of 20 processes that ignore SIGTERM, each registered with a 1 s
 * timeout. */
static void s5(void) {
    const char *argv[] = {helper("ignterm"), NULL};
    ok(grazr_register_service("s5-{n}", NULL, NULL, SIGTERM, 1000), "register", "s5-{n}");
    for (int s = 0; s < g_samples; s++) {
        char id[32];
        int started = 0;
        for (int i = 0; i < 20; i++) {
            snprintf(id, sizeof id, "s5-%02d", i);
            started += ok(start_opts(id, argv, NULL, 0), "start", id);
        }
        /* Time for each to reach signal(SIGTERM, SIG_IGN), verified, so the kill is needed. */
        int ignoring = 0;
        for (int tries = 0; tries < 200 && ignoring < started; tries++) {
            sleep_ms(1);
            ignoring = 0;
            for (int i = 0; i < 20; i++) {
                snprintf(id, sizeof id, "s5-%02d", i);
                ignoring += ignores_term(grazr_get_pid(id));
            }
        }
        if (ignoring != 20)
            fprintf(stderr, "driver: s5: only %d of 20 ignore SIGTERM\n", ignoring), g_failures++;
        int64_t t0 = now_ns();
        int rc = grazr_stop_all();
        int64_t dt = now_ns() - t0;
        if (ok(rc, "stop_all", "s5"))
            record_ns("s5_lib_stop_all_20_ignterm_timeout1s", dt);
    }
}

/* Mean cost of one grazr_status call, over a batch. */
static void status_batches(const char *id, const char *metric, int expect) {
    const int batch = 100000;
    for (int s = 0; s < g_samples; s++) {
        int bad = 0;
        int64_t t0 = now_ns();
        for (int i = 0; i < batch; i++)
            bad += grazr_status(id) != expect;
        record(metric, "us", (now_ns() - t0) / 1000.0 / batch);
        if (bad)
            fprintf(stderr, "driver: %s: %d of %d calls were not %d\n", id, bad, batch, expect), g_failures++;
    }
}

/* Kills the main process behind the library's back, waits (on our own pidfd) until the
 * kernel says it has exited, then asks the library at once. RUNNING there would be a cached
 * or stale answer. */
static int status_after_death(const char *id, const char *const *argv, const char *pf) {
    int rc = start_opts(id, argv, pf, pf ? -1 : 0);
    if (!ok(rc, "start", id))
        return -1;
    pid_t pid = grazr_get_pid(id);
    int fd = pidfd_open_(pid);
    if (pid <= 0 || fd < 0) {
        fprintf(stderr, "driver: %s: no pid/pidfd (%d)\n", id, pid);
        g_failures++;
        return -1;
    }
    kill(pid, SIGKILL);
    pidfd_wait(fd, -1);
    int st = grazr_status(id);
    close(fd);
    grazr_stop_process(id, SIGTERM, 1000);
    return st;
}

static void s6(void) {
    const char *argv[] = {helper("pause"), NULL};
    char *pf = tmp_path("s6d.pid");
    const char *dargv[] = {helper("pidfile"), "-d", pf, NULL};
    if (ok(start_opts("s6c", argv, NULL, 0), "start", "s6c")) {
        status_batches("s6c", "s6_lib_status_child_per_call", GRAZR_STATUS_RUNNING);
        grazr_stop_process("s6c", SIGTERM, 5000);
    }
    if (ok(start_opts("s6d", dargv, pf, -1), "start", "s6d")) {
        grazr_info info;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        grazr_process_info("s6d", &info);
        check("\"s6_daemon_pid_differs_from_child\": %s",
              info.pid != info.child_pid ? "true" : "false");
        status_batches("s6d", "s6_lib_status_pidfile_daemon_per_call", GRAZR_STATUS_RUNNING);
        grazr_stop_process("s6d", SIGTERM, 5000);
    }
    /* The no-caching check. */
    int trials = g_samples * 10, running_c = 0, running_d = 0, done_c = 0, done_d = 0;
    char *pf2 = tmp_path("s6k.pid");
    const char *dargv2[] = {helper("pidfile"), "-d", pf2, NULL};
    for (int i = 0; i < trials; i++) {
        int st = status_after_death("s6k", argv, NULL);
        if (st >= 0)
            done_c++, running_c += st == GRAZR_STATUS_RUNNING;
        st = status_after_death("s6kd", dargv2, pf2);
        if (st >= 0)
            done_d++, running_d += st == GRAZR_STATUS_RUNNING;
    }
    check("\"s6_after_death_child_trials\": %d", done_c);
    check("\"s6_after_death_child_read_running\": %d", running_c);
    check("\"s6_after_death_daemon_trials\": %d", done_d);
    check("\"s6_after_death_daemon_read_running\": %d", running_d);
    if (running_c || running_d)
        g_failures++;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts a copy). */
static double median(const double *v, int n) {
    double *c = malloc((size_t)n * sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

static long heap_bytes(void) {
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd);
}

/* 50 starts (and untimed stops) of one more id, in 10 bursts of 5 spread over time, so that a
 * burst of load from elsewhere cannot own every sample. */
static void extra_starts(const char *const *argv, double *out, int *count) {
    for (int b = 0; b < 10; b++) {
        for (int i = 0; i < 5; i++) {
            int64_t ts = now_ns();
            if (ok(start_opts("s7-extra", argv, NULL, 0), "start", "s7-extra"))
                out[(*count)++] = (double)(now_ns() - ts) / 1000.0;
            grazr_stop_process("s7-extra", SIGTERM, 5000);
        }
        sleep_ms(10);
    }
}

/* Scenario 7: N children started (window 0), checked, and stopped by one stop_all. The first
 * round also measures what the library holds per tracked process. */
static void s7(void) {
    const int n = g_n;
    const char *argv[] = {helper("pause"), NULL};
    char id[32];
    double *each = calloc((size_t)n, sizeof *each);
    raise_nofile();
    /* One more id started and stopped while 0, then N, ids are tracked: does a start cost more
     * when the library holds more? */
    double cyc[50], base[100];
    int ncyc = 0, nbase = 0;
    extra_starts(argv, base, &nbase);
    for (int s = 0; s < g_samples; s++) {
        int fds0 = count_fds();
        long rss0 = rss_kib(), heap0 = heap_bytes();
        int64_t t0 = now_ns();
        int started = 0;
        for (int i = 0; i < n; i++) {
            snprintf(id, sizeof id, "s7-%d", i);
            int64_t ts = now_ns();
            started += ok(start_opts(id, argv, NULL, 0), "start", id);
            each[i] = (double)(now_ns() - ts) / 1000.0;
        }
        int64_t t1 = now_ns();
        int fds1 = count_fds();
        long rss1 = rss_kib(), heap1 = heap_bytes();
        int running = 0;
        int64_t t2 = now_ns();
        for (int i = 0; i < n; i++) {
            snprintf(id, sizeof id, "s7-%d", i);
            running += grazr_status(id) == GRAZR_STATUS_RUNNING;
        }
        int64_t t3 = now_ns();
        if (s == 0)
            extra_starts(argv, cyc, &ncyc);
        long hwm_before = peak_rss_kib();
        int64_t t3s = now_ns();
        int rc = grazr_stop_all();
        int64_t t4 = now_ns();
        ok(rc, "stop_all", "s7");
        /* The no-tracked baseline again, after stop_all, so that it brackets the N-tracked
         * measurement in time. */
        if (s == 0) {
            extra_starts(argv, base, &nbase);
            for (int i = 0; i < nbase; i++)
                recordf("us", base[i], "s7_lib_n%d_start_0_tracked", n);
            for (int i = 0; i < ncyc; i++)
                recordf("us", cyc[i], "s7_lib_n%d_start_n_tracked", n);
        }
        if (running != n || started != n)
            fprintf(stderr, "driver: s7: %d started, %d running of %d\n", started, running, n), g_failures++;
        record_nsf((t1 - t0) / n, "s7_lib_n%d_start_per_proc", n);
        record_nsf((t3 - t2) / n, "s7_lib_n%d_status_per_proc", n);
        record_nsf((t4 - t3s) / n, "s7_lib_n%d_stop_all_per_proc", n);
        record_nsf(t4 - t3s, "s7_lib_n%d_stop_all_total", n);
        recordf("KiB", (double)hwm_before, "s7_lib_n%d_peak_rss_before_stop_all", n);
        recordf("fd", (double)(fds1 - fds0) / n, "s7_lib_n%d_fds_per_proc", n);
        recordf("KiB", (double)(rss1 - rss0) / n, "s7_lib_n%d_rss_delta_per_proc", n);
        recordf("KiB", (double)(heap1 - heap0) / 1024.0 / n, "s7_lib_n%d_heap_delta_per_proc", n);
        check("\"s7_fds_after_stop_all_round%d\": %d", s, count_fds() - fds0);
        /* Growth within one run, under one machine state: the first quarter of the starts
         * (few ids tracked) against the last (most tracked). */
        int q = n / 4 > 0 ? n / 4 : 1;
        recordf("us", median(each, q), "s7_lib_n%d_start_first_quarter", n);
        recordf("us", median(each + n - q, q), "s7_lib_n%d_start_last_quarter", n);
    }
    free(each);
    recordf("KiB", (double)peak_rss_kib(), "s7_lib_n%d_peak_rss", n);
}

int main(int argc, char **argv) {
    static const struct scenario scenarios[] = {
        {"s1", s1}, {"s2", s2}, {"s3", s3}, {"s4", s4}, {"s5", s5}, {"s6", s6}, {"s7", s7},
    };
    struct bench_args args = parse_args(argc, argv, 1, "usage: driver --bin DIR --tmp DIR --scenario S [--samples N] [--n N] [--touch-mib M]");
    touch_memory(args.touch);
    run_scenario(scenarios, sizeof scenarios / sizeof scenarios[0], args.scenario);
    cleanup();
    check("\"touch_mib\": %ld", args.touch);
    check("\"failures\": %d", g_failures);
    check("\"library_version\": \"%s\"", grazr_version());
    emit_json("driver", args.scenario);
    return g_failures ? 1 : 0;
}
