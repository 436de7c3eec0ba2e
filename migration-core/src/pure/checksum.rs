//! Checksums of applied migrations: was a migration's code edited after it
//! was applied?
//!
//! A migration's checksum, `v2:` and 64 hex digits, is the SHA-256 of the
//! statements its `up` and its `down` send on the database's backend,
//! rendered as SQL with their values inline (recorded without a database, as
//! a dry run records them; a query gets no rows), and of its
//! `use_transaction()`. It is recorded in the bookkeeping table's `checksum`
//! column when the migration is applied, or when a database is adopted or
//! baselined, and compared with what the binary renders now: `up`, `down`,
//! `Migrator::up` and the startup API refuse to run over an edited migration
//! unless allowed to ([`crate::ops::edited`]), `status` warns and `verify` exits
//! 1 listing them; `repair` records the current ones after a review.
//!
//! Checksums recorded before `v2` (64 hex digits, no prefix) hash the `up`
//! statements alone; such a value is compared with that older digest, so
//! every checksum recorded before keeps matching, and `repair` or a new
//! apply records `v2`.
//!
//! Rendered SQL rather than source text: comments, formatting and a
//! refactoring of the Rust code change nothing the database receives and
//! raise no alarm, nor does an upgrade of sea-orm that renders the same SQL;
//! an upgrade that renders different SQL is flagged, since a database built
//! now would differ from the ones built before. `down` and
//! `use_transaction()` are covered too: a changed rollback, or a migration
//! moved in or out of a transaction, is an edit.
//!
//! The column is nullable and added to an existing bookkeeping table by the
//! first run that records something, so sea-orm's own CLI (which selects and
//! inserts `version` and `applied_at` only) keeps reading and writing the
//! table; a row without a checksum (written by that CLI, or before checksums
//! were kept) is reported as unrecorded, never as edited.

use sea_orm::DbBackend;
use sea_orm_migration::MigrationTrait;
use sha2::{Digest, Sha256};

use crate::model::recorded::State;
use crate::pure::history::History;

/// The bookkeeping table's checksum column.
pub const COLUMN: &str = "checksum";

/// The prefix of a checksum over `up`, `down` and `use_transaction()`.
pub const V2: &str = "v2:";

/// `migration`'s checksum on `backend`; `None` when its `up` fails without a
/// database (it then has no checksum, and none is recorded).
pub async fn of(migration: &dyn MigrationTrait, backend: DbBackend) -> Option<String> {
    Some(rendered(migration, backend).await?.v2)
}

/// What the binary renders for a migration: its checksum, and the digest of
/// its `up` alone that checksums recorded before [`V2`] hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub v2: String,
    pub v1: String,
}

/// [`Rendered`] of `migration` on `backend`; `None` when its `up` fails
/// without a database.
pub async fn rendered(migration: &dyn MigrationTrait, backend: DbBackend) -> Option<Rendered> {
    let up = crate::pure::capture::render(migration, crate::model::run::Direction::Up, backend)
        .await
        .ok()?;
    Some(with_up(migration, backend, &up).await)
}

/// [`Rendered`] of `migration`, whose `up` statements are already `up`.
pub async fn with_up(
    migration: &dyn MigrationTrait,
    backend: DbBackend,
    up: &[String],
) -> Rendered {
    // A down that fails without a database (sea-orm's default one refuses)
    // is covered by its message.
    let down = crate::pure::capture::render(migration, crate::model::run::Direction::Down, backend)
        .await
        .unwrap_or_else(|e| vec![format!("-- down fails: {e}")]);
    Rendered {
        v2: v2(up, &down, migration.use_transaction()),
        v1: digest(up),
    }
}

/// `v2:` and the SHA-256 of `up`'s statements, `down`'s and
/// `use_transaction`, each part introduced by its name.
pub fn v2(up: &[String], down: &[String], use_transaction: Option<bool>) -> String {
    let mut parts = vec!["up".to_owned()];
    parts.extend(up.iter().cloned());
    parts.push("down".to_owned());
    parts.extend(down.iter().cloned());
    parts.push(format!("use_transaction {use_transaction:?}"));
    format!("{V2}{}", digest(&parts))
}

/// The checksum of `statements`, in order: 64 hex digits.
pub fn digest(statements: &[String]) -> String {
    let mut hasher = Sha256::new();
    for statement in statements {
        hasher.update(statement.as_bytes());
        // A separator that cannot end a statement's text, so that moving
        // text from one statement to the next changes the checksum.
        hasher.update([0u8]);
    }
    let mut hex = String::with_capacity(64);
    for b in hasher.finalize().iter() {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// What an applied migration's recorded checksum says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The binary renders what was applied.
    Matches,
    /// The binary renders something else: the migration was edited after it
    /// was applied (or a dependency now renders it differently).
    Edited { recorded: String, now: String },
    /// No checksum is recorded for it (NULL).
    NotRecorded,
    /// A blank checksum is recorded for it: an edit cannot be told, so
    /// `verify` fails on it.
    Blank,
    /// The binary cannot render it without a database.
    Unknown,
}

/// One applied migration's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub verdict: Verdict,
    /// What the binary renders now, when it can.
    pub now: Option<String>,
}

/// The verdict on `recorded` given what the binary renders `now`; pure. A
/// value recorded before [`V2`] is compared with the digest of `up` alone.
pub fn judge(recorded: Option<&str>, now: Option<&Rendered>) -> Verdict {
    match (recorded, now) {
        (None, _) => Verdict::NotRecorded,
        (Some(blank), _) if blank.trim().is_empty() => Verdict::Blank,
        (Some(_), None) => Verdict::Unknown,
        (Some(recorded), Some(now))
            if recorded == now.v2 || (!recorded.starts_with(V2) && recorded == now.v1) =>
        {
            Verdict::Matches
        }
        (Some(recorded), Some(now)) => Verdict::Edited {
            recorded: recorded.to_owned(),
            now: now.v2.clone(),
        },
    }
}

/// The verdict on every applied migration that `state` records (none for an
/// Alembic revision not yet adopted, which records nothing), in history
/// order. Renders each migration whose checksum is recorded without a
/// database, and with `render_unrecorded` also the others (for `repair`,
/// which records them); sends nothing.
pub async fn compare(
    history: &History,
    state: &State,
    backend: DbBackend,
    render_unrecorded: bool,
) -> Vec<Entry> {
    if state.alembic.is_some() {
        return Vec::new();
    }
    let mut entries = Vec::with_capacity(state.applied.len());
    for applied in &state.applied {
        let Some(migration) = history.migrations.iter().find(|m| m.name() == applied.name) else {
            continue;
        };
        let now = match (&applied.checksum, render_unrecorded) {
            // Nothing to compare with: its verdict is "not recorded" either way.
            (None, false) => None,
            _ => rendered(migration.as_ref(), backend).await,
        };
        entries.push(Entry {
            name: applied.name.clone(),
            verdict: judge(applied.checksum.as_deref(), now.as_ref()),
            now: now.map(|n| n.v2),
        });
    }
    entries
}

/// The edited ones among `entries`.
pub fn edited(entries: &[Entry]) -> Vec<&Entry> {
    entries
        .iter()
        .filter(|e| matches!(e.verdict, Verdict::Edited { .. }))
        .collect()
}

/// A checksum as messages show it: its first 12 hex digits (after `v2:`); a
/// recorded value that is not a checksum (edited by hand) quoted and
/// escaped, so that it cannot break the line or pass for one.
pub fn short(checksum: &str) -> String {
    let hex = checksum.strip_prefix(V2).unwrap_or(checksum);
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex[..12].to_owned();
    }
    if checksum.len() == 64 && checksum.bytes().all(|b| b.is_ascii_hexdigit()) {
        checksum[..12].to_owned()
    } else {
        let shown: String = checksum.chars().take(16).collect();
        let cut = if shown.len() < checksum.len() {
            "…"
        } else {
            ""
        };
        format!("{shown:?}{cut}")
    }
}

/// The warning `up` and `status` give for an edited migration.
pub fn warning(entry: &Entry) -> String {
    match &entry.verdict {
        Verdict::Edited { recorded, now } => format!(
            "{} was edited after it was applied: its checksum was {}, it is {} now; review \
             the change, then run repair to record the new checksum",
            entry.name,
            short(recorded),
            short(now)
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256_of_the_statements_each_terminated() {
        // printf 'SELECT 1\0' | sha256sum
        assert_eq!(
            digest(&["SELECT 1".to_owned()]),
            "85f1ac9983155ca0cd06f4aeddf84049143014cdb01303ec4dcad12093909f5e"
        );
        // printf 'a\0b\0' | sha256sum
        assert_eq!(
            digest(&["a".to_owned(), "b".to_owned()]),
            "8fb20ef63ced4145fc2e983ffe597d1dcff39154c3bf21f0fa9dde6a0c50fdc9"
        );
    }

    #[test]
    fn moving_text_between_statements_changes_the_digest() {
        let a = digest(&["CREATE TABLE a (x int)".to_owned(), "SELECT 1".to_owned()]);
        let b = digest(&["CREATE TABLE a (x int)SELECT 1".to_owned()]);
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn short_shows_twelve_digits_or_the_escaped_value() {
        assert_eq!(short(&"a".repeat(64)), "aaaaaaaaaaaa");
        assert_eq!(short(&format!("v2:{}", "b".repeat(64))), "bbbbbbbbbbbb");
        assert_eq!(short("abc"), "\"abc\"");
        assert_eq!(short(""), "\"\"");
        assert_eq!(short("ab\nerror: x"), "\"ab\\nerror: x\"");
        assert_eq!(short(&"é".repeat(20)), format!("\"{}\"…", "é".repeat(16)));
    }

    #[test]
    fn judge_covers_every_case() {
        let now = Rendered {
            v2: "v2:b".into(),
            v1: "a".into(),
        };
        let now = Some(&now);
        assert_eq!(judge(None, now), Verdict::NotRecorded);
        assert_eq!(judge(None, None), Verdict::NotRecorded);
        assert_eq!(judge(Some(""), now), Verdict::Blank);
        assert_eq!(judge(Some("  "), None), Verdict::Blank);
        assert_eq!(judge(Some("a"), None), Verdict::Unknown);
        assert_eq!(judge(Some("v2:b"), now), Verdict::Matches);
        // Recorded before v2: compared with the digest of up alone.
        assert_eq!(judge(Some("a"), now), Verdict::Matches);
        for recorded in ["c", "v2:a", "v2:c"] {
            assert_eq!(
                judge(Some(recorded), now),
                Verdict::Edited {
                    recorded: recorded.into(),
                    now: "v2:b".into()
                }
            );
        }
    }

    #[test]
    fn v2_covers_up_down_and_use_transaction() {
        let up = ["CREATE INDEX i ON t (x)".to_owned()];
        let down = ["DROP INDEX i".to_owned()];
        let base = v2(&up, &down, None);
        assert!(base.starts_with("v2:") && base.len() == 67, "{base}");
        assert_ne!(base, v2(&up, &down, Some(false)));
        assert_ne!(base, v2(&up, &[], None));
        assert_ne!(base, v2(&[], &up, None));
        // The digest of each part, named, in order.
        assert_eq!(
            base,
            format!(
                "v2:{}",
                digest(&[
                    "up".to_owned(),
                    "CREATE INDEX i ON t (x)".to_owned(),
                    "down".to_owned(),
                    "DROP INDEX i".to_owned(),
                    "use_transaction None".to_owned()
                ])
            )
        );
    }

    #[test]
    fn warning_names_the_migration_and_both_checksums() {
        let entry = Entry {
            name: "m003_x".into(),
            verdict: judge(
                Some(&"a".repeat(64)),
                Some(&Rendered {
                    v2: format!("v2:{}", "b".repeat(64)),
                    v1: "c".repeat(64),
                }),
            ),
            now: Some(format!("v2:{}", "b".repeat(64))),
        };
        assert_eq!(
            warning(&entry),
            "m003_x was edited after it was applied: its checksum was aaaaaaaaaaaa, it is \
             bbbbbbbbbbbb now; review the change, then run repair to record the new checksum"
        );
    }
}
