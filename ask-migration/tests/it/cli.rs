//! The ASK binary shares the CLI; these check what is ASK's own: its URL
//! variable, its default file, its migrations.

use test_support::TestDb;
use test_support::cli::{WorkDir, run, with_password};
use test_support::db::{exec, int};
use test_support::migrations::Migrations;
use test_support::walk::{applied_names, catalog};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_ask-migration");

#[tokio::test]
async fn ask_database_url_wins_over_database_url() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = with_password(test_db.url(), "hunter2");
    let env = [
        ("ASK_DATABASE_URL", url.as_str()),
        ("DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/elsewhere"),
    ];
    let m = migrations();
    let up = run(BIN, dir.path(), &env, &["up"]).ok();
    let lines = up.stderr_lines();
    // One line per migration, and the summary.
    assert_eq!(lines.len(), m.len() + 1, "{up:#?}");
    for (line, name) in lines.iter().zip(m.names()) {
        assert!(line.starts_with(&format!("applied {name} (")), "{up:#?}");
    }
    let summary = lines[m.len()];
    assert!(summary.starts_with(&format!("ask: applied {} in ", Migrations::count(m.len()))));
    assert!(summary.ends_with(&format!("; at {} (head)", m.head())));
    up.assert_never_shows("hunter2");
    assert_eq!(applied_names(&db).await, m.names());

    let status = run(BIN, dir.path(), &env, &["status", "--format", "json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(doc["current"], m.head());
    assert_eq!(doc["head"], m.head());

    let down = run(BIN, dir.path(), &env, &["down"]).ok();
    assert!(
        down.stderr.contains("ask: rolled back 1 migration in "),
        "{down:#?}"
    );
    assert_eq!(applied_names(&db).await, m.first(m.len() - 1));
    let current = match m.len() {
        1 => "none".to_owned(),
        n => m.name(n - 2).to_owned(),
    };
    assert_eq!(
        run(BIN, dir.path(), &env, &["current"]).ok().stdout,
        format!("{current}\n")
    );
}

#[test]
fn the_default_is_ask_sqlite() {
    let dir = WorkDir::new();
    let up = run(BIN, dir.path(), &[], &["up"]).ok();
    assert_eq!(
        up.stderr_lines()[0],
        "no database URL configured (-u, ASK_DATABASE_URL, DATABASE_URL or .env): \
         using the SQLite file ask.sqlite in the working directory"
    );
    assert_eq!(dir.files(), vec!["ask.sqlite"]);
    let history = run(BIN, dir.path(), &[], &["history"]).ok();
    let lines = history.stdout_lines();
    let width = migrations().width();
    assert_eq!(lines.len(), migrations().len());
    for (line, name) in lines.iter().zip(migrations().names()) {
        assert!(line.starts_with(&format!("{name:<width$}  ")), "{line}");
    }
    assert!(
        lines[0].starts_with(&format!(
            "{:<width$}  The ASK schema",
            "m001_initial_schema"
        )),
        "{history:#?}"
    );
}

#[tokio::test]
async fn an_alembic_built_ask_database_is_adopted_without_rerunning_001() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    test_support::alembic::build(&db, "ask", 1).await;
    exec(
        &db,
        "INSERT INTO users (email) VALUES ('reader@example.com')",
    )
    .await;
    let before = test_support::walk::catalog(&db).await;
    let dir = WorkDir::new();
    let env = [("ASK_DATABASE_URL", test_db.url())];
    let up = run(BIN, dir.path(), &env, &["up"]).ok();
    assert_eq!(
        up.stderr_lines()[0],
        "adopted the Alembic-built database at revision 001: recorded m001_initial_schema \
         as applied"
    );
    // Then every migration after the Alembic history, on top of its schema.
    let after = migrations().len() - 1;
    let summary = if after == 0 {
        "ask: adopted Alembic revision 001 in ".to_owned()
    } else {
        format!(
            "ask: adopted Alembic revision 001, applied {} in ",
            Migrations::count(after)
        )
    };
    assert_eq!(up.stderr_lines().len(), 2 + after, "{up:#?}");
    for (line, name) in up.stderr_lines()[1..=after]
        .iter()
        .zip(&migrations().names()[1..])
    {
        assert!(line.starts_with(&format!("applied {name} (")), "{up:#?}");
    }
    assert!(
        up.stderr_lines()[1 + after].starts_with(&summary),
        "{up:#?}"
    );
    assert_eq!(applied_names(&db).await, migrations().names());
    // Adopting ran nothing of 001: what it built is what Alembic built.
    let fresh = TestDb::postgres().await;
    let fresh_db = fresh.connect().await;
    run(
        BIN,
        dir.path(),
        &[("ASK_DATABASE_URL", fresh.url())],
        &["up"],
    )
    .ok();
    assert!(
        catalog(&db)
            .await
            .diff(&catalog(&fresh_db).await, true)
            .is_empty()
    );
    if after == 0 {
        assert!(catalog(&db).await.diff(&before, true).is_empty());
    }
    assert_eq!(
        int(&db, "SELECT CAST(count(*) AS BIGINT) FROM users").await,
        1
    );
}

#[tokio::test]
async fn check_passes_on_a_freshly_migrated_database() {
    let test_db = TestDb::postgres().await;
    let dir = WorkDir::new();
    let env = [("ASK_DATABASE_URL", test_db.url())];
    run(BIN, dir.path(), &env, &["up"]).ok();
    let tables = catalog(&test_db.connect().await).await.tables.len();
    let check = run(BIN, dir.path(), &env, &["check"]).ok();
    assert_eq!(
        check.stderr,
        format!("ask: the database matches the entities ({tables} tables)\n")
    );
}

#[test]
fn version_names_the_binary() {
    let dir = WorkDir::new();
    let version = run(BIN, dir.path(), &[], &["--version"]).ok();
    assert_eq!(
        version.stdout,
        format!("ask-migration {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(version.stderr, "");
}
