//! The earlier Alembic migrator's schema at every revision, as `pg_dump -s`
//! showed it after the migrator itself ran on PostgreSQL
//! (`fixtures/alembic/<database>/up/NNN.sql`), and after each of its down
//! steps (`.../down/NNN.sql`, the state downgrading revision NNN left); see
//! `fixtures/alembic/README.md` for how they were produced. They are the
//! reference every migration is compared with, and the way tests build
//! databases "as production has them" for adoption.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::path::PathBuf;
use std::process::Command;

/// Tables that record migration state, not schema: left out of every
/// comparison.
pub const BOOKKEEPING: &[&str] = &["seaql_migrations", "alembic_version"];

/// One Alembic revision: its id and the raw `pg_dump` output at it (`up`) and
/// after its down step (`down`).
#[derive(Debug, Clone, Copy)]
pub struct Revision {
    pub id: &'static str,
    pub up: &'static str,
    pub down: &'static str,
}

macro_rules! revision {
    ($database:literal, $id:literal) => {
        Revision {
            id: $id,
            up: include_str!(concat!(
                "../fixtures/alembic/",
                $database,
                "/up/",
                $id,
                ".sql"
            )),
            down: include_str!(concat!(
                "../fixtures/alembic/",
                $database,
                "/down/",
                $id,
                ".sql"
            )),
        }
    };
}

const SKETCH2BIM: &[Revision] = &[
    revision!("sketch2bim", "001"),
    revision!("sketch2bim", "002"),
    revision!("sketch2bim", "003"),
    revision!("sketch2bim", "004"),
    revision!("sketch2bim", "005"),
    revision!("sketch2bim", "006"),
    revision!("sketch2bim", "007"),
    revision!("sketch2bim", "008"),
    revision!("sketch2bim", "009"),
    revision!("sketch2bim", "010"),
];

const ASK: &[Revision] = &[revision!("ask", "001")];

/// Down steps of ours that deliberately do not return to the previous
/// revision's exact dump, with the fixture they match instead and why. Every
/// other down step must give back the previous revision's `up` dump, text for
/// text.
pub const DOWN_LIKE_ALEMBIC: &[(&str, &str, &str)] = &[(
    "sketch2bim",
    "010",
    "re-adds jobs.reader_type at the end of the table, as Alembic's own down step does; \
     putting it back in its old place would mean rebuilding jobs",
)];

/// The revisions of `database` ("ask" or "sketch2bim"), oldest first.
pub fn revisions(database: &str) -> &'static [Revision] {
    match database {
        "ask" => ASK,
        "sketch2bim" => SKETCH2BIM,
        other => panic!("no Alembic history for database {other:?}"),
    }
}

/// The normalized dump our down step of `revision` (1-based) must leave, and
/// the fixture it comes from.
pub fn expected_after_down(database: &str, revision: usize) -> (String, String) {
    let all = revisions(database);
    let id = all[revision - 1].id;
    if DOWN_LIKE_ALEMBIC
        .iter()
        .any(|(db, rev, _)| *db == database && *rev == id)
    {
        return (
            format!("{database}/down/{id}.sql"),
            normalize(all[revision - 1].down),
        );
    }
    match revision {
        1 => ("the empty database".to_owned(), String::new()),
        n => (
            format!("{database}/up/{}.sql", all[n - 2].id),
            normalize(all[n - 2].up),
        ),
    }
}

/// One `pg_dump` entry: the `-- Name: …; Type: …` header it starts with (empty
/// for the preamble) and its lines, header included.
struct Entry<'a> {
    name: &'a str,
    lines: Vec<&'a str>,
}

fn entries(dump: &str) -> Vec<Entry<'_>> {
    let mut out = vec![Entry {
        name: "",
        lines: Vec::new(),
    }];
    let lines: Vec<&str> = dump.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        // An entry starts at the `--` line right above its `-- Name:` line.
        let starts = *line == "--"
            && lines.get(i + 1).is_some_and(|next| {
                next.starts_with("-- Name: ")
                    || next.starts_with("-- PostgreSQL database dump complete")
            });
        if starts {
            let name = lines
                .get(i + 1)
                .and_then(|next| next.strip_prefix("-- Name: "))
                .map(|rest| rest.split(';').next().unwrap_or(""))
                .unwrap_or("");
            out.push(Entry {
                name,
                lines: Vec::new(),
            });
        }
        if let Some(entry) = out.last_mut() {
            entry.lines.push(line);
        }
    }
    out
}

/// Whether `text` names `public.<table>` (not a longer identifier).
fn mentions(text: &str, table: &str) -> bool {
    let needle = format!("public.{table}");
    text.match_indices(&needle).any(|(at, _)| {
        !text[at + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The SQL of a `pg_dump` without the entries of the tables in `leave_out`,
/// without comments, psql meta-commands (`\restrict`, `\unrestrict`) and the
/// session settings (`SET …`, `set_config`), blank lines collapsed: what two
/// dumps are compared by, and what runs to recreate a dump's schema.
pub fn strip(dump: &str, leave_out: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for entry in entries(dump) {
        let table = entry.name.split_whitespace().next().unwrap_or("");
        let body = entry.lines.join("\n");
        if leave_out.iter().any(|t| *t == table || mentions(&body, t)) {
            continue;
        }
        for line in entry.lines {
            let noise = line.starts_with("--")
                || line.starts_with('\\')
                || line.starts_with("SET ")
                || line.starts_with("SELECT pg_catalog.set_config(");
            if noise || (line.trim().is_empty() && out.last().is_none_or(|l| l.is_empty())) {
                continue;
            }
            out.push(if line.trim().is_empty() { "" } else { line });
        }
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

/// A dump as compared: [`strip`] with the bookkeeping tables left out.
pub fn normalize(dump: &str) -> String {
    strip(dump, BOOKKEEPING)
}

/// The `pg_dump` to use: the one beside the throwaway cluster's server when
/// the tests run one, else the one on `PATH`.
pub fn pg_dump_program() -> PathBuf {
    let on_path = PathBuf::from("pg_dump");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty()) {
        return on_path;
    }
    server_bin_dir()
        .map(|dir| dir.join("pg_dump"))
        .filter(|p| p.is_file())
        .unwrap_or(on_path)
}

/// The directory the throwaway cluster's `initdb` and `postgres` come from:
/// the first on `PATH`, else the newest under `/usr/lib/postgresql`.
fn server_bin_dir() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("postgres").is_file() {
                return Some(
                    std::fs::canonicalize(dir.join("initdb"))
                        .ok()?
                        .parent()?
                        .to_path_buf(),
                );
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// `pg_dump --schema-only --no-owner --no-privileges` of the database at
/// `url`, raw.
pub fn pg_dump(url: &str) -> String {
    let program = pg_dump_program();
    let output = Command::new(&program)
        .args(["--schema-only", "--no-owner", "--no-privileges", "-d", url])
        .output();
    match output {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!(
            "{} failed: {}",
            program.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run {}: {e} (install PostgreSQL's client programs)",
            program.display()
        ),
    }
}

/// Fails with a unified diff when `actual` (normalized) differs from the
/// normalized fixture `expected`.
pub fn assert_same_dump(expected: &str, expected_name: &str, actual: &str, context: &str) {
    if expected == actual {
        return;
    }
    let diff = crate::diff::unified(expected, expected_name, actual, "migrated database");
    panic!("{context}: pg_dump differs from {expected_name}:\n{diff}");
}

async fn run(db: &DatabaseConnection, sql: &str, what: &str) {
    if let Err(e) = db.execute_unprepared(sql).await {
        panic!("{what} failed: {e}");
    }
}

/// Builds `database`'s schema as Alembic left it at `revision` (1-based),
/// without Alembic's bookkeeping table.
pub async fn build_schema_only(db: &DatabaseConnection, database: &str, revision: usize) {
    let r = revisions(database)[revision - 1];
    run(
        db,
        &strip(r.up, &["alembic_version"]),
        &format!("loading Alembic's {database} schema at {}", r.id),
    )
    .await;
}

/// Builds `database` as the Alembic migrator left it at `revision`
/// (1-based): the schema plus `alembic_version` holding the revision id.
pub async fn build(db: &DatabaseConnection, database: &str, revision: usize) {
    let r = revisions(database)[revision - 1];
    run(
        db,
        &strip(r.up, &[]),
        &format!("loading Alembic's {database} schema at {}", r.id),
    )
    .await;
    run(
        db,
        &format!(
            "INSERT INTO alembic_version (version_num) VALUES ('{}')",
            r.id
        ),
        "writing alembic_version",
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_leaves_out_bookkeeping_and_noise() {
        let dump = revisions("sketch2bim")[0].up;
        let text = normalize(dump);
        assert!(!text.contains("alembic_version"), "{text}");
        assert!(!text.contains("restrict"), "{text}");
        assert!(!text.contains("--"), "{text}");
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("SET ") || l.contains("set_config")),
            "{text}"
        );
        assert!(text.starts_with("CREATE TABLE public.api_keys ("), "{text}");
        assert!(text.contains("cost_usd double precision DEFAULT '0'::double precision,"));
        // Only the bookkeeping table was in the database after 001's down.
        assert_eq!(normalize(revisions("sketch2bim")[0].down), "");
        assert_eq!(normalize(revisions("ask")[0].down), "");
        let with_bookkeeping = strip(dump, &[]);
        assert!(with_bookkeeping.contains("CREATE TABLE public.alembic_version ("));
        assert!(with_bookkeeping.contains("ADD CONSTRAINT alembic_version_pkc PRIMARY KEY"));
    }

    /// What the fixtures README says of Alembic's own down steps: each gives
    /// back the previous revision's dump, except 006 (it recreates api_keys
    /// with two indexes 001 never made) and 010 (reader_type comes back at
    /// the end of jobs).
    #[test]
    fn alembic_down_steps_are_inverses_but_for_006_and_010() {
        for database in ["ask", "sketch2bim"] {
            let all = revisions(database);
            let mut differ = Vec::new();
            for (i, r) in all.iter().enumerate() {
                let before = if i == 0 {
                    String::new()
                } else {
                    normalize(all[i - 1].up)
                };
                if normalize(r.down) != before {
                    differ.push(format!("{database} {}", r.id));
                }
            }
            let expected: &[&str] = match database {
                "sketch2bim" => &["sketch2bim 006", "sketch2bim 010"],
                _ => &[],
            };
            assert_eq!(differ, expected);
        }
        let down006 = normalize(revisions("sketch2bim")[5].down);
        assert!(
            down006.contains("CREATE INDEX ix_api_keys_id ON public.api_keys USING btree (id);")
        );
        assert!(down006.contains(
            "CREATE INDEX ix_api_keys_user_id ON public.api_keys USING btree (user_id);"
        ));
    }
}
