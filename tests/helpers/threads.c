/* threads TIDFILE: starts one extra thread that writes its thread id (not the process id)
 * to TIDFILE, then everything waits to be killed. */
#include "common.h"
#include <pthread.h>
#include <sys/syscall.h>

static void *run(void *arg) {
    write_pid_file((const char *)arg, (pid_t)syscall(SYS_gettid));
    pause_forever();
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: threads TIDFILE\n");
        return 2;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, run, argv[1]) != 0) {
        return 3;
    }
    pause_forever();
}
