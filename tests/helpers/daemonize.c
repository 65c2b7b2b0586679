/* daemonize PIDFILE DELAY_MS MODE [LAUNCHER_EXIT]: the classic double fork. The launcher
 * exits LAUNCHER_EXIT (default 0) as soon as the intermediate child has exited; the daemon
 * (its own session) writes PIDFILE after DELAY_MS. MODE "clean": on SIGTERM the daemon
 * removes PIDFILE and exits 0, as well-behaved daemons do; MODE "plain": SIGTERM kills it and
 * the file stays behind. */
#include "common.h"
#include <sys/wait.h>

static const char *pid_path;

static void on_term(int sig) {
    (void)sig;
    unlink(pid_path);
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: daemonize PIDFILE DELAY_MS clean|plain [LAUNCHER_EXIT]\n");
        return 2;
    }
    pid_path = argv[1];
    long delay = atol(argv[2]);
    int clean = strcmp(argv[3], "clean") == 0;
    int launcher_exit = argc > 4 ? atoi(argv[4]) : 0;

    pid_t first = fork();
    if (first < 0) {
        perror("fork");
        return 3;
    }
    if (first > 0) {
        int st;
        waitpid(first, &st, 0);
        return launcher_exit;
    }
    setsid();
    pid_t second = fork();
    if (second < 0) {
        _exit(4);
    }
    if (second > 0) {
        _exit(0);
    }
    if (clean) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, NULL);
    }
    sleep_ms(delay);
    write_pid_file(pid_path, getpid());
    pause_forever();
}
