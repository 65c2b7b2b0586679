#![forbid(unsafe_code)]
//! Waking a start that waits for a pid file: inotify on the file's directory (only events for
//! that file name count, so a log written in the same directory does not spin the loop) and
//! the child's pidfd. Without inotify, or without a pidfd while the child lives, short sleeps.
//!
//! Closing an inotify descriptor makes the kernel wait for an SRCU grace period (about 15 ms
//! measured here), so instances are not closed after each start: they go back to a small pool
//! with their watch removed (which the kernel finishes asynchronously) and serve the next start.

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

use crate::registry::lock;

/// Most idle instances kept; more concurrent starts than this close their extra instances.
const POOL_SIZE: usize = 8;

static POOL: Mutex<Vec<Inotify>> = Mutex::new(Vec::new());

/// Closes the pooled instances (grazr_shutdown).
pub(crate) fn release_pool() {
    lock(&POOL).clear();
}

fn drain(inotify: &Inotify) {
    while inotify.read_events().is_ok_and(|e| !e.is_empty()) {}
}

/// A watch on one pid file's directory, for the length of one start.
pub(crate) struct PidFileWatch {
    inotify: Option<(Inotify, WatchDescriptor)>,
    name: Option<OsString>,
    pause: Duration,
}

impl PidFileWatch {
    pub fn new(path: &Path) -> Self {
        let dir = path.parent().unwrap_or(Path::new("/"));
        let mask = AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_MODIFY
            | AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_TO;
        let pooled = lock(&POOL).pop();
        let inotify = pooled
            .or_else(|| Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK).ok())
            .and_then(|i| match i.add_watch(dir, mask) {
                Ok(wd) => Some((i, wd)),
                Err(_) => {
                    lock(&POOL).push(i);
                    None
                }
            });
        PidFileWatch {
            inotify,
            name: path.file_name().map(|n| n.to_os_string()),
            pause: Duration::from_micros(100),
        }
    }

    /// Returns when something may have changed, or at `deadline`.
    pub fn wait(&mut self, deadline: Instant, child: Option<&OwnedFd>, child_done: bool) {
        let Some((w, _)) = &self.inotify else {
            let left = deadline.saturating_duration_since(Instant::now());
            std::thread::sleep(self.pause.min(left));
            self.pause = (self.pause * 2).min(Duration::from_millis(5));
            return;
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            // Without a pidfd the child's exit wakes nobody: look again every few ms.
            let slice = if child.is_some() || child_done {
                left
            } else {
                left.min(Duration::from_millis(5))
            };
            let mut fds = vec![PollFd::new(w.as_fd(), PollFlags::POLLIN)];
            if let Some(fd) = child {
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
            }
            let ms = (slice.as_millis().min(i32::MAX as u128) as i32).max(1);
            let ready = poll(
                &mut fds,
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
            );
            let child_woke = fds
                .get(1)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty());
            let mut ours = false;
            while let Ok(events) = w.read_events() {
                if events.is_empty() {
                    break;
                }
                ours |= events
                    .iter()
                    .any(|e| e.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) || e.name == self.name);
            }
            if ours || child_woke || ready != Ok(1) || slice < left {
                return;
            }
        }
    }
}

impl Drop for PidFileWatch {
    fn drop(&mut self) {
        if let Some((inotify, wd)) = self.inotify.take() {
            let _ = inotify.rm_watch(wd);
            drain(&inotify);
            let mut pool = lock(&POOL);
            if pool.len() < POOL_SIZE {
                pool.push(inotify);
            }
        }
    }
}
