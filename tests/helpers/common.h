/* Shared bits of the test helpers. Each helper is a tiny single-purpose child process for
 * the integration tests; they are compiled by tests/common/mod.rs with `cc`. */
#ifndef GRAZR_TEST_HELPER_COMMON_H
#define GRAZR_TEST_HELPER_COMMON_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline void sleep_ms(long ms) {
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    /* Restart after a caught signal: the delay is part of what the test controls. */
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Written to a temporary name and renamed, so that a reader never sees a half-written pid
 * file: the tests are about the library's checks, not about torn reads. */
static inline void write_pid_file(const char *path, pid_t pid) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        perror("helper: open pid file");
        _exit(90);
    }
    fprintf(f, "%d\n", (int)pid);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        perror("helper: write pid file");
        _exit(91);
    }
}

static inline void write_text(const char *path, const char *text) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        perror("helper: write file");
        _exit(92);
    }
}

static inline void pause_forever(void) {
    for (;;) {
        pause();
    }
}
#endif
