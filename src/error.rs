//! The one error type of the safe core.
//!
//! Every message names the operation, the id and, where one is involved, the path and the OS
//! error, so that a host can show it to a user as is.

use std::io;
use std::path::Path;

/// What kind of failure an [`Error`] is; each kind has one stable C code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A NULL or empty id, an id that is not UTF-8, an empty argv, a bad signal or template.
    InvalidArgument,
    /// The program could not be executed: missing, not executable, missing working directory.
    Spawn,
    /// The process started but exited during startup.
    Exited,
    /// The process outlived the stop: still alive after SIGKILL, or after the timeout when
    /// SIGKILL is not allowed.
    Timeout,
    /// The kernel refused to let the library signal the process (EPERM).
    Permission,
    /// A log or pid file, or a directory for one, could not be created, opened or read; EMFILE.
    Io,
    /// The id is not running, so there is nothing to signal.
    NotRunning,
    /// A bug in the library (a panic caught at the C boundary).
    Internal,
}

/// An error of the library: a kind and a message that says what failed and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The kind, which decides the C result code.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The full message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    /// An I/O failure on `path`, classified by its errno: EPERM and EACCES on signals are
    /// reported elsewhere; here everything is [`ErrorKind::Io`].
    pub(crate) fn io_path(what: &str, path: &Path, err: &io::Error) -> Self {
        Self::new(ErrorKind::Io, format!("{what} {}: {err}", path.display()))
    }

    /// Prefix the message with the operation and id, e.g. `start "internal-nginx": `.
    pub(crate) fn context(mut self, op: &str, id: &str) -> Self {
        self.message = format!("{op} {id:?}: {}", self.message);
        self
    }
}
