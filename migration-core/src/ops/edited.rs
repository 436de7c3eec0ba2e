//! An applied migration edited since it was applied stops `up` and `down`
//! (the CLI, `Migrator::up` and the startup API alike) before they change
//! anything, as Flyway's and sqlx's migrators do: a database built by the
//! edited code would differ from the ones built before. `--allow-edited` or
//! `MIGRATION_ALLOW_EDITED=1` lets a run go on, with one warning per edited
//! migration. The comparison renders the migrations in the process
//! ([`crate::pure::checksum`]) and sends nothing unless one looks edited.

use crate::Error;
use crate::backend::transport::Reader;
use crate::model::recorded::State;
use crate::ops::checks::refuse_foreign;
use crate::pure::history::History;

/// The environment variable that lets `up` and `down` run over edited
/// migrations (the CLI's `--allow-edited` too).
pub const ALLOW_EDITED_ENV: &str = "MIGRATION_ALLOW_EDITED";

/// Whether `MIGRATION_ALLOW_EDITED` allows running over edited migrations:
/// unset (or empty) it does not, the usual spellings of true and false say
/// so, anything else is an error.
pub fn allow_edited_from_env() -> Result<bool, Error> {
    match std::env::var(ALLOW_EDITED_ENV) {
        Ok(value) => parse_allow_edited(Some(&value)),
        Err(std::env::VarError::NotPresent) => Ok(false),
        Err(std::env::VarError::NotUnicode(value)) => {
            parse_allow_edited(Some(&value.to_string_lossy()))
        }
    }
}

/// `MIGRATION_ALLOW_EDITED`'s value read as a yes or a no.
pub fn parse_allow_edited(value: Option<&str>) -> Result<bool, Error> {
    let Some(value) = value else {
        return Ok(false);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "" | "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::InvalidSetting {
            name: ALLOW_EDITED_ENV,
            value: value.to_owned(),
            expected: "one of true, false, 1, 0, yes, no, on or off",
        }),
    }
}

/// Refuses, unless `allow`, a database where an applied migration was edited
/// since it was applied ([`Error::EditedHistory`]); with `allow` warns about
/// each. Returns their names. Sends nothing unless one looks edited: another
/// migrator's first migration renders differently too, so the history is
/// then checked ([`refuse_foreign`], one catalog query) and another
/// migrator's is refused as such.
pub async fn refuse_edited<C: Reader + ?Sized>(
    db: &C,
    history: &History,
    state: &State,
    allow: bool,
) -> Result<Vec<String>, Error> {
    let entries = crate::pure::checksum::compare(history, state, db.backend(), false).await;
    let edited = crate::pure::checksum::edited(&entries);
    if edited.is_empty() {
        return Ok(Vec::new());
    }
    refuse_foreign(db, history, state).await?;
    if !allow {
        return Err(Error::EditedHistory {
            edits: edited
                .iter()
                .map(|entry| match &entry.verdict {
                    crate::pure::checksum::Verdict::Edited { recorded, now } => format!(
                        "{} (applied as {}, {} now)",
                        entry.name,
                        crate::pure::checksum::short(recorded),
                        crate::pure::checksum::short(now)
                    ),
                    _ => entry.name.clone(),
                })
                .collect(),
        });
    }
    Ok(edited
        .into_iter()
        .map(|entry| {
            tracing::warn!("{}", crate::pure::checksum::warning(entry));
            entry.name.clone()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_edited_reads_yes_or_no_and_refuses_anything_else() {
        assert_eq!(parse_allow_edited(None).ok(), Some(false));
        for yes in ["1", "true", "YES", " on "] {
            assert_eq!(parse_allow_edited(Some(yes)).ok(), Some(true), "{yes}");
        }
        for no in ["", "0", "false", "No", "off"] {
            assert_eq!(parse_allow_edited(Some(no)).ok(), Some(false), "{no}");
        }
        assert_eq!(
            parse_allow_edited(Some("maybe")).map_err(|e| e.to_string()),
            Err(
                "invalid MIGRATION_ALLOW_EDITED=\"maybe\": expected one of true, false, 1, 0, \
                 yes, no, on or off"
                    .to_owned()
            )
        );
    }
}
