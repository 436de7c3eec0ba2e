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
/// empty value is taken as remote, without looking it up. Hand-written:
/// sqlx's parser keeps only the last host named and reads the process's
/// environment, where this guard must weigh every host and `env` as given.
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
    use super::{HostFrom, RemoteHost, is_local_host, remote_host};

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
    fn loopback_addresses_and_localhost_are_local() {
        for name in [
            "localhost",
            "LocalHost",
            "127.0.0.1",
            "127.0.0.2",
            "127.255.255.254",
            "::1",
            "[::1]",
            "0:0:0:0:0:0:0:1",
            "[0:0:0:0:0:0:0:1]",
        ] {
            assert!(is_local_host(name), "{name}");
        }
    }

    #[test]
    fn other_addresses_and_names_are_remote() {
        for name in [
            "",
            "128.0.0.1",
            "126.255.255.255",
            "0.0.0.0",
            "10.0.0.1",
            "192.168.1.10",
            "::",
            "[::2]",
            "fe80::1",
            "localhost.",
            "localhost.localdomain",
            "127.1",
            "127.0.0.1.nip.io",
            "db",
            "[::1",
            "::1]",
        ] {
            assert!(!is_local_host(name), "{name:?}");
        }
    }

    #[test]
    fn socket_directories_are_local_and_relative_paths_are_not() {
        for url in [
            "postgres:///db?host=/tmp",
            "postgres:///db?host=%2Ftmp",
            "postgres:///db?host=/var/run/postgresql",
            "postgres://u@%2Ftmp/db",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql:5433/db",
        ] {
            assert_eq!(remote(url, &[]), None, "{url}");
        }
        assert_eq!(
            remote("postgres:///db?host=var/run/postgresql", &[]),
            host("var/run/postgresql", HostFrom::Parameter("host"))
        );
        assert_eq!(remote("postgres:///db", &[("PGHOST", "/tmp")]), None);
    }

    #[test]
    fn ipv6_hosts_are_local_only_for_loopback() {
        assert_eq!(remote("postgres://u@[::1]:5433/db", &[]), None);
        assert_eq!(remote("postgres:///db?hostaddr=::1", &[]), None);
        assert_eq!(
            remote("postgres://u@[2001:db8::1]/db", &[]),
            host("[2001:db8::1]", HostFrom::Url)
        );
        assert_eq!(
            remote("postgres://u@localhost/db?hostaddr=2001:db8::1", &[]),
            host("2001:db8::1", HostFrom::Parameter("hostaddr"))
        );
    }

    #[test]
    fn every_named_server_counts_and_the_first_remote_one_is_reported() {
        // Several `host=` parameters: any remote one makes the URL remote.
        assert_eq!(
            remote("postgres:///db?host=/tmp&host=db1&host=db2", &[]),
            host("db1", HostFrom::Parameter("host"))
        );
        // The URL's host comes before the parameters.
        assert_eq!(
            remote("postgres://u@db0/db?host=db1", &[]),
            host("db0", HostFrom::Url)
        );
        // A `hostaddr=` before a `host=` is reported first.
        assert_eq!(
            remote("postgres:///db?hostaddr=10.0.0.7&host=db1", &[]),
            host("10.0.0.7", HostFrom::Parameter("hostaddr"))
        );
        // A list in the URL's host is remote, even of local names.
        assert_eq!(
            remote("postgres://u@localhost,localhost/db", &[]),
            host("localhost,localhost", HostFrom::Url)
        );
        // All local: local.
        assert_eq!(
            remote(
                "postgres://u@localhost/db?host=/tmp&hostaddr=127.0.0.1",
                &[]
            ),
            None
        );
    }

    #[test]
    fn the_environment_counts_only_when_the_url_names_no_server() {
        let remote_env = [("PGHOST", "db.internal"), ("PGHOSTADDR", "10.0.0.9")];
        for url in [
            "postgres://u@localhost/db",
            "postgres:///db?host=/tmp",
            "postgres:///db?hostaddr=127.0.0.1",
        ] {
            assert_eq!(remote(url, &remote_env), None, "{url}");
        }
        // Both set: each counts, PGHOSTADDR first.
        assert_eq!(
            remote("postgres:///db", &remote_env),
            host("10.0.0.9", HostFrom::Env("PGHOSTADDR"))
        );
        assert_eq!(
            remote(
                "postgres:///db",
                &[("PGHOSTADDR", "127.0.0.1"), ("PGHOST", "db.internal")]
            ),
            host("db.internal", HostFrom::Env("PGHOST"))
        );
        assert_eq!(
            remote(
                "postgres:///db",
                &[("PGHOSTADDR", "::1"), ("PGHOST", "localhost")]
            ),
            None
        );
        // Other parameters do not name a server.
        assert_eq!(
            remote("postgres:///db?user=app&port=5433", &remote_env),
            host("10.0.0.9", HostFrom::Env("PGHOSTADDR"))
        );
        // The environment is not read at all when the URL names a server.
        let url = match url::Url::parse("postgres://u@localhost/db") {
            Ok(url) => url,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(remote_host(&url, |name| panic!("{name} was read")), None);
    }

    #[test]
    fn a_remote_host_names_where_it_was_found() {
        let shown = |host: &str, from| {
            RemoteHost {
                host: host.to_owned(),
                from,
            }
            .to_string()
        };
        assert_eq!(shown("db.internal", HostFrom::Url), "host \"db.internal\"");
        assert_eq!(
            shown("10.0.0.5", HostFrom::Parameter("hostaddr")),
            "host \"10.0.0.5\" from ?hostaddr="
        );
        assert_eq!(
            shown("db", HostFrom::Parameter("host")),
            "host \"db\" from ?host="
        );
        assert_eq!(shown("", HostFrom::Env("PGHOST")), "host \"\" from PGHOST");
    }
}
