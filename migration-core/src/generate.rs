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

/// Writes `src/mNNN_<name>.rs` (NNN = one more than the newest) and registers
/// it; returns the new file's path.
pub(crate) fn generate(
    database: &Database,
    crate_dir: Option<&Path>,
    existing: &[&str],
    name: &str,
) -> Result<PathBuf, Error> {
    let crate_dir = crate_dir.unwrap_or(Path::new(database.crate_dir));
    generate_in(crate_dir, existing, name, TEMPLATE)
}

/// As [`generate`], with the file's contents given.
pub(crate) fn generate_source(
    database: &Database,
    crate_dir: Option<&Path>,
    existing: &[&str],
    name: &str,
    source: &str,
) -> Result<PathBuf, Error> {
    let crate_dir = crate_dir.unwrap_or(Path::new(database.crate_dir));
    generate_in(crate_dir, existing, name, source)
}

pub(crate) fn generate_in(
    crate_dir: &Path,
    existing: &[&str],
    name: &str,
    body: &str,
) -> Result<PathBuf, Error> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(Error::Refused(format!(
            "invalid migration name '{name}': use lowercase letters, digits and underscores, \
             e.g. add_notes_to_jobs"
        )));
    }
    let next = existing
        .iter()
        .filter_map(|n| n.strip_prefix('m')?.split('_').next()?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let module = format!("m{next:03}_{name}");
    let src = crate_dir.join("src");
    let file = src.join(format!("{module}.rs"));
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
    let registered = register(&lib_text, &module).ok_or_else(|| {
        Error::Refused(format!(
            "cannot find where to register {module} in {}: expected a `migration_core::migrator!` \
             list of `mNNN_…,` lines",
            lib.display()
        ))
    })?;
    if file.exists() {
        return Err(Error::Refused(format!("{} already exists", file.display())));
    }
    std::fs::write(&file, body).map_err(io("cannot write", &file))?;
    std::fs::write(&lib, registered).map_err(io("cannot write", &lib))?;
    Ok(file)
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
