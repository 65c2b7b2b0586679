#![forbid(unsafe_code)]
//! Reading pid files: only the first line counts, it must be a plain positive decimal number,
//! and the file's last-write time comes along for the identity check.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::procfs;

/// How much of a pid file is read. A first line longer than this is not a PID.
const READ_LIMIT: u64 = 256;

/// What a pid file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PidFile {
    /// The PID on the first line, if the line is one.
    pub pid: Option<i32>,
    /// When the file was last written, in boot ticks (negative: before this boot).
    pub written_ticks: i64,
}

/// Parses the first line: optional surrounding blanks, then decimal digits only, between 1 and
/// i32::MAX. "12abc", "1_2", "+5", "-1", "0", an empty line and huge numbers are not PIDs.
pub(crate) fn parse_first_line(bytes: &[u8]) -> Option<i32> {
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.trim_ascii();
    if line.is_empty() || line.len() > 10 || !line.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value: i64 = std::str::from_utf8(line).ok()?.parse().ok()?;
    (1..=i32::MAX as i64)
        .contains(&value)
        .then_some(value as i32)
}

/// Reads the pid file at `path`. `Ok(None)` when it does not exist. Anything that is not a
/// regular file (a FIFO, a device such as /dev/zero behind a symlink) is read as
/// holding no PID, without blocking; a directory cannot be read as one (EISDIR).
pub(crate) fn read(path: &Path) -> io::Result<Option<PidFile>> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        // A component that is not a directory, or a name too long to exist: no such file.
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ENAMETOOLONG)) => {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    let written_ticks = procfs::file_time_to_boot_ticks(meta.modified()?);
    if !meta.file_type().is_file() {
        return Ok(Some(PidFile {
            pid: None,
            written_ticks,
        }));
    }
    let pid = parse_first_line(&read_head(file)?);
    Ok(Some(PidFile { pid, written_ticks }))
}

fn read_head(file: File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(READ_LIMIT as usize);
    file.take(READ_LIMIT).read_to_end(&mut head)?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::parse_first_line as p;

    #[test]
    fn only_a_plain_positive_number_on_the_first_line_is_a_pid() {
        assert_eq!(p(b"123\n"), Some(123));
        assert_eq!(p(b"123"), Some(123));
        assert_eq!(p(b"  123 \t\n"), Some(123));
        assert_eq!(
            p(b"1922\n/var/lib/pg\n1700000000\n5432\n/tmp\n*\n  1 2\nready\n"),
            Some(1922)
        );
        for bad in [
            &b"abc"[..],
            b"-1",
            b"0",
            b"",
            b"\n12",
            b"12abc",
            b"1_2",
            b"+5",
            b"99999999999",
            b"2147483648",
            b"\x00\x00",
        ] {
            assert_eq!(p(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(p(b"2147483647"), Some(i32::MAX));
    }
}
