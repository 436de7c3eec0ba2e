//! Which database a run talks to, where that was configured, and how it is
//! shown: a URL's password never leaves this module unmasked.
//!
//! The URL comes from, first found wins: the `-u/--database-url` flag; the
//! database's own variable (`SKETCH2BIM_DATABASE_URL`, `ASK_DATABASE_URL`);
//! `DATABASE_URL`; the same two names in a `.env` file in the working
//! directory; else a SQLite file in the working directory.

use sea_orm::{ConnectOptions, DatabaseConnection, DbBackend};
use std::time::Duration;

use crate::{Database, Error};

/// How long connecting may take before the run fails, unless the URL's
/// `connect_timeout` says otherwise.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest `connect_timeout` a URL may give, in seconds.
const MAX_CONNECT_TIMEOUT_SECONDS: u64 = 86_400;

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
            Origin::Flag => f.write_str("--database-url"),
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

impl Target {
    /// Checks `url`; the error names `origin`, never the URL's password.
    pub fn parse(url: &str, origin: Origin) -> Result<Target, Error> {
        let invalid = |reason: String| Error::InvalidUrl {
            origin: origin.to_string(),
            reason,
        };
        let url = url.trim();
        let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        let backend = match parsed.scheme() {
            "postgres" | "postgresql" => DbBackend::Postgres,
            "sqlite" => DbBackend::Sqlite,
            other => {
                return Err(invalid(format!(
                    "unsupported scheme '{other}', expected postgres:// or sqlite://"
                )));
            }
        };
        let mut secrets = Vec::new();
        let mut shown = parsed.clone();
        if let Some(password) = parsed.password() {
            secrets.push(password.to_owned());
            let decoded = percent_encoding::percent_decode_str(password).decode_utf8_lossy();
            if decoded != password {
                secrets.push(decoded.into_owned());
            }
            let _ = shown.set_password(Some("***"));
        }
        // `password=` in the query string is accepted by libpq-style URLs too.
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.iter().any(|(k, _)| k == "password") {
            let mut q = shown.query_pairs_mut();
            q.clear();
            for (k, v) in &pairs {
                if k == "password" {
                    secrets.push(v.clone());
                    q.append_pair(k, "***");
                } else {
                    q.append_pair(k, v);
                }
            }
        }
        // A password that is also the user name, host or database name is
        // shown there anyway: masking its quoted echoes would only hide
        // those (`role "app" does not exist`), while the URL's password
        // component is masked all the same.
        let shown_parts = [
            parsed.username(),
            parsed.host_str().unwrap_or(""),
            parsed.path().trim_start_matches('/'),
        ];
        secrets.retain(|s| !s.is_empty() && !shown_parts.contains(&s.as_str()));
        if backend == DbBackend::Sqlite && sqlite_location(url) == SqliteLocation::Unnamed {
            // SQLite opens a private temporary database for an empty name,
            // one per connection: a run would migrate part of it and lose it.
            return Err(invalid(
                "it names no SQLite file; give one, e.g. sqlite://app.sqlite?mode=rwc".to_owned(),
            ));
        }
        let mut connect_timeout = CONNECT_TIMEOUT;
        let mut statement_cache_capacity = None;
        let mut root_cert = None;
        let mut driver_url = url.to_owned();
        if backend == DbBackend::Postgres {
            // Parameters the driver ignores or would refuse in words of its
            // own are checked here, naming them; those it ignores are taken
            // out of what it sees and applied when connecting.
            let mut kept = Vec::new();
            for (key, value) in &pairs {
                match key.as_str() {
                    // libpq's parameter, in seconds.
                    "connect_timeout" => {
                        connect_timeout = parse_connect_timeout(value).map_err(&invalid)?;
                        continue;
                    }
                    "statement_cache_capacity" | "statement-cache-capacity" => {
                        let capacity = value.trim().parse::<usize>().map_err(|_| {
                            invalid(format!(
                                "{key}={value:?}: expected a whole number of statements"
                            ))
                        })?;
                        if key == "statement_cache_capacity" {
                            statement_cache_capacity = Some(capacity);
                            continue;
                        }
                    }
                    "sslmode" | "ssl-mode" => {
                        const MODES: [&str; 6] = [
                            "disable",
                            "allow",
                            "prefer",
                            "require",
                            "verify-ca",
                            "verify-full",
                        ];
                        if !MODES.contains(&value.to_ascii_lowercase().as_str()) {
                            return Err(invalid(format!(
                                "{key}={value:?}: expected disable, allow, prefer, require, \
                                 verify-ca or verify-full"
                            )));
                        }
                    }
                    "sslrootcert" | "ssl-root-cert" | "ssl-ca" => {
                        root_cert = Some(value.clone());
                    }
                    _ => {}
                }
                kept.push((key, value));
            }
            if kept.len() != pairs.len() {
                let mut stripped = parsed.clone();
                stripped.set_query(None);
                if !kept.is_empty() {
                    stripped.query_pairs_mut().extend_pairs(kept);
                }
                driver_url = stripped.to_string();
            }
        }
        Ok(Target {
            url: url.to_owned(),
            origin,
            backend,
            redacted: shown.to_string(),
            secrets,
            driver_url,
            connect_timeout,
            statement_cache_capacity,
            root_cert,
        })
    }

    /// How long connecting may take: the URL's `connect_timeout`, else 5 s.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Finds the URL for `database` as the module docs describe.
    pub fn resolve(database: &Database, flag: Option<&str>) -> Result<Target, Error> {
        if let Some(url) = flag {
            return Target::parse(url, Origin::Flag);
        }
        // A variable that is set counts, even empty: an empty URL is a
        // mistake, not a request for the SQLite default.
        for name in [database.url_env, "DATABASE_URL"] {
            match std::env::var(name) {
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
        if let Some(vars) = read_dotenv(std::path::Path::new(DOTENV))? {
            for name in [database.url_env, "DATABASE_URL"] {
                if let Some((_, url)) = vars.iter().find(|(k, _)| k == name) {
                    return Target::parse_set(url, Origin::DotEnv(name));
                }
            }
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
            Ok(url) => remote_host(&url, |name| std::env::var(name).ok()),
            Err(_) => Some(RemoteHost {
                host: String::new(),
                from: HostFrom::Url,
            }),
        }
    }

    /// Opens a pool to the target: at most two connections (one holds the
    /// migration lock while the other migrates), a 5 s connect timeout, no
    /// health-check query per checkout. `schema` sets PostgreSQL's search
    /// path. On SQLite a writer waits for another run's write lock up to
    /// `lock_timeout`.
    pub async fn connect(
        &self,
        schema: Option<&str>,
        log_statements: bool,
        lock_timeout: std::time::Duration,
    ) -> Result<DatabaseConnection, Error> {
        if let Some(path) = &self.root_cert {
            check_root_cert(std::path::Path::new(path))?;
        }
        let mut options = ConnectOptions::new(self.driver_url.clone());
        options
            .max_connections(2)
            .min_connections(0)
            .connect_timeout(self.connect_timeout)
            .test_before_acquire(false)
            .sqlx_logging(log_statements)
            .sqlx_logging_level(log::LevelFilter::Info);
        let schema = schema.filter(|s| !s.is_empty());
        if let Some(schema) = schema {
            check_schema_name(schema).map_err(|reason| Error::InvalidSchemaName { reason })?;
        }
        if self.backend == DbBackend::Sqlite {
            options.map_sqlx_sqlite_opts(move |o| o.busy_timeout(lock_timeout));
        }
        if self.backend == DbBackend::Postgres {
            // sqlx keeps the brackets of `[::1]` and hands them to the
            // resolver, which cannot look them up: give it the address.
            let ipv6 = self.ipv6_host().map(|ip| ip.to_string());
            // The search path is a startup parameter of every connection,
            // not a `SET` after connecting: behind a transaction-pooling
            // proxy a session's `SET` lands on one server connection and
            // the run's transactions on others. A proxy that cannot pass
            // startup options on refuses the connection instead.
            let search_path = schema.map(|s| {
                let plain = s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if plain {
                    s.to_owned()
                } else {
                    format!("\"{s}\"")
                }
            });
            let statement_cache_capacity = self.statement_cache_capacity;
            options.map_sqlx_postgres_opts(move |o| {
                let o = match statement_cache_capacity {
                    Some(capacity) => o.statement_cache_capacity(capacity),
                    None => o,
                };
                let o = match &search_path {
                    Some(path) => o.options([("search_path", path)]),
                    None => o,
                };
                // PgBouncer refuses a connection that sets a startup
                // parameter it does not know (`extra_float_digits`), unless
                // told to ignore it; the server's default prints floats
                // exactly anyway (PostgreSQL 12 and later).
                let o = o.extra_float_digits(None);
                match &ipv6 {
                    Some(host) => o.host(host),
                    None => o,
                }
            });
        }
        sea_orm::Database::connect(options)
            .await
            .map_err(|source| self.connect_error(source))
    }

    /// The host when it is an IPv6 literal (`postgres://u@[::1]:5432/db`).
    fn ipv6_host(&self) -> Option<std::net::Ipv6Addr> {
        if self.backend != DbBackend::Postgres {
            return None;
        }
        match url::Url::parse(&self.url).ok()?.host()? {
            url::Host::Ipv6(ip) => Some(ip),
            _ => None,
        }
    }

    /// The pool retries refused connections until its timeout and then only
    /// says it timed out: ask the network why.
    fn connect_error(&self, source: sea_orm::DbErr) -> Error {
        let timed_out = matches!(&source, sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))
            if matches!(e.as_ref(), sea_orm::sqlx::Error::PoolTimedOut));
        if timed_out
            && self.backend == DbBackend::Postgres
            && let Some(why) = self.probe_tcp()
        {
            return Error::Connect {
                target: self.to_string(),
                source: sea_orm::DbErr::Custom(why),
            };
        }
        let source = if timed_out {
            sea_orm::DbErr::Custom(format!(
                "timed out after {} s",
                self.connect_timeout.as_secs()
            ))
        } else {
            source
        };
        Error::Connect {
            target: self.to_string(),
            source,
        }
    }

    fn probe_tcp(&self) -> Option<String> {
        use std::net::ToSocketAddrs;
        let parsed = url::Url::parse(&self.url).ok()?;
        let port = parsed.port().unwrap_or(5432);
        let addrs = match parsed.host()? {
            url::Host::Ipv6(ip) => vec![std::net::SocketAddr::from((ip, port))],
            url::Host::Ipv4(ip) => vec![std::net::SocketAddr::from((ip, port))],
            url::Host::Domain(host) if host.is_empty() || host.starts_with('%') => return None,
            url::Host::Domain(host) => match (host, port).to_socket_addrs() {
                Ok(addrs) => addrs.collect(),
                Err(e) => return Some(format!("cannot resolve host {host}: {e}")),
            },
        };
        let mut last = None;
        for addr in addrs {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                Ok(_) => return None,
                Err(e) => last = Some(format!("{addr}: {}", e.to_string().to_lowercase())),
            }
        }
        last.map(|why| {
            format!(
                "timed out after {} s ({why})",
                self.connect_timeout.as_secs()
            )
        })
    }
}

/// Where a SQLite URL keeps its database, read as the driver reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteLocation {
    /// `sqlite::memory:`, `sqlite://:memory:`, `?mode=memory`: gone when the
    /// run ends.
    Memory,
    /// `sqlite://` with no file name.
    Unnamed,
    /// A file; `create` when the URL asks for it to be created if missing
    /// (`?mode=rwc`).
    File {
        path: std::path::PathBuf,
        create: bool,
    },
}

/// [`SqliteLocation`] of a `sqlite:` URL: the part before `?` (percent
/// decoded) is the file, `:memory:` or `mode=memory` an in-memory database.
pub fn sqlite_location(url: &str) -> SqliteLocation {
    let rest = url
        .trim()
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    let mut create = false;
    for (key, value) in url::form_urlencoded::parse(params.as_bytes()) {
        if key == "mode" {
            match &*value {
                "memory" => return SqliteLocation::Memory,
                "rwc" => create = true,
                _ => create = false,
            }
        }
    }
    if database == ":memory:" {
        return SqliteLocation::Memory;
    }
    let path = percent_encoding::percent_decode_str(database)
        .decode_utf8_lossy()
        .into_owned();
    if path.is_empty() {
        return SqliteLocation::Unnamed;
    }
    SqliteLocation::File {
        path: path.into(),
        create,
    }
}

/// The CA file of `sslrootcert` must hold at least one PEM certificate: the
/// driver reports a missing file without its name, and reads a file with
/// none as no certificate at all.
fn check_root_cert(path: &std::path::Path) -> Result<(), Error> {
    use std::io::Read;
    let error = |source: std::io::Error| Error::Io {
        action: "cannot use the sslrootcert file",
        path: path.display().to_string(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(16 * 1024 * 1024).read_to_string(&mut text))
        .map_err(error)?;
    if pem_certificates(&text) == 0 {
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        )));
    }
    Ok(())
}

/// How many well-formed PEM certificate blocks `text` holds.
fn pem_certificates(text: &str) -> usize {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut count = 0;
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(end) = after.find(END) else {
            break;
        };
        let body: String = after[..end].split_whitespace().collect();
        let base64 = !body.is_empty()
            && body.len().is_multiple_of(4)
            && body
                .trim_end_matches('=')
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/');
        if base64 {
            count += 1;
        }
        rest = &after[end + END.len()..];
    }
    count
}

/// libpq's `connect_timeout`: whole seconds. libpq's 0 (wait forever) is
/// refused: a run must not hang.
fn parse_connect_timeout(value: &str) -> Result<Duration, String> {
    match value.trim().parse::<u64>() {
        Ok(seconds) if (1..=MAX_CONNECT_TIMEOUT_SECONDS).contains(&seconds) => {
            Ok(Duration::from_secs(seconds))
        }
        _ => Err(format!(
            "connect_timeout={value:?}: expected whole seconds from 1 to \
             {MAX_CONNECT_TIMEOUT_SECONDS}"
        )),
    }
}

/// A server that a PostgreSQL URL may lead to and that is not known to be
/// local.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHost {
    pub host: String,
    pub from: HostFrom,
}

/// Where a URL's server was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostFrom {
    /// The URL's host.
    Url,
    /// A `?host=` or `?hostaddr=` parameter.
    Parameter(&'static str),
    /// `PGHOST` or `PGHOSTADDR`, used when the URL names no server.
    Env(&'static str),
}

impl std::fmt::Display for RemoteHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.from {
            HostFrom::Url => write!(f, "host {:?}", self.host),
            HostFrom::Parameter(key) => write!(f, "host {:?} from ?{key}=", self.host),
            HostFrom::Env(name) => write!(f, "host {:?} from {name}", self.host),
        }
    }
}

/// The first server of a PostgreSQL `url` that is not known to be local, as
/// the driver chooses it: the URL's host, every `host=` and `hostaddr=`
/// parameter (a later one overrides it), and only when the URL names none,
/// `PGHOSTADDR` and `PGHOST` from `env`; with none of them, the driver's
/// default (a local socket directory or localhost). Local means `localhost`,
/// a loopback address or a socket directory; any other name, a list, or an
/// empty value is taken as remote, without looking it up.
pub(crate) fn remote_host(
    url: &url::Url,
    env: impl Fn(&str) -> Option<String>,
) -> Option<RemoteHost> {
    let mut named = Vec::new();
    if let Some(host) = url.host_str().filter(|h| !h.is_empty()) {
        named.push(RemoteHost {
            host: percent_encoding::percent_decode_str(host)
                .decode_utf8_lossy()
                .into_owned(),
            from: HostFrom::Url,
        });
    }
    for (key, value) in url.query_pairs() {
        let key = match &*key {
            "host" => "host",
            "hostaddr" => "hostaddr",
            _ => continue,
        };
        named.push(RemoteHost {
            host: value.into_owned(),
            from: HostFrom::Parameter(key),
        });
    }
    if named.is_empty() {
        for name in ["PGHOSTADDR", "PGHOST"] {
            if let Some(host) = env(name) {
                named.push(RemoteHost {
                    host,
                    from: HostFrom::Env(name),
                });
            }
        }
    }
    named.into_iter().find(|h| !is_local_host(&h.host))
}

/// `localhost`, a loopback address, or a Unix socket directory.
fn is_local_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host.starts_with('/') {
        return true;
    }
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// The file of variables read from the working directory.
const DOTENV: &str = ".env";

/// The most of `.env` that is read: a URL takes a line, and a device such as
/// `/dev/zero` must not fill the memory.
const DOTENV_MAX_BYTES: u64 = 64 * 1024;

/// The variables of the `.env` file at `path`, or `None` when there is none.
/// Lines that do not parse are skipped, as before; a file that cannot be read
/// (a directory, a named pipe, a device, too large, not UTF-8, unreadable, a
/// dangling link) is an error naming it, at once.
fn read_dotenv(path: &std::path::Path) -> Result<Option<Vec<(String, String)>>, Error> {
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
    if bytes.len() as u64 > DOTENV_MAX_BYTES {
        return Err(unreadable(std::io::Error::other(format!(
            "larger than {} KiB",
            DOTENV_MAX_BYTES / 1024
        ))));
    }
    if let Err(e) = std::str::from_utf8(&bytes) {
        return Err(unreadable(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )));
    }
    Ok(Some(
        dotenvy::from_read_iter(bytes.as_slice())
            .filter_map(Result::ok)
            .collect(),
    ))
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// A schema name `-s` can take: one schema, quoted as given. A `"` or `,`
/// would change the `SET search_path` statement sent on every connection
/// (and the server's refusal would only show as a connect timeout).
pub fn check_schema_name(schema: &str) -> Result<(), String> {
    if schema.is_empty() || schema.contains(['"', ',', '\0']) {
        Err(format!(
            "invalid schema name {schema:?}: give one schema name, without '\"' or ','"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{HostFrom, Origin, RemoteHost, Target, remote_host};

    /// [`remote_host`] of `url` with `env` as the environment.
    fn remote(url: &str, env: &[(&str, &str)]) -> Option<RemoteHost> {
        let parsed = match url::Url::parse(url) {
            Ok(parsed) => parsed,
            Err(e) => panic!("{url}: {e}"),
        };
        remote_host(&parsed, |name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn host(host: &str, from: HostFrom) -> Option<RemoteHost> {
        Some(RemoteHost {
            host: host.to_owned(),
            from,
        })
    }

    #[test]
    fn locality_is_what_the_driver_will_connect_to() {
        let pghost = [("PGHOST", "192.0.2.1")];
        // Local: loopback, localhost, sockets, the driver's default.
        for url in [
            "postgres://u@127.0.0.1/db",
            "postgres://u@127.3.4.5:6432/db",
            "postgres://u@[::1]/db",
            "postgres://u@LOCALHOST/db",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/db",
            "postgres:///db?host=/var/run/postgresql",
            "postgres://u@localhost/db?host=127.0.0.1&hostaddr=::1",
            "postgres:///db",
        ] {
            assert_eq!(remote(url, &[]), None, "{url}");
        }
        // The URL's host wins over PGHOST, as it does in the driver.
        assert_eq!(remote("postgres://u@localhost/db", &pghost), None);
        assert_eq!(
            remote("postgres:///db?host=/tmp", &[("PGHOSTADDR", "192.0.2.1")]),
            None
        );

        // Remote: any host the driver may use that is not local.
        assert_eq!(
            remote("postgres://app:pw@localhost/db?host=192.0.2.1", &[]),
            host("192.0.2.1", HostFrom::Parameter("host"))
        );
        assert_eq!(
            remote("postgres://app:pw@127.0.0.1/db?host=db.internal", &[]),
            host("db.internal", HostFrom::Parameter("host"))
        );
        assert_eq!(
            remote("postgres://u@localhost/db?hostaddr=10.0.0.5", &[]),
            host("10.0.0.5", HostFrom::Parameter("hostaddr"))
        );
        assert_eq!(
            remote("postgres:///db?user=app", &pghost),
            host("192.0.2.1", HostFrom::Env("PGHOST"))
        );
        assert_eq!(
            remote(
                "postgres:///db",
                &[("PGHOSTADDR", "10.1.1.1"), ("PGHOST", "localhost")]
            ),
            host("10.1.1.1", HostFrom::Env("PGHOSTADDR"))
        );
        assert_eq!(
            remote("postgres://u@db.internal/db", &[]),
            host("db.internal", HostFrom::Url)
        );
        // Unknown is remote: a name that might resolve to loopback, a list,
        // an empty value.
        assert_eq!(
            remote("postgres://u@localhost.example/db", &[]),
            host("localhost.example", HostFrom::Url)
        );
        assert_eq!(
            remote("postgres:///db?host=localhost,db.internal", &[]),
            host("localhost,db.internal", HostFrom::Parameter("host"))
        );
        assert_eq!(
            remote("postgres:///db?host=", &[]),
            host("", HostFrom::Parameter("host"))
        );
        assert_eq!(
            remote("postgres:///db", &[("PGHOST", "")]),
            host("", HostFrom::Env("PGHOST"))
        );
    }

    #[test]
    fn sqlite_locations_as_the_driver_reads_them() {
        use super::{SqliteLocation, sqlite_location};
        let file = |path: &str, create: bool| SqliteLocation::File {
            path: path.into(),
            create,
        };
        for (url, expected) in [
            ("sqlite::memory:", SqliteLocation::Memory),
            ("sqlite://:memory:", SqliteLocation::Memory),
            ("sqlite://?mode=memory", SqliteLocation::Memory),
            ("sqlite://x.db?mode=memory", SqliteLocation::Memory),
            ("sqlite://", SqliteLocation::Unnamed),
            ("sqlite:", SqliteLocation::Unnamed),
            ("sqlite://?mode=rwc", SqliteLocation::Unnamed),
            ("sqlite://x.db", file("x.db", false)),
            ("sqlite://x.db?mode=ro", file("x.db", false)),
            ("sqlite://x.db?mode=rwc", file("x.db", true)),
            ("sqlite:///tmp/a%20b.db?mode=rwc", file("/tmp/a b.db", true)),
            ("sqlite:x.db?cache=shared", file("x.db", false)),
        ] {
            assert_eq!(sqlite_location(url), expected, "{url}");
        }
        let refused = Target::parse("sqlite://?mode=rwc", Origin::Flag).map(|t| t.to_string());
        assert_eq!(
            refused.map_err(|e| e.to_string()),
            Err(
                "invalid database URL from --database-url: it names no SQLite file; give one, \
                 e.g. sqlite://app.sqlite?mode=rwc"
                    .to_owned()
            )
        );
    }

    #[test]
    fn connect_timeout_is_libpqs_seconds_and_hidden_from_the_driver() {
        let parse = |url: &str| Target::parse(url, Origin::Flag).map_err(|e| e.to_string());
        let target = parse("postgres://u:pw@h/x?connect_timeout=1&sslmode=require");
        assert_eq!(
            target
                .as_ref()
                .map(|t| (t.connect_timeout(), t.driver_url.as_str())),
            Ok((
                std::time::Duration::from_secs(1),
                "postgres://u:pw@h/x?sslmode=require"
            ))
        );
        let target = parse("postgres://u@h/x?connect_timeout=30");
        assert_eq!(
            target
                .as_ref()
                .map(|t| (t.connect_timeout(), t.driver_url.as_str())),
            Ok((std::time::Duration::from_secs(30), "postgres://u@h/x"))
        );
        let target = parse("postgres://u@h/x?application_name=a%20b");
        assert_eq!(
            target
                .as_ref()
                .map(|t| (t.connect_timeout(), t.driver_url.as_str())),
            Ok((
                std::time::Duration::from_secs(5),
                "postgres://u@h/x?application_name=a%20b"
            ))
        );
        for value in ["0", "-1", "abc", "1.5", "", "86401"] {
            assert_eq!(
                parse(&format!("postgres://u:pw@h/x?connect_timeout={value}"))
                    .map(|t| t.to_string()),
                Err(format!(
                    "invalid database URL from --database-url: connect_timeout={value:?}: \
                     expected whole seconds from 1 to 86400"
                )),
                "{value}"
            );
        }
    }

    #[test]
    fn tls_and_statement_cache_parameters_are_checked_by_name() {
        let parse = |url: &str| Target::parse(url, Origin::Flag).map_err(|e| e.to_string());
        assert_eq!(
            parse("postgres://u:pw@h/x?sslmode=bogus").map(|t| t.to_string()),
            Err(
                "invalid database URL from --database-url: sslmode=\"bogus\": expected \
                 disable, allow, prefer, require, verify-ca or verify-full"
                    .to_owned()
            )
        );
        assert!(parse("postgres://u@h/x?sslmode=VERIFY-FULL").is_ok());
        for key in ["statement_cache_capacity", "statement-cache-capacity"] {
            assert_eq!(
                parse(&format!("postgres://u@h/x?{key}=abc")).map(|t| t.to_string()),
                Err(format!(
                    "invalid database URL from --database-url: {key}=\"abc\": expected a \
                     whole number of statements"
                ))
            );
        }
        let target = parse("postgres://u@h/x?statement_cache_capacity=0&sslmode=require");
        assert_eq!(
            target
                .as_ref()
                .map(|t| (t.statement_cache_capacity, t.driver_url.as_str())),
            Ok((Some(0), "postgres://u@h/x?sslmode=require"))
        );
    }

    #[test]
    fn a_pem_file_counts_its_well_formed_certificates() {
        use super::pem_certificates;
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_certificates(cert), 1);
        assert_eq!(pem_certificates(&format!("junk\n{cert}{cert}")), 2);
        assert_eq!(pem_certificates("not a certificate at all"), 0);
        assert_eq!(
            pem_certificates("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"),
            0
        );
        assert_eq!(pem_certificates("-----BEGIN CERTIFICATE-----\nMIIB"), 0);
        assert_eq!(
            pem_certificates("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"),
            0
        );
    }

    #[test]
    fn sqlite_is_local() {
        let target = Target::parse("sqlite://x.db?mode=rwc", Origin::Flag).ok();
        assert_eq!(target.and_then(|t| t.remote_host()), None);
    }

    #[test]
    fn secrets_are_the_passwords_not_shown_elsewhere() {
        let secrets = |url: &str| -> Vec<String> {
            match Target::parse(url, Origin::Flag) {
                Ok(target) => target.secrets().into_iter().map(str::to_owned).collect(),
                Err(e) => panic!("{url}: {e}"),
            }
        };
        assert_eq!(secrets("postgres://u:s@h/x"), vec!["s"]);
        assert_eq!(secrets("postgres://u:p%40ss@h/x"), vec!["p%40ss", "p@ss"]);
        assert_eq!(secrets("postgres://h/x?password=pw"), vec!["pw"]);
        // Equal to the user name, host or database name: shown there anyway.
        assert!(secrets("postgres://app:app@h/x").is_empty());
        assert!(secrets("postgres://u:db.internal@db.internal/x").is_empty());
        assert!(secrets("postgres://u:kvshvl@h/kvshvl").is_empty());
        let masked = Target::parse("postgres://app:app@h/app", Origin::Flag)
            .map(|t| t.to_string())
            .unwrap_or_default();
        assert_eq!(masked, "postgres://app:***@h/app");
    }
}
