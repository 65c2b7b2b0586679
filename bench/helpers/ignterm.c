/* Ignores SIGTERM, so only SIGKILL ends it: the worst case for a stop timeout. */
#include <signal.h>
#include <unistd.h>

int main(void) {
    signal(SIGTERM, SIG_IGN);
    for (;;)
        pause();
}
