//! Which database a run uses: `-u`, the database's own variable,
//! DATABASE_URL, `.env`, else a SQLite file in the working directory. An
//! unreadable `.env`, a variable set but empty, and SQLite URLs that would
//! lose or miss the database are refused before connecting; reading a SQLite
//! file that is not there creates nothing.

use test_support::cli::{WorkDir, cli, run, run_within};
use test_support::migrations::Migrations;

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

#[test]
fn an_unreadable_dotenv_is_one_error_naming_it() {
    /// Makes `.env` at the given path.
    type Make = fn(&std::path::Path);
    let cases: [(&str, Make, &str); 6] = [
        (
            "a directory",
            |env| std::fs::create_dir(env).expect("mkdir .env"),
            "error: cannot read .env: Is a directory (os error 21)",
        ),
        (
            "a link to /dev/zero",
            |env| std::os::unix::fs::symlink("/dev/zero", env).expect("symlink"),
            "error: cannot read .env: not a regular file (a named pipe, socket or device)",
        ),
        (
            // Opening it would wait for a writer forever.
            "a named pipe",
            |env| {
                let made = std::process::Command::new("mkfifo")
                    .arg(env)
                    .status()
                    .expect("mkfifo");
                assert!(made.success(), "mkfifo {}", env.display());
            },
            "error: cannot read .env: not a regular file (a named pipe, socket or device)",
        ),
        (
            "a file over 64 KiB",
            |env| {
                let line = format!("# {}\n", "x".repeat(1021));
                std::fs::write(env, line.repeat(65)).expect("write");
            },
            "error: cannot read .env: larger than 64 KiB",
        ),
        (
            "invalid UTF-8",
            |env| std::fs::write(env, b"DATABASE_URL=sqlite://x\xff.db\n").expect("write"),
            "error: cannot read .env: not UTF-8 text (invalid byte at offset 23)",
        ),
        (
            "a dangling link",
            |env| std::os::unix::fs::symlink("missing.env", env).expect("symlink"),
            "error: cannot read .env: No such file or directory (os error 2)",
        ),
    ];
    for (what, make, expected) in cases {
        let dir = WorkDir::new();
        make(&dir.path().join(".env"));
        let status = run_within(30, BIN, dir.path(), &[], &["status"]);
        assert_eq!(status.code, 1, "{what}: {status:#?}");
        assert_eq!(status.stderr_lines(), vec![expected], "{what}");
        assert_eq!(status.stdout, "", "{what}");
        assert_eq!(dir.files(), vec![".env"], "{what}: nothing created");
    }
}

#[test]
fn a_database_variable_set_but_empty_is_refused_by_name() {
    let refused = |variable: &str| {
        format!(
            "error: invalid database URL from {variable}: it is set but empty; give it a \
             database URL, or unset it"
        )
    };
    let dir = WorkDir::new();
    for (env, variable) in [
        (&[("DATABASE_URL", "")][..], "DATABASE_URL"),
        (
            &[("SKETCH2BIM_DATABASE_URL", "  ")][..],
            "SKETCH2BIM_DATABASE_URL",
        ),
        // The database's own variable comes first, so it is the one named.
        (
            &[
                ("SKETCH2BIM_DATABASE_URL", ""),
                ("DATABASE_URL", "sqlite://other.sqlite?mode=rwc"),
            ][..],
            "SKETCH2BIM_DATABASE_URL",
        ),
    ] {
        let up = run_within(30, BIN, dir.path(), env, &["up"]);
        assert_eq!(up.code, 1, "{env:?}: {up:#?}");
        assert_eq!(up.stderr_lines(), vec![refused(variable)], "{env:?}");
    }
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=\n").expect("write .env");
    let up = run_within(30, BIN, dir.path(), &[], &["up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_eq!(up.stderr_lines(), vec![refused("DATABASE_URL in .env")]);
    assert_eq!(dir.files(), vec![".env"], "nothing created");
}

#[test]
fn the_default_is_a_sqlite_file_in_the_working_directory_and_dotenv_is_read() {
    let dir = WorkDir::new();
    let up = run(BIN, dir.path(), &[], &["up"]).ok();
    assert_eq!(
        up.stderr_lines()[0],
        "no database URL configured (-u, SKETCH2BIM_DATABASE_URL, DATABASE_URL or .env): \
         using the SQLite file sketch2bim.sqlite in the working directory"
    );
    assert!(up.stderr.contains(&format!(
        "sketch2bim: applied {} in ",
        Migrations::count(migrations().len())
    )));
    assert_eq!(dir.files(), vec!["sketch2bim.sqlite"]);

    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite://from_dotenv.sqlite?mode=rwc\n",
    )
    .expect("write .env");
    let up = run(BIN, dir.path(), &[], &["up", "-n", "1"]).ok();
    assert!(!up.stderr.contains("no database URL configured"), "{up:#?}");
    assert_eq!(
        dir.files(),
        vec![".env", "from_dotenv.sqlite", "sketch2bim.sqlite"]
    );
    let current = run(BIN, dir.path(), &[], &["current"]).ok();
    assert_eq!(current.stdout, "m001_initial_schema\n");

    // The database's own variable wins over DATABASE_URL and .env.
    let current = run(
        BIN,
        dir.path(),
        &[
            ("SKETCH2BIM_DATABASE_URL", "sqlite://sketch2bim.sqlite"),
            ("DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/x"),
        ],
        &["current"],
    )
    .ok();
    assert_eq!(current.stdout, format!("{}\n", migrations().head()));
}

#[test]
fn reading_a_sqlite_database_that_is_not_there_creates_nothing() {
    let dir = WorkDir::new();
    let announce = "no database URL configured (-u, SKETCH2BIM_DATABASE_URL, DATABASE_URL or \
                    .env): using the SQLite file sketch2bim.sqlite in the working directory";
    let not_yet = |file: &str| {
        format!(
            "sketch2bim: no database yet: the SQLite file {file} does not exist, so no \
             migration is applied"
        )
    };
    let current = run(BIN, dir.path(), &[], &["current"]).ok();
    assert_eq!(current.stdout, "none\n");
    assert_eq!(
        current.stderr_lines(),
        vec![announce.to_owned(), not_yet("sketch2bim.sqlite")]
    );
    let status = run(BIN, dir.path(), &[], &["status"]).ok();
    assert_eq!(
        status.stdout_lines(),
        migrations()
            .names()
            .iter()
            .map(|name| format!("{name:width$}  pending", width = migrations().width()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        status.stderr_lines(),
        vec![announce.to_owned(), not_yet("sketch2bim.sqlite")]
    );
    // An explicit file, with or without ?mode=rwc, and a dry run.
    for (url, args) in [
        ("sqlite://x.db", &["status", "--format", "json"][..]),
        ("sqlite://x.db?mode=rwc", &["current"][..]),
        (
            "sqlite://x.db?mode=rwc",
            &["up", "--dry-run", "-n", "1"][..],
        ),
        ("sqlite://x.db?mode=rwc", &["verify"][..]),
        ("sqlite://x.db?mode=rwc", &["repair"][..]),
    ] {
        let read = cli(BIN, &dir, url, args).ok();
        assert_eq!(read.stderr_lines()[0], not_yet("x.db"), "{url} {args:?}");
    }
    let verify = cli(BIN, &dir, "sqlite://x.db", &["verify"]).ok();
    assert_eq!(
        verify.stderr_lines()[1],
        "sketch2bim: no migration is applied, so there is nothing to verify"
    );
    assert_eq!(dir.files(), Vec::<String>::new(), "nothing created");

    // Once it exists, it is read.
    run(BIN, dir.path(), &[], &["up", "-n", "1"]).ok();
    let current = run(BIN, dir.path(), &[], &["current"]).ok();
    assert_eq!(current.stdout, "m001_initial_schema\n");
    assert_eq!(current.stderr_lines(), vec![announce]);
}

#[test]
fn sqlite_urls_that_would_lose_or_miss_the_database_are_refused_before_connecting() {
    let dir = WorkDir::new();
    let refused = |url: &str, args: &[&str], expected: &str| {
        let run = cli(BIN, &dir, url, args);
        assert_eq!(run.code, 1, "{url} {args:?}: {run:#?}");
        assert_eq!(run.stderr_lines(), vec![expected], "{url} {args:?}");
        assert_eq!(run.stdout, "", "{url} {args:?}");
    };
    // No file named: SQLite would open a temporary database per connection.
    for args in [&["up"][..], &["status"]] {
        refused(
            "sqlite://",
            args,
            "error: invalid database URL from --database-url: it names no SQLite file; give \
             one, e.g. sqlite://app.sqlite?mode=rwc",
        );
    }
    // In memory: nothing a changing command does would be kept.
    for (url, args) in [
        ("sqlite::memory:", &["up"][..]),
        ("sqlite::memory:", &["down"]),
        ("sqlite::memory:", &["fresh"]),
        ("sqlite::memory:", &["refresh"]),
        ("sqlite::memory:", &["reset"]),
        ("sqlite::memory:", &["adopt"]),
        ("sqlite::memory:", &["drop-alembic-version"]),
        ("sqlite://?mode=memory", &["up"]),
    ] {
        refused(
            url,
            args,
            &format!(
                "error: {} on the in-memory SQLite database {url} would keep nothing: it is \
                 gone when the run ends; give a SQLite file, e.g. \
                 sqlite://sketch2bim.sqlite?mode=rwc",
                args[0]
            ),
        );
    }
    // Reading it is harmless.
    let status = cli(BIN, &dir, "sqlite::memory:", &["status"]).ok();
    assert_eq!(status.stdout_lines().len(), migrations().len());
    // A file that is not there, by a URL that does not ask to create it.
    for url in ["sqlite://x.db", "sqlite://x.db?mode=ro"] {
        refused(
            url,
            &["up"],
            "error: cannot open the SQLite file x.db: it does not exist; add ?mode=rwc to the \
             URL to create it",
        );
    }
    assert_eq!(dir.files(), Vec::<String>::new(), "nothing created");
    // Once it exists, the URL without ?mode=rwc opens it.
    cli(BIN, &dir, "sqlite://x.db?mode=rwc", &["up", "-n", "1"]).ok();
    cli(BIN, &dir, "sqlite://x.db", &["up"]).ok();
    assert_eq!(dir.files(), vec!["x.db"]);
}
