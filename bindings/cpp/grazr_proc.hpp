// grazr_proc.hpp: the C++17 interface to libgrazr_proc. Header-only, over <grazr_proc.h>.
//
//   #include <grazr_proc.hpp>
//   grazr::StartOptions opts;
//   opts.log_file = "/tmp/web.log";
//   grazr::Service web("web", {"python3", "-m", "http.server", "--bind", "127.0.0.1", "8000"}, opts);
//   std::cout << *web.pid() << "\n";          // stops (SIGTERM, then SIGKILL after 5 s) at scope end
//
// Link exactly as a C program does: -lgrazr_proc, or libgrazr_proc.a plus its private libs
// (`pkg-config --static --libs grazr_proc`).
//
// Errors are exceptions, not std::error_code. Every failing call throws a subclass of
// grazr::Error (itself a std::runtime_error) that carries the library's code (.code(), a negative
// GRAZR_ERR_* value; .name(), "GRAZR_ERR_SPAWN") and its message (.what(): what failed, for which
// id, which path, the OS error). Exceptions because a Service is started by its constructor,
// which has no other way to fail, and because a failed start or stop is an event a host reports
// rather than a value it branches on; catch grazr::SpawnFailed etc. where you do branch.
// Functions that cannot fail are noexcept. The message is read on the calling thread right
// after the failing call, as the C contract requires, so the wrappers may be used from any
// thread.
//
// Strings: std::string in, std::string out. A string holding a NUL byte cannot cross the C ABI
// and throws grazr::InvalidArgument before anything is called. Durations: std::chrono, converted
// to whole milliseconds; negative durations throw grazr::InvalidArgument; values beyond the C
// ABI's int32_t are clamped to about 24 days (never to "never kill", which is its own flag).
#ifndef GRAZR_PROC_HPP
#define GRAZR_PROC_HPP

#include <grazr_proc.h>

#include <sys/types.h>

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if __cplusplus < 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201703L)
#error "grazr_proc.hpp needs C++17"
#endif

namespace grazr {

// ---------------------------------------------------------------------------------------------
// Values

/// What grazr_status reports (the README's status table).
enum class Status : int {
    Stopped = GRAZR_STATUS_STOPPED,  ///< not running: never started, stopped, exited 0
    Running = GRAZR_STATUS_RUNNING,  ///< the main process is alive
    Error = GRAZR_STATUS_ERROR,      ///< died on its own; lasts until the next start or stop
};

/// The detail behind a Status, from grazr::info().
enum class State : int {
    Stopped = GRAZR_STATE_STOPPED,
    Starting = GRAZR_STATE_STARTING,
    Running = GRAZR_STATE_RUNNING,
    PidFilePending = GRAZR_STATE_PID_FILE_PENDING,
    Stopping = GRAZR_STATE_STOPPING,
    Exited = GRAZR_STATE_EXITED,
    Failed = GRAZR_STATE_FAILED,
    Killed = GRAZR_STATE_KILLED,
    Crashed = GRAZR_STATE_CRASHED,
    ReapedElsewhere = GRAZR_STATE_REAPED_ELSEWHERE,
};

inline const char *to_string(Status status) noexcept {
    switch (status) {
    case Status::Stopped: return "stopped";
    case Status::Running: return "running";
    case Status::Error: return "error";
    }
    return "unknown";
}

inline const char *to_string(State state) noexcept {
    switch (state) {
    case State::Stopped: return "stopped";
    case State::Starting: return "starting";
    case State::Running: return "running";
    case State::PidFilePending: return "pid-file-pending";
    case State::Stopping: return "stopping";
    case State::Exited: return "exited";
    case State::Failed: return "failed";
    case State::Killed: return "killed";
    case State::Crashed: return "crashed";
    case State::ReapedElsewhere: return "reaped-elsewhere";
    }
    return "unknown";
}

/// Options of grazr::start. Every member left alone keeps the library's default.
struct StartOptions {
    /// The pid file the service writes. Start waits up to pid_file_timeout for it to name a
    /// verified live process; without it, the id's registered pid file (if any) is used.
    std::optional<std::string> pid_file;
    /// The child's working directory; unset means the host's.
    std::optional<std::string> working_dir;
    /// Laid over the host's environment (or an empty one with clear_env): "KEY=VALUE" sets,
    /// a bare "KEY" removes.
    std::vector<std::string> env;
    /// stdout and stderr are appended here (created 0644 with its directory); unset: /dev/null.
    std::optional<std::string> log_file;
    /// Start from an empty environment instead of the host's.
    bool clear_env = false;
    /// Without a pid file: how long to watch for an early exit. Unset: 200 ms. Zero: return as
    /// soon as the exec succeeded.
    std::optional<std::chrono::milliseconds> startup_window;
    /// With a pid file: how long to wait for it. Unset or zero: 5 s.
    std::optional<std::chrono::milliseconds> pid_file_timeout;
};

/// Options of grazr::stop.
struct StopOptions {
    /// The graceful signal; 0 means the id's registered stop signal, else SIGTERM.
    int signal = 0;
    /// How long to wait before SIGKILL. Unset: the registered timeout, else 5 s. Zero: SIGKILL
    /// right after the graceful signal.
    std::optional<std::chrono::milliseconds> timeout;
    /// Never SIGKILL: at the timeout throw grazr::StopTimeout and leave the process running.
    bool never_kill = false;
    /// The pid file of a process this library does not track, to stop it under this id.
    std::optional<std::string> pid_file;
};

/// A registration for grazr::register_service.
struct ServiceSpec {
    /// An exact id ("internal-nginx") or a pattern with placeholders ("php-fpm-{version}").
    std::string id_pattern;
    /// The pid file, possibly using the pattern's placeholders.
    std::optional<std::string> pid_file_template;
    /// The executable a re-adopted process must run (full path or basename of /proc/PID/exe).
    std::optional<std::string> program;
    /// The stop signal; 0 keeps SIGTERM.
    int stop_signal = 0;
    /// The stop timeout; unset keeps 5 s. Must stay unset with never_kill.
    std::optional<std::chrono::milliseconds> stop_timeout;
    /// Never SIGKILL this service (PostgreSQL): stop waits 30 s, then throws grazr::StopTimeout.
    bool never_kill = false;
};

/// What grazr::info reports about one id. Everything is a copy owned by this object.
struct ProcessInfo {
    Status status = Status::Stopped;
    State state = State::Stopped;
    std::optional<pid_t> pid;        ///< the main PID while running
    std::optional<pid_t> pgid;       ///< its process group while running
    std::optional<pid_t> child_pid;  ///< the PID the library spawned; unset when adopted
    std::optional<int> exit_code;    ///< of the last exit, when known
    std::optional<int> term_signal;  ///< the signal that ended the last run
    std::optional<std::chrono::system_clock::time_point> start_time;
    std::optional<std::string> pid_file;
    std::optional<std::string> log_file;
    std::vector<std::string> argv;   ///< the last start's command; empty when adopted
};

// ---------------------------------------------------------------------------------------------
// Errors

/// A failed call: .code() is the negative GRAZR_ERR_* value, .what() the library's message.
class Error : public std::runtime_error {
public:
    Error(int32_t code, const std::string &message)
        : std::runtime_error(message.empty() ? std::string(grazr_result_name(code)) : message), code_(code) {}

    /// GRAZR_ERR_INVALID_ARGUMENT, GRAZR_ERR_SPAWN, ...
    int32_t code() const noexcept { return code_; }
    /// "GRAZR_ERR_SPAWN", ...
    const char *name() const noexcept { return grazr_result_name(code_); }

private:
    int32_t code_;
};

#define GRAZR_PROC_HPP_ERROR(Class, Code)                                                      \
    class Class : public Error {                                                               \
    public:                                                                                    \
        explicit Class(const std::string &message) : Error(Code, message) {}                   \
    }

/// GRAZR_ERR_INVALID_ARGUMENT: empty id, empty argv, bad signal, bad template, a NUL byte.
GRAZR_PROC_HPP_ERROR(InvalidArgument, GRAZR_ERR_INVALID_ARGUMENT);
/// GRAZR_ERR_SPAWN: the program could not be executed (missing, not executable, bad cwd).
GRAZR_PROC_HPP_ERROR(SpawnFailed, GRAZR_ERR_SPAWN);
/// GRAZR_ERR_EXITED: it started but exited during startup; the message has the log's tail.
GRAZR_PROC_HPP_ERROR(ExitedEarly, GRAZR_ERR_EXITED);
/// GRAZR_ERR_TIMEOUT: alive after SIGKILL, or at the timeout when SIGKILL is not allowed.
GRAZR_PROC_HPP_ERROR(StopTimeout, GRAZR_ERR_TIMEOUT);
/// GRAZR_ERR_PERMISSION: EPERM while signalling.
GRAZR_PROC_HPP_ERROR(PermissionDenied, GRAZR_ERR_PERMISSION);
/// GRAZR_ERR_IO: a log or pid file, or its directory, could not be created, opened or read.
GRAZR_PROC_HPP_ERROR(IoFailure, GRAZR_ERR_IO);
/// GRAZR_ERR_NOT_RUNNING: a signal for an id that does not run.
GRAZR_PROC_HPP_ERROR(NotRunning, GRAZR_ERR_NOT_RUNNING);
/// GRAZR_ERR_INTERNAL: a bug in the library; please report the message.
GRAZR_PROC_HPP_ERROR(InternalError, GRAZR_ERR_INTERNAL);

#undef GRAZR_PROC_HPP_ERROR

/// Throws the subclass of grazr::Error that matches `code`; plain grazr::Error for a code this
/// header does not know (a newer library).
[[noreturn]] inline void throw_error(int32_t code, const std::string &message) {
    switch (code) {
    case GRAZR_ERR_INVALID_ARGUMENT: throw InvalidArgument(message);
    case GRAZR_ERR_SPAWN: throw SpawnFailed(message);
    case GRAZR_ERR_EXITED: throw ExitedEarly(message);
    case GRAZR_ERR_TIMEOUT: throw StopTimeout(message);
    case GRAZR_ERR_PERMISSION: throw PermissionDenied(message);
    case GRAZR_ERR_IO: throw IoFailure(message);
    case GRAZR_ERR_NOT_RUNNING: throw NotRunning(message);
    case GRAZR_ERR_INTERNAL: throw InternalError(message);
    default: throw Error(code, message);
    }
}

namespace detail {

// The message must be read before anything else calls into the library on this thread; nothing
// between the call and this read does.
inline int32_t check(int32_t result) {
    if (result < 0) {
        throw_error(result, grazr_last_error_message());
    }
    return result;
}

inline const std::string &no_nul(const std::string &value, const char *what) {
    if (value.find('\0') != std::string::npos) {
        throw InvalidArgument(std::string(what) + " contains a NUL byte");
    }
    return value;
}

inline const char *c_str_or_null(const std::optional<std::string> &value, const char *what) {
    return value ? no_nul(*value, what).c_str() : nullptr;
}

// A NULL-terminated char * array over strings that outlive it.
class CArray {
public:
    CArray(const std::vector<std::string> &items, const char *what) {
        pointers_.reserve(items.size() + 1);
        for (const std::string &item : items) {
            pointers_.push_back(no_nul(item, what).c_str());
        }
        pointers_.push_back(nullptr);
    }
    const char *const *get() const noexcept { return pointers_.data(); }
    std::size_t size() const noexcept { return pointers_.size() - 1; }

private:
    std::vector<const char *> pointers_;
};

inline int32_t to_ms(std::chrono::milliseconds duration, const char *what) {
    if (duration.count() < 0) {
        throw InvalidArgument(std::string(what) + " is negative");
    }
    // INT32_MAX itself means "never kill" in the C ABI; a long finite wait must not become that.
    constexpr std::chrono::milliseconds::rep longest = INT32_MAX - 1;
    return static_cast<int32_t>(duration.count() > longest ? longest : duration.count());
}

inline std::optional<pid_t> pid_or_none(int32_t pid) noexcept {
    return pid > 0 ? std::optional<pid_t>(pid) : std::nullopt;
}

inline std::optional<std::string> string_or_none(const char *value) {
    return value ? std::optional<std::string>(value) : std::nullopt;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Functions: one per C function; each throws a grazr::Error subclass on a negative result.

/// The library's version, "MAJOR.MINOR.PATCH" (GRAZR_PROC_VERSION of the header it was built with).
inline std::string version() { return grazr_version(); }

/// The name of a result code: "GRAZR_OK", "GRAZR_ERR_SPAWN", ..., "GRAZR_ERR_UNKNOWN".
inline std::string result_name(int32_t code) { return grazr_result_name(code); }

/// Starts `argv` under `id` and returns once it runs; nothing is spawned when it already runs.
/// Throws InvalidArgument, SpawnFailed, ExitedEarly, IoFailure.
inline void start(const std::string &id, const std::vector<std::string> &argv, const StartOptions &options = {}) {
    detail::CArray c_argv(argv, "an argv entry");
    detail::CArray c_env(options.env, "an env entry");
    struct grazr_start_options c{};
    c.size = sizeof c;
    c.flags = options.clear_env ? GRAZR_START_CLEAR_ENV : 0;
    c.pid_file_path = detail::c_str_or_null(options.pid_file, "pid_file");
    c.working_dir = detail::c_str_or_null(options.working_dir, "working_dir");
    c.env = c_env.size() > 0 || options.clear_env ? c_env.get() : nullptr;
    c.log_file_path = detail::c_str_or_null(options.log_file, "log_file");
    c.startup_window_ms = options.startup_window ? detail::to_ms(*options.startup_window, "startup_window") : -1;
    c.pid_file_timeout_ms = options.pid_file_timeout ? detail::to_ms(*options.pid_file_timeout, "pid_file_timeout") : 0;
    detail::check(grazr_start_process_ex(detail::no_nul(id, "the id").c_str(), c_argv.get(), &c));
}

/// Stops `id`: graceful signal, wait, then SIGKILL to it and its process group. Returns once
/// everything is gone, also when it was not running. Throws StopTimeout, PermissionDenied,
/// InvalidArgument.
inline void stop(const std::string &id, const StopOptions &options = {}) {
    struct grazr_stop_options c{};
    c.size = sizeof c;
    c.flags = options.never_kill ? GRAZR_STOP_NO_KILL : 0;
    c.signal = options.signal;
    c.timeout_ms = options.timeout ? detail::to_ms(*options.timeout, "timeout") : -1;
    c.pid_file_path = detail::c_str_or_null(options.pid_file, "pid_file");
    detail::check(grazr_stop_process_ex(detail::no_nul(id, "the id").c_str(), &c));
}

/// The status of `id`; never waits for a start or stop in progress.
inline Status status(const std::string &id) {
    return static_cast<Status>(detail::check(grazr_status(detail::no_nul(id, "the id").c_str())));
}

/// The main PID of `id` while it runs (the pid file's when there is one), else nullopt.
inline std::optional<pid_t> pid(const std::string &id) {
    return detail::pid_or_none(detail::check(grazr_get_pid(detail::no_nul(id, "the id").c_str())));
}

/// Sends `signal` to the verified main process of `id` (SIGHUP to reload nginx).
/// Throws NotRunning, PermissionDenied, InvalidArgument.
inline void signal_process(const std::string &id, int signal) {
    detail::check(grazr_signal_process(detail::no_nul(id, "the id").c_str(), signal));
}

/// The verified live PID a pid file names; nullopt for a missing file, garbage, a dead or
/// foreign PID. Throws IoFailure for a file that exists but cannot be read.
inline std::optional<pid_t> read_pid_file(const std::string &path) {
    return detail::pid_or_none(detail::check(grazr_read_pid_file(detail::no_nul(path, "the path").c_str())));
}

/// True if `pid` is a live process the library would accept as a service.
inline bool pid_alive(pid_t pid) { return detail::check(grazr_pid_alive(pid)) == 1; }

/// Stops every tracked and registered service in parallel. Throws the most severe error, whose
/// message names every id that failed.
inline void stop_all() { detail::check(grazr_stop_all()); }

/// Everything known about `id`; an unknown id gives a stopped, empty ProcessInfo.
inline ProcessInfo info(const std::string &id) {
    // `struct`: the function of the same name hides the type's plain name in C++.
    grazr_info c{};
    c.size = sizeof c;
    detail::check(grazr_process_info(detail::no_nul(id, "the id").c_str(), &c));
    // The strings belong to the library until the next call on this thread: copy them first.
    ProcessInfo out;
    out.status = static_cast<Status>(c.status);
    out.state = static_cast<State>(c.state);
    out.pid = detail::pid_or_none(c.pid);
    out.pgid = detail::pid_or_none(c.pgid);
    out.child_pid = detail::pid_or_none(c.child_pid);
    if (c.exit_code >= 0) {
        out.exit_code = c.exit_code;
    }
    if (c.term_signal > 0) {
        out.term_signal = c.term_signal;
    }
    if (c.start_time_ms > 0) {
        out.start_time = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::milliseconds(c.start_time_ms)));
    }
    out.pid_file = detail::string_or_none(c.pid_file);
    out.log_file = detail::string_or_none(c.log_file);
    for (const char *const *arg = c.argv; arg && *arg; ++arg) {
        out.argv.emplace_back(*arg);
    }
    return out;
}

/// The ids that are running or ended in an error not yet cleared.
inline std::vector<std::string> list() {
    const char *const *ids = nullptr;
    const int32_t count = detail::check(grazr_list(&ids));
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(count));
    for (const char *const *id = ids; id && *id; ++id) {
        out.emplace_back(*id);
    }
    return out;
}

/// Forgets every tracked id and closes their pidfds; the processes keep running.
inline void shutdown() { detail::check(grazr_shutdown()); }

/// Registers a service's pid file and stop defaults (see ServiceSpec). Throws InvalidArgument.
inline void register_service(const ServiceSpec &spec) {
    if (spec.never_kill && spec.stop_timeout) {
        throw InvalidArgument("register_service: never_kill and stop_timeout exclude each other");
    }
    const int32_t timeout = spec.never_kill     ? GRAZR_TIMEOUT_NEVER_KILL
                            : spec.stop_timeout ? detail::to_ms(*spec.stop_timeout, "stop_timeout")
                                                : -1;
    detail::check(grazr_register_service(detail::no_nul(spec.id_pattern, "the id pattern").c_str(),
                                         detail::c_str_or_null(spec.pid_file_template, "pid_file_template"),
                                         detail::c_str_or_null(spec.program, "program"), spec.stop_signal, timeout));
}

// ---------------------------------------------------------------------------------------------
// RAII

/// A started process that is stopped when this object is destroyed, unless released.
///
/// Move-only. The destructor stops with the StopOptions given at construction and swallows any
/// error (a destructor must not throw): call stop() yourself where you need to see the error.
class Service {
public:
    /// Starts `argv` under `id` (grazr::start). Throws like grazr::start; nothing is owned then.
    Service(std::string id, const std::vector<std::string> &argv, const StartOptions &options = {},
            StopOptions stop_options = {})
        : id_(std::move(id)), stop_options_(std::move(stop_options)) {
        grazr::start(id_, argv, options);
        owned_ = true;
    }

    /// Takes charge of an id that already runs (adopted through a registered pid file, or
    /// released earlier) without starting anything.
    static Service attach(std::string id, StopOptions stop_options = {}) {
        return Service(AttachTag{}, std::move(id), std::move(stop_options));
    }

    Service(const Service &) = delete;
    Service &operator=(const Service &) = delete;

    Service(Service &&other) noexcept
        : id_(std::move(other.id_)), stop_options_(std::move(other.stop_options_)), owned_(other.owned_) {
        other.owned_ = false;
    }

    Service &operator=(Service &&other) noexcept {
        if (this != &other) {
            stop_quietly();
            id_ = std::move(other.id_);
            stop_options_ = std::move(other.stop_options_);
            owned_ = other.owned_;
            other.owned_ = false;
        }
        return *this;
    }

    ~Service() { stop_quietly(); }

    const std::string &id() const noexcept { return id_; }
    /// True while this object will stop the process when destroyed.
    bool owns() const noexcept { return owned_; }

    Status status() const { return grazr::status(id_); }
    std::optional<pid_t> pid() const { return grazr::pid(id_); }
    ProcessInfo info() const { return grazr::info(id_); }
    void signal(int sig) const { grazr::signal_process(id_, sig); }

    /// Stops now with the construction's StopOptions. Ownership ends even when this throws:
    /// the caller has seen the error and decides what comes next.
    void stop() { stop(stop_options_); }
    void stop(const StopOptions &options) {
        owned_ = false;
        grazr::stop(id_, options);
    }

    /// Lets go: the process keeps running and this object will not stop it. Returns the id.
    std::string release() noexcept {
        owned_ = false;
        return id_;
    }

private:
    struct AttachTag {};
    Service(AttachTag, std::string id, StopOptions stop_options)
        : id_(std::move(id)), stop_options_(std::move(stop_options)), owned_(true) {}

    void stop_quietly() noexcept {
        if (!owned_) {
            return;
        }
        owned_ = false;
        try {
            grazr::stop(id_, stop_options_);
        } catch (...) {
            // Nothing sensible to do with it here; see the class comment.
        }
    }

    std::string id_;
    StopOptions stop_options_;
    bool owned_ = false;
};

}  // namespace grazr

#endif  // GRAZR_PROC_HPP
