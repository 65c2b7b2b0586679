//! # grazr_proc
//!
//! Launch, track and stop local service daemons (nginx, php-fpm, MariaDB, PostgreSQL, Redis,
//! MinIO, ...) from a desktop app, safely: every child in its own session with its output
//! appended to a log; PID files read by their first line and accepted only after an identity
//! check; signals sent only through pidfds to verified processes; children reaped by the
//! library and never by `waitpid(-1)`; stops that escalate to SIGKILL for the whole process
//! group; a parallel stop-all.
//!
//! The safe API is [`Manager`]; [`Manager::global`] is the instance behind the C ABI
//! (`include/grazr_proc.h`). See `docs/ARCHITECTURE.md` for how the modules fit together.
//!
//! ```no_run
//! use grazr_proc::{Manager, StartSpec, StopOptions, Status};
//! let m = Manager::new();
//! m.start("web", &StartSpec::new(["python3", "-m", "http.server", "--bind", "127.0.0.1", "8765"])
//!     .log_file("/tmp/web.log"))?;
//! assert_eq!(m.status("web")?, Status::Running);
//! m.stop("web", &StopOptions::default())?;
//! # Ok::<(), grazr_proc::Error>(())
//! ```

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod spec;

#[allow(unsafe_code)]
pub mod ffi;
#[allow(unsafe_code)]
mod sys;

mod manager;
mod pidfile;
mod procfs;
mod registry;
mod services;
mod spawn;
mod stop;
mod target;

pub use error::{Error, ErrorKind, Result};
pub use manager::{pid_alive, read_pid_file, Manager};
pub use spec::*;
