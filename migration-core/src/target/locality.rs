//! Whether a PostgreSQL URL leads to a server on this machine: what the
//! `--yes` guard asks before a destructive command runs unattended. Decided
//! from the URL and the `PGHOST`/`PGHOSTADDR` values it is given, without
//! looking any name up.

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

#[cfg(test)]
mod tests {
    use super::{HostFrom, RemoteHost, remote_host};

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
}
