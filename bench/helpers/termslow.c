/* Exits a fixed delay after SIGTERM (argv[1] ms, default 50): a service that needs time to
 * shut down. The delay is measured from the signal's arrival, not from start. */
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_term;

static void on_term(int sig) {
    (void)sig;
    got_term = 1;
}

int main(int argc, char **argv) {
    long ms = argc > 1 ? atol(argv[1]) : 50;
    sigset_t block, old;
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    /* Block TERM outside sigsuspend so a signal between the check and the wait is not lost. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    while (!got_term)
        sigsuspend(&old);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    _exit(0);
}
