/* siglog LOGFILE [EXIT_SIG] [PIDFILE]: appends the number of every signal it receives to
 * LOGFILE, one a line, and exits 0 after logging EXIT_SIG. Writes "ready" once every handler
 * is installed: a test must wait for it before signalling, or the default action would win. */
#include "common.h"

static int log_fd = -1;
static int exit_sig;

static void on_signal(int sig) {
    char buf[16];
    int n = 0;
    char digits[8];
    int d = 0;
    int v = sig;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (d > 0) {
        buf[n++] = digits[--d];
    }
    buf[n++] = '\n';
    if (write(log_fd, buf, (size_t)n) < 0) {
        _exit(93);
    }
    if (sig == exit_sig) {
        _exit(0);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: siglog LOGFILE [EXIT_SIG] [PIDFILE]\n");
        return 2;
    }
    log_fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        perror("open log");
        return 3;
    }
    exit_sig = argc > 2 ? atoi(argv[2]) : 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD) {
            continue;
        }
        sigaction(sig, &sa, NULL); /* glibc-reserved RT signals just fail here */
    }
    if (argc > 3 && argv[3][0] != '\0') {
        write_pid_file(argv[3], getpid());
    }
    if (write(log_fd, "ready\n", 6) < 0) {
        return 4;
    }
    pause_forever();
}
