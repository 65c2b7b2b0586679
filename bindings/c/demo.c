/*
 * grazr_proc demo: a C host that runs two real services on 127.0.0.1 through the library.
 *
 *   1. registers them (pid-file templates, stop signals and timeouts, as Grazr does),
 *   2. starts `python3 -m http.server` on a free loopback port and a worker that writes a
 *      pid file,
 *   3. prints a status table and fetches one page from the web server to prove it serves,
 *   4. kills the worker from outside (SIGKILL) to show the ERROR row,
 *   5. stops everything with grazr_stop_all() and prints the final table and the timing.
 *
 * Exits non-zero if any step does not behave as the contract says, so `make demo` doubles as
 * a smoke test. Everything lives in a fresh temp dir that is removed at the end.
 */
#define _GNU_SOURCE

#include "grazr_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WEB_ID "demo-web"
#define WORKER_PATTERN "demo-worker-{n}"
#define WORKER_ID "demo-worker-1"

static char g_dir[4096];
static int g_problems;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Reports a result code with the library's message; counts failures. */
static int ok(int32_t rc, const char *what)
{
    if (rc == GRAZR_OK)
        return 1;
    printf("    !! %s: %s: %s\n", what, grazr_result_name(rc), grazr_last_error_message());
    g_problems++;
    return 0;
}

static void expect(int cond, const char *what)
{
    if (!cond) {
        printf("    !! unexpected: %s\n", what);
        g_problems++;
    }
}

static const char *status_text(int32_t s)
{
    switch (s) {
    case GRAZR_STATUS_STOPPED: return "STOPPED";
    case GRAZR_STATUS_RUNNING: return "RUNNING";
    case GRAZR_STATUS_ERROR: return "ERROR";
    default: return grazr_result_name(s);
    }
}

static const char *state_text(int32_t s)
{
    static const char *const names[] = {"stopped", "starting", "running", "pid-file-pending",
                                        "stopping", "exited", "failed", "killed", "crashed",
                                        "reaped-elsewhere"};
    return s >= 0 && s < (int32_t)(sizeof names / sizeof names[0]) ? names[s] : "?";
}

static void print_table(const char *title)
{
    static const char *const ids[] = {WEB_ID, WORKER_ID};
    printf("\n    %s\n", title);
    printf("    %-14s %-8s %7s %7s  %-9s %-6s %s\n", "ID", "STATUS", "PID", "PGID", "STATE", "EXIT",
           "PID FILE");
    printf("    %-14s %-8s %7s %7s  %-9s %-6s %s\n", "--", "------", "---", "----", "-----", "----",
           "--------");
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        grazr_info info;
        char exit_text[16] = "-";
        const char *pid_file;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        if (grazr_process_info(ids[i], &info) != GRAZR_OK) {
            printf("    %-14s (info failed: %s)\n", ids[i], grazr_last_error_message());
            continue;
        }
        if (info.term_signal > 0)
            snprintf(exit_text, sizeof exit_text, "SIG%d", (int)info.term_signal);
        else if (info.exit_code >= 0)
            snprintf(exit_text, sizeof exit_text, "%d", (int)info.exit_code);
        pid_file = info.pid_file ? info.pid_file : "-";
        if (strncmp(pid_file, g_dir, strlen(g_dir)) == 0)
            pid_file += strlen(g_dir);
        printf("    %-14s %-8s %7d %7d  %-9s %-6s %s\n", ids[i], status_text(info.status), (int)info.pid,
               (int)info.pgid, state_text(info.state), exit_text, pid_file);
    }
}

/* A port nobody listens on right now: bind port 0 and ask the kernel which one it gave. */
static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int port = -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* One HTTP/1.0 GET over loopback; retries the connect for up to `wait_ms` while the server is
 * still binding. Returns the bytes read, or -1. */
static int http_get(int port, char *buf, size_t cap, int wait_ms)
{
    long long deadline = now_ms() + wait_ms;
    for (;;) {
        struct sockaddr_in a;
        const char req[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        size_t got = 0;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            close(fd);
            if (errno != ECONNREFUSED || now_ms() > deadline)
                return -1;
            sleep_ms(100);
            continue;
        }
        if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
            close(fd);
            return -1;
        }
        while (got + 1 < cap) {
            ssize_t n = read(fd, buf + got, cap - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        buf[got] = '\0';
        close(fd);
        return (int)got;
    }
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

int main(void)
{
    char www[4200], index_html[4300], web_log[4200], worker_tmpl[4200], worker_pid[4200], port_text[16];
    char response[8192];
    const char *tmp = getenv("TMPDIR");
    int port;
    long long t0;
    pid_t worker;

    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(g_dir, sizeof g_dir, "%s/grazr-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    printf("grazr_proc %s demo: two services on 127.0.0.1, managed from C\n", grazr_version());
    printf("    work dir: %s (paths below are relative to it)\n", g_dir);

    snprintf(www, sizeof www, "%s/www", g_dir);
    snprintf(index_html, sizeof index_html, "%s/index.html", www);
    snprintf(web_log, sizeof web_log, "%s/logs/web.log", g_dir);
    snprintf(worker_tmpl, sizeof worker_tmpl, "%s/run/worker-{n}.pid", g_dir);
    snprintf(worker_pid, sizeof worker_pid, "%s/run/worker-1.pid", g_dir);
    mkdir(www, 0755);
    write_text(index_html, "<html><body>served by a process that grazr_proc started</body></html>\n");

    /* 1. Registration: what a Grazr-like host knows from its config. */
    printf("\n[1] register services\n");
    if (ok(grazr_register_service(WEB_ID, NULL, NULL, SIGTERM, 3000), "register " WEB_ID))
        printf("    %-16s exact id, tracked as a child; stop: SIGTERM, SIGKILL after 3000 ms\n", WEB_ID);
    if (ok(grazr_register_service(WORKER_PATTERN, worker_tmpl, NULL, SIGTERM, 2000), "register " WORKER_PATTERN))
        printf("    %-16s pattern, pid file /run/worker-{n}.pid; stop: SIGTERM, SIGKILL after 2000 ms\n",
               WORKER_PATTERN);

    /* 2. Start both. */
    printf("\n[2] start\n");
    port = free_port();
    if (port <= 0) {
        printf("    !! no free loopback port\n");
        return 1;
    }
    snprintf(port_text, sizeof port_text, "%d", port);
    {
        const char *argv[] = {"python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", www,
                              port_text, NULL};
        t0 = now_ms();
        if (ok(grazr_start_process(WEB_ID, argv, NULL, NULL, NULL, web_log), "start " WEB_ID))
            printf("    %-14s python3 -m http.server --bind 127.0.0.1 %d     started in %lld ms\n", WEB_ID,
                   port, now_ms() - t0);
    }
    {
        /* No pid file argument: the registered template gives it. */
        const char *argv[] = {"sh", "-c", "echo $$ > \"$1\"; exec sleep 1000", "worker", worker_pid, NULL};
        t0 = now_ms();
        if (ok(grazr_start_process(WORKER_ID, argv, NULL, NULL, NULL, NULL), "start " WORKER_ID))
            printf("    %-14s sh -c 'echo $$ > run/worker-1.pid; exec sleep 1000'  started in %lld ms\n",
                   WORKER_ID, now_ms() - t0);
    }
    print_table("status after start");
    expect(grazr_status(WEB_ID) == GRAZR_STATUS_RUNNING, WEB_ID " is not RUNNING");
    expect(grazr_status(WORKER_ID) == GRAZR_STATUS_RUNNING, WORKER_ID " is not RUNNING");

    /* 3. Prove the web server serves. */
    printf("\n[3] HTTP GET http://127.0.0.1:%d/\n", port);
    if (http_get(port, response, sizeof response, 10000) > 0) {
        char status_line[128];
        snprintf(status_line, sizeof status_line, "%.*s", (int)strcspn(response, "\r\n"), response);
        printf("    response: %s\n", status_line);
        printf("    body has the page: %s\n", strstr(response, "grazr_proc started") ? "yes" : "NO");
        expect(strncmp(response, "HTTP/1.0 200", 12) == 0 || strncmp(response, "HTTP/1.1 200", 12) == 0,
               "the response is not 200");
        expect(strstr(response, "grazr_proc started") != NULL, "the page is not in the response");
        {
            /* The server's stderr went to the log the library opened for it. */
            char log_text[4096] = "", *line, *last = NULL;
            FILE *f = fopen(web_log, "r");
            size_t n = f ? fread(log_text, 1, sizeof log_text - 1, f) : 0;
            if (f)
                fclose(f);
            log_text[n] = '\0';
            for (line = strtok(log_text, "\n"); line; line = strtok(NULL, "\n"))
                if (strstr(line, "GET /"))
                    last = line;
            printf("    logs/web.log: %s\n", last ? last : "(no request line yet)");
        }
    } else {
        printf("    !! no response: %s\n", strerror(errno));
        g_problems++;
    }

    /* 4. Something outside the library kills the worker. */
    worker = grazr_get_pid(WORKER_ID);
    printf("\n[4] kill -KILL %d (%s) from outside the library\n", (int)worker, WORKER_ID);
    if (worker > 0)
        kill(worker, SIGKILL);
    t0 = now_ms();
    while (grazr_status(WORKER_ID) == GRAZR_STATUS_RUNNING && now_ms() - t0 < 3000)
        sleep_ms(20);
    print_table("status after the outside kill (a signal the library did not send: ERROR)");
    expect(grazr_status(WORKER_ID) == GRAZR_STATUS_ERROR, WORKER_ID " is not ERROR");
    expect(grazr_status(WEB_ID) == GRAZR_STATUS_RUNNING, WEB_ID " is not RUNNING");

    /* 5. Stop everything, in parallel. */
    printf("\n[5] grazr_stop_all()\n");
    t0 = now_ms();
    ok(grazr_stop_all(), "stop_all");
    printf("    stopped everything in %lld ms\n", now_ms() - t0);
    print_table("final status");
    expect(grazr_status(WEB_ID) == GRAZR_STATUS_STOPPED, WEB_ID " is not STOPPED");
    expect(grazr_status(WORKER_ID) == GRAZR_STATUS_STOPPED, WORKER_ID " is not STOPPED");
    expect(http_get(port, response, sizeof response, 0) < 0, "the web server still answers");

    grazr_shutdown();
    nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("\n%s\n", g_problems ? "demo FAILED" : "demo OK");
    return g_problems ? 1 : 0;
}
