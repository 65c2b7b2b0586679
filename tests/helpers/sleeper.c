/* sleeper [ARGS...]: does nothing until killed; keeps every signal at the state it inherited,
 * so that /proc/PID/status shows exactly what the library gave it. */
#include "common.h"

int main(void) {
    pause_forever();
}
