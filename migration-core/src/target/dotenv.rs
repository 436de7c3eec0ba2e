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

#[cfg(test)]
mod tests {
    use super::{DOTENV_MAX_BYTES, dotenv_vars};

    fn vars(text: &str) -> Result<Vec<(String, String)>, String> {
        dotenv_vars(text.as_bytes()).map_err(|e| e.to_string())
    }

    fn pairs(list: &[(&str, &str)]) -> Result<Vec<(String, String)>, String> {
        Ok(list
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect())
    }

    #[test]
    fn a_dotenv_file_gives_its_variables_in_order() {
        assert_eq!(
            vars(
                "# the databases\n\
                 SKETCH2BIM_DATABASE_URL=postgres://u:pw@h/s\n\
                 \n\
                 export DATABASE_URL='postgres://u@h/d?sslmode=require'\n\
                 QUOTED=\"a b\"\n"
            ),
            pairs(&[
                ("SKETCH2BIM_DATABASE_URL", "postgres://u:pw@h/s"),
                ("DATABASE_URL", "postgres://u@h/d?sslmode=require"),
                ("QUOTED", "a b"),
            ])
        );
        assert_eq!(vars(""), pairs(&[]));
        assert_eq!(vars("EMPTY=\n"), pairs(&[("EMPTY", "")]));
    }

    #[test]
    fn lines_that_do_not_parse_are_skipped() {
        assert_eq!(
            vars(
                "not a variable\n\
                 DATABASE_URL=postgres://h/x\n\
                 BAD KEY=1\n\
                 UNCLOSED='abc\n"
            ),
            pairs(&[("DATABASE_URL", "postgres://h/x")])
        );
    }

    #[test]
    fn a_dotenv_file_up_to_64_kib_is_read_and_a_larger_one_refused() {
        let line = "DATABASE_URL=sqlite://a.db\n";
        let mut text = line.to_owned();
        text.push_str(&"#".repeat(DOTENV_MAX_BYTES as usize - line.len()));
        assert_eq!(text.len() as u64, DOTENV_MAX_BYTES);
        assert_eq!(vars(&text), pairs(&[("DATABASE_URL", "sqlite://a.db")]));
        text.push('#');
        assert_eq!(vars(&text), Err("larger than 64 KiB".to_owned()));
    }

    #[test]
    fn a_dotenv_file_that_is_not_utf8_is_refused_naming_the_offset() {
        assert_eq!(
            dotenv_vars(b"DATABASE_URL=postgres://u:p\xffw@h/x\n")
                .map_err(|e| (e.kind(), e.to_string())),
            Err((
                std::io::ErrorKind::InvalidData,
                "not UTF-8 text (invalid byte at offset 27)".to_owned()
            ))
        );
        assert_eq!(
            dotenv_vars(b"\xc3").map_err(|e| e.to_string()),
            Err("not UTF-8 text (invalid byte at offset 0)".to_owned())
        );
    }
}
