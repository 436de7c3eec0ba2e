//! A counting TCP proxy in front of PostgreSQL (plaintext, `sslmode=disable`):
//! connections opened, round trips (client turns after a server reply),
//! every statement sent (simple queries and extended-protocol parses and
//! executions), and a log of every statement executed with the connection
//! that sent it and whether that connection was inside a transaction block
//! then, as the server's last ReadyForQuery said. The tests use it to pin
//! what a run sends; the benchmark to report it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
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
    /// Every statement executed, in the order it was sent.
    pub sent: Vec<Sent>,
}

/// One statement a client had executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Which connection sent it: 0 for the first one opened through the
    /// proxy (numbered as accepted, whatever was taken from the counts).
    pub connection: usize,
    /// The SQL as sent: a simple query's whole text (a batch is one), or
    /// the prepared statement's of an execution.
    pub sql: String,
    /// `'Q'` for a simple query, `'E'` for an execution of a prepared one.
    pub kind: char,
    /// Whether the connection was in a transaction block when it sent it
    /// (ReadyForQuery `T` or `E`, not `I`).
    pub in_transaction: bool,
}

/// A proxy for one test database; it serves until the test binary exits.
pub struct Proxy {
    url: String,
    counts: Arc<Mutex<Counts>>,
}

impl Proxy {
    /// Starts a proxy to the server of `url` (a test database's URL);
    /// panics when it cannot.
    pub fn start(url: &str) -> Proxy {
        match in_front_of(url) {
            Ok((url, counts)) => Proxy { url, counts },
            Err(e) => panic!("cannot start a proxy in front of {url}: {e}"),
        }
    }

    /// The test database, through the proxy.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The statements executed since the last call, in the order they
    /// were sent.
    pub fn take(&self) -> Vec<Sent> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut counts.sent)
    }

    /// Everything counted so far.
    pub fn counts(&self) -> &Arc<Mutex<Counts>> {
        &self.counts
    }
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
        let accepted = AtomicUsize::new(0);
        for client in listener.incoming().flatten() {
            let connection = accepted.fetch_add(1, Ordering::Relaxed);
            let counts = Arc::clone(&shared);
            std::thread::spawn(move || match TcpStream::connect(upstream) {
                Ok(server) => relay(client, server, connection, &counts),
                Err(_) => {
                    let _ = client.shutdown(Shutdown::Both);
                }
            });
        }
    });
    Ok((port, counts))
}

/// What the proxy knows of one connection's client side.
struct Session {
    connection: usize,
    /// Past the startup message (which has no type byte).
    started: bool,
    /// The statement and portal names the client defined, with their SQL.
    statements: HashMap<String, String>,
    portals: HashMap<String, String>,
    /// The transaction status of the server's last ReadyForQuery.
    status: Arc<AtomicU8>,
    /// The server answers the request just sent (SSL or GSS encryption)
    /// with one untyped byte.
    one_byte: Arc<AtomicBool>,
}

fn relay(client: TcpStream, server: TcpStream, connection: usize, counts: &Mutex<Counts>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    if let Ok(mut c) = counts.lock() {
        c.connections += 1;
    }
    let server_spoke = Arc::new(AtomicBool::new(true));
    let (Ok(mut from_client), Ok(mut to_server)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let mut session = Session {
        connection,
        started: false,
        statements: HashMap::new(),
        portals: HashMap::new(),
        status: Arc::new(AtomicU8::new(b'I')),
        one_byte: Arc::new(AtomicBool::new(false)),
    };
    let (mut from_server, mut to_client) = (server, client);
    let spoke = Arc::clone(&server_spoke);
    let status = Arc::clone(&session.status);
    let one_byte = Arc::clone(&session.one_byte);
    let back = std::thread::spawn(move || {
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = [0u8; 16384];
        loop {
            match from_server.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    // Known before the client can act on it.
                    pending.extend_from_slice(&buf[..n]);
                    track_status(&mut pending, &status, &one_byte);
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
        parse(&mut pending, &mut session, counts);
        if to_server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to_server.shutdown(Shutdown::Write);
    let _ = back.join();
}

/// Consumes the complete messages at the front of the server's `pending`,
/// keeping the transaction status of each ReadyForQuery (`Z`).
fn track_status(pending: &mut Vec<u8>, status: &AtomicU8, one_byte: &AtomicBool) {
    loop {
        if !pending.is_empty() && one_byte.swap(false, Ordering::SeqCst) {
            pending.drain(..1);
            continue;
        }
        if pending.len() < 5 {
            return;
        }
        let len = u32::from_be_bytes([pending[1], pending[2], pending[3], pending[4]]) as usize;
        if pending.len() < len + 1 {
            return;
        }
        if pending[0] == b'Z' && len >= 5 {
            status.store(pending[5], Ordering::SeqCst);
        }
        pending.drain(..len + 1);
    }
}

/// The NUL-terminated string at the start of `bytes`, and what follows it.
fn c_str(bytes: &[u8]) -> (String, &[u8]) {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let rest = bytes.get(end + 1..).unwrap_or_default();
    (String::from_utf8_lossy(&bytes[..end]).into_owned(), rest)
}

/// Consumes the complete messages at the front of the client's `pending`.
fn parse(pending: &mut Vec<u8>, session: &mut Session, counts: &Mutex<Counts>) {
    loop {
        if !session.started {
            // The startup message has a length but no type byte; so have
            // the SSL and GSS encryption requests that may precede it.
            if pending.len() < 8 {
                return;
            }
            let len = u32::from_be_bytes([pending[0], pending[1], pending[2], pending[3]]) as usize;
            if pending.len() < len {
                return;
            }
            let code = u32::from_be_bytes([pending[4], pending[5], pending[6], pending[7]]);
            if len == 8 && (code == 80_877_103 || code == 80_877_104) {
                session.one_byte.store(true, Ordering::SeqCst);
            } else {
                session.started = true;
            }
            pending.drain(..len.max(8));
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
        let in_transaction = session.status.load(Ordering::SeqCst) != b'I';
        let sent = |sql: String, kind: char| Sent {
            connection: session.connection,
            sql,
            kind,
            in_transaction,
        };
        if let Ok(mut c) = counts.lock() {
            match kind {
                b'Q' => {
                    let text = c_str(body).0;
                    for statement in split_statements(&text) {
                        c.statements.push(format!("Q {statement}"));
                    }
                    c.sent.push(sent(text, 'Q'));
                }
                b'P' => {
                    // Statement name, then the query.
                    let (name, rest) = c_str(body);
                    let sql = c_str(rest).0;
                    c.statements.push(format!("P {sql}"));
                    session.statements.insert(name, sql);
                }
                b'B' => {
                    // Portal name, then the statement's.
                    let (portal, rest) = c_str(body);
                    let sql = session
                        .statements
                        .get(&c_str(rest).0)
                        .cloned()
                        .unwrap_or_default();
                    session.portals.insert(portal, sql);
                }
                b'E' => {
                    c.executions += 1;
                    let portal = c_str(body).0;
                    let sql = session.portals.get(&portal).cloned().unwrap_or_default();
                    c.sent.push(sent(sql, 'E'));
                }
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
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

    #[test]
    fn the_status_is_the_last_ready_for_query_s_even_split_across_reads() {
        let (status, one_byte) = (AtomicU8::new(b'I'), AtomicBool::new(true));
        // The refusal of encryption, a CommandComplete, then half of a
        // ReadyForQuery `T`.
        let mut pending = b"NC\0\0\0\x0aBEGIN\0Z\0\0".to_vec();
        super::track_status(&mut pending, &status, &one_byte);
        assert_eq!(status.load(Ordering::SeqCst), b'I');
        assert!(!one_byte.load(Ordering::SeqCst));
        assert_eq!(pending, b"Z\0\0");
        pending.extend_from_slice(b"\0\x05T");
        super::track_status(&mut pending, &status, &one_byte);
        assert_eq!(status.load(Ordering::SeqCst), b'T');
        assert!(pending.is_empty());
    }

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
