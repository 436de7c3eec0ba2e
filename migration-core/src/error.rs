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
    #[error("invalid {name}={value:?}: expected one of {expected}")]
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

    /// Another run held the migration lock for longer than the timeout.
    #[error("timed out after {seconds} s waiting for the migration lock held by another run")]
    LockTimeout { seconds: u64 },

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

    /// A command refused to run as asked.
    #[error("{0}")]
    Refused(String),
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
    let mut line = line.replace('\n', " ");
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        line = line.replace(secret, "***");
    }
    line
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
