/* cancel_stop: a C host that links libgrazr_proc.a and does what Grazr does on quit: it
 * cancels (pthread_cancel) a worker thread that is blocked in grazr_stop_process, then calls
 * grazr_stop_all from another thread. Nothing may deadlock: the library disables cancellation
 * for the duration of each call, so the worker's stop finishes (and the cancellation acts at
 * the worker's next cancellation point), and stop_all waits for that stop, not forever.
 *
 * Prints one "ok ..." or "FAIL ..." line per check and exits 0 when all pass. alarm(40) turns
 * a deadlock into a failure (SIGALRM) instead of a hung test. The service is stopped by PID
 * with SIGKILL at exit whatever happens. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grazr_proc.h"

static const char *ID = "hb-cancel-target";
static int failures;
static pid_t service_pid;
static volatile int worker_returned = -1000;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int ok, const char *what, const char *detail) {
    printf("%s %s%s%s\n", ok ? "ok" : "FAIL", what, detail ? ": " : "", detail ? detail : "");
    fflush(stdout);
    if (!ok) {
        failures++;
    }
}

static void kill_service(void) {
    if (service_pid > 1) {
        kill(service_pid, SIGKILL);
    }
}

static void *worker(void *arg) {
    (void)arg;
    /* SIGTERM is ignored by the service, so this stop waits 3 s, then SIGKILLs it. */
    worker_returned = grazr_stop_process(ID, SIGTERM, 3000);
    /* A cancellation point: the pending cancel acts here, after the library call returned. */
    for (;;) {
        pthread_testcancel();
        usleep(1000);
    }
    return NULL;
}

static void *stopper(void *arg) {
    int *rc = arg;
    *rc = grazr_stop_all();
    if (*rc != GRAZR_OK) {
        fprintf(stderr, "stop_all: %s\n", grazr_last_error_message());
    }
    return NULL;
}

int main(void) {
    alarm(40);
    atexit(kill_service);
    /* SIG_IGN survives exec, so the sleep ignores SIGTERM: only SIGKILL ends it. */
    const char *argv[] = {"/bin/sh", "-c", "trap '' TERM; exec sleep 1000", NULL};
    grazr_start_options o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.startup_window_ms = 0;
    o.pid_file_timeout_ms = -1;
    int rc = grazr_start_process_ex(ID, argv, &o);
    check(rc == GRAZR_OK, "start", grazr_last_error_message());
    service_pid = grazr_get_pid(ID);
    check(service_pid > 1, "get_pid", NULL);
    usleep(200 * 1000); /* let sh set SIG_IGN and exec */

    pthread_t w;
    pthread_create(&w, NULL, worker, NULL);
    usleep(300 * 1000); /* the worker is now blocked in the stop's wait */
    double t0 = now();
    check(pthread_cancel(w) == 0, "pthread_cancel of the worker blocked in stop", NULL);

    pthread_t s;
    int stop_all_rc = -1000;
    pthread_create(&s, NULL, stopper, &stop_all_rc);
    pthread_join(s, NULL);
    double took = now() - t0;
    char detail[128];
    snprintf(detail, sizeof detail, "rc %d after %.2f s", stop_all_rc, took);
    check(stop_all_rc == GRAZR_OK && took < 10.0, "stop_all from another thread returns", detail);

    void *res = NULL;
    pthread_join(w, &res);
    snprintf(detail, sizeof detail, "worker's stop returned %d, thread %s", worker_returned,
             res == PTHREAD_CANCELED ? "cancelled afterwards" : "not cancelled");
    check(worker_returned == GRAZR_OK && res == PTHREAD_CANCELED,
          "the cancelled worker's stop completed, then the cancel acted", detail);

    int alive = kill(service_pid, 0) == 0;
    if (alive) {
        /* A zombie would still answer kill(0): look at its state. */
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)service_pid);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = '\0';
            fclose(f);
            char *close = strrchr(buf, ')');
            alive = !(close != NULL && (close[2] == 'Z' || close[2] == 'X'));
        } else {
            alive = 0;
        }
    }
    check(!alive, "the service is gone", NULL);
    check(grazr_status(ID) == GRAZR_STATUS_STOPPED, "status is STOPPED", NULL);
    check(grazr_list(NULL) == 0, "nothing listed", NULL);
    /* The library is still usable from this thread and the next start works. */
    const char *again[] = {"/bin/sleep", "1000", NULL};
    rc = grazr_start_process_ex(ID, again, &o);
    pid_t p2 = grazr_get_pid(ID);
    int rc2 = grazr_stop_process(ID, 0, 0);
    check(rc == GRAZR_OK && p2 > 1 && rc2 == GRAZR_OK, "start and stop again", grazr_last_error_message());
    printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
