//! The longer messages of [`super::Error`], and the pieces they share. A
//! message that the command line completes with what to type (a flag, a
//! command) takes that as `hint`, empty for the runtime's own wording.

use super::LockWaitFailure;

/// `1 migration`, `2 migrations`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `one`, `many` by `n`.
fn by(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

pub(super) fn list(names: &[String]) -> String {
    names.join(", ")
}

pub(super) fn suggestions(closest: &[String]) -> String {
    if closest.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", closest.join(" or "))
    }
}

/// `tables jobs, users`, `column jobs.status`.
pub(crate) fn foreign_missing(tables: &[String], columns: &[String]) -> String {
    let mut parts = Vec::new();
    for (names, one, many) in [(tables, "table", "tables"), (columns, "column", "columns")] {
        match names.len() {
            0 => {}
            1 => parts.push(format!("{one} {}", list(names))),
            _ => parts.push(format!("{many} {}", list(names))),
        }
    }
    parts.join(" and ")
}

pub(super) fn ahead(names: &[String]) -> String {
    format!(
        "the database is ahead of this binary: it records {} unknown to it; deploy a binary \
         that has {}",
        list(names),
        by(names.len(), "it", "them")
    )
}

pub(super) fn renumbered(renumbered: &[crate::model::recorded::Renumbered]) -> String {
    let n = renumbered.len();
    format!(
        "the database records {}, which this binary does not have but has as {}: renumbered \
         since {} applied (two branches took one number?); if {} the same migration, rename \
         the row{}: {}; nothing was changed",
        list(
            &renumbered
                .iter()
                .map(|r| r.recorded.clone())
                .collect::<Vec<_>>()
        ),
        list(&renumbered.iter().map(|r| r.now.clone()).collect::<Vec<_>>()),
        by(n, "it was", "they were"),
        by(n, "it is", "they are"),
        by(n, "", "s"),
        renumbered
            .iter()
            .map(|r| format!(
                "UPDATE {} SET version = '{}' WHERE version = '{}'",
                r.table, r.now, r.recorded
            ))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

pub(super) fn gap(missing: &[String], later: &str, table: &str) -> String {
    let n = missing.len();
    format!(
        "the database's history has a gap: {} {} not recorded although the later {later} is; \
         check that the schema has {} changes, then record {} again in {table} (or restore \
         {}); nothing was changed",
        list(missing),
        by(n, "is", "are"),
        by(n, "its", "their"),
        by(n, "it", "them"),
        by(n, "its row", "their rows")
    )
}

pub(super) fn lock_wait(wait: &LockWaitFailure) -> String {
    format!(
        "migration {} gave up waiting for a lock on {} after {} ({}): {}; {}",
        wait.name,
        wait.relation,
        crate::fmt_duration(wait.waited),
        plural(wait.attempts as usize, "attempt"),
        wait.blockers,
        if wait.outside_transaction {
            OUTSIDE_LEFT
        } else {
            "it was rolled back, none of it is applied"
        }
    )
}

/// Edited applied migrations refused; `hint` names another way to run
/// anyway than MIGRATION_ALLOW_EDITED, ending in ` or `.
pub(crate) fn edited_history(edits: &[String], hint: &str) -> String {
    let n = edits.len();
    format!(
        "{} {} edited after {} applied: {}; revert the {}, or review {} and run repair to \
         record the new {} ({hint}MIGRATION_ALLOW_EDITED=1 runs anyway); nothing was changed",
        plural(n, "applied migration"),
        by(n, "was", "were"),
        by(n, "it was", "they were"),
        list(edits),
        by(n, "edit", "edits"),
        by(n, "it", "them"),
        by(n, "checksum", "checksums")
    )
}

pub(super) fn edited(names: &[String]) -> String {
    let n = names.len();
    format!(
        "{} {} edited after {} applied: {}; review the {}, then run repair to record the new {}",
        plural(n, "applied migration"),
        by(n, "was", "were"),
        by(n, "it was", "they were"),
        list(names),
        by(n, "change", "changes"),
        by(n, "checksum", "checksums")
    )
}

pub(super) fn blank_checksum(names: &[String]) -> String {
    let n = names.len();
    format!(
        "{} {} a blank checksum recorded: {}; check {} against the code, then run repair to \
         record {}",
        plural(n, "applied migration"),
        by(n, "has", "have"),
        list(names),
        by(n, "its schema", "their schemas"),
        by(n, "its checksum", "their checksums")
    )
}

/// A `.env` without a URL; `hint` is another way to give one, starting
/// with `, or `.
pub(crate) fn dotenv_without_url(url_env: &str, sqlite_file: &str, hint: &str) -> String {
    format!(
        ".env in the working directory sets neither {url_env} nor DATABASE_URL; set one of \
         them in it to the database's URL{hint} (the SQLite file {sqlite_file} is used only \
         where there is no .env)"
    )
}

/// `adopt` at a position other than the recorded revision; `hint` says how
/// to adopt at that revision, starting with `: `.
pub(crate) fn adopt_at_other_revision(
    revision: &str,
    recorded: &str,
    asked: &str,
    hint: &str,
) -> String {
    format!(
        "alembic_version records revision {revision}, which is {recorded}, not {asked}{hint}; \
         nothing was changed"
    )
}

/// A baseline of a database that records migrations; `rule` says which
/// databases can be baselined.
pub(crate) fn already_recorded(current: &str, rule: &str) -> String {
    format!(
        "the database already records its migrations (at {current}): {rule}; nothing was changed"
    )
}

/// The runtime's `rule` of [`already_recorded`].
pub(super) const BASELINE_RULE: &str = "only a database that records none can be baselined";

/// What a migration that ran outside a transaction leaves when it fails.
pub(super) const OUTSIDE_LEFT: &str = "it ran outside a transaction, so nothing is recorded and \
     the statements before the failing one stay applied (run up again once fixed: such a \
     migration must be safe to repeat)";

/// `; it left the INVALID index "ix": drop it with …`.
pub(super) fn invalid_indexes(indexes: &[String]) -> String {
    match indexes {
        [] => String::new(),
        [one] => format!(
            "; it left the INVALID index {one}: drop it with `DROP INDEX CONCURRENTLY {one}`, \
             then run up again (or make the migration drop it first)"
        ),
        many => format!(
            "; it left the INVALID indexes {}: drop them with {}, then run up again (or make \
             the migration drop them first)",
            list(many),
            many.iter()
                .map(|i| format!("`DROP INDEX CONCURRENTLY {i}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    }
}
