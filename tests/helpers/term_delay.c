/* term_delay DELAY_MS [MARKER [PIDFILE]]: on SIGTERM writes "TERM" to MARKER, removes PIDFILE
 * at once (as some services do long before they are gone), then exits 0 after DELAY_MS. The
 * marker proves the process handled the signal itself instead of being killed. */
#include "common.h"

static volatile sig_atomic_t got_term;

static void on_term(int sig) {
    (void)sig;
    got_term = 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: term_delay DELAY_MS [MARKER]\n");
        return 2;
    }
    long delay = atol(argv[1]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    if (argc > 3) {
        write_pid_file(argv[3], getpid());
    }
    while (!got_term) {
        pause();
    }
    if (argc > 2 && argv[2][0] != '\0') {
        write_text(argv[2], "TERM\n");
    }
    if (argc > 3) {
        unlink(argv[3]);
    }
    sleep_ms(delay);
    return 0;
}
