//! Running a migrator binary as users do: in a directory of its own, with
//! none of the developer's database variables, capturing exit code and output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use migration_core::catalog::Catalog;

use crate::walk::catalog;
use crate::{Backend, TestDb};

/// What one run of a binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stderr's lines.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// stdout's lines.
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The migrations its `applied <name> (…)` lines name, in order.
    pub fn applied(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("applied "))
            .map(|l| l.split(' ').next().unwrap_or_default())
            .collect()
    }

    /// Asserts exit code 0 and returns self.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    /// Asserts that nothing printed contains `secret`.
    #[track_caller]
    pub fn assert_never_shows(&self, secret: &str) {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "{secret:?} appears in the output: {self:#?}"
        );
    }
}

/// Variables that would point a run at a developer's database.
const DATABASE_VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "ASK_DATABASE_URL",
    "SKETCH2BIM_DATABASE_URL",
    "AUTO_RUN_MIGRATIONS",
    "RUST_LOG",
    "RUST_BACKTRACE",
    "MIGRATION_LOCK_WAIT",
];

/// A scratch working directory, removed afterwards.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    pub fn new() -> WorkDir {
        let path = std::env::temp_dir().join(format!("kvshvl_cli_{}", crate::unique_suffix()));
        if let Err(e) = std::fs::create_dir_all(&path) {
            panic!("cannot create {}: {e}", path.display());
        }
        WorkDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Files in the directory, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.path.display()))
            .map(|entry| {
                entry
                    .unwrap_or_else(|e| panic!("reading {}: {e}", self.path.display()))
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}

impl Default for WorkDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Runs `bin` with `args` in `dir`, with only `env` among the database
/// variables set.
pub fn run(bin: &str, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = Command::new(bin);
    command.args(args).current_dir(dir);
    for name in DATABASE_VARIABLES {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(e) => panic!("cannot run {bin}: {e}"),
    };
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `bin -u url args…` in `dir`, with none of the database variables
/// set.
pub fn cli(bin: &str, dir: &WorkDir, url: &str, args: &[&str]) -> Run {
    let mut all = vec!["-u", url];
    all.extend_from_slice(args);
    run(bin, dir.path(), &[], &all)
}

/// [`run`], failing the test instead of hanging when `bin` has not exited
/// within `seconds`.
pub fn run_within(seconds: u64, bin: &str, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let what = format!("{args:?}");
    let (sender, receiver) = std::sync::mpsc::channel();
    let bin = bin.to_owned();
    let path = dir.to_owned();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    std::thread::spawn(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = sender.send(run(&bin, &path, &env, &args));
    });
    match receiver.recv_timeout(Duration::from_secs(seconds)) {
        Ok(run) => run,
        Err(_) => panic!(
            "{what} in {} still running after {seconds} s",
            dir.display()
        ),
    }
}

/// Runs `bin -u url args…` in `n` processes at once, as replicas starting
/// together do, each in a working directory of its own; their runs, in the
/// order they were started.
pub fn run_concurrently(bin: &str, n: usize, url: &str, args: &[&str]) -> Vec<Run> {
    let dirs: Vec<WorkDir> = (0..n).map(|_| WorkDir::new()).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|dir| s.spawn(|| cli(bin, dir, url, args)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a run"))
            .collect()
    })
}

/// The catalog of a new `backend` database that `bin up` has migrated to
/// head: what any way of reaching head must build.
pub async fn catalog_at_head(bin: &str, backend: Backend) -> Catalog {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    cli(bin, &WorkDir::new(), test_db.url(), &["up"]).ok();
    catalog(&db).await
}

/// `url` with `password` set, to check it never appears in output.
pub fn with_password(url: &str, password: &str) -> String {
    let mut parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => panic!("not a URL: {url}: {e}"),
    };
    if parsed.set_password(Some(password)).is_err() {
        panic!("cannot set a password on {url}");
    }
    parsed.to_string()
}

/// `url` with its user and password replaced.
pub fn with_user(url: &str, user: &str, password: Option<&str>) -> String {
    let mut parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => panic!("not a URL: {url}: {e}"),
    };
    if parsed.set_username(user).is_err() || parsed.set_password(password).is_err() {
        panic!("cannot set credentials on {url}");
    }
    parsed.to_string()
}
