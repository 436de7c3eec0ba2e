//! Real databases for the tests: every test gets its own PostgreSQL database
//! or SQLite file, dropped when the test ends.
//!
//! PostgreSQL comes from the server named by `TEST_DATABASE_URL` when it is set
//! (any database on it that the role may connect to; test databases are created
//! beside it), else from a throwaway cluster started once per test binary from
//! the installed PostgreSQL binaries and removed when the binary exits. When
//! neither is possible the test fails with a message saying what to install or
//! set: nothing passes by skipping.

pub mod alembic;
pub mod cli;
mod cluster;
pub mod db;
pub mod diff;
pub mod lint;
pub mod migrations;
pub mod pgbouncer;
pub mod processes;
pub mod proxy;
pub mod rows;
pub mod schema_file;
pub mod walk;

pub use cluster::start as start_throwaway_cluster;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The backends every migration is tested on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    url: String,
    backend: Backend,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Postgres { admin_url: String, name: String },
    Sqlite { path: PathBuf },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub(crate) fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{n}_{nanos:x}", std::process::id())
}

/// Where the test databases are created: `TEST_DATABASE_URL`, or a throwaway
/// cluster started on first use.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => match cluster::start() {
            Ok(url) => url,
            Err(why) => panic!(
                "no PostgreSQL for the tests: TEST_DATABASE_URL is not set and a throwaway \
                 cluster could not be started ({why}). Install PostgreSQL's server binaries \
                 (Debian: apt-get install postgresql) or set TEST_DATABASE_URL to a server \
                 whose role may create databases, e.g. \
                 TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
            ),
        },
    })
}

/// `url` with its database (the path) replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let mut parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => panic!("TEST_DATABASE_URL is not a valid URL: {e}"),
    };
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl TestDb {
    /// A new, empty PostgreSQL database.
    pub async fn postgres() -> TestDb {
        let admin_url = server_url().to_owned();
        let name = format!("kvshvl_test_{}", unique_suffix());
        let admin = connect_or_panic(&admin_url).await;
        if let Err(e) = admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
        {
            panic!("cannot create test database {name}: {e}");
        }
        let _ = admin.close().await;
        TestDb {
            url: with_database(&admin_url, &name),
            backend: Backend::Postgres,
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// A new, empty SQLite file.
    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("kvshvl_test_{}.sqlite", unique_suffix()));
        TestDb {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            backend: Backend::Sqlite,
            cleanup: Cleanup::Sqlite { path },
        }
    }

    /// A new, empty database of the given backend.
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Postgres => Self::postgres().await,
            Backend::Sqlite => Self::sqlite().await,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database's name on the server (PostgreSQL), or the file's path (SQLite).
    pub fn name(&self) -> String {
        match &self.cleanup {
            Cleanup::Postgres { name, .. } => name.clone(),
            Cleanup::Sqlite { path } => path.display().to_string(),
        }
    }

    /// A new connection pool to this database.
    pub async fn connect(&self) -> DatabaseConnection {
        connect_or_panic(&self.url).await
    }
}

async fn connect_or_panic(url: &str) -> DatabaseConnection {
    let mut options = sea_orm::ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .max_connections(4)
        .connect_timeout(std::time::Duration::from_secs(10));
    match Database::connect(options).await {
        Ok(db) => db,
        Err(e) => panic!(
            "cannot connect to the test PostgreSQL server: {e}. Is it running? \
             Set TEST_DATABASE_URL to a reachable server or unset it to use a throwaway cluster"
        ),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let admin_url = admin_url.clone();
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin.execute_unprepared(&sql).await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}
