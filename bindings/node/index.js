'use strict';
/**
 * grazr-proc: launch, track and stop local service daemons safely. A Node binding of
 * libgrazr_proc over koffi.
 *
 * Every function has a synchronous form. The calls that can block (a start, which waits for a
 * pid file or a startup window; a stop, which waits up to its timeout; stopAll) also have a
 * Promise form (startAsync, stopAsync, stopAllAsync) that runs the C call on a worker thread, so
 * the event loop stays free.
 *
 * Failures throw (or reject with) a GrazrError subclass. Like Node's own system errors, `code`
 * is the name ('GRAZR_ERR_SPAWN') and `errno` the library's negative number (-2); `message` is
 * the library's text (what failed, for which id, which path, the OS error).
 *
 * The library keeps its last error message per thread. A synchronous call reads it on the main
 * thread right after the call; an asynchronous call passes a buffer in the options struct (or to
 * grazr_stop_all_ex) that the worker thread's call fills, because the main thread's message
 * would be another call's.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const koffi = require('koffi');

const LIBRARY_NAME = 'libgrazr_proc.so';

// ---------------------------------------------------------------------------------------------
// Errors

const CODES = Object.freeze({
  GRAZR_OK: 0,
  GRAZR_ERR_INVALID_ARGUMENT: -1,
  GRAZR_ERR_SPAWN: -2,
  GRAZR_ERR_EXITED: -3,
  GRAZR_ERR_TIMEOUT: -4,
  GRAZR_ERR_PERMISSION: -5,
  GRAZR_ERR_IO: -6,
  GRAZR_ERR_NOT_RUNNING: -7,
  GRAZR_ERR_INTERNAL: -100,
});

const NAMES_BY_ERRNO = new Map(Object.entries(CODES).map(([name, value]) => [value, name]));

/** A call into libgrazr_proc failed. */
class GrazrError extends Error {
  /**
   * @param {number} errno the library's negative GRAZR_ERR_* value
   * @param {string} message the library's message
   */
  constructor(errno, message) {
    const code = NAMES_BY_ERRNO.get(errno) || 'GRAZR_ERR_UNKNOWN';
    super(message || code);
    this.name = new.target.name;
    this.code = code;
    this.errno = errno;
  }
}

/** GRAZR_ERR_INVALID_ARGUMENT: empty id, empty argv, bad signal, bad template, a NUL byte. */
class InvalidArgument extends GrazrError {}
/** GRAZR_ERR_SPAWN: the program could not be executed (missing, not executable, bad cwd). */
class SpawnFailed extends GrazrError {}
/** GRAZR_ERR_EXITED: it started but exited during startup; the message has the log's tail. */
class ExitedEarly extends GrazrError {}
/** GRAZR_ERR_TIMEOUT: alive after SIGKILL, or at the timeout when SIGKILL is not allowed. */
class StopTimeout extends GrazrError {}
/** GRAZR_ERR_PERMISSION: EPERM while signalling. */
class PermissionDenied extends GrazrError {}
/** GRAZR_ERR_IO: a log or pid file, or its directory, could not be created, opened or read. */
class IoFailure extends GrazrError {}
/** GRAZR_ERR_NOT_RUNNING: a signal for an id that does not run. */
class NotRunning extends GrazrError {}
/** GRAZR_ERR_INTERNAL: a bug in the library; please report the message. */
class InternalError extends GrazrError {}

const CLASS_BY_ERRNO = new Map([
  [CODES.GRAZR_ERR_INVALID_ARGUMENT, InvalidArgument],
  [CODES.GRAZR_ERR_SPAWN, SpawnFailed],
  [CODES.GRAZR_ERR_EXITED, ExitedEarly],
  [CODES.GRAZR_ERR_TIMEOUT, StopTimeout],
  [CODES.GRAZR_ERR_PERMISSION, PermissionDenied],
  [CODES.GRAZR_ERR_IO, IoFailure],
  [CODES.GRAZR_ERR_NOT_RUNNING, NotRunning],
  [CODES.GRAZR_ERR_INTERNAL, InternalError],
]);

/** The GrazrError subclass for a negative result, or GrazrError for a code it does not know. */
function errorFor(errno, message) {
  const Class = CLASS_BY_ERRNO.get(errno) || GrazrError;
  return new Class(errno, message);
}

// ---------------------------------------------------------------------------------------------
// Finding and loading the library

/** Where the library may be, in the order tried after GRAZR_PROC_LIB, with where each came from. */
function candidatePaths() {
  return [
    { origin: 'inside the package', file: path.join(__dirname, LIBRARY_NAME) },
    // bindings/node -> the repository root, when running from a checkout.
    { origin: "the repository's target/release", file: path.resolve(__dirname, '..', '..', 'target', 'release', LIBRARY_NAME) },
  ];
}

function loadLibrary() {
  const explicit = process.env.GRAZR_PROC_LIB;
  if (explicit) {
    // An explicit choice is never replaced by another copy: a test run that names the library
    // it just built must not pass against a stale one.
    try {
      return { lib: koffi.load(explicit), file: explicit };
    } catch (err) {
      throw new Error(`grazr-proc: cannot load GRAZR_PROC_LIB=${explicit}: ${err.message}`);
    }
  }
  const tried = ['GRAZR_PROC_LIB (not set)'];
  for (const { origin, file } of candidatePaths()) {
    if (!fs.existsSync(file)) {
      tried.push(`${file} (${origin}: not found)`);
      continue;
    }
    try {
      return { lib: koffi.load(file), file };
    } catch (err) {
      tried.push(`${file} (${origin}: ${err.message})`);
    }
  }
  throw new Error(
    `grazr-proc: cannot find ${LIBRARY_NAME}; tried: ${tried.join('; ')}. ` +
      'Build it with `cargo build --release` or set GRAZR_PROC_LIB.'
  );
}

const { lib, file: libraryPath } = loadLibrary();

// The C structs, field for field as in grazr_proc.h.
const StartOptionsC = koffi.struct('grazr_start_options', {
  size: 'uint32_t',
  flags: 'uint32_t',
  pid_file_path: 'const char *',
  working_dir: 'const char *',
  env: 'const char **',
  log_file_path: 'const char *',
  startup_window_ms: 'int32_t',
  pid_file_timeout_ms: 'int32_t',
  error_message: 'void *',
  error_message_size: 'size_t',
});

const StopOptionsC = koffi.struct('grazr_stop_options', {
  size: 'uint32_t',
  flags: 'uint32_t',
  signal: 'int32_t',
  timeout_ms: 'int32_t',
  pid_file_path: 'const char *',
  error_message: 'void *',
  error_message_size: 'size_t',
});

const ProcessInfoC = koffi.struct('grazr_info', {
  size: 'uint32_t',
  status: 'int32_t',
  state: 'int32_t',
  pid: 'int32_t',
  pgid: 'int32_t',
  child_pid: 'int32_t',
  exit_code: 'int32_t',
  term_signal: 'int32_t',
  start_time_ms: 'int64_t',
  pid_file: 'const char *',
  log_file: 'const char *',
  argv: 'void *', // NULL-terminated const char *const *, walked by hand
});

const c = {
  lastErrorMessage: lib.func('const char *grazr_last_error_message(void)'),
  resultName: lib.func('const char *grazr_result_name(int32_t code)'),
  version: lib.func('const char *grazr_version(void)'),
  startEx: lib.func('int32_t grazr_start_process_ex(const char *id, const char **argv, const grazr_start_options *options)'),
  stopEx: lib.func('int32_t grazr_stop_process_ex(const char *id, const grazr_stop_options *options)'),
  status: lib.func('int32_t grazr_status(const char *id)'),
  getPid: lib.func('int32_t grazr_get_pid(const char *id)'),
  signal: lib.func('int32_t grazr_signal_process(const char *id, int32_t signal)'),
  readPidFile: lib.func('int32_t grazr_read_pid_file(const char *path)'),
  pidAlive: lib.func('int32_t grazr_pid_alive(int32_t pid)'),
  stopAll: lib.func('int32_t grazr_stop_all(void)'),
  stopAllEx: lib.func('int32_t grazr_stop_all_ex(void *error_message, size_t error_message_size)'),
  processInfo: lib.func('int32_t grazr_process_info(const char *id, _Inout_ grazr_info *info)'),
  list: lib.func('int32_t grazr_list(_Out_ void **ids)'),
  shutdown: lib.func('int32_t grazr_shutdown(void)'),
  registerService: lib.func(
    'int32_t grazr_register_service(const char *pattern, const char *pid_file_template, const char *program, int32_t stop_signal, int32_t stop_timeout_ms)'
  ),
};

const START_CLEAR_ENV = 1;
const STOP_NO_KILL = 1;
const TIMEOUT_NEVER_KILL = 2147483647;
const ERROR_BUFFER_SIZE = 4096;
const POINTER_SIZE = koffi.sizeof('void *');

const STATUS_NAMES = ['stopped', 'running', 'error'];
const STATE_NAMES = [
  'stopped',
  'starting',
  'running',
  'pid-file-pending',
  'stopping',
  'exited',
  'failed',
  'killed',
  'crashed',
  'reaped-elsewhere',
];

// ---------------------------------------------------------------------------------------------
// Argument conversion: wrong types are TypeErrors (a bug in the caller); values the library
// cannot take are InvalidArgument, as the library itself would say.

function invalid(message) {
  return new InvalidArgument(CODES.GRAZR_ERR_INVALID_ARGUMENT, message);
}

function cString(value, what) {
  if (typeof value !== 'string') {
    throw new TypeError(`grazr-proc: ${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.includes('\0')) {
    // koffi would cut the string at the NUL and the library would act on a different value.
    throw invalid(`${what} contains a NUL byte`);
  }
  return value;
}

function optionalString(value, what) {
  return value === undefined || value === null ? null : cString(value, what);
}

function stringArray(values, what) {
  if (!Array.isArray(values)) {
    throw new TypeError(`grazr-proc: ${what} must be an array of strings`);
  }
  return [...values.map((v, i) => cString(v, `${what}[${i}]`)), null];
}

/** { KEY: 'value' } sets KEY, { KEY: null } removes it from the child's environment. */
function envEntries(env) {
  if (env === undefined || env === null) {
    return null;
  }
  if (typeof env !== 'object' || Array.isArray(env)) {
    throw new TypeError('grazr-proc: env must be an object of KEY: value (or null to remove KEY)');
  }
  const entries = [];
  for (const [key, value] of Object.entries(env)) {
    cString(key, 'an env key');
    if (key === '' || key.includes('=')) {
      throw invalid(`env key ${JSON.stringify(key)} is empty or holds '='`);
    }
    if (value === null || value === undefined) {
      entries.push(key);
    } else {
      entries.push(`${key}=${cString(String(value), `env value of ${key}`)}`);
    }
  }
  entries.push(null);
  return entries;
}

/** Milliseconds as the C ABI's int32_t; undefined/null gives `fallback`. */
function millis(value, what, fallback) {
  if (value === undefined || value === null) {
    return fallback;
  }
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`grazr-proc: ${what} must be a number of milliseconds`);
  }
  if (value < 0) {
    throw invalid(`${what} is negative`);
  }
  // INT32_MAX itself means "never kill"; a long finite wait must not turn into that.
  return Math.min(Math.round(value), TIMEOUT_NEVER_KILL - 1);
}

/** A signal number, or a name such as 'SIGHUP' / 'HUP'; undefined/null gives 0 (the default). */
function signalNumber(value, what) {
  if (value === undefined || value === null) {
    return 0;
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    return value;
  }
  if (typeof value === 'string') {
    const name = value.startsWith('SIG') ? value : `SIG${value}`;
    const number = os.constants.signals[name];
    if (number === undefined) {
      throw invalid(`${what} ${JSON.stringify(value)} is not a signal name`);
    }
    return number;
  }
  throw new TypeError(`grazr-proc: ${what} must be a signal number or name`);
}

function check(result) {
  if (result < 0) {
    // Nothing else has called into the library on this thread since the failing call.
    throw errorFor(result, c.lastErrorMessage());
  }
  return result;
}

function pidOrNull(pid) {
  return pid > 0 ? pid : null;
}

function decodeStringArray(pointer) {
  const out = [];
  if (pointer === null) {
    return out;
  }
  for (let i = 0; ; i++) {
    const value = koffi.decode(pointer, i * POINTER_SIZE, 'const char *');
    if (value === null) {
      return out;
    }
    out.push(value);
  }
}

function startStruct(options) {
  const o = options || {};
  return {
    size: koffi.sizeof(StartOptionsC),
    flags: o.clearEnv ? START_CLEAR_ENV : 0,
    pid_file_path: optionalString(o.pidFile, 'pidFile'),
    working_dir: optionalString(o.cwd, 'cwd'),
    env: envEntries(o.env) || (o.clearEnv ? [null] : null),
    log_file_path: optionalString(o.logFile, 'logFile'),
    startup_window_ms: millis(o.startupWindowMs, 'startupWindowMs', -1),
    pid_file_timeout_ms: millis(o.pidFileTimeoutMs, 'pidFileTimeoutMs', 0),
    error_message: null,
    error_message_size: 0,
  };
}

function stopStruct(options) {
  const o = options || {};
  return {
    size: koffi.sizeof(StopOptionsC),
    flags: o.neverKill ? STOP_NO_KILL : 0,
    signal: signalNumber(o.signal, 'signal'),
    timeout_ms: millis(o.timeoutMs, 'timeoutMs', -1),
    pid_file_path: optionalString(o.pidFile, 'pidFile'),
    error_message: null,
    error_message_size: 0,
  };
}

/**
 * Runs `fn.async(...args, buffer)` on a worker thread with a fresh error-message buffer that
 * `attach` places into the arguments; resolves with the result or rejects with the error whose
 * message the worker's call wrote into the buffer.
 */
function callAsync(fn, attach) {
  return new Promise((resolve, reject) => {
    const buffer = koffi.alloc('char', ERROR_BUFFER_SIZE);
    let args;
    try {
      args = attach(buffer, ERROR_BUFFER_SIZE);
    } catch (err) {
      koffi.free(buffer);
      reject(err);
      return;
    }
    const done = (err, result) => {
      try {
        if (err) {
          reject(err);
        } else if (result < 0) {
          reject(errorFor(result, koffi.decode(buffer, 'char', -1)));
        } else {
          resolve(result);
        }
      } finally {
        koffi.free(buffer);
      }
    };
    try {
      fn.async(...args, done);
    } catch (err) {
      koffi.free(buffer);
      reject(err);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The API

/** The library's version, "MAJOR.MINOR.PATCH". */
function version() {
  return c.version();
}

/** The name of a result code: 'GRAZR_OK', 'GRAZR_ERR_SPAWN', ..., 'GRAZR_ERR_UNKNOWN'. */
function resultName(code) {
  return c.resultName(code);
}

/**
 * Starts `argv` under `id` and returns once it runs (nothing is spawned when it already runs).
 * Blocks for up to the startup window or the pid-file timeout: prefer startAsync in a server.
 */
function start(id, argv, options) {
  check(c.startEx(cString(id, 'id'), stringArray(argv, 'argv'), startStruct(options)));
}

/** start on a worker thread; resolves once it runs, rejects with a GrazrError. */
function startAsync(id, argv, options) {
  return callAsync(c.startEx, (buffer, size) => [
    cString(id, 'id'),
    stringArray(argv, 'argv'),
    { ...startStruct(options), error_message: buffer, error_message_size: size },
  ]).then(() => undefined);
}

/** Stops `id` (graceful signal, wait, SIGKILL to it and its group); fine when it does not run. */
function stop(id, options) {
  check(c.stopEx(cString(id, 'id'), stopStruct(options)));
}

/** stop on a worker thread; resolves once everything is gone, rejects with a GrazrError. */
function stopAsync(id, options) {
  return callAsync(c.stopEx, (buffer, size) => [
    cString(id, 'id'),
    { ...stopStruct(options), error_message: buffer, error_message_size: size },
  ]).then(() => undefined);
}

/** 'stopped', 'running' or 'error'; never waits for a start or stop in progress. */
function status(id) {
  return STATUS_NAMES[check(c.status(cString(id, 'id')))];
}

/** The main PID while running, else null. */
function pid(id) {
  return pidOrNull(check(c.getPid(cString(id, 'id'))));
}

/** Sends a signal (number or name, e.g. 'SIGHUP') to the verified main process of `id`. */
function signal(id, sig) {
  const number = signalNumber(sig, 'signal');
  check(c.signal(cString(id, 'id'), number));
}

/** The verified live PID a pid file names, else null. */
function readPidFile(file) {
  return pidOrNull(check(c.readPidFile(cString(file, 'path'))));
}

/** True if `pid` is a live process the library would accept as a service. */
function pidAlive(processId) {
  if (!Number.isInteger(processId)) {
    throw new TypeError('grazr-proc: pid must be an integer');
  }
  if (processId < -2147483648 || processId > 2147483647) {
    return false;
  }
  return check(c.pidAlive(processId)) === 1;
}

/** Stops every tracked and registered service in parallel. Blocks: prefer stopAllAsync. */
function stopAll() {
  check(c.stopAll());
}

/** stopAll on a worker thread; rejects with the most severe error, naming every failed id. */
function stopAllAsync() {
  return callAsync(c.stopAllEx, (buffer, size) => [buffer, size]).then(() => undefined);
}

/** Everything known about `id`; an unknown id reads as stopped with nulls. */
function info(id) {
  const raw = { size: koffi.sizeof(ProcessInfoC) };
  check(c.processInfo(cString(id, 'id'), raw));
  const startMs = Number(raw.start_time_ms);
  return {
    status: STATUS_NAMES[raw.status] || 'error',
    state: STATE_NAMES[raw.state] || 'unknown',
    pid: pidOrNull(raw.pid),
    pgid: pidOrNull(raw.pgid),
    childPid: pidOrNull(raw.child_pid),
    exitCode: raw.exit_code >= 0 ? raw.exit_code : null,
    termSignal: raw.term_signal > 0 ? raw.term_signal : null,
    startTime: startMs > 0 ? new Date(startMs) : null,
    pidFile: raw.pid_file,
    logFile: raw.log_file,
    // Copied before any other call: the library owns the array until the next call.
    argv: decodeStringArray(raw.argv),
  };
}

/** The ids that are running, or ended in an error not yet cleared. */
function list() {
  const out = [null];
  check(c.list(out));
  return decodeStringArray(out[0]);
}

/** Forgets every tracked id and closes the library's descriptors; processes keep running. */
function shutdown() {
  check(c.shutdown());
}

/**
 * Registers a service: its pid file (a template may use the pattern's placeholders), the program
 * a re-adopted process must run, its stop signal and timeout (or neverKill).
 */
function registerService(spec) {
  if (spec === null || typeof spec !== 'object') {
    throw new TypeError('grazr-proc: registerService takes an object');
  }
  if (spec.neverKill && spec.stopTimeoutMs !== undefined && spec.stopTimeoutMs !== null) {
    throw invalid('registerService: neverKill and stopTimeoutMs exclude each other');
  }
  check(
    c.registerService(
      cString(spec.idPattern, 'idPattern'),
      optionalString(spec.pidFileTemplate, 'pidFileTemplate'),
      optionalString(spec.program, 'program'),
      signalNumber(spec.stopSignal, 'stopSignal'),
      spec.neverKill ? TIMEOUT_NEVER_KILL : millis(spec.stopTimeoutMs, 'stopTimeoutMs', -1)
    )
  );
}

module.exports = {
  version,
  resultName,
  start,
  startAsync,
  stop,
  stopAsync,
  status,
  pid,
  signal,
  readPidFile,
  pidAlive,
  stopAll,
  stopAllAsync,
  info,
  list,
  shutdown,
  registerService,
  candidatePaths,
  libraryPath,
  CODES,
  GrazrError,
  InvalidArgument,
  SpawnFailed,
  ExitedEarly,
  StopTimeout,
  PermissionDenied,
  IoFailure,
  NotRunning,
  InternalError,
};
