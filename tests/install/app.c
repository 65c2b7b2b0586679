/* An out-of-tree grazr_proc user: built by tests/install/run.sh from a copy in a temp dir against
 * an installed prefix only (pkg-config), once dynamically and once statically.
 *
 * It starts a real `sleep` through the library, checks that it runs and that the PID is really
 * that process, stops it, and checks that it is gone. It prints "pid N" first so that the test
 * script can kill the process group if this program dies half-way. Exit 0 means all checks held. */
#define _XOPEN_SOURCE 700 /* kill, getpgid, nanosleep under -std=c11 */
#include <grazr_proc.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok" : "not ok", what);
    if (!ok) {
        failures++;
    }
}

static int gone(pid_t pid) {
    /* The library reaps its own child, so after a stop the PID names nothing (ESRCH); allow a
     * short grace period anyway, the kernel may still be tearing it down. */
    for (int i = 0; i < 100; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH) {
            return 1;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

int main(void) {
    const char *id = "install-test-sleep";
    const char *argv[] = {"sleep", "30", NULL};

    printf("version %s\n", grazr_version());
    check(strcmp(grazr_version(), GRAZR_PROC_VERSION) == 0, "grazr_version() matches the header");

    int rc = grazr_start_process(id, argv, NULL, NULL, NULL, NULL);
    if (rc != GRAZR_OK) {
        printf("not ok: start: %s: %s\n", grazr_result_name(rc), grazr_last_error_message());
        return 1;
    }
    int32_t pid = grazr_get_pid(id);
    printf("pid %d\n", pid);
    fflush(stdout);
    check(pid > 0, "get_pid gives a PID");
    check(grazr_status(id) == GRAZR_STATUS_RUNNING, "status is RUNNING");
    check(pid > 0 && kill(pid, 0) == 0, "the PID is a live process");
    check(pid > 0 && getpgid(pid) == pid, "it leads its own process group");

    rc = grazr_stop_process(id, 0, 5000);
    if (rc != GRAZR_OK) {
        printf("stop: %s: %s\n", grazr_result_name(rc), grazr_last_error_message());
    }
    check(rc == GRAZR_OK, "stop succeeds");
    check(grazr_status(id) == GRAZR_STATUS_STOPPED, "status is STOPPED after stop");
    check(grazr_get_pid(id) == 0, "get_pid is 0 after stop");
    check(pid > 0 && gone(pid), "the process is gone");

    rc = grazr_start_process(id, (const char *const[]){"/nonexistent/grazr-install-test", NULL},
                             NULL, NULL, NULL, NULL);
    check(rc == GRAZR_ERR_SPAWN && strstr(grazr_last_error_message(), "nonexistent") != NULL,
          "a missing program gives GRAZR_ERR_SPAWN naming it");

    printf("%s\n", failures == 0 ? "all checks passed" : "some checks failed");
    return failures == 0 ? 0 : 1;
}
