/* envdump: prints its environment, one entry a line, then "--END--", and waits to be killed. */
#include "common.h"

extern char **environ;

int main(void) {
    for (char **e = environ; *e != NULL; e++) {
        dprintf(1, "%s\n", *e);
    }
    dprintf(1, "--END--\n");
    pause_forever();
}
