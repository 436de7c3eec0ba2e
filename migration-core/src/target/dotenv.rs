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
/// A file that cannot be read (a directory, a named pipe, a device, too
/// large, not UTF-8, unreadable, a dangling link) or holds a line that does
/// not parse is an error naming it, at once.
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
/// [`DOTENV_MAX_BYTES`] were read). A UTF-8 byte-order mark is skipped;
/// UTF-16 text, a line that does not parse and a quote left open are errors
/// naming the line, so a variable is never silently missed.
///
/// Hand-written around `dotenvy`, which parses the lines: it reads without
/// a bound, takes UTF-16 for garbage and gives no line numbers.
fn dotenv_vars(bytes: &[u8]) -> Result<Vec<(String, String)>, std::io::Error> {
    let invalid = |line: usize, why: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("line {line}: {why}"),
        )
    };
    if bytes.len() as u64 > DOTENV_MAX_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} KiB",
            DOTENV_MAX_BYTES / 1024
        )));
    }
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(invalid(1, "UTF-16 text; save it as UTF-8"));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Some(nul) = bytes.iter().position(|b| *b == 0) {
        let line = line_of(bytes, nul);
        return Err(invalid(
            line,
            "a NUL byte (UTF-16 text?); save it as UTF-8 text",
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            ));
        }
    };
    let mut vars = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(pair) => vars.push(pair),
            Err(dotenvy::Error::LineParse(line, _)) => {
                let number = line_starting(text, &line);
                // The parser reads on to the end of the file looking for
                // the closing quote.
                let open_quote = line.contains('\n')
                    || line.matches('\'').count() % 2 == 1
                    || line.matches('"').count() % 2 == 1;
                let why = if open_quote {
                    "a quote is not closed"
                } else {
                    "not a VARIABLE=value line"
                };
                return Err(invalid(number, why));
            }
            Err(e) => return Err(invalid(1, &e.to_string())),
        }
    }
    Ok(vars)
}

/// The 1-based line of `bytes` holding the byte at `offset`.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|b| **b == b'\n').count() + 1
}

/// The 1-based line of `text` where `chunk` (one line or more, as the
/// parser gave it back) starts: `dotenvy`'s error has the text, not the line.
fn line_starting(text: &str, chunk: &str) -> usize {
    let first = chunk.lines().next().unwrap_or_default();
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if text[offset..].starts_with(chunk) || line.trim_end_matches(['\n', '\r']) == first {
            return index + 1;
        }
        offset += line.len();
    }
    1
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
    fn a_line_that_does_not_parse_is_refused_naming_it() {
        assert_eq!(
            vars("# urls\nnot a variable\nDATABASE_URL=postgres://h/x\n"),
            Err("line 2: not a VARIABLE=value line".to_owned())
        );
        assert_eq!(
            vars("DATABASE_URL=postgres://h/x\nBAD KEY=1\n"),
            Err("line 2: not a VARIABLE=value line".to_owned())
        );
        assert_eq!(
            vars("A=1\n\nDATABASE_URL='postgres://h/x\nB=2\n"),
            Err("line 3: a quote is not closed".to_owned())
        );
        assert_eq!(
            vars("DATABASE_URL=\"postgres://h/x"),
            Err("line 1: a quote is not closed".to_owned())
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_utf16_refused() {
        assert_eq!(
            dotenv_vars(b"\xef\xbb\xbfDATABASE_URL=postgres://h/x\n").map_err(|e| e.to_string()),
            pairs(&[("DATABASE_URL", "postgres://h/x")])
        );
        let utf16le: Vec<u8> = "DATABASE_URL=postgres://h/x\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(
            dotenv_vars(&utf16le).map_err(|e| e.to_string()),
            Err("line 1: a NUL byte (UTF-16 text?); save it as UTF-8 text".to_owned())
        );
        let mut with_bom = vec![0xff, 0xfe];
        with_bom.extend_from_slice(&utf16le);
        assert_eq!(
            dotenv_vars(&with_bom).map_err(|e| e.to_string()),
            Err("line 1: UTF-16 text; save it as UTF-8".to_owned())
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
