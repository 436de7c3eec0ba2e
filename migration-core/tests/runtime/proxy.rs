//! A TCP proxy in front of the test PostgreSQL server that records what
//! its clients send: every statement executed (a simple query's text, or a
//! prepared statement's at each execution), which connection sent it, and
//! whether that connection was inside a transaction block then, as the
//! server's last ReadyForQuery said. Plaintext only (`sslmode=disable`).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One statement a client had executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Which connection sent it: 0 for the first one opened through the proxy.
    pub connection: usize,
    /// The SQL as sent.
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
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl Proxy {
    /// Starts a proxy to the server of `url` (a test database's URL).
    pub fn start(url: &str) -> Proxy {
        let mut parsed = url::Url::parse(url).expect("a database URL");
        let host = parsed.host_str().expect("a host").to_owned();
        let port = parsed.port().unwrap_or(5432);
        let upstream = (host.as_str(), port)
            .to_socket_addrs()
            .expect("the server's address")
            .next()
            .expect("an address");
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("a free port");
        let local = listener.local_addr().expect("the proxy's address");
        let sent = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&sent);
        std::thread::spawn(move || {
            let connections = AtomicUsize::new(0);
            for client in listener.incoming().flatten() {
                let n = connections.fetch_add(1, Ordering::Relaxed);
                let sent = Arc::clone(&shared);
                std::thread::spawn(move || serve(client, upstream, n, sent));
            }
        });
        parsed.set_host(Some("127.0.0.1")).expect("a host");
        parsed.set_port(Some(local.port())).expect("a port");
        parsed.set_query(Some("sslmode=disable"));
        Proxy {
            url: parsed.to_string(),
            sent,
        }
    }

    /// The test database, through the proxy.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What was sent since the last call, in the order it was sent.
    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.sent.lock().expect("the log"))
    }
}

fn serve(client: TcpStream, upstream: SocketAddr, connection: usize, sent: Arc<Mutex<Vec<Sent>>>) {
    let Ok(server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let status = Arc::new(AtomicU8::new(b'I'));
    let (Ok(client_in), Ok(server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let from_server = {
        let status = Arc::clone(&status);
        std::thread::spawn(move || {
            let _ = from_server(server, client, &status);
        })
    };
    let _ = from_client(client_in, server_out, connection, &status, &sent);
    let _ = from_server.join();
}

fn read_message(from: &mut TcpStream) -> io::Result<(u8, [u8; 4], Vec<u8>)> {
    let mut head = [0u8; 5];
    from.read_exact(&mut head)?;
    let len = [head[1], head[2], head[3], head[4]];
    let mut body = vec![0u8; (u32::from_be_bytes(len) as usize).saturating_sub(4)];
    from.read_exact(&mut body)?;
    Ok((head[0], len, body))
}

/// The NUL-terminated string at the start of `bytes`, and what follows it.
fn c_str(bytes: &[u8]) -> (String, &[u8]) {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let rest = bytes.get(end + 1..).unwrap_or_default();
    (String::from_utf8_lossy(&bytes[..end]).into_owned(), rest)
}

fn from_client(
    mut client: TcpStream,
    mut server: TcpStream,
    connection: usize,
    status: &AtomicU8,
    sent: &Mutex<Vec<Sent>>,
) -> io::Result<()> {
    let closed = |client: &TcpStream, server: &TcpStream| {
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
    };
    // The startup message has no type byte.
    let mut len = [0u8; 4];
    let startup = client.read_exact(&mut len).and_then(|()| {
        let mut body = vec![0u8; (u32::from_be_bytes(len) as usize).saturating_sub(4)];
        client.read_exact(&mut body)?;
        server.write_all(&len)?;
        server.write_all(&body)
    });
    if startup.is_err() {
        closed(&client, &server);
        return startup;
    }
    let mut statements: HashMap<String, String> = HashMap::new();
    let mut portals: HashMap<String, String> = HashMap::new();
    loop {
        let (kind, len, body) = match read_message(&mut client) {
            Ok(message) => message,
            Err(e) => {
                closed(&client, &server);
                return Err(e);
            }
        };
        let record = |sql: String, kind: char| {
            let in_transaction = status.load(Ordering::SeqCst) != b'I';
            sent.lock().expect("the log").push(Sent {
                connection,
                sql,
                kind,
                in_transaction,
            });
        };
        match kind {
            b'Q' => record(c_str(&body).0, 'Q'),
            b'P' => {
                let (name, rest) = c_str(&body);
                statements.insert(name, c_str(rest).0);
            }
            b'B' => {
                let (portal, rest) = c_str(&body);
                let statement = c_str(rest).0;
                let sql = statements.get(&statement).cloned().unwrap_or_default();
                portals.insert(portal, sql);
            }
            b'E' => record(
                portals.get(&c_str(&body).0).cloned().unwrap_or_default(),
                'E',
            ),
            _ => {}
        }
        let forwarded = server
            .write_all(&[kind])
            .and_then(|()| server.write_all(&len))
            .and_then(|()| server.write_all(&body));
        if let Err(e) = forwarded {
            closed(&client, &server);
            return Err(e);
        }
    }
}

fn from_server(mut server: TcpStream, mut client: TcpStream, status: &AtomicU8) -> io::Result<()> {
    loop {
        let message = read_message(&mut server).and_then(|(kind, len, body)| {
            // Known before the client can act on it.
            if kind == b'Z' {
                status.store(body.first().copied().unwrap_or(b'I'), Ordering::SeqCst);
            }
            client.write_all(&[kind])?;
            client.write_all(&len)?;
            client.write_all(&body)
        });
        if let Err(e) = message {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
            return Err(e);
        }
    }
}
