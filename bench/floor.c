/* The kernel's floor for every scenario: raw posix_spawn (+setsid), kill, waitpid and pidfd
 * polls, with no library in between. Prints JSON (see common.h).
 *
 *   floor --bin DIR --scenario NAME [--samples N] [--n N] [--touch-mib M]
 *
 * Scenarios: spawn, stop, status, stop20, scale, spawn_big (with --touch-mib). */
#include "common.h"

#include <sys/inotify.h>

/* Scenario 1's floor: posix_spawn of the pause helper until it returns (exec done). fork+exec
 * gets its own loop afterwards, because a fork leaves the host's pages copy-on-write and the
 * next spawn would pay those faults. */
static void s_spawn(void) {
    char *argv[] = {helper("pause"), NULL};
    char *targv[] = {helper("true"), NULL};
    for (int i = 0; i < g_samples; i++) {
        int64_t t0 = now_ns();
        pid_t pid = raw_spawn(argv);
        record_ns("spawn_posix_spawn_setsid", now_ns() - t0);
        kill_reap(pid);
        t0 = now_ns();
        pid = raw_spawn(targv);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        record_ns("spawn_true_to_reaped", now_ns() - t0);
    }
    for (int i = 0; i < g_samples / 2 + 1; i++) {
        int64_t t0 = now_ns();
        pid_t pid = fork_exec(argv);
        record_ns("spawn_fork_exec", now_ns() - t0);
        kill_reap(pid);
    }
}

/* Scenario 2's floor: the same spawns from a host with touched memory. */
static void s_spawn_big(void) {
    char *argv[] = {helper("pause"), NULL};
    for (int i = 0; i < g_samples; i++) {
        int64_t t0 = now_ns();
        pid_t pid = raw_spawn(argv);
        record_ns("big_posix_spawn_setsid", now_ns() - t0);
        kill_reap(pid);
    }
    for (int i = 0; i < g_samples / 2 + 1; i++) {
        int64_t t0 = now_ns();
        pid_t pid = fork_exec(argv);
        record_ns("big_fork_exec", now_ns() - t0);
        kill_reap(pid);
    }
}

/* What a start that waits for a pid file with a fresh inotify instance pays on top: closing
 * an inotify fd waits for an SRCU grace period in the kernel. */
static void s_inotify(void) {
    for (int i = 0; i < g_samples; i++) {
        int64_t t0 = now_ns();
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        int wd = inotify_add_watch(fd, "/tmp", IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO);
        int64_t t1 = now_ns();
        close(fd);
        int64_t t2 = now_ns();
        record_ns("inotify_init_add_watch", t1 - t0);
        record_ns("inotify_close", t2 - t1);
        (void)wd;
    }
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    for (int i = 0; i < g_samples; i++) {
        int64_t t0 = now_ns();
        int wd = inotify_add_watch(fd, "/tmp", IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO);
        inotify_rm_watch(fd, wd);
        record_ns("inotify_reused_add_rm_watch", now_ns() - t0);
    }
    close(fd);
}

/* Scenario 4's floor: SIGTERM to a waiting child until it is reaped, by a blocking waitpid
 * and by a pidfd poll followed by waitpid (what an event-driven stop does). */
static void s_stop(void) {
    char *pargv[] = {helper("pause"), NULL};
    char *sargv[] = {helper("termslow"), "50", NULL};
    for (int i = 0; i < g_samples; i++) {
        pid_t pid = raw_spawn(pargv);
        sleep_ms(1);
        int64_t t0 = now_ns();
        kill(pid, SIGTERM);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        record_ns("stop_term_waitpid", now_ns() - t0);

        pid = raw_spawn(pargv);
        int fd = pidfd_open_(pid);
        sleep_ms(1);
        t0 = now_ns();
        syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0);
        pidfd_wait(fd, -1);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        record_ns("stop_term_pidfd_poll_reaped", now_ns() - t0);
        close(fd);
    }
    for (int i = 0; i < g_samples / 5 + 1; i++) {
        pid_t pid = raw_spawn(sargv);
        int fd = pidfd_open_(pid);
        sleep_ms(20); /* let it install its handler */
        int64_t t0 = now_ns();
        kill(pid, SIGTERM);
        pidfd_wait(fd, -1);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        record_ns("stop50_term_pidfd_poll_reaped", now_ns() - t0);
        close(fd);
    }
}

/* Scenario 5's floor: 20 TERM-ignoring children, TERM to all, wait 1 s on their pidfds,
 * SIGKILL to all, wait until all are reaped. */
static void s_stop20(void) {
    char *argv[] = {helper("ignterm"), NULL};
    enum { N = 20 };
    for (int s = 0; s < g_samples; s++) {
        pid_t pids[N];
        struct pollfd pf[N];
        for (int i = 0; i < N; i++) {
            pids[i] = raw_spawn(argv);
            pf[i].fd = pidfd_open_(pids[i]);
            pf[i].events = POLLIN;
        }
        sleep_ms(20);
        int64_t t0 = now_ns();
        for (int i = 0; i < N; i++)
            kill(pids[i], SIGTERM);
        int64_t deadline = t0 + 1000000000LL;
        int alive = N;
        while (alive > 0) {
            int64_t left = (deadline - now_ns()) / 1000000;
            if (left <= 0)
                break;
            int r = poll(pf, N, (int)left);
            if (r <= 0)
                continue;
            for (int i = 0; i < N; i++)
                if (pf[i].fd >= 0 && (pf[i].revents & POLLIN)) {
                    close(pf[i].fd);
                    pf[i].fd = -1;
                    alive--;
                }
        }
        for (int i = 0; i < N; i++)
            if (pf[i].fd >= 0)
                kill(pids[i], SIGKILL);
        for (int i = 0; i < N; i++) {
            if (pf[i].fd >= 0) {
                pidfd_wait(pf[i].fd, -1);
                close(pf[i].fd);
            }
            while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR) {
            }
        }
        record_ns("stop20_ignterm_timeout1s", now_ns() - t0);
    }
}

/* Scenario 6's floor: one liveness syscall per call, in batches (per-call mean of a batch). */
static void s_status(void) {
    char *argv[] = {helper("pause"), NULL};
    pid_t pid = raw_spawn(argv);
    int fd = pidfd_open_(pid);
    const int batch = 100000;
    for (int s = 0; s < g_samples; s++) {
        int64_t t0 = now_ns();
        for (int i = 0; i < batch; i++)
            if (waitpid(pid, NULL, WNOHANG) != 0)
                die("child died");
        record("status_waitpid_wnohang_per_call", "us", (now_ns() - t0) / 1000.0 / batch);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        t0 = now_ns();
        for (int i = 0; i < batch; i++)
            if (poll(&p, 1, 0) != 0)
                die("child died");
        record("status_pidfd_poll0_per_call", "us", (now_ns() - t0) / 1000.0 / batch);
        t0 = now_ns();
        for (int i = 0; i < batch; i++)
            if (kill(pid, 0) != 0)
                die("child died");
        record("status_kill0_per_call", "us", (now_ns() - t0) / 1000.0 / batch);
    }
    close(fd);
    kill_reap(pid);
}

/* Scenario 7's floor: N children spawned, checked, killed and reaped; per process. */
static void s_scale(void) {
    const int n = g_n;
    char *argv[] = {helper("pause"), NULL};
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    for (int s = 0; s < g_samples; s++) {
        int64_t t0 = now_ns();
        for (int i = 0; i < n; i++)
            pids[i] = raw_spawn(argv);
        int64_t t1 = now_ns();
        for (int i = 0; i < n; i++)
            if (waitpid(pids[i], NULL, WNOHANG) != 0)
                die("child died");
        int64_t t2 = now_ns();
        for (int i = 0; i < n; i++)
            kill(pids[i], SIGTERM);
        for (int i = 0; i < n; i++)
            while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR) {
            }
        int64_t t3 = now_ns();
        record_nsf((t1 - t0) / n, "scale%d_start_per_proc", n);
        record_nsf((t2 - t1) / n, "scale%d_status_per_proc", n);
        record_nsf((t3 - t2) / n, "scale%d_stopall_per_proc", n);
    }
    free(pids);
}

int main(int argc, char **argv) {
    static const struct scenario scenarios[] = {
        {"spawn", s_spawn},   {"spawn_big", s_spawn_big}, {"stop", s_stop},   {"stop20", s_stop20},
        {"status", s_status}, {"inotify", s_inotify},     {"scale", s_scale},
    };
    struct bench_args args = parse_args(argc, argv, 0, "usage: floor --bin DIR --scenario NAME [--samples N] [--n N] [--touch-mib M]");
    raise_nofile();
    touch_memory(args.touch);
    run_scenario(scenarios, sizeof scenarios / sizeof scenarios[0], args.scenario);
    check("\"touch_mib\": %ld", args.touch);
    check("\"peak_rss_kib\": %ld", peak_rss_kib());
    emit_json("floor", args.scenario);
    return 0;
}
