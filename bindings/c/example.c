/* The smallest useful grazr_proc host: start a service, look at it, stop it.
 * Build: cc -std=c11 -I../../include example.c ../../target/release/libgrazr_proc.a \
 *           -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o example */
#include <stdio.h>

#include "grazr_proc.h"

int main(void)
{
    const char *argv[] = {"sleep", "30", NULL};   /* argv[0] is searched in PATH; no shell */
    int32_t rc;

    /* id, argv, pid file, working dir, env overlay, log file: NULL means "none" / defaults. */
    rc = grazr_start_process("example-sleeper", argv, NULL, NULL, NULL, NULL);
    if (rc != GRAZR_OK) {
        fprintf(stderr, "start: %s: %s\n", grazr_result_name(rc), grazr_last_error_message());
        return 1;
    }
    printf("example-sleeper: status %d (1 = running), pid %d\n", grazr_status("example-sleeper"),
           grazr_get_pid("example-sleeper"));

    /* Signal 0 = the registered stop signal or SIGTERM; SIGKILL after 2000 ms if still alive. */
    rc = grazr_stop_process("example-sleeper", 0, 2000);
    if (rc != GRAZR_OK) {
        fprintf(stderr, "stop: %s: %s\n", grazr_result_name(rc), grazr_last_error_message());
        return 1;
    }
    printf("example-sleeper: status %d (0 = stopped)\n", grazr_status("example-sleeper"));
    return 0;
}
