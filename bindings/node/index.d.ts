// Types of grazr-proc, the Node binding of libgrazr_proc. See index.js and README.md.

/** What status() reports; see the status table in the repository README. */
export type Status = 'stopped' | 'running' | 'error';

/** The detail behind a Status, from info(). */
export type State =
  | 'stopped'
  | 'starting'
  | 'running'
  | 'pid-file-pending'
  | 'stopping'
  | 'exited'
  | 'failed'
  | 'killed'
  | 'crashed'
  | 'reaped-elsewhere';

/** A signal number, or a name such as 'SIGHUP' (or 'HUP'). */
export type Signal = number | string;

export interface StartOptions {
  /** The pid file the service writes; start waits for it to name a verified live process. */
  pidFile?: string | null;
  /** The child's working directory; default: the host's. */
  cwd?: string | null;
  /** Laid over the host's environment: a string sets the variable, null removes it. */
  env?: Record<string, string | null> | null;
  /** stdout and stderr are appended here (created with its directory); default /dev/null. */
  logFile?: string | null;
  /** Start from an empty environment (plus `env`) instead of the host's. */
  clearEnv?: boolean;
  /** Without a pid file: how long to watch for an early exit. Default 200; 0 = return once exec succeeded. */
  startupWindowMs?: number | null;
  /** With a pid file: how long to wait for it. Default (and 0) 5000. */
  pidFileTimeoutMs?: number | null;
}

export interface StopOptions {
  /** The graceful signal; default the id's registered stop signal, else SIGTERM. */
  signal?: Signal | null;
  /** Wait before SIGKILL; default the registered timeout, else 5000; 0 = SIGKILL at once. */
  timeoutMs?: number | null;
  /** Never SIGKILL: at the timeout fail with StopTimeout and leave the process running. */
  neverKill?: boolean;
  /** The pid file of a process this library does not track, to stop it under this id. */
  pidFile?: string | null;
}

export interface ServiceSpec {
  /** An exact id ('internal-nginx') or a pattern with placeholders ('php-fpm-{version}'). */
  idPattern: string;
  /** The pid file; may use the pattern's placeholders. */
  pidFileTemplate?: string | null;
  /** The executable a re-adopted process must run (full path or basename). */
  program?: string | null;
  /** Default SIGTERM. */
  stopSignal?: Signal | null;
  /** Default 5000. Must be left out with neverKill. */
  stopTimeoutMs?: number | null;
  /** Never SIGKILL (PostgreSQL): stop waits 30 s, then fails with StopTimeout. */
  neverKill?: boolean;
}

export interface ProcessInfo {
  status: Status;
  state: State;
  /** The main PID while running. */
  pid: number | null;
  pgid: number | null;
  /** The PID the library spawned; null when adopted. */
  childPid: number | null;
  exitCode: number | null;
  termSignal: number | null;
  startTime: Date | null;
  pidFile: string | null;
  logFile: string | null;
  /** The last start's command; empty when adopted. */
  argv: string[];
}

export type ErrorCode =
  | 'GRAZR_ERR_INVALID_ARGUMENT'
  | 'GRAZR_ERR_SPAWN'
  | 'GRAZR_ERR_EXITED'
  | 'GRAZR_ERR_TIMEOUT'
  | 'GRAZR_ERR_PERMISSION'
  | 'GRAZR_ERR_IO'
  | 'GRAZR_ERR_NOT_RUNNING'
  | 'GRAZR_ERR_INTERNAL'
  | 'GRAZR_ERR_UNKNOWN';

/** A failed call: `code` is the name, `errno` the library's negative number, `message` its text. */
export class GrazrError extends Error {
  constructor(errno: number, message: string);
  readonly code: ErrorCode;
  readonly errno: number;
}
/** GRAZR_ERR_INVALID_ARGUMENT (-1). */
export class InvalidArgument extends GrazrError {}
/** GRAZR_ERR_SPAWN (-2). */
export class SpawnFailed extends GrazrError {}
/** GRAZR_ERR_EXITED (-3); the message has the log's last lines. */
export class ExitedEarly extends GrazrError {}
/** GRAZR_ERR_TIMEOUT (-4). */
export class StopTimeout extends GrazrError {}
/** GRAZR_ERR_PERMISSION (-5). */
export class PermissionDenied extends GrazrError {}
/** GRAZR_ERR_IO (-6). */
export class IoFailure extends GrazrError {}
/** GRAZR_ERR_NOT_RUNNING (-7). */
export class NotRunning extends GrazrError {}
/** GRAZR_ERR_INTERNAL (-100): a bug in the library. */
export class InternalError extends GrazrError {}

export const CODES: Readonly<Record<'GRAZR_OK' | Exclude<ErrorCode, 'GRAZR_ERR_UNKNOWN'>, number>>;

/** The file the library was loaded from. */
export const libraryPath: string;
/** Where the library is looked for when GRAZR_PROC_LIB is not set, in order. */
export function candidatePaths(): { origin: string; file: string }[];

export function version(): string;
export function resultName(code: number): string;

/** Starts argv under id; blocks up to the startup window or pid-file timeout. */
export function start(id: string, argv: string[], options?: StartOptions): void;
/** start() on a worker thread. */
export function startAsync(id: string, argv: string[], options?: StartOptions): Promise<void>;
/** Stops id; blocks up to the timeout plus 1 s. */
export function stop(id: string, options?: StopOptions): void;
/** stop() on a worker thread. */
export function stopAsync(id: string, options?: StopOptions): Promise<void>;
export function status(id: string): Status;
export function pid(id: string): number | null;
export function signal(id: string, signal: Signal): void;
export function readPidFile(path: string): number | null;
export function pidAlive(pid: number): boolean;
/** Stops everything in parallel; blocks up to the slowest stop. */
export function stopAll(): void;
/** stopAll() on a worker thread. */
export function stopAllAsync(): Promise<void>;
export function info(id: string): ProcessInfo;
export function list(): string[];
export function shutdown(): void;
export function registerService(spec: ServiceSpec): void;
