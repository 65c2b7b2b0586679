// The generated header must compile as C++ (extern "C", no C-only syntax) and link.
#include "grazr_proc.h"

#include <cstdio>
#include <cstring>

int main()
{
    grazr_start_options start_options{};
    start_options.size = sizeof start_options;
    grazr_stop_options stop_options{};
    stop_options.size = sizeof stop_options;
    stop_options.timeout_ms = GRAZR_TIMEOUT_NEVER_KILL;
    grazr_info info{};
    info.size = sizeof info;

    int failures = 0;
    if (std::strcmp(grazr_version(), GRAZR_PROC_VERSION) != 0) {
        std::printf("FAIL: grazr_version() = %s, header says %s\n", grazr_version(), GRAZR_PROC_VERSION);
        failures++;
    }
    if (std::strcmp(grazr_result_name(GRAZR_ERR_SPAWN), "GRAZR_ERR_SPAWN") != 0) {
        std::printf("FAIL: grazr_result_name(GRAZR_ERR_SPAWN) = %s\n", grazr_result_name(GRAZR_ERR_SPAWN));
        failures++;
    }
    if (grazr_status(nullptr) != GRAZR_ERR_INVALID_ARGUMENT) {
        std::printf("FAIL: grazr_status(nullptr) is not GRAZR_ERR_INVALID_ARGUMENT\n");
        failures++;
    }
    std::printf("c++: grazr_proc %s, %d failed\n", grazr_version(), failures);
    return failures ? 1 : 0;
}
