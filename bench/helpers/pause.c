/* Dies on SIGTERM: the default disposition does the work, so the kernel's exit path is all
 * that is measured after the signal. */
#include <unistd.h>

int main(void) {
    for (;;)
        pause();
}
