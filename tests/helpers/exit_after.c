/* exit_after CODE DELAY_MS [LINE...]: prints each LINE to stdout and "err:LINE" to stderr,
 * then after DELAY_MS exits with CODE, or dies by signal N when CODE is "sigN". */
#include "common.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: exit_after CODE DELAY_MS [LINE...]\n");
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        /* Unbuffered writes keep the stdout/stderr order visible in the merged log. */
        dprintf(1, "%s\n", argv[i]);
        dprintf(2, "err:%s\n", argv[i]);
    }
    sleep_ms(atol(argv[2]));
    if (strncmp(argv[1], "sig", 3) == 0) {
        int sig = atoi(argv[1] + 3);
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        return 99;
    }
    return atoi(argv[1]);
}
