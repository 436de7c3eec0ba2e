//! A throwaway PostgreSQL cluster for one test binary.
//!
//! `initdb` and `postgres` run under a small shell supervisor whose standard
//! input is a pipe from this process: when the test binary exits, however it
//! exits, the pipe closes and the supervisor stops the server and removes its
//! directory. PostgreSQL refuses to run as root, so as root the supervisor runs
//! as the `postgres` user (through `runuser`).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Each supervisor stays alive as long as its handle (and so its stdin) does:
/// until the test binary exits.
static SUPERVISORS: Mutex<Vec<Child>> = Mutex::new(Vec::new());

const SCRIPT: &str = r#"
set -e
dir=$(mktemp -d "${TMPDIR:-/tmp}/kvshvl-pg-XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$BIN/initdb" -D "$dir/data" -A trust -U postgres -N -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"$BIN/postgres" -D "$dir/data" -k "$dir" -p "$PORT" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
  >"$dir/server.log" 2>&1 &
pid=$!
echo "started $dir"
read -r _ || true
kill -INT "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
"#;

/// Starts the cluster and returns a URL to its `postgres` database.
pub fn start() -> Result<String, String> {
    let bin = find_bin_dir().ok_or("initdb was not found on PATH nor under /usr/lib/postgresql")?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let root = is_root();
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", SCRIPT]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", SCRIPT]);
        c
    };
    cmd.env("BIN", &bin)
        .env("PORT", port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run the cluster supervisor: {e}"))?;
    let stdout = child.stdout.take().ok_or("no supervisor output")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("supervisor: {e}"))?;
    if !line.starts_with("started") {
        let _ = child.kill();
        return Err(format!(
            "initdb failed in {} (as {})",
            bin.display(),
            if root { "postgres" } else { "the current user" }
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ready {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("the throwaway server did not accept connections within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    match SUPERVISORS.lock() {
        Ok(mut all) => all.push(child),
        Err(poisoned) => poisoned.into_inner().push(child),
    }
    Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn find_bin_dir() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("postgres").is_file() {
                return Some(
                    std::fs::canonicalize(dir.join("initdb"))
                        .ok()?
                        .parent()?
                        .to_path_buf(),
                );
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| Path::new(&p.join("initdb")).is_file())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}
