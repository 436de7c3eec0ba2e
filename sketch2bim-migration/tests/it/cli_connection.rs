//! Connecting: a malformed, unreachable or silent server is one line that
//! names the URL with its password masked, and no output ever shows the
//! password; the URL's connect_timeout, TLS and driver options are checked
//! before connecting.

use test_support::TestDb;
use test_support::cli::{WorkDir, cli, run, with_password, with_user};

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

#[tokio::test]
async fn bad_input_is_one_line_exit_1_and_never_a_password() {
    let dir = WorkDir::new();

    let malformed = cli(BIN, &dir, "postgres://u:hunter2@[::1/x", &["up"]);
    assert_eq!(malformed.code, 1);
    assert_eq!(malformed.stderr_lines().len(), 1, "{malformed:#?}");
    assert!(
        malformed
            .stderr
            .starts_with("error: invalid database URL from --database-url: "),
        "{malformed:#?}"
    );
    malformed.assert_never_shows("hunter2");

    let scheme = run(
        BIN,
        dir.path(),
        &[("DATABASE_URL", "mysql2://u:hunter2@h/x")],
        &["up"],
    );
    assert_eq!(scheme.code, 1);
    assert_eq!(scheme.stderr_lines().len(), 1, "{scheme:#?}");
    assert!(scheme.stderr.contains("from DATABASE_URL"), "{scheme:#?}");
    scheme.assert_never_shows("hunter2");

    let unreachable = run(
        BIN,
        dir.path(),
        &[(
            "SKETCH2BIM_DATABASE_URL",
            "postgres://u:hunter2@127.0.0.1:1/x",
        )],
        &["status"],
    );
    assert_eq!(unreachable.code, 1);
    assert_eq!(unreachable.stderr_lines().len(), 1, "{unreachable:#?}");
    assert!(
        unreachable
            .stderr
            .starts_with("error: cannot connect to postgres://u:***@127.0.0.1:1/x: "),
        "{unreachable:#?}"
    );
    assert!(
        unreachable.stderr.contains("connection refused"),
        "{unreachable:#?}"
    );
    unreachable.assert_never_shows("hunter2");

    let usage = run(BIN, dir.path(), &[], &["up", "-n"]);
    assert_eq!(usage.code, 2, "{usage:#?}");
    let usage = run(BIN, dir.path(), &[], &["sideways"]);
    assert_eq!(usage.code, 2, "{usage:#?}");

    let secret_env = [
        ("DATABASE_URL", "postgres://u:hunter2@db.example.com/x"),
        (
            "SKETCH2BIM_DATABASE_URL",
            "postgres://u:hunter2@db.example.com/y",
        ),
    ];
    for args in [&["--help"][..], &["up", "--help"], &["status", "-h"]] {
        let help = run(BIN, dir.path(), &secret_env, args).ok();
        assert!(help.stdout.contains("Usage:"), "{help:#?}");
        help.assert_never_shows("hunter2");
    }
    assert_eq!(dir.files(), Vec::<String>::new());
}

#[tokio::test]
async fn a_one_letter_password_is_masked_in_the_url_only() {
    let test_db = TestDb::postgres().await;
    let dir = WorkDir::new();
    let url = with_user(test_db.url(), "nouser", Some("s"));
    let shown = with_user(test_db.url(), "nouser", Some("***"));
    let status = cli(BIN, &dir, &url, &["status"]);
    assert_eq!(status.code, 1, "{status:#?}");
    assert_eq!(
        status.stderr_lines(),
        vec![format!(
            "error: cannot connect to {shown}: role \"nouser\" does not exist"
        )]
    );
}

#[tokio::test]
async fn verbose_output_shows_sql_but_not_the_password() {
    let test_db = TestDb::postgres().await;
    let dir = WorkDir::new();
    let url = with_password(test_db.url(), "hunter2");
    let up = cli(BIN, &dir, &url, &["-v", "up", "-n", "1"]).ok();
    assert!(up.stderr.contains("CREATE TABLE \\\"users\\\""), "{up:#?}");
    up.assert_never_shows("hunter2");
}

#[test]
fn connect_timeout_in_the_url_bounds_the_wait() {
    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("address").port();
    let dir = WorkDir::new();
    for (query, seconds, within) in [("?connect_timeout=1", 1, 4.0), ("", 5, 8.0)] {
        let url = format!("postgres://u:hunter2@127.0.0.1:{port}/x{query}");
        let started = std::time::Instant::now();
        let status = cli(BIN, &dir, &url, &["status"]);
        let took = started.elapsed().as_secs_f64();
        assert_eq!(status.code, 1, "{status:#?}");
        assert_eq!(
            status.stderr_lines(),
            vec![format!(
                "error: cannot connect to postgres://u:***@127.0.0.1:{port}/x{query}: timed out \
                 after {seconds} s"
            )]
        );
        assert!(
            took >= f64::from(seconds) && took < within,
            "{query}: {took} s"
        );
    }
    for value in ["0", "abc"] {
        let url = format!("postgres://u:hunter2@127.0.0.1:{port}/x?connect_timeout={value}");
        let status = cli(BIN, &dir, &url, &["status"]);
        assert_eq!(status.code, 1, "{status:#?}");
        assert_eq!(
            status.stderr_lines(),
            vec![format!(
                "error: invalid database URL from --database-url: connect_timeout=\"{value}\": \
                 expected whole seconds from 1 to 86400"
            )]
        );
    }
    drop(silent);
}

#[test]
fn tls_and_driver_options_are_refused_by_name_before_connecting() {
    let dir = WorkDir::new();
    std::fs::write(dir.path().join("garbage.pem"), "not a certificate\n").expect("write");
    // Port 1: nothing listens, so any attempt to connect would say so.
    let base = "postgres://u:hunter2@127.0.0.1:1/x";
    for (query, expected) in [
        (
            "?sslmode=verify-full&sslrootcert=missing-ca.pem",
            "error: cannot use the sslrootcert file missing-ca.pem: No such file or directory \
             (os error 2)",
        ),
        (
            "?sslmode=verify-ca&sslrootcert=garbage.pem",
            "error: cannot use the sslrootcert file garbage.pem: it holds no PEM certificate \
             (-----BEGIN CERTIFICATE-----)",
        ),
        (
            "?sslmode=bogus",
            "error: invalid database URL from --database-url: sslmode=\"bogus\": expected \
             disable, allow, prefer, require, verify-ca or verify-full",
        ),
        (
            "?statement_cache_capacity=abc",
            "error: invalid database URL from --database-url: statement_cache_capacity=\"abc\": \
             expected a whole number of statements",
        ),
    ] {
        let status = cli(BIN, &dir, &format!("{base}{query}"), &["status"]);
        assert_eq!(status.code, 1, "{query}: {status:#?}");
        assert_eq!(status.stderr_lines(), vec![expected], "{query}");
        status.assert_never_shows("hunter2");
    }
}
