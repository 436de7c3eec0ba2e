//! The parameters of a PostgreSQL URL that this crate reads or checks before
//! the driver sees them: `connect_timeout` and `statement_cache_capacity`,
//! which the driver does not know, `sslrootcert`, whose file is checked
//! before connecting, and those whose values the driver's own parser
//! refuses (`sslmode`, `port`, …), named here as it does not name them.

use sea_orm::sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::time::Duration;

/// How long connecting may take before the run fails, unless the URL's
/// `connect_timeout` says otherwise.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest `connect_timeout` a URL may give, in seconds.
const MAX_CONNECT_TIMEOUT_SECONDS: u64 = 86_400;

const SSL_MODES: &str = "expected disable, allow, prefer, require, verify-ca or verify-full";

const STATEMENTS: &str = "expected a whole number of statements";

const UNDECODABLE: &str =
    "its user name, password, host or database name is not UTF-8 once percent-decoded";

/// The parameters whose values the driver parses, with what each takes.
/// Whether a value is taken is the driver's call ([`driver_takes`]); its
/// error names neither the parameter nor what it takes ("invalid digit
/// found in string"), so the message is this crate's.
const DRIVER_PARSED: [(&str, &str); 5] = [
    ("sslmode", SSL_MODES),
    ("ssl-mode", SSL_MODES),
    ("statement-cache-capacity", STATEMENTS),
    ("port", "expected a port number from 0 to 65535"),
    ("hostaddr", "expected an IP address"),
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

/// The options of the PostgreSQL URL `url` (`parsed`). The parameters the
/// driver ignores are checked here and taken out of what it sees, to be
/// applied when connecting; those it parses are parsed by it, each alone,
/// so that the first it refuses is named. The error is the reason, for
/// [`crate::Error::InvalidUrl`].
pub(super) fn postgres_options(url: &str, parsed: &url::Url) -> Result<DriverOptions, String> {
    let probe = driver_probe(parsed);
    if !driver_takes(&probe) {
        // Its error would say which bytes, of a part that may be the
        // password: the message names the parts, not their text.
        return Err(UNDECODABLE.to_owned());
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut options = DriverOptions::as_given(url);
    let mut kept = Vec::new();
    for (key, value) in &pairs {
        match key.as_str() {
            // libpq's parameter, in seconds; the driver ignores it.
            "connect_timeout" => {
                options.connect_timeout = parse_connect_timeout(value)?;
                continue;
            }
            // The driver knows only `statement-cache-capacity`.
            "statement_cache_capacity" => {
                let capacity = value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("{key}={value:?}: {STATEMENTS}"))?;
                options.statement_cache_capacity = Some(capacity);
                continue;
            }
            "sslrootcert" | "ssl-root-cert" | "ssl-ca" => {
                options.root_cert = Some(value.clone());
            }
            _ => {}
        }
        if let Some((_, expected)) = DRIVER_PARSED.iter().find(|(name, _)| name == key) {
            let mut alone = probe.clone();
            alone.query_pairs_mut().append_pair(key, value);
            if !driver_takes(&alone) {
                return Err(format!("{key}={value:?}: {expected}"));
            }
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

/// `parsed` without its parameters, and with a password when it has none:
/// the driver would otherwise look one up in `~/.pgpass` for each probe.
fn driver_probe(parsed: &url::Url) -> url::Url {
    let mut probe = parsed.clone();
    probe.set_query(None);
    probe.set_fragment(None);
    if probe.password().is_none() {
        // A URL without a host has no room for one: the look-up is then
        // what connecting does too.
        let _ = probe.set_password(Some("probe"));
    }
    probe
}

/// Whether the driver's own URL parser (sqlx's) takes `url`.
fn driver_takes(url: &url::Url) -> bool {
    PgConnectOptions::from_str(url.as_str()).is_ok()
}

/// libpq's `connect_timeout`: whole seconds. libpq's 0 (wait forever) is
/// refused: a run must not hang. The driver does not know the parameter.
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
    use super::{DriverOptions, parse_connect_timeout, postgres_options};
    use crate::target::{Origin, Target};
    use std::time::Duration;

    /// [`postgres_options`] of `url`.
    fn options(url: &str) -> Result<DriverOptions, String> {
        match url::Url::parse(url) {
            Ok(parsed) => postgres_options(url, &parsed),
            Err(e) => panic!("{url}: {e}"),
        }
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
                    "invalid database URL from the command line: connect_timeout={value:?}: \
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
                "invalid database URL from the command line: sslmode=\"bogus\": expected \
                 disable, allow, prefer, require, verify-ca or verify-full"
                    .to_owned()
            )
        );
        assert!(parse("postgres://u@h/x?sslmode=VERIFY-FULL").is_ok());
        for key in ["statement_cache_capacity", "statement-cache-capacity"] {
            assert_eq!(
                parse(&format!("postgres://u@h/x?{key}=abc")).map(|t| t.to_string()),
                Err(format!(
                    "invalid database URL from the command line: {key}=\"abc\": expected a \
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
    fn connect_timeout_accepts_whole_seconds_from_1_to_a_day() {
        for (value, seconds) in [
            ("1", 1),
            ("30", 30),
            (" 7 ", 7),
            ("+5", 5),
            ("86400", 86_400),
        ] {
            assert_eq!(
                parse_connect_timeout(value),
                Ok(Duration::from_secs(seconds)),
                "{value:?}"
            );
        }
        for value in [
            "0",
            "-1",
            "abc",
            "1.5",
            "",
            " ",
            "86401",
            "1s",
            "99999999999999999999",
        ] {
            assert_eq!(
                parse_connect_timeout(value),
                Err(format!(
                    "connect_timeout={value:?}: expected whole seconds from 1 to 86400"
                )),
                "{value:?}"
            );
        }
    }

    #[test]
    fn sslmode_takes_libpqs_six_modes_in_either_spelling() {
        for mode in [
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
            "Require",
        ] {
            for key in ["sslmode", "ssl-mode"] {
                let url = format!("postgres://u@h/x?{key}={mode}");
                let parsed = options(&url);
                // The driver applies it: it stays in the URL it is given.
                assert_eq!(parsed.map(|o| o.driver_url), Ok(url.clone()), "{url}");
            }
        }
        for (key, mode) in [
            ("sslmode", "bogus"),
            ("sslmode", ""),
            ("ssl-mode", "verify_full"),
            ("sslmode", " require"),
            ("sslmode", "true"),
        ] {
            assert_eq!(
                options(&format!("postgres://u@h/x?{key}={mode}")),
                Err(format!(
                    "{key}={mode:?}: expected disable, allow, prefer, require, verify-ca or \
                     verify-full"
                )),
                "{key}={mode}"
            );
        }
    }

    #[test]
    fn statement_cache_capacity_is_applied_in_its_underscore_spelling() {
        assert_eq!(
            options("postgres://u@h/x?statement_cache_capacity=%2012%20")
                .map(|o| (o.statement_cache_capacity, o.driver_url)),
            Ok((Some(12), "postgres://u@h/x".to_owned()))
        );
        // The driver's own spelling is checked and left to the driver.
        assert_eq!(
            options("postgres://u@h/x?statement-cache-capacity=100")
                .map(|o| (o.statement_cache_capacity, o.driver_url)),
            Ok((
                None,
                "postgres://u@h/x?statement-cache-capacity=100".to_owned()
            ))
        );
        for value in ["-1", "1.0", "", "many"] {
            assert_eq!(
                options(&format!(
                    "postgres://u@h/x?statement_cache_capacity={value}"
                )),
                Err(format!(
                    "statement_cache_capacity={value:?}: expected a whole number of statements"
                )),
                "{value:?}"
            );
        }
    }

    #[test]
    fn sslrootcert_is_kept_for_the_driver_and_checked_when_connecting() {
        for key in ["sslrootcert", "ssl-root-cert", "ssl-ca"] {
            let url = format!("postgres://u@h/x?{key}=%2Fetc%2Fca.pem&sslmode=verify-full");
            assert_eq!(
                options(&url).map(|o| (o.root_cert, o.driver_url)),
                Ok((Some("/etc/ca.pem".to_owned()), url.clone())),
                "{key}"
            );
        }
        // The last one given is the one checked.
        assert_eq!(
            options("postgres://u@h/x?sslrootcert=a.pem&ssl-ca=b.pem").map(|o| o.root_cert),
            Ok(Some("b.pem".to_owned()))
        );
    }

    #[test]
    fn the_first_refused_parameter_is_the_one_named() {
        assert_eq!(
            options("postgres://u@h/x?sslmode=no&connect_timeout=0"),
            Err(
                "sslmode=\"no\": expected disable, allow, prefer, require, verify-ca or \
                 verify-full"
                    .to_owned()
            )
        );
        assert_eq!(
            options("postgres://u@h/x?connect_timeout=0&sslmode=no"),
            Err("connect_timeout=\"0\": expected whole seconds from 1 to 86400".to_owned())
        );
    }

    #[test]
    fn values_the_driver_refuses_are_named_before_connecting() {
        for (key, value, expected) in [
            ("port", "abc", "expected a port number from 0 to 65535"),
            ("port", "65536", "expected a port number from 0 to 65535"),
            ("hostaddr", "db.internal", "expected an IP address"),
            // The driver does not trim, though the spelling it ignores is.
            (
                "statement-cache-capacity",
                " 12 ",
                "expected a whole number of statements",
            ),
        ] {
            let mut url = url::Url::parse("postgres://u:hunter2@h/x").expect("parses");
            url.query_pairs_mut().append_pair(key, value);
            assert_eq!(
                options(url.as_str()),
                Err(format!("{key}={value:?}: {expected}")),
                "{key}={value:?}"
            );
        }
        for url in [
            "postgres://u@h/x?port=6432&hostaddr=::1&hostaddr=10.0.0.1",
            "postgres://u@h/x?statement-cache-capacity=0",
            // Parameters the driver does not parse pass as they are.
            "postgres://u@h/x?application_name=%FF&unknown=1&options[a]=b",
        ] {
            assert_eq!(
                options(url).map(|o| o.driver_url),
                Ok(url.to_owned()),
                "{url}"
            );
        }
    }

    #[test]
    fn a_url_part_the_driver_cannot_decode_is_refused_without_its_text() {
        let refused = "its user name, password, host or database name is not UTF-8 once \
                       percent-decoded";
        for url in [
            "postgres://u:hunt%FFer2@h/x",
            "postgres://%FF@h/x",
            "postgres://u@h/%FF",
            "postgres://u@%2Ftmp%FF/x",
        ] {
            assert_eq!(options(url), Err(refused.to_owned()), "{url}");
        }
        assert_eq!(
            Target::parse("postgres://u:hunt%FFer2@h/x", Origin::Flag)
                .map_err(|e| e.to_string())
                .err(),
            Some(format!(
                "invalid database URL from the command line: {refused}"
            ))
        );
    }

    #[test]
    fn a_url_without_parameters_of_ours_reaches_the_driver_unchanged() {
        for url in [
            "postgres://u:p%40ss@h:5433/x",
            "postgres://u@h/x?application_name=a%20b&options=-c%20x%3Dy",
            "postgresql:///x?host=/tmp",
            "postgres://u@h/x?",
        ] {
            assert_eq!(options(url), Ok(DriverOptions::as_given(url)), "{url}");
        }
        // Taking one out re-encodes the rest as a form would.
        assert_eq!(
            options("postgres://u@h/x?application_name=a%20b&connect_timeout=9")
                .map(|o| (o.connect_timeout, o.driver_url)),
            Ok((
                Duration::from_secs(9),
                "postgres://u@h/x?application_name=a+b".to_owned()
            ))
        );
        assert_eq!(
            options("postgres://u@h/x?connect_timeout=9#frag").map(|o| o.driver_url),
            Ok("postgres://u@h/x#frag".to_owned())
        );
    }
}
