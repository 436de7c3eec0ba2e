//! `generate NAME`: writes the next migration file of a migrator crate and
//! registers it in the crate's `lib.rs`, after the newest one.

use std::path::{Path, PathBuf};

use crate::{Database, Error};

const TEMPLATE: &str = r#"//! TODO: say what this migration changes and why.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let _ = manager;
        Err(DbErr::Migration("the up step is not written yet".to_owned()))
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let _ = manager;
        Err(DbErr::Migration(
            "the down step (the exact inverse of up) is not written yet".to_owned(),
        ))
    }
}
"#;

/// Writes `src/mNNN_<name>.rs` (NNN = one more than the newest migration in
/// the crate's `src/`, counting its files and its `migrator!` list, not the
/// history compiled into this binary) and registers it; returns the new
/// file's path.
pub(crate) fn generate(
    database: &Database,
    crate_dir: Option<&Path>,
    name: &str,
) -> Result<PathBuf, Error> {
    let crate_dir = crate_dir.unwrap_or(Path::new(database.crate_dir));
    generate_in(crate_dir, name, TEMPLATE)
}

/// As [`generate`], with the file's contents given.
pub(crate) fn generate_source(
    database: &Database,
    crate_dir: Option<&Path>,
    name: &str,
    source: &str,
) -> Result<PathBuf, Error> {
    let crate_dir = crate_dir.unwrap_or(Path::new(database.crate_dir));
    generate_in(crate_dir, name, source)
}

pub(crate) fn generate_in(crate_dir: &Path, name: &str, body: &str) -> Result<PathBuf, Error> {
    // snake_case words: lowercase letters and digits, joined by single
    // underscores, starting with a letter (`_`, `a__b`, `_a`, `a_`, `Foo`
    // and `1a` are not).
    let invalid = |name: &str| {
        !name.starts_with(|c: char| c.is_ascii_lowercase())
            || name.split('_').any(|word| {
                word.is_empty()
                    || !word
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    };
    let refuse_invalid = || Error::InvalidMigrationName {
        name: name.to_owned(),
    };
    if invalid(name) {
        return Err(refuse_invalid());
    }
    let src = crate_dir.join("src");
    let lib = src.join("lib.rs");
    let io = |action: &'static str, path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    };
    let lib_text = std::fs::read_to_string(&lib).map_err(io("cannot read", &lib))?;
    let entries = std::fs::read_dir(&src).map_err(io("cannot read", &src))?;
    let mut newest = registered_numbers(&lib_text).max().unwrap_or(0);
    for entry in entries {
        let entry = entry.map_err(io("cannot read", &src))?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let module = file_name.strip_suffix(".rs").unwrap_or(file_name);
        if let Some((number, _)) = numbered(module) {
            newest = newest.max(number);
        }
    }
    let next = newest + 1;
    let name = match numbered(name) {
        Some((number, rest)) if number == next => rest,
        Some((number, _)) => {
            return Err(Error::MigrationNumber {
                name: name.to_owned(),
                number,
                dir: src.display().to_string(),
                next,
            });
        }
        None => name,
    };
    if invalid(name) {
        return Err(refuse_invalid());
    }
    let module = format!("m{next:03}_{name}");
    let file = src.join(format!("{module}.rs"));
    let registered = register(&lib_text, &module).ok_or_else(|| Error::Unregistrable {
        module: module.clone(),
        lib: lib.display().to_string(),
    })?;
    if file.exists() {
        return Err(Error::AlreadyExists {
            path: file.display().to_string(),
        });
    }
    std::fs::write(&file, body).map_err(io("cannot write", &file))?;
    std::fs::write(&lib, registered).map_err(io("cannot write", &lib))?;
    rustfmt(&file);
    Ok(file)
}

/// Formats a written migration with `rustfmt` when the toolchain has it, so
/// that what was assembled from text reads as `cargo fmt` would leave it
/// (without it the file stays as written, which builds all the same).
fn rustfmt(file: &Path) {
    let formatted = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .arg(file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !matches!(formatted, Ok(status) if status.success()) {
        tracing::debug!("rustfmt did not format {}", file.display());
    }
}

/// `mNNN_rest` as (NNN, rest): a migration module's number and name.
fn numbered(module: &str) -> Option<(u32, &str)> {
    let (number, rest) = module.strip_prefix('m')?.split_once('_')?;
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((number.parse().ok()?, rest))
}

/// The numbers of the `mNNN_…` modules declared in `lib.rs`.
fn registered_numbers(lib: &str) -> impl Iterator<Item = u32> + '_ {
    lib.lines().filter_map(|line| {
        let t = line.trim();
        let t = t
            .strip_prefix("pub mod ")
            .or_else(|| t.strip_prefix("mod "))
            .unwrap_or(t);
        let module = t.strip_suffix(',').or_else(|| t.strip_suffix(';'))?;
        Some(numbered(module)?.0)
    })
}

/// `lib` with `<module>,` appended to the `migrator!` list, after the newest
/// migration.
fn register(lib: &str, module: &str) -> Option<String> {
    let start = lib.find("migrator!")?;
    let is_entry = |line: &str| {
        let t = line.trim();
        t.strip_suffix(',').is_some_and(|name| {
            name.starts_with('m')
                && name.len() > 1
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
    };
    let mut offset = 0;
    let mut insert_at = None;
    let mut indent = String::new();
    for line in lib.split_inclusive('\n') {
        let end = offset + line.len();
        if offset >= start && is_entry(line) {
            insert_at = Some(end);
            indent = line.chars().take_while(|c| c.is_whitespace()).collect();
        }
        if offset >= start && line.trim() == "}" {
            break;
        }
        offset = end;
    }
    let at = insert_at?;
    let mut text = String::with_capacity(lib.len() + module.len() + 8);
    text.push_str(&lib[..at]);
    if !lib[..at].ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{indent}{module},\n"));
    text.push_str(&lib[at..]);
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::register;

    #[test]
    fn appends_to_the_migrator_list() {
        let lib = "pub const X: u8 = 1;\n\nmigration_core::migrator! {\n    /// Doc.\n    \
                   pub struct Migrator;\n    m001_a,\n    m002_b,\n}\n";
        assert_eq!(
            register(lib, "m003_c").as_deref(),
            Some(
                "pub const X: u8 = 1;\n\nmigration_core::migrator! {\n    /// Doc.\n    \
                 pub struct Migrator;\n    m001_a,\n    m002_b,\n    m003_c,\n}\n"
            )
        );
    }

    #[test]
    fn refuses_a_file_without_a_list() {
        assert_eq!(register("fn main() {}\n", "m001_a"), None);
        assert_eq!(register("migration_core::migrator! {\n}\n", "m001_a"), None);
    }
}
