/* Writes its pid file at once, then waits to die on SIGTERM.
 *   pidfile PATH      the spawned process itself is the service (foreground)
 *   pidfile -d PATH   daemonizes first: the launcher exits 0 and a new-session grandchild
 *                     writes the file, as nginx, redis and php-fpm do with their daemon modes. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int daemonize = argc > 2 && strcmp(argv[1], "-d") == 0;
    const char *path = argv[argc - 1];
    if (argc < 2)
        return 2;
    if (daemonize) {
        pid_t p = fork();
        if (p < 0)
            return 1;
        if (p > 0)
            _exit(0);
        setsid();
    }
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, buf, (size_t)len) != len)
        return 1;
    close(fd);
    for (;;)
        pause();
}
