//! Opening a pool to a [`Target`], and saying why it could not be opened.

use sea_orm::{ConnectOptions, DatabaseConnection, DbBackend};
use std::time::Duration;

use super::Target;
use super::tls::check_root_cert;
use crate::Error;

impl Target {
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
        // `-s ''` is refused, not taken for "no schema given".
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
            let search_path = schema.map(search_path);
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

/// A schema name `-s` can take: one schema, quoted as given. A `"` or `,`
/// would change the `SET search_path` statement sent on every connection
/// (and the server's refusal would only show as a connect timeout). A rule
/// of this crate's quoting, which no crate states.
pub fn check_schema_name(schema: &str) -> Result<(), String> {
    if schema.is_empty() || schema.contains(['"', ',', '\0']) {
        Err(format!(
            "invalid schema name {schema:?}: give one schema name, without '\"' or ','"
        ))
    } else {
        Ok(())
    }
}

/// The `search_path` startup parameter for `schema`: as given when the
/// server would read it unquoted as the same name, else double-quoted.
/// Hand-written: sea-query quotes every identifier, and this keeps the
/// plain names plain in what the server shows (`SHOW search_path`).
fn search_path(schema: &str) -> String {
    let plain = schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        schema.to_owned()
    } else {
        format!("\"{schema}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::{check_schema_name, search_path};

    #[test]
    fn schema_names_with_quotes_commas_or_nul_are_refused() {
        for name in ["public", "tenant_1", "Tenant", "a b", "ü", "x.y", "$user"] {
            assert_eq!(check_schema_name(name), Ok(()), "{name:?}");
        }
        for name in ["", "a,b", "a\"b", "\"", "a\0b"] {
            assert_eq!(
                check_schema_name(name),
                Err(format!(
                    "invalid schema name {name:?}: give one schema name, without '\"' or ','"
                )),
                "{name:?}"
            );
        }
        assert_eq!(
            check_schema_name("a,b"),
            Err("invalid schema name \"a,b\": give one schema name, without '\"' or ','".into())
        );
    }

    #[test]
    fn the_search_path_quotes_names_the_server_would_fold_or_split() {
        for name in ["public", "tenant_1", "_x", "a9"] {
            assert_eq!(search_path(name), name);
        }
        for (name, quoted) in [
            ("Tenant", "\"Tenant\""),
            ("9a", "\"9a\""),
            ("a b", "\"a b\""),
            ("a-b", "\"a-b\""),
            ("café", "\"café\""),
            ("$user", "\"$user\""),
        ] {
            assert_eq!(search_path(name), quoted, "{name}");
        }
    }
}
