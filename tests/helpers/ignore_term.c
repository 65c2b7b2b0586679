/* ignore_term [PIDFILE]: ignores SIGTERM, so only SIGKILL ends it. */
#include "common.h"

int main(int argc, char **argv) {
    signal(SIGTERM, SIG_IGN);
    if (argc > 1 && argv[1][0] != '\0') {
        write_pid_file(argv[1], getpid());
    }
    pause_forever();
}
