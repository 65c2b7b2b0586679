/* reaper CMD [ARGS...]: a minimal init for a PID namespace (`unshare -pf --mount-proc reaper
 * ...`). It runs CMD as its child, reaps every process that gets reparented to it, and exits
 * with CMD's status once CMD has exited (the kernel then kills whatever is left in the
 * namespace). Any catchable signal that reaches it is reported on stderr with the sender's PID:
 * PID 1 must never be signalled by the library, and a test or fuzz run greps for this line. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_sig, got_from;

static void on_signal(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    got_sig = sig;
    got_from = info ? info->si_pid : 0;
    char buf[96];
    int n = snprintf(buf, sizeof buf, "reaper: SIGNALLED %d by pid %d\n", sig, (int)got_from);
    if (n > 0 && write(2, buf, (size_t)n) < 0) {
        _exit(97);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: reaper CMD [ARGS...]\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    for (int s = 1; s < 32; s++) {
        if (s == SIGKILL || s == SIGSTOP || s == SIGCHLD) {
            continue;
        }
        sigaction(s, &sa, NULL);
    }
    pid_t main_child = fork();
    if (main_child < 0) {
        perror("reaper: fork");
        return 3;
    }
    if (main_child == 0) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int s = 1; s < 32; s++) {
            sigaction(s, &dfl, NULL);
        }
        execvp(argv[1], argv + 1);
        perror("reaper: exec");
        _exit(127);
    }
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0) {
            if (errno == EINTR) {
                continue;
            }
            return 4;
        }
        if (p == main_child) {
            if (WIFEXITED(st)) {
                return WEXITSTATUS(st);
            }
            return 128 + WTERMSIG(st);
        }
    }
}
