//! Everything that can go wrong, as data: each variant names the migration,
//! setting or database at fault. Messages are lowercase without a final full
//! stop and never contain a password (URLs are redacted before they get here);
//! the underlying cause is in `source()`, not repeated in the message.

use sea_orm::DbErr;

/// What a migrator run can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configured URL cannot be parsed or names an unsupported database.
    #[error("invalid database URL from {origin}: {reason}")]
    InvalidUrl { origin: String, reason: String },

    /// A setting has a value that means nothing.
    #[error("invalid {name}={value:?}: expected {expected}")]
    InvalidSetting {
        name: &'static str,
        value: String,
        expected: &'static str,
    },

    /// The server could not be reached or refused the connection.
    #[error("cannot connect to {target}")]
    Connect {
        target: String,
        #[source]
        source: DbErr,
    },

    /// A migration's own statements failed; its transaction was rolled back.
    #[error("migration {name} failed while {action}")]
    Migration {
        name: String,
        action: &'static str,
        #[source]
        source: DbErr,
    },

    /// The database records migrations that this binary does not have.
    #[error(
        "the database is ahead of this binary: it records {} unknown to it; \
         deploy a binary that has {}",
        list(names), if names.len() == 1 { "it" } else { "them" }
    )]
    Ahead { names: Vec<String> },

    /// The bookkeeping table records a migration more than once.
    #[error(
        "{table} records {} more than once (a table made without its primary key?); delete \
         the extra rows, keeping one per migration; nothing was changed",
        list(names)
    )]
    DuplicateRows { names: Vec<String>, table: String },

    /// Migrations are not recorded while a later one is: applying them would
    /// run their statements on a schema that already has them.
    #[error(
        "the database's history has a gap: {} {} not recorded although the later {later} is; \
         check that the schema has {} changes, then record {} again in {table} (or restore \
         {}); nothing was changed",
        list(missing),
        if missing.len() == 1 { "is" } else { "are" },
        if missing.len() == 1 { "its" } else { "their" },
        if missing.len() == 1 { "it" } else { "them" },
        if missing.len() == 1 { "its row" } else { "their rows" }
    )]
    Gap {
        missing: Vec<String>,
        later: String,
        table: String,
    },

    /// The database records this history's first migration but lacks tables
    /// that migration creates: it holds another migrator's history.
    #[error(
        "this database's history belongs to another migrator: it records {first} but has no \
         {} {}, which this binary's {first} creates; check the database URL; nothing was \
         changed",
        if missing.len() == 1 { "table" } else { "tables" },
        list(missing)
    )]
    Foreign { first: String, missing: Vec<String> },

    /// A command that drops data was asked of a database ahead of this binary
    /// or holding another history, without `--yes`.
    #[error(
        "{command} would drop every table of a database whose history is not this binary's \
         ({reason}); {override_with}"
    )]
    NotOurHistory {
        /// `fresh`, `Migrator::fresh`.
        command: &'static str,
        /// What the database records that this binary does not know.
        reason: String,
        /// How to do it anyway: `run it again with --yes if that is what you want`.
        override_with: &'static str,
    },

    /// A command that changes the database was given an in-memory SQLite
    /// database, which is gone when the run ends.
    #[error(
        "{command} on the in-memory SQLite database {target} would keep nothing: it is gone \
         when the run ends; give a SQLite file, e.g. sqlite://{file}?mode=rwc"
    )]
    SqliteInMemory {
        command: &'static str,
        target: String,
        /// The database's default file, as an example.
        file: &'static str,
    },

    /// A command that changes the database was given a SQLite file that
    /// does not exist, by a URL that does not ask to create it.
    #[error(
        "cannot open the SQLite file {path}: it does not exist; add ?mode=rwc to the URL to \
         create it"
    )]
    SqliteMissing { path: String },

    /// Another run held the migration lock for longer than the timeout.
    #[error("timed out after {seconds} s waiting for the migration lock held by another run")]
    LockTimeout { seconds: u64 },

    /// A migration's statements kept waiting longer than the lock wait for a
    /// lock that another transaction holds, until the run's `--lock-timeout`
    /// was spent; every attempt was rolled back whole.
    #[error(
        "migration {} gave up waiting for a lock on {} after {} ({} attempts): {}; \
         it was rolled back, none of it is applied",
        wait.name, wait.relation, crate::fmt_duration(wait.waited), wait.attempts, wait.blockers
    )]
    LockWait {
        wait: Box<LockWaitFailure>,
        #[source]
        source: DbErr,
    },

    /// A migration name given by the user is not in the history.
    #[error("unknown migration {name}{}", suggestions(closest))]
    UnknownMigration { name: String, closest: Vec<String> },

    /// Reading or writing the bookkeeping table (or another query of the
    /// runner itself) failed.
    #[error("{action} failed")]
    Database {
        action: String,
        #[source]
        source: DbErr,
    },

    /// A file could not be read or written (`generate`).
    #[error("{action} {path}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// A database about to be adopted or baselined does not have the schema
    /// its recorded position says; nothing was changed.
    #[error(
        "not {verb}: the schema differs from {against} in {} (changed by hand?): {}; \
         nothing was changed (`adopt --accept-differences` takes it over as it is)",
        plural(differences.len(), "place"), differences.join("; ")
    )]
    SchemaDrift {
        /// `adopting` or `baselining`.
        verb: &'static str,
        /// `Alembic revision 005`, `m001_initial_schema … m005_add_sketchup_url`.
        against: String,
        /// One line per difference.
        differences: Vec<String>,
    },

    /// `adopt` found nothing to take over, or was asked for a position that
    /// contradicts what the database records.
    #[error("{0}")]
    Adoption(String),

    /// The first migration found its tables already there, in a database that
    /// records no migrations: it was built some other way.
    #[error(
        "migration {name} failed while applying it: the database already has its tables but \
         records no migrations; if its schema is at a known migration, baseline it with \
         `adopt --at <migration>`"
    )]
    AlreadyBuilt {
        name: String,
        #[source]
        source: DbErr,
    },

    /// A `MigratorTrait` call was given a transaction or another executor
    /// on which the migrator's guarantees cannot hold.
    #[error(
        "{call} needs the DatabaseConnection (pass &db), not a transaction: the migration lock \
         holds a connection of its own and every migration runs in a transaction of its own"
    )]
    NeedsConnection {
        /// `Sketch2BIM's Migrator::up`.
        call: String,
    },

    /// Applied migrations whose code renders other statements than it did
    /// when they were applied (see [`crate::checksum`]).
    #[error(
        "{} {} edited after {} applied: {}; review the {}, then run repair to record the new \
         {}",
        plural(names.len(), "applied migration"),
        if names.len() == 1 { "was" } else { "were" },
        if names.len() == 1 { "it was" } else { "they were" },
        list(names),
        if names.len() == 1 { "change" } else { "changes" },
        if names.len() == 1 { "checksum" } else { "checksums" }
    )]
    Edited { names: Vec<String> },

    /// A command refused to run as asked.
    #[error("{0}")]
    Refused(String),
}

/// `1 migration`, `2 migrations`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// What a migration that gave up waiting for a lock waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockWaitFailure {
    /// The migration.
    pub name: String,
    /// The table (or other object) it waited for.
    pub relation: String,
    /// Who held it, as the last wait saw them.
    pub blockers: String,
    pub attempts: u32,
    /// Time spent waiting and pausing between attempts.
    pub waited: std::time::Duration,
}

fn list(names: &[String]) -> String {
    names.join(", ")
}

fn suggestions(closest: &[String]) -> String {
    if closest.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", closest.join(" or "))
    }
}

impl Error {
    pub(crate) fn db(action: impl Into<String>) -> impl FnOnce(DbErr) -> Error {
        let action = action.into();
        move |source| Error::Database { action, source }
    }
}

/// The error and its causes on one line, `: `-separated, with any password of
/// `secret` masked. This is what the CLI prints.
pub fn one_line(err: &(dyn std::error::Error + 'static), secrets: &[&str]) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        // A DbErr's own sources repeat it in the driver's words: stop there.
        let (text, last) = match cause.downcast_ref::<DbErr>() {
            Some(db_err) => (describe_db_err(db_err), true),
            None => (cause.to_string(), false),
        };
        if !text.is_empty() && !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        if last {
            break;
        }
        source = cause.source();
    }
    mask_passwords(&line.replace('\n', " "), secrets)
}

/// `text` with every password it shows replaced by `***`: the password
/// component of each URL, every `password=` value, and each of `secrets`
/// where it stands quoted as a whole token. Nothing else is touched, so a
/// short password does not turn every matching letter into stars.
pub(crate) fn mask_passwords(text: &str, secrets: &[&str]) -> String {
    let text = mask_url_userinfo(text);
    let text = mask_password_values(&text, secrets);
    mask_quoted(&text, secrets)
}

/// Where each `scheme://user:password@host` in `text` has its password.
fn mask_url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let before = &rest[..at];
        let scheme_len = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .count();
        let after = &rest[at + 3..];
        out.push_str(&rest[..at + 3]);
        rest = after;
        if scheme_len == 0 {
            continue;
        }
        let authority_len = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_len];
        let Some(userinfo_len) = authority.rfind('@') else {
            continue;
        };
        let userinfo = &authority[..userinfo_len];
        if let Some(colon) = userinfo.find(':') {
            out.push_str(&userinfo[..=colon]);
            out.push_str("***");
            out.push_str(&after[userinfo_len..authority_len]);
            rest = &after[authority_len..];
        }
    }
    out.push_str(rest);
    out
}

/// Where `password=` starts a value (in a URL's query or a `key=value`
/// connection string): the value, quoted or up to `&`, `#` or a space.
fn mask_password_values(text: &str, secrets: &[&str]) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.to_ascii_lowercase().find(KEY) {
        let starts_key = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        out.push_str(&rest[..at + KEY.len()]);
        rest = &rest[at + KEY.len()..];
        if !starts_key {
            continue;
        }
        if let Some(quote) = rest.chars().next().filter(|c| matches!(c, '\'' | '"'))
            && let Some(end) = rest[1..].find(quote)
        {
            out.push(quote);
            out.push_str("***");
            rest = &rest[1 + end..];
            continue;
        }
        let len = rest
            .find(|c: char| matches!(c, '&' | '#') || c.is_whitespace())
            .unwrap_or(rest.len());
        let value = &rest[..len];
        // A `:` or `,` closing the value is the message's own punctuation,
        // unless it is part of a known password.
        let punctuation = [':', ',', ';', ')'];
        let kept = secrets
            .iter()
            .filter(|s| !s.is_empty())
            .filter(|s| {
                value
                    .strip_prefix(**s)
                    .is_some_and(|tail| tail.chars().all(|c| punctuation.contains(&c)))
            })
            .map(|s| s.len())
            .max()
            .unwrap_or_else(|| value.trim_end_matches(punctuation).len());
        if kept > 0 {
            out.push_str("***");
        }
        rest = &rest[kept..];
    }
    out.push_str(rest);
    out
}

/// Each secret where it stands as a quoted token: `"s"`, `'s'`.
fn mask_quoted(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for quote in ['"', '\''] {
            text = text.replace(
                &format!("{quote}{secret}{quote}"),
                &format!("{quote}***{quote}"),
            );
        }
    }
    text
}

/// A [`DbErr`] in the database's own words.
pub fn describe_db_err(err: &DbErr) -> String {
    use sea_orm::RuntimeErr;
    let runtime = match err {
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        DbErr::ConnectionAcquire(e) => return e.to_string(),
        DbErr::Custom(s) | DbErr::Migration(s) | DbErr::Type(s) | DbErr::Json(s) => {
            return s.clone();
        }
        other => return other.to_string(),
    };
    match runtime {
        RuntimeErr::SqlxError(e) => match e.as_ref() {
            sea_orm::sqlx::Error::Database(db) => db.message().to_owned(),
            sea_orm::sqlx::Error::PoolTimedOut => "timed out".to_owned(),
            other => other.to_string(),
        },
        RuntimeErr::Internal(s) => s.clone(),
        #[allow(unreachable_patterns)]
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_passwords;

    #[test]
    fn short_passwords_mask_only_the_url_password() {
        for password in ["s", "1", "pg", "127", "tgr"] {
            let line = format!(
                "cannot connect to postgres://nouser:{password}@127.0.0.1:5432/db: role \
                 \"nouser\" does not exist"
            );
            assert_eq!(
                mask_passwords(&line, &[password]),
                "cannot connect to postgres://nouser:***@127.0.0.1:5432/db: role \"nouser\" \
                 does not exist",
                "password {password:?}"
            );
        }
    }

    #[test]
    fn a_password_equal_to_the_user_or_host_leaves_them_shown() {
        let line = "cannot connect to postgres://app:app@db.internal/app: password authentication \
                    failed for user \"app\"";
        // The target does not offer a password equal to its user name as a
        // token to mask, so only the URL's password goes.
        assert_eq!(
            mask_passwords(line, &[]),
            "cannot connect to postgres://app:***@db.internal/app: password authentication \
             failed for user \"app\""
        );
        let line = "cannot connect to postgres://u:localhost@localhost:5432/localhost: timed out";
        assert_eq!(
            mask_passwords(line, &[]),
            "cannot connect to postgres://u:***@localhost:5432/localhost: timed out"
        );
    }

    #[test]
    fn url_encoded_and_unusual_passwords() {
        let line = "cannot connect to postgresql://u:p%40ss%3Aw%2Fd@[::1]:5432/x?sslmode=require: \
                    refused";
        assert_eq!(
            mask_passwords(line, &["p%40ss%3Aw%2Fd", "p@ss:w/d"]),
            "cannot connect to postgresql://u:***@[::1]:5432/x?sslmode=require: refused"
        );
        // An empty password and a URL without one stay as they are.
        assert_eq!(
            mask_passwords("at postgres://u:@h/x and postgres://u@h/x", &[]),
            "at postgres://u:***@h/x and postgres://u@h/x"
        );
        // Already masked text is unchanged.
        let masked = "cannot connect to postgres://u:***@h/x?password=***: refused";
        assert_eq!(mask_passwords(masked, &[]), masked);
    }

    #[test]
    fn password_values_in_queries_and_connection_strings() {
        assert_eq!(
            mask_passwords(
                "cannot connect to postgres://h/x?user=u&password=s&sslmode=require: refused",
                &["s"]
            ),
            "cannot connect to postgres://h/x?user=u&password=***&sslmode=require: refused"
        );
        assert_eq!(
            mask_passwords("cannot connect to postgres://h/x?password=ab: refused", &[]),
            "cannot connect to postgres://h/x?password=***: refused"
        );
        assert_eq!(
            mask_passwords(
                "cannot connect to postgres://h/x?password=a:: refused",
                &["a:"]
            ),
            "cannot connect to postgres://h/x?password=***: refused"
        );
        assert_eq!(
            mask_passwords("host=h password='x y' user=u sslpassword=k", &[]),
            "host=h password='***' user=u sslpassword=k"
        );
    }

    #[test]
    fn a_password_echoed_as_a_quoted_token() {
        assert_eq!(
            mask_passwords(
                "invalid value \"s3\" for parameter near 's3' in \"as3s\" and s3",
                &["s3"]
            ),
            "invalid value \"***\" for parameter near '***' in \"as3s\" and s3"
        );
    }
}
