//! A counting TCP proxy in front of PostgreSQL (plaintext, `sslmode=disable`):
//! connections opened, round trips (client turns after a server reply), and
//! every statement sent (simple queries and extended-protocol parses and
//! executions). The tests use it to pin what a run sends; the benchmark to
//! report it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What went through the proxy.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub connections: usize,
    pub round_trips: usize,
    /// SQL of each statement of each simple query (`Q`, a batch counting
    /// once per statement) and of each parsed statement (`P`).
    pub statements: Vec<String>,
    /// Extended-protocol executions (`E`).
    pub executions: usize,
}

impl Counts {
    /// Statements executed: simple queries plus executions.
    pub fn executed(&self) -> usize {
        self.statements_of(b'Q') + self.executions
    }

    fn statements_of(&self, kind: u8) -> usize {
        self.statements
            .iter()
            .filter(|s| s.as_bytes().first() == Some(&kind))
            .count()
    }

    /// Statements that change the schema.
    pub fn ddl(&self) -> Vec<&str> {
        self.statements
            .iter()
            .map(|s| {
                // Past leading `--` comment lines.
                let mut rest = s[2..].trim_start();
                while rest.starts_with("--") {
                    rest = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
                }
                rest
            })
            .filter(|s| {
                let upper = s.to_ascii_uppercase();
                ["CREATE", "ALTER", "DROP"]
                    .iter()
                    .any(|k| upper.starts_with(k))
            })
            .collect()
    }
}

/// A proxy in front of the server of `url`; returns `url` pointed at the
/// proxy, with `sslmode=disable` (the proxy reads plaintext), and the counts.
pub fn in_front_of(url: &str) -> std::io::Result<(String, Arc<Mutex<Counts>>)> {
    let invalid = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
    let mut parsed = url::Url::parse(url).map_err(|e| invalid(format!("{url}: {e}")))?;
    let upstream = (
        parsed.host_str().unwrap_or("127.0.0.1").to_owned(),
        parsed.port().unwrap_or(5432),
    )
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| invalid(format!("{url}: the host does not resolve")))?;
    let (port, counts) = start(upstream)?;
    let others: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "sslmode")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed.set_query(None);
    parsed
        .query_pairs_mut()
        .extend_pairs(others)
        .append_pair("sslmode", "disable");
    parsed
        .set_host(Some("127.0.0.1"))
        .map_err(|e| invalid(e.to_string()))?;
    parsed
        .set_port(Some(port))
        .map_err(|()| invalid("the URL takes no port".to_owned()))?;
    Ok((parsed.to_string(), counts))
}

/// Starts the proxy on a free local port; returns the port and the counts.
pub fn start(upstream: SocketAddr) -> std::io::Result<(u16, Arc<Mutex<Counts>>)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    let counts = Arc::new(Mutex::new(Counts::default()));
    let shared = Arc::clone(&counts);
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let counts = Arc::clone(&shared);
            std::thread::spawn(move || {
                if let Ok(server) = TcpStream::connect(upstream) {
                    relay(client, server, &counts);
                }
            });
        }
    });
    Ok((port, counts))
}

fn relay(client: TcpStream, server: TcpStream, counts: &Mutex<Counts>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    if let Ok(mut c) = counts.lock() {
        c.connections += 1;
    }
    let server_spoke = Arc::new(AtomicBool::new(true));
    let (Ok(mut from_client), Ok(mut to_server)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let (mut from_server, mut to_client) = (server, client);
    let spoke = Arc::clone(&server_spoke);
    let back = std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match from_server.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    spoke.store(true, Ordering::SeqCst);
                    if to_client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let mut pending: Vec<u8> = Vec::new();
    let mut started = false;
    let mut buf = [0u8; 16384];
    loop {
        let n = match from_client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if server_spoke.swap(false, Ordering::SeqCst)
            && let Ok(mut c) = counts.lock()
        {
            c.round_trips += 1;
        }
        pending.extend_from_slice(&buf[..n]);
        parse(&mut pending, &mut started, counts);
        if to_server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to_server.shutdown(Shutdown::Write);
    let _ = back.join();
}

/// Consumes the complete messages at the front of `pending`.
fn parse(pending: &mut Vec<u8>, started: &mut bool, counts: &Mutex<Counts>) {
    loop {
        if !*started {
            // The startup message has a length but no type byte.
            if pending.len() < 4 {
                return;
            }
            let len = u32::from_be_bytes([pending[0], pending[1], pending[2], pending[3]]) as usize;
            if pending.len() < len {
                return;
            }
            pending.drain(..len);
            *started = true;
            continue;
        }
        if pending.len() < 5 {
            return;
        }
        let kind = pending[0];
        let len = u32::from_be_bytes([pending[1], pending[2], pending[3], pending[4]]) as usize;
        if pending.len() < len + 1 {
            return;
        }
        let body = &pending[5..len + 1];
        let sql = |bytes: &[u8]| {
            String::from_utf8_lossy(bytes.split(|b| *b == 0).next().unwrap_or(&[])).into_owned()
        };
        if let Ok(mut c) = counts.lock() {
            match kind {
                b'Q' => {
                    for statement in split_statements(&sql(body)) {
                        c.statements.push(format!("Q {statement}"));
                    }
                }
                b'P' => {
                    // Statement name, then the query.
                    let name_end = body.iter().position(|b| *b == 0).unwrap_or(0);
                    c.statements
                        .push(format!("P {}", sql(&body[name_end + 1..])));
                }
                b'E' => c.executions += 1,
                _ => {}
            }
        }
        pending.drain(..len + 1);
    }
}

/// The statements of a simple query, split at semicolons outside quotes
/// (`'…'`, `"…"`, `$$…$$`).
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut single, mut double, mut dollar) = (false, false, false);
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if !double && !dollar => single = !single,
            '"' if !single && !dollar => double = !double,
            '$' if !single && !double && chars.peek() == Some(&'$') => {
                dollar = !dollar;
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
                continue;
            }
            ';' if !single && !double && !dollar => {
                let statement = current.trim();
                if !statement.is_empty() {
                    out.push(statement.to_owned());
                }
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    let statement = current.trim();
    if !statement.is_empty() {
        out.push(statement.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_batch_splits_at_semicolons_outside_quotes() {
        assert_eq!(
            super::split_statements(
                "BEGIN;\nUPDATE \"a;b\" SET x = 'c;d';\nDO $$ BEGIN PERFORM 1; END $$;"
            ),
            vec![
                "BEGIN",
                "UPDATE \"a;b\" SET x = 'c;d'",
                "DO $$ BEGIN PERFORM 1; END $$"
            ]
        );
    }
}
