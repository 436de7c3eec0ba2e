//! A real PgBouncer in transaction mode in front of the test server, one per
//! test binary, as managed PostgreSQL services put one in front of theirs.
//!
//! It listens on a free port on `127.0.0.1` and `::1`, with
//! `pool_mode = transaction` and a small pool (4 server connections per
//! database and user), so clients really do share server connections. Every
//! database of the test server is reachable through it by name, with trust
//! authentication (the server's own password, if any, is passed on).
//!
//! Like the throwaway cluster, it runs under a shell supervisor whose standard
//! input is a pipe from this process: when the test binary exits the pipe
//! closes, and the supervisor stops PgBouncer and removes its directory.
//! PgBouncer refuses to run as root, so as root it runs as the `postgres`
//! user. A missing `pgbouncer` binary fails the test, saying what to install.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Server connections per database and user: small, so that concurrent
/// clients share them.
pub const POOL_SIZE: u32 = 4;

static SUPERVISOR: Mutex<Option<Child>> = Mutex::new(None);

const SCRIPT: &str = r#"
set -e
dir=$(mktemp -d "${TMPDIR:-/tmp}/kvshvl-pgbouncer-XXXXXX")
trap 'rm -rf "$dir"' EXIT
printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" >"$dir/users.txt"
cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$SERVER_HOST port=$SERVER_PORT

[pgbouncer]
listen_addr = 127.0.0.1,::1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
EOF
"$PGBOUNCER" "$dir/pgbouncer.ini" >"$dir/stdout.log" 2>&1 &
pid=$!
echo "started $dir"
read -r _ || true
kill -INT "$pid" || true
wait "$pid" || true
"#;

/// A URL to the test server's `postgres` database through PgBouncer on
/// `127.0.0.1`; starts PgBouncer on first use.
pub fn url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match start() {
        Ok(url) => url,
        Err(why) => panic!("no PgBouncer for the tests: {why}"),
    })
}

/// The test database `name` through PgBouncer on `127.0.0.1`.
pub fn url_for(name: &str) -> String {
    crate::with_database(url(), name)
}

/// The test database `name` through PgBouncer on `[::1]`, an IPv6 literal.
pub fn ipv6_url_for(name: &str) -> String {
    let mut parsed = match url::Url::parse(&url_for(name)) {
        Ok(parsed) => parsed,
        Err(e) => panic!("not a URL: {e}"),
    };
    if let Err(e) = parsed.set_host(Some("[::1]")) {
        panic!("cannot set host [::1]: {e}");
    }
    parsed.to_string()
}

fn find_pgbouncer() -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("pgbouncer"))
        .find(|p| p.is_file())
}

fn free_port() -> Result<u16, String> {
    for _ in 0..20 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        if TcpListener::bind(("::1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err("no port free on both 127.0.0.1 and ::1".into())
}

fn start() -> Result<String, String> {
    let bin = find_pgbouncer().ok_or(
        "the pgbouncer binary was not found on PATH nor in /usr/sbin; install it \
         (Debian: apt-get install pgbouncer)",
    )?;
    let server = url::Url::parse(crate::server_url())
        .map_err(|e| format!("the test server URL is not a URL: {e}"))?;
    let server_host = match server.host_str() {
        Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']'),
        _ => "127.0.0.1",
    }
    .to_owned();
    let server_port = server.port().unwrap_or(5432);
    let user = match server.username() {
        "" => "postgres".to_owned(),
        u => percent_decode(u),
    };
    let password = server.password().map(percent_decode).unwrap_or_default();
    let port = free_port()?;
    let root = crate::cluster::is_root();
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", SCRIPT]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", SCRIPT]);
        c
    };
    cmd.env("PGBOUNCER", &bin)
        .env("PORT", port.to_string())
        .env("POOL_SIZE", POOL_SIZE.to_string())
        .env("SERVER_HOST", &server_host)
        .env("SERVER_PORT", server_port.to_string())
        .env("DB_USER", &user)
        .env("DB_PASSWORD", &password)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run the PgBouncer supervisor: {e}"))?;
    let stdout = child.stdout.take().ok_or("no supervisor output")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("supervisor: {e}"))?;
    let Some(dir) = line.trim().strip_prefix("started ").map(str::to_owned) else {
        let _ = child.kill();
        return Err(format!(
            "the PgBouncer supervisor failed (as {})",
            if root { "postgres" } else { "the current user" }
        ));
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let listening = |ip: &str| {
        let addr = SocketAddr::new(ip.parse().expect("an IP literal"), port);
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    };
    while !(listening("127.0.0.1") && listening("::1")) {
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let log = std::fs::read_to_string(format!("{dir}/pgbouncer.log"))
                .or_else(|_| std::fs::read_to_string(format!("{dir}/stdout.log")))
                .unwrap_or_default();
            let _ = child.kill();
            return Err(format!(
                "{} did not listen on 127.0.0.1:{port} and [::1]:{port} within 15 s: {}",
                bin.display(),
                log.lines().last().unwrap_or("no log")
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    match SUPERVISOR.lock() {
        Ok(mut slot) => *slot = Some(child),
        Err(poisoned) => *poisoned.into_inner() = Some(child),
    }
    let mut through = server.clone();
    through
        .set_host(Some("127.0.0.1"))
        .map_err(|e| format!("cannot set the host: {e}"))?;
    through
        .set_port(Some(port))
        .map_err(|()| "cannot set the port".to_owned())?;
    Ok(through.to_string())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
