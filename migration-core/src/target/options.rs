//! The parameters of a PostgreSQL URL that this crate reads or checks before
//! the driver sees them: `connect_timeout`, `statement_cache_capacity`,
//! `sslmode` and `sslrootcert`.

use std::time::Duration;

/// How long connecting may take before the run fails, unless the URL's
/// `connect_timeout` says otherwise.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest `connect_timeout` a URL may give, in seconds.
const MAX_CONNECT_TIMEOUT_SECONDS: u64 = 86_400;

/// libpq's TLS modes, the values `sslmode` may take (in any case).
const SSL_MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// What connecting takes from a URL's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DriverOptions {
    /// The URL less the parameters this crate applies itself.
    pub(super) driver_url: String,
    pub(super) connect_timeout: Duration,
    /// `statement_cache_capacity`, which the driver only knows spelt
    /// `statement-cache-capacity`.
    pub(super) statement_cache_capacity: Option<usize>,
    /// `sslrootcert` (or `ssl-root-cert`, `ssl-ca`): checked before
    /// connecting.
    pub(super) root_cert: Option<String>,
}

impl DriverOptions {
    /// For a URL whose parameters all go to the driver as given (SQLite).
    pub(super) fn as_given(url: &str) -> DriverOptions {
        DriverOptions {
            driver_url: url.to_owned(),
            connect_timeout: CONNECT_TIMEOUT,
            statement_cache_capacity: None,
            root_cert: None,
        }
    }
}

/// The options of the PostgreSQL URL `url` (`parsed`). Parameters the
/// driver ignores or would refuse in words of its own are checked here,
/// naming them; those it ignores are taken out of what it sees and applied
/// when connecting. The error is the reason, for [`crate::Error::InvalidUrl`].
pub(super) fn postgres_options(url: &str, parsed: &url::Url) -> Result<DriverOptions, String> {
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut options = DriverOptions::as_given(url);
    let mut kept = Vec::new();
    for (key, value) in &pairs {
        match key.as_str() {
            // libpq's parameter, in seconds.
            "connect_timeout" => {
                options.connect_timeout = parse_connect_timeout(value)?;
                continue;
            }
            "statement_cache_capacity" | "statement-cache-capacity" => {
                let capacity = value.trim().parse::<usize>().map_err(|_| {
                    format!("{key}={value:?}: expected a whole number of statements")
                })?;
                if key == "statement_cache_capacity" {
                    options.statement_cache_capacity = Some(capacity);
                    continue;
                }
            }
            "sslmode" | "ssl-mode" if !SSL_MODES.contains(&value.to_ascii_lowercase().as_str()) => {
                return Err(format!(
                    "{key}={value:?}: expected disable, allow, prefer, require, \
                     verify-ca or verify-full"
                ));
            }
            "sslrootcert" | "ssl-root-cert" | "ssl-ca" => {
                options.root_cert = Some(value.clone());
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
        options.driver_url = stripped.to_string();
    }
    Ok(options)
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

#[cfg(test)]
mod tests {
    use crate::target::{Origin, Target};

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
}
