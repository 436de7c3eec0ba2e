//! Which database a run talks to, where that was configured, and how it is
//! shown: a URL's password never leaves this module unmasked.
//!
//! The URL comes from, first found wins: the `-u/--database-url` flag; the
//! database's own variable (`SKETCH2BIM_DATABASE_URL`, `ASK_DATABASE_URL`);
//! `DATABASE_URL`; the same two names in a `.env` file in the working
//! directory; else, when there is no `.env`, a SQLite file in the working
//! directory (a `.env` that names neither is an error).
//!
//! - `options`: the URL parameters read or checked before connecting;
//! - `sqlite`: where a SQLite URL keeps its database;
//! - `mask`: the URL as shown, and its passwords;
//! - `locality`: whether the server is on this machine (the `--yes` guard);
//! - `dotenv`: the bounded read of `.env`;
//! - `tls`: the `sslrootcert` file check;
//! - `connect`: opening the pool.

use sea_orm::DbBackend;
use std::time::Duration;

use crate::{Database, Error};

mod connect;
mod dotenv;
mod locality;
mod options;
mod shown;
mod sqlite;
mod tls;

pub use connect::check_schema_name;
pub use locality::{HostFrom, RemoteHost};
pub use options::CONNECT_TIMEOUT;
pub use sqlite::{SqliteLocation, sqlite_location};

/// Where the URL was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env(&'static str),
    DotEnv(&'static str),
    DefaultSqlite,
    /// Given by an application through the library API.
    Api,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => f.write_str("the command line"),
            Origin::Env(name) => write!(f, "{name}"),
            Origin::DotEnv(name) => write!(f, "{name} in .env"),
            Origin::DefaultSqlite => f.write_str("the default SQLite file"),
            Origin::Api => f.write_str("the application"),
        }
    }
}

/// A database URL, checked and with its secrets known.
#[derive(Clone)]
pub struct Target {
    url: String,
    origin: Origin,
    backend: DbBackend,
    redacted: String,
    secrets: Vec<String>,
    /// `url` less the parameters this crate applies itself.
    driver_url: String,
    connect_timeout: Duration,
    /// `statement_cache_capacity`, which the driver only knows spelt
    /// `statement-cache-capacity`.
    statement_cache_capacity: Option<usize>,
    /// `sslrootcert` (or `ssl-root-cert`, `ssl-ca`): checked before
    /// connecting.
    root_cert: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.redacted)
            .field("origin", &self.origin)
            .finish()
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// The database a URL's scheme names, or why it names none (sea-orm decides
/// it the same way when connecting, with an error that names the URL).
fn backend_of(url: &url::Url) -> Result<DbBackend, String> {
    match url.scheme() {
        "postgres" | "postgresql" => Ok(DbBackend::Postgres),
        "sqlite" => Ok(DbBackend::Sqlite),
        other => Err(format!(
            "unsupported scheme '{other}', expected postgres:// or sqlite://"
        )),
    }
}

impl Target {
    /// Checks `url`; the error names `origin`, never the URL's password.
    pub fn parse(url: &str, origin: Origin) -> Result<Target, Error> {
        let invalid = |reason: String| Error::InvalidUrl {
            origin: origin.to_string(),
            reason,
        };
        let url = url.trim();
        let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        let backend = backend_of(&parsed).map_err(invalid)?;
        let masked = shown::mask(&parsed);
        if backend == DbBackend::Sqlite && sqlite_location(url) == SqliteLocation::Unnamed {
            // SQLite opens a private temporary database for an empty name,
            // one per connection: a run would migrate part of it and lose it.
            return Err(invalid(
                "it names no SQLite file; give one, e.g. sqlite://app.sqlite?mode=rwc".to_owned(),
            ));
        }
        let options = match backend {
            DbBackend::Postgres => options::postgres_options(url, &parsed).map_err(invalid)?,
            _ => options::DriverOptions::as_given(url),
        };
        Ok(Target {
            url: url.to_owned(),
            origin,
            backend,
            redacted: masked.shown,
            secrets: masked.secrets,
            driver_url: options.driver_url,
            connect_timeout: options.connect_timeout,
            statement_cache_capacity: options.statement_cache_capacity,
            root_cert: options.root_cert,
        })
    }

    /// How long connecting may take: the URL's `connect_timeout`, else 5 s.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Finds the URL for `database` as the module docs describe.
    pub fn resolve(database: &Database, flag: Option<&str>) -> Result<Target, Error> {
        Target::resolve_from(
            database,
            flag,
            |name| std::env::var(name),
            || dotenv::read_dotenv(std::path::Path::new(dotenv::DOTENV)),
        )
    }

    /// [`Target::resolve`] with the environment's variables from `env` and
    /// the `.env` file's from `dotenv` (read only when no variable is set).
    fn resolve_from(
        database: &Database,
        flag: Option<&str>,
        env: impl Fn(&str) -> Result<String, std::env::VarError>,
        dotenv: impl FnOnce() -> Result<Option<Vec<(String, String)>>, Error>,
    ) -> Result<Target, Error> {
        if let Some(url) = flag {
            return Target::parse(url, Origin::Flag);
        }
        // A variable that is set counts, even empty: an empty URL is a
        // mistake, not a request for the SQLite default.
        for name in [database.url_env, "DATABASE_URL"] {
            match env(name) {
                Ok(url) => return Target::parse_set(&url, Origin::Env(name)),
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(Error::InvalidUrl {
                        origin: Origin::Env(name).to_string(),
                        reason: "not valid UTF-8".to_owned(),
                    });
                }
                Err(std::env::VarError::NotPresent) => {}
            }
        }
        if let Some(vars) = dotenv()? {
            for name in [database.url_env, "DATABASE_URL"] {
                if let Some((_, url)) = vars.iter().find(|(k, _)| k == name) {
                    return Target::parse_set(url, Origin::DotEnv(name));
                }
            }
            // A `.env` is there to configure the run: falling through to a
            // new SQLite file would migrate the wrong database, silently.
            return Err(Error::DotEnvWithoutUrl {
                url_env: database.url_env,
                sqlite_file: database.default_sqlite_file,
            });
        }
        Target::parse(
            &format!("sqlite://{}?mode=rwc", database.default_sqlite_file),
            Origin::DefaultSqlite,
        )
    }

    /// As [`Target::parse`] for a variable that is set: empty is refused.
    fn parse_set(url: &str, origin: Origin) -> Result<Target, Error> {
        if url.trim().is_empty() {
            return Err(Error::InvalidUrl {
                origin: origin.to_string(),
                reason: "it is set but empty; give it a database URL, or unset it".to_owned(),
            });
        }
        Target::parse(url, origin)
    }

    /// The URL to connect with. Never print it: use `Display`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Where a SQLite URL keeps its database; `None` for PostgreSQL.
    pub fn sqlite_location(&self) -> Option<SqliteLocation> {
        (self.backend == DbBackend::Sqlite).then(|| sqlite_location(&self.url))
    }

    /// Passwords found in the URL, to mask wherever text might echo them.
    pub fn secrets(&self) -> Vec<&str> {
        self.secrets.iter().map(String::as_str).collect()
    }

    /// SQLite, or a PostgreSQL server on a loopback address or Unix socket.
    pub fn is_local(&self) -> bool {
        self.remote_host().is_none()
    }

    /// The first server this run may connect to that is not known to be
    /// local, with where it was named: `None` for SQLite and for a
    /// PostgreSQL server on a loopback address or Unix socket.
    pub fn remote_host(&self) -> Option<RemoteHost> {
        if self.backend == DbBackend::Sqlite {
            return None;
        }
        match url::Url::parse(&self.url) {
            Ok(url) => locality::remote_host(&url, |name| std::env::var(name).ok()),
            Err(_) => Some(RemoteHost {
                host: String::new(),
                from: HostFrom::Url,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
