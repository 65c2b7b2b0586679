/* workers K WORKERS_FILE exit|ignore [PIDFILE]: a master that forks K workers into its own
 * process group, like nginx or php-fpm. Workers ignore SIGTERM, so only SIGKILL removes them.
 * The master exits at once on SIGTERM ("exit") or ignores it ("ignore"). WORKERS_FILE gets
 * the worker pids, one a line, once all are forked. */
#include "common.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: workers K WORKERS_FILE exit|ignore [PIDFILE]\n");
        return 2;
    }
    int k = atoi(argv[1]);
    char list[4096] = "";
    size_t used = 0;
    for (int i = 0; i < k; i++) {
        pid_t w = fork();
        if (w < 0) {
            perror("fork");
            return 3;
        }
        if (w == 0) {
            signal(SIGTERM, SIG_IGN);
            pause_forever();
        }
        used += (size_t)snprintf(list + used, sizeof list - used, "%d\n", (int)w);
    }
    if (strcmp(argv[3], "ignore") == 0) {
        signal(SIGTERM, SIG_IGN);
    }
    write_text(argv[2], list);
    if (argc > 4) {
        write_pid_file(argv[4], getpid());
    }
    pause_forever();
}
