/* late_pidfile DELAY_MS PIDFILE [REPORT [CHECK]]: writes its own pid to PIDFILE after DELAY_MS,
 * then waits to be killed. REPORT, if given, records at startup whether CHECK (default:
 * PIDFILE) already existed ("existed" or "absent"), which shows whether the library removed a
 * stale file before launch. */
#include "common.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: late_pidfile DELAY_MS PIDFILE [REPORT]\n");
        return 2;
    }
    if (argc > 3) {
        const char *check = argc > 4 ? argv[4] : argv[2];
        write_text(argv[3], access(check, F_OK) == 0 ? "existed\n" : "absent\n");
    }
    sleep_ms(atol(argv[1]));
    write_pid_file(argv[2], getpid());
    pause_forever();
}
