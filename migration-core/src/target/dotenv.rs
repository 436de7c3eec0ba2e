//! The `.env` file of the working directory, read within bounds: a file
//! that is not one (a named pipe, a device) or is too large is refused at
//! once rather than blocking the run or filling the memory.

use crate::Error;

/// The file of variables read from the working directory.
pub(super) const DOTENV: &str = ".env";

/// The most of `.env` that is read: a URL takes a line, and a device such as
/// `/dev/zero` must not fill the memory.
const DOTENV_MAX_BYTES: u64 = 64 * 1024;

/// The variables of the `.env` file at `path`, or `None` when there is none.
/// Lines that do not parse are skipped, as before; a file that cannot be read
/// (a directory, a named pipe, a device, too large, not UTF-8, unreadable, a
/// dangling link) is an error naming it, at once.
pub(super) fn read_dotenv(path: &std::path::Path) -> Result<Option<Vec<(String, String)>>, Error> {
    use std::io::Read;
    let unreadable = |source: std::io::Error| Error::Io {
        action: "cannot read",
        path: path.display().to_string(),
        source,
    };
    // A named pipe would block the open until something writes to it, and a
    // device has no end: only a regular file is read (a directory is left
    // to fail its read, with the system's own words).
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        return Err(unreadable(std::io::Error::other(
            "not a regular file (a named pipe, socket or device)",
        )));
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && std::fs::symlink_metadata(path).is_err() =>
        {
            return Ok(None);
        }
        Err(e) => return Err(unreadable(e)),
    };
    let mut bytes = Vec::new();
    file.take(DOTENV_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    dotenv_vars(&bytes).map(Some).map_err(unreadable)
}

/// The variables of a `.env` file's `bytes` (of which at most one more than
/// [`DOTENV_MAX_BYTES`] were read); lines that do not parse are skipped.
fn dotenv_vars(bytes: &[u8]) -> Result<Vec<(String, String)>, std::io::Error> {
    if bytes.len() as u64 > DOTENV_MAX_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} KiB",
            DOTENV_MAX_BYTES / 1024
        )));
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        ));
    }
    Ok(dotenvy::from_read_iter(bytes)
        .filter_map(Result::ok)
        .collect())
}
