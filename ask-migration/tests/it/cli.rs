//! The ASK binary shares the CLI; these check what is ASK's own: its URL
//! variable, its default file, its one migration.

use test_support::TestDb;
use test_support::cli::{WorkDir, run, with_password};
use test_support::db::{exec, int};
use test_support::walk::applied_names;

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
    let up = run(BIN, dir.path(), &env, &["up"]).ok();
    let lines = up.stderr_lines();
    assert_eq!(lines.len(), 2, "{up:#?}");
    assert!(lines[0].starts_with("applied m001_initial_schema ("));
    assert!(lines[1].starts_with("ask: applied 1 migration in "));
    assert!(lines[1].ends_with("; at m001_initial_schema (head)"));
    up.assert_never_shows("hunter2");
    assert_eq!(applied_names(&db).await, vec!["m001_initial_schema"]);

    let status = run(BIN, dir.path(), &env, &["status", "--format", "json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(doc["current"], "m001_initial_schema");
    assert_eq!(doc["head"], "m001_initial_schema");

    let down = run(BIN, dir.path(), &env, &["down"]).ok();
    assert!(
        down.stderr.contains("ask: rolled back 1 migration in "),
        "{down:#?}"
    );
    assert_eq!(applied_names(&db).await, Vec::<String>::new());
    assert_eq!(
        run(BIN, dir.path(), &env, &["current"]).ok().stdout,
        "none\n"
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
    assert_eq!(history.stdout_lines().len(), 1);
    assert!(
        history
            .stdout
            .starts_with("m001_initial_schema  The ASK schema")
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
    assert!(up.stderr_lines()[1].starts_with("ask: adopted Alembic revision 001 in "));
    assert_eq!(applied_names(&db).await, vec!["m001_initial_schema"]);
    assert!(
        test_support::walk::catalog(&db)
            .await
            .diff(&before, true)
            .is_empty()
    );
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
    let check = run(BIN, dir.path(), &env, &["check"]).ok();
    assert_eq!(
        check.stderr,
        "ask: the database matches the entities (3 tables)\n"
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
