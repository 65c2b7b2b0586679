// Tests of grazr_proc.hpp with real processes (sleep, sh). Built with -std=c++17 -Wall -Wextra
// -Werror against libgrazr_proc.a by `make test` in this directory. Each test gets a fresh temp
// dir; every process a test starts is stopped through the library and, should that fail, killed
// by process group from the test's guard, also when the test fails half-way.
#include <grazr_proc.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// A tiny test framework: TEST registers, CHECK records and goes on, REQUIRE records and ends the
// test, CHECK_THROWS expects a given grazr::Error subclass and hands it to a check.

namespace {

struct Failure {};  // thrown by REQUIRE to leave the test body; the guard still runs

class Ctx;
struct TestCase {
    const char *name;
    void (*body)(Ctx &);
};

std::vector<TestCase> &tests() {
    static std::vector<TestCase> all;
    return all;
}

struct Registrar {
    Registrar(const char *name, void (*body)(Ctx &)) { tests().push_back({name, body}); }
};

bool process_exists(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

bool leads_own_group(pid_t pid) { return pid > 0 && getpgid(pid) == pid; }

// Waits until the PID names no process (the library reaps its own children), generously.
bool wait_gone(pid_t pid, std::chrono::milliseconds limit = 5000ms) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (!process_exists(pid)) {
            return true;
        }
        // A zombie of a child we spawned ourselves counts as gone once reaped here.
        waitpid(pid, nullptr, WNOHANG);
        std::this_thread::sleep_for(10ms);
    }
    return !process_exists(pid);
}

template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = 5000ms) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

std::string read_file(const std::string &path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// Whether /proc/PID/status lists SIGTERM among the ignored signals.
bool ignores_term(pid_t pid) {
    const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
    const auto at = status.find("SigIgn:");
    if (at == std::string::npos) return false;
    const unsigned long long mask = std::stoull(status.substr(at + 7), nullptr, 16);
    return (mask >> (SIGTERM - 1)) & 1ULL;
}

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

class Ctx {
public:
    explicit Ctx(const char *name) : name_(name) {
        char pattern[] = "/tmp/grazr-cpp-XXXXXX";
        const char *made = mkdtemp(pattern);
        if (made == nullptr) {
            std::perror("mkdtemp");
            std::exit(2);
        }
        dir_ = made;
    }

    // The guard: stop every id through the library (verified identity), then SIGKILL the group
    // of any PID that is still alive and still leads its group, then reap our own children.
    ~Ctx() {
        for (const std::string &id : ids_) {
            try {
                grazr::StopOptions now;
                now.timeout = 0ms;
                grazr::stop(id, now);
            } catch (const std::exception &e) {
                std::cout << "    cleanup: stop " << id << ": " << e.what() << "\n";
            }
        }
        for (pid_t pid : pids_) {
            if (process_exists(pid) && leads_own_group(pid)) {
                std::cout << "    cleanup: killing process group " << pid << "\n";
                kill(-pid, SIGKILL);
            }
        }
        for (pid_t pid : own_children_) {
            if (process_exists(pid)) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
            }
            waitpid(pid, nullptr, 0);
        }
        std::string cmd = "rm -rf '" + dir_ + "'";
        if (std::system(cmd.c_str()) != 0) {
            std::cout << "    cleanup: could not remove " << dir_ << "\n";
        }
    }

    bool check(bool ok, const char *expr, const char *file, int line) {
        if (!ok) {
            failures_++;
            std::cout << "    " << file << ":" << line << ": check failed: " << expr << "\n";
        }
        return ok;
    }
    void note(const std::string &text) { std::cout << "    " << text << "\n"; }

    std::string path(const std::string &name) const { return dir_ + "/" + name; }
    const std::string &dir() const { return dir_; }

    // Names an id for the guard; call before starting it.
    std::string id(const std::string &suffix) {
        std::string id = std::string("cpp-") + name_ + "-" + suffix;
        ids_.push_back(id);
        return id;
    }
    void track_id(const std::string &id) { ids_.push_back(id); }
    // Records a PID for the guard (its group is killed if the library failed to stop it).
    void track(std::optional<pid_t> pid) {
        if (pid) {
            pids_.push_back(*pid);
        }
    }
    void track_own_child(pid_t pid) { own_children_.push_back(pid); }

    int failures() const { return failures_; }

private:
    const char *name_;
    std::string dir_;
    std::vector<std::string> ids_;
    std::vector<pid_t> pids_;
    std::vector<pid_t> own_children_;
    int failures_ = 0;
};

}  // namespace

#define TEST(name)                                                                             \
    static void test_##name(Ctx &ctx);                                                         \
    static const Registrar registrar_##name(#name, test_##name);                               \
    static void test_##name(Ctx &ctx)

#define CHECK(cond) ctx.check(static_cast<bool>(cond), #cond, __FILE__, __LINE__)
#define REQUIRE(cond)                                                                          \
    do {                                                                                       \
        if (!ctx.check(static_cast<bool>(cond), #cond, __FILE__, __LINE__)) throw Failure{};   \
    } while (0)
#define CHECK_THROWS(stmt, Type, var, ...)                                                     \
    do {                                                                                       \
        bool thrown_ = false;                                                                  \
        try {                                                                                  \
            stmt;                                                                              \
        } catch (const Type &var) {                                                            \
            thrown_ = true;                                                                    \
            ctx.note(std::string("caught " #Type ": ") + var.what());                          \
            __VA_ARGS__;                                                                       \
        } catch (const std::exception &other_) {                                               \
            ctx.note(std::string("wrong exception: ") + other_.what());                        \
        }                                                                                      \
        ctx.check(thrown_, #stmt " throws " #Type, __FILE__, __LINE__);                        \
    } while (0)

static std::vector<std::string> sleeper() { return {"sleep", "30"}; }

static grazr::StartOptions quick() {
    grazr::StartOptions o;
    o.startup_window = 0ms;
    return o;
}

// ---------------------------------------------------------------------------------------------

TEST(version_and_result_names) {
    CHECK(grazr::version() == GRAZR_PROC_VERSION);
    CHECK(grazr::result_name(GRAZR_OK) == "GRAZR_OK");
    CHECK(grazr::result_name(GRAZR_ERR_SPAWN) == "GRAZR_ERR_SPAWN");
    CHECK(grazr::result_name(12345) == "GRAZR_ERR_UNKNOWN");
    CHECK(std::string(grazr::to_string(grazr::Status::Error)) == "error");
    CHECK(std::string(grazr::to_string(grazr::State::PidFilePending)) == "pid-file-pending");
}

TEST(start_status_info_list_stop) {
    const std::string id = ctx.id("sleep");
    grazr::StartOptions opts = quick();
    opts.log_file = ctx.path("logs/sleep.log");  // the directory is created by the library
    const auto before = std::chrono::system_clock::now();
    grazr::start(id, sleeper(), opts);
    const std::optional<pid_t> pid = grazr::pid(id);
    ctx.track(pid);
    REQUIRE(pid.has_value());
    CHECK(grazr::status(id) == grazr::Status::Running);
    CHECK(process_exists(*pid));
    CHECK(leads_own_group(*pid));
    CHECK(grazr::pid_alive(*pid));
    CHECK(!grazr::pid_alive(getpid()));  // never the host itself

    // Starting again spawns nothing.
    grazr::start(id, sleeper(), opts);
    CHECK(grazr::pid(id) == pid);

    const grazr::ProcessInfo info = grazr::info(id);
    CHECK(info.status == grazr::Status::Running);
    CHECK(info.state == grazr::State::Running);
    CHECK(info.pid == pid);
    CHECK(info.child_pid == pid);
    CHECK(info.pgid == pid);
    CHECK(info.argv == sleeper());
    CHECK(info.log_file == opts.log_file);
    CHECK(!info.pid_file.has_value());
    CHECK(!info.exit_code.has_value());
    REQUIRE(info.start_time.has_value());
    CHECK(*info.start_time > before - 60s && *info.start_time < before + 60s);

    std::vector<std::string> ids = grazr::list();
    CHECK(std::find(ids.begin(), ids.end(), id) != ids.end());

    grazr::stop(id);
    CHECK(grazr::status(id) == grazr::Status::Stopped);
    CHECK(!grazr::pid(id).has_value());
    CHECK(wait_gone(*pid));
    ids = grazr::list();
    CHECK(std::find(ids.begin(), ids.end(), id) == ids.end());
    struct stat st;
    CHECK(stat(opts.log_file->c_str(), &st) == 0);
}

TEST(unknown_id_is_stopped_and_stop_is_ok) {
    const std::string id = ctx.id("never-started");
    CHECK(grazr::status(id) == grazr::Status::Stopped);
    CHECK(!grazr::pid(id).has_value());
    grazr::stop(id);  // no throw
    const grazr::ProcessInfo info = grazr::info(id);
    CHECK(info.state == grazr::State::Stopped);
    CHECK(!info.pid.has_value());
    CHECK(info.argv.empty());
    CHECK_THROWS(grazr::signal_process(id, SIGHUP), grazr::NotRunning, e, CHECK(e.code() == GRAZR_ERR_NOT_RUNNING));
}

TEST(service_stops_its_process_when_destroyed) {
    const std::string id = ctx.id("raii");
    std::optional<pid_t> pid;
    {
        grazr::Service service(id, sleeper(), quick());
        pid = service.pid();
        ctx.track(pid);
        REQUIRE(pid.has_value());
        CHECK(service.owns());
        CHECK(service.id() == id);
        CHECK(service.status() == grazr::Status::Running);
        CHECK(service.info().pid == pid);
    }
    CHECK(wait_gone(*pid));
    CHECK(grazr::status(id) == grazr::Status::Stopped);
}

TEST(released_service_keeps_running) {
    const std::string id = ctx.id("released");
    std::optional<pid_t> pid;
    {
        grazr::Service service(id, sleeper(), quick());
        pid = service.pid();
        ctx.track(pid);
        CHECK(service.release() == id);
        CHECK(!service.owns());
    }
    REQUIRE(pid.has_value());
    std::this_thread::sleep_for(50ms);
    CHECK(process_exists(*pid));
    CHECK(grazr::status(id) == grazr::Status::Running);
    // Service::attach takes it back, and its destructor stops it.
    { grazr::Service again = grazr::Service::attach(id); }
    CHECK(wait_gone(*pid));
}

TEST(moved_service_has_one_owner) {
    const std::string id_a = ctx.id("move-a");
    const std::string id_b = ctx.id("move-b");
    grazr::Service a(id_a, sleeper(), quick());
    const std::optional<pid_t> pid_a = a.pid();
    ctx.track(pid_a);
    REQUIRE(pid_a.has_value());
    {
        grazr::Service b(std::move(a));
        CHECK(!a.owns());  // NOLINT(bugprone-use-after-move): checking the moved-from state
        CHECK(b.owns());
        grazr::Service c(id_b, sleeper(), quick());
        const std::optional<pid_t> pid_b = c.pid();
        ctx.track(pid_b);
        REQUIRE(pid_b.has_value());
        c = std::move(b);  // c's own process (id_b) is stopped by the assignment
        CHECK(wait_gone(*pid_b));
        CHECK(process_exists(*pid_a));
        CHECK(c.id() == id_a);
    }
    CHECK(wait_gone(*pid_a));
}

TEST(explicit_stop_with_options_ends_ownership) {
    const std::string id = ctx.id("explicit");
    grazr::Service service(id, sleeper(), quick());
    const std::optional<pid_t> pid = service.pid();
    ctx.track(pid);
    grazr::StopOptions kill_now;
    kill_now.signal = SIGKILL;
    kill_now.timeout = 0ms;
    service.stop(kill_now);
    CHECK(!service.owns());
    CHECK(pid && wait_gone(*pid));
    CHECK(grazr::status(id) == grazr::Status::Stopped);  // a stop the library sent: not ERROR
}

TEST(missing_program_throws_spawn_failed) {
    const std::string id = ctx.id("missing");
    const std::string program = ctx.path("no-such-program");
    CHECK_THROWS(grazr::start(id, {program}), grazr::SpawnFailed, e, {
        CHECK(e.code() == GRAZR_ERR_SPAWN);
        CHECK(std::string(e.name()) == "GRAZR_ERR_SPAWN");
        CHECK(contains(e.what(), program));
        CHECK(contains(e.what(), id));
    });
    // The same failure is a grazr::Error and a std::runtime_error.
    CHECK_THROWS(grazr::start(id, {program}), grazr::Error, e, CHECK(e.code() == GRAZR_ERR_SPAWN));
    CHECK_THROWS(grazr::start(id, {program}), std::runtime_error, e, (void)e);
    CHECK_THROWS(grazr::Service(id, {program}), grazr::SpawnFailed, e, (void)e);
}

TEST(early_exit_throws_exited_early_with_the_log) {
    const std::string id = ctx.id("early-exit");
    grazr::StartOptions opts;
    opts.log_file = ctx.path("early.log");
    opts.startup_window = 2s;
    CHECK_THROWS(grazr::start(id, {"sh", "-c", "echo cpp-boom-line >&2; exit 7"}, opts), grazr::ExitedEarly, e, {
        CHECK(e.code() == GRAZR_ERR_EXITED);
        CHECK(contains(e.what(), "cpp-boom-line"));
        CHECK(contains(e.what(), "7"));
    });
    CHECK(grazr::status(id) == grazr::Status::Error);
    const grazr::ProcessInfo info = grazr::info(id);
    CHECK(info.state == grazr::State::Failed);
    CHECK(info.exit_code == 7);
    grazr::stop(id);  // clears the ERROR
    CHECK(grazr::status(id) == grazr::Status::Stopped);
}

TEST(invalid_arguments_throw_invalid_argument) {
    const std::string id = ctx.id("invalid");
    auto is_invalid = [&](const grazr::Error &e) { CHECK(e.code() == GRAZR_ERR_INVALID_ARGUMENT); };
    CHECK_THROWS(grazr::start("", sleeper()), grazr::InvalidArgument, e, is_invalid(e));
    CHECK_THROWS(grazr::start(id, {}), grazr::InvalidArgument, e, is_invalid(e));
    CHECK_THROWS(grazr::start(std::string("a\0b", 3), sleeper()), grazr::InvalidArgument, e,
                 CHECK(contains(e.what(), "NUL")));
    CHECK_THROWS(grazr::start(id, {"sleep", std::string("3\0" "0", 3)}), grazr::InvalidArgument, e, is_invalid(e));
    grazr::StartOptions negative;
    negative.startup_window = -5ms;
    CHECK_THROWS(grazr::start(id, sleeper(), negative), grazr::InvalidArgument, e, is_invalid(e));
    grazr::StopOptions bad_signal;
    bad_signal.signal = 65;
    CHECK_THROWS(grazr::stop(id, bad_signal), grazr::InvalidArgument, e, is_invalid(e));
    CHECK_THROWS(grazr::signal_process(id, 0), grazr::InvalidArgument, e, is_invalid(e));
    grazr::ServiceSpec both;
    both.id_pattern = "cpp-both";
    both.never_kill = true;
    both.stop_timeout = 1s;
    CHECK_THROWS(grazr::register_service(both), grazr::InvalidArgument, e, is_invalid(e));
    grazr::ServiceSpec bad_template;
    bad_template.id_pattern = "cpp-tpl-{a}";
    bad_template.pid_file_template = ctx.path("{b}.pid");
    CHECK_THROWS(grazr::register_service(bad_template), grazr::InvalidArgument, e, is_invalid(e));
    CHECK(grazr::status(id) == grazr::Status::Stopped);  // nothing was started by any of these
}

TEST(signal_reaches_the_process_and_an_unsent_signal_is_error) {
    const std::string id = ctx.id("signal");
    grazr::start(id, sleeper(), quick());
    const std::optional<pid_t> pid = grazr::pid(id);
    ctx.track(pid);
    REQUIRE(pid.has_value());
    grazr::signal_process(id, SIGUSR1);  // sleep's default action for SIGUSR1 is to die
    CHECK(eventually([&] { return grazr::status(id) == grazr::Status::Error; }));
    const grazr::ProcessInfo info = grazr::info(id);
    CHECK(info.state == grazr::State::Killed);
    CHECK(info.term_signal == SIGUSR1);
    CHECK(!info.pid.has_value());
    CHECK(wait_gone(*pid));
}

TEST(never_kill_stop_times_out_and_leaves_it_running) {
    const std::string id = ctx.id("ignore-term");
    // sh ignores TERM, and the ignored disposition survives the exec into sleep.
    grazr::start(id, {"sh", "-c", "trap '' TERM; exec sleep 30"}, quick());
    const std::optional<pid_t> pid = grazr::pid(id);
    ctx.track(pid);
    REQUIRE(pid.has_value());
    // sh's own cmdline already says "sleep"; wait until the trap is in place instead.
    REQUIRE(eventually([&] { return ignores_term(*pid); }));
    grazr::StopOptions gentle;
    gentle.never_kill = true;
    gentle.timeout = 300ms;
    const auto t0 = Clock::now();
    CHECK_THROWS(grazr::stop(id, gentle), grazr::StopTimeout, e, CHECK(e.code() == GRAZR_ERR_TIMEOUT));
    const auto waited = Clock::now() - t0;
    CHECK(waited >= 250ms && waited < 10s);
    CHECK(process_exists(*pid));
    CHECK(grazr::status(id) == grazr::Status::Running);
    grazr::StopOptions hard;
    hard.timeout = 0ms;
    grazr::stop(id, hard);
    CHECK(wait_gone(*pid));
}

TEST(pid_file_start_read_and_removal) {
    const std::string id = ctx.id("pidfile");
    const std::string pid_file = ctx.path("run/svc.pid");
    grazr::StartOptions opts;
    opts.pid_file = pid_file;
    opts.pid_file_timeout = 5s;
    grazr::start(id, {"sh", "-c", "echo $$ > \"$0\"; exec sleep 30", pid_file}, opts);
    const std::optional<pid_t> pid = grazr::pid(id);
    ctx.track(pid);
    REQUIRE(pid.has_value());
    CHECK(grazr::read_pid_file(pid_file) == pid);
    CHECK(grazr::info(id).pid_file == pid_file);
    CHECK(!grazr::read_pid_file(ctx.path("missing.pid")).has_value());
    grazr::stop(id);
    CHECK(wait_gone(*pid));
    struct stat st;
    CHECK(stat(pid_file.c_str(), &st) != 0);  // removed once the process was gone
}

TEST(env_working_dir_and_clear_env) {
    setenv("GRAZR_CPP_HOST_ONLY", "from-host", 1);
    const std::string id = ctx.id("env");
    const std::string out = ctx.path("env.out");
    grazr::StartOptions opts = quick();
    opts.working_dir = ctx.dir();
    opts.env = {"GRAZR_CPP_SET=set value", "GRAZR_CPP_HOST_ONLY"};
    grazr::start(id, {"sh", "-c", "printf '%s|%s|%s' \"$GRAZR_CPP_SET\" \"${GRAZR_CPP_HOST_ONLY-unset}\" \"$(pwd)\" > env.out; exec sleep 30"}, opts);
    ctx.track(grazr::pid(id));
    CHECK(eventually([&] { return contains(read_file(out), "|"); }));
    char real[4096];
    const std::string real_dir = realpath(ctx.dir().c_str(), real) ? real : ctx.dir();
    CHECK(read_file(out) == "set value|unset|" + real_dir);
    grazr::stop(id);

    const std::string id2 = ctx.id("clear-env");
    grazr::StartOptions clear = quick();
    clear.clear_env = true;
    clear.env = {"ONLY=1"};
    clear.working_dir = ctx.dir();
    grazr::start(id2, {"/bin/sh", "-c", "/usr/bin/env > clear.out; exec /bin/sleep 30"}, clear);
    ctx.track(grazr::pid(id2));
    CHECK(eventually([&] { return contains(read_file(ctx.path("clear.out")), "ONLY=1"); }));
    CHECK(!contains(read_file(ctx.path("clear.out")), "GRAZR_CPP_HOST_ONLY"));
    CHECK(!contains(read_file(ctx.path("clear.out")), "HOME="));
    grazr::stop(id2);
    unsetenv("GRAZR_CPP_HOST_ONLY");
}

TEST(registered_template_and_stop_all) {
    grazr::ServiceSpec spec;
    spec.id_pattern = "cpp-tpl-{n}";
    spec.pid_file_template = ctx.path("tpl/{n}.pid");
    spec.stop_timeout = 2s;
    grazr::register_service(spec);
    std::vector<pid_t> pids;
    for (const char *n : {"1", "2"}) {
        const std::string id = std::string("cpp-tpl-") + n;
        ctx.track_id(id);
        const std::string pid_file = ctx.path(std::string("tpl/") + n + ".pid");
        // No pid file passed: the registered template supplies it.
        grazr::start(id, {"sh", "-c", "echo $$ > \"$0\"; exec sleep 30", pid_file});
        const std::optional<pid_t> pid = grazr::pid(id);
        ctx.track(pid);
        REQUIRE(pid.has_value());
        CHECK(grazr::read_pid_file(pid_file) == pid);
        CHECK(grazr::info(id).pid_file == pid_file);
        pids.push_back(*pid);
    }
    const auto t0 = Clock::now();
    grazr::stop_all();
    CHECK(Clock::now() - t0 < 10s);
    for (pid_t pid : pids) {
        CHECK(wait_gone(pid));
    }
    CHECK(grazr::status("cpp-tpl-1") == grazr::Status::Stopped);
    CHECK(grazr::status("cpp-tpl-2") == grazr::Status::Stopped);
}

TEST(shutdown_forgets_and_registration_adopts_again) {
    const std::string id = ctx.id("adopt");
    const std::string pid_file = ctx.path("adopt.pid");
    grazr::ServiceSpec spec;
    spec.id_pattern = id;
    spec.pid_file_template = pid_file;
    spec.program = "sleep";
    grazr::register_service(spec);
    grazr::start(id, {"sh", "-c", "echo $$ > \"$0\"; exec sleep 30", pid_file});
    const std::optional<pid_t> pid = grazr::pid(id);
    ctx.track(pid);
    REQUIRE(pid.has_value());
    grazr::shutdown();
    const std::vector<std::string> ids = grazr::list();
    CHECK(std::find(ids.begin(), ids.end(), id) == ids.end());
    CHECK(process_exists(*pid));
    // The host "restarted": status finds it again through the registered pid file.
    CHECK(grazr::status(id) == grazr::Status::Running);
    CHECK(grazr::pid(id) == pid);
    CHECK(grazr::info(id).argv.empty());  // adopted: the command is not known
    grazr::stop(id);
    CHECK(wait_gone(*pid));
}

TEST(stop_an_untracked_process_by_its_pid_file) {
    const std::string id = ctx.id("untracked");
    const std::string pid_file = ctx.path("untracked.pid");
    // Started by the test itself, not the library: its own session, like a daemon.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    const char *argv[] = {"sh", "-c", "echo $$ > \"$0\"; exec sleep 30", pid_file.c_str(), nullptr};
    pid_t child = 0;
    const int rc = posix_spawnp(&child, "sh", nullptr, &attr, const_cast<char *const *>(argv), environ);
    posix_spawnattr_destroy(&attr);
    REQUIRE(rc == 0);
    ctx.track_own_child(child);
    REQUIRE(eventually([&] { return grazr::read_pid_file(pid_file) == child; }));
    grazr::StopOptions opts;
    opts.pid_file = pid_file;
    opts.timeout = 2s;
    grazr::stop(id, opts);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);  // our child: we reap it
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

TEST(error_messages_stay_on_their_thread) {
    // Two threads fail at once with different programs; each must see its own message.
    std::atomic<int> wrong{0};
    std::atomic<int> right{0};
    auto worker = [&](const std::string &tag) {
        const std::string program = ctx.path("missing-" + tag);
        for (int i = 0; i < 50; i++) {
            try {
                grazr::start("cpp-thread-" + tag, {program});
                wrong++;
            } catch (const grazr::SpawnFailed &e) {
                (contains(e.what(), program) ? right : wrong)++;
            }
        }
    };
    std::thread a(worker, "a");
    std::thread b(worker, "b");
    a.join();
    b.join();
    CHECK(wrong == 0);
    CHECK(right == 100);
}

// ---------------------------------------------------------------------------------------------

int main(int argc, char **argv) {
    if (access("/bin/sh", X_OK) != 0) {
        const bool ci = getenv("CI") && std::string(getenv("CI")) == "true";
        std::cout << (ci ? "FAIL" : "SKIPPED") << ": /bin/sh is missing\n";
        std::cout << "0 passed, " << (ci ? 1 : 0) << " failed\n";
        return ci ? 1 : 0;
    }
    const std::string only = argc > 1 ? argv[1] : "";
    int passed = 0;
    int failed = 0;
    for (const TestCase &test : tests()) {
        if (!only.empty() && !contains(test.name, only)) {
            continue;
        }
        int failures = 0;
        {
            Ctx ctx(test.name);
            try {
                test.body(ctx);
            } catch (const Failure &) {
                // REQUIRE already recorded it
            } catch (const std::exception &e) {
                ctx.check(false, (std::string("unexpected exception: ") + e.what()).c_str(), __FILE__, __LINE__);
            }
            failures = ctx.failures();
        }  // the guard runs here, whatever happened
        std::cout << (failures == 0 ? "PASS: " : "FAIL: ") << test.name << "\n" << std::flush;
        (failures == 0 ? passed : failed)++;
    }
    std::cout << passed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
}
