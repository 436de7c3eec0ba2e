//! Databases and inputs that try to mislead the migrator: defaults that
//! call functions, `.env` files it could misread, names that would forge
//! output lines, a search path that points elsewhere, and odd arguments.

use migration_core::runner::History;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, TransactionTrait};
use test_support::cli::{WorkDir, cli, run};
use test_support::db::{bookkeeping_rows, exec, int};
use test_support::walk::applied_names;
use test_support::{TestDb, alembic};

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

fn history() -> History {
    History::of::<sketch2bim_migration::Migrator>()
}

/// A one-connection pool that shows itself as `application` in pg_stat_activity.
async fn connect_as(url: &str, application: &str) -> DatabaseConnection {
    let separator = if url.contains('?') { '&' } else { '?' };
    let mut options =
        ConnectOptions::new(format!("{url}{separator}application_name={application}"));
    options.sqlx_logging(false).max_connections(1);
    Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("connect as {application}: {e}"))
}

#[tokio::test]
async fn adoption_never_runs_a_default_that_calls_a_function() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    exec(
        &db,
        "CREATE FUNCTION zz_scratch_kill() RETURNS varchar LANGUAGE plpgsql AS $$ \
         BEGIN \
           PERFORM pg_terminate_backend(pid) FROM pg_stat_activity \
           WHERE application_name = 'victim'; \
           RETURN 'usd'; \
         END $$; \
         ALTER TABLE payments ALTER COLUMN currency SET DEFAULT zz_scratch_kill()",
    )
    .await;
    let victim = connect_as(test_db.url(), "victim").await;
    let held = victim.begin().await.expect("the victim's transaction");
    assert_eq!(int(&held, "SELECT 1::int8").await, 1);

    let dir = WorkDir::new();
    let up = cli(BIN, &dir, test_db.url(), &["up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_eq!(
        up.stderr_lines(),
        vec![
            "error: not adopting: the schema differs from Alembic revision 005 in 1 place \
             (changed by hand?): column payments.currency: has character varying DEFAULT \
             zz_scratch_kill(), expected character varying DEFAULT 'usd'::character varying; \
             nothing was changed (`adopt --accept-differences` takes it over as it is)"
        ],
        "{up:#?}"
    );
    // The victim's session is alive: its open transaction still answers.
    assert_eq!(int(&held, "SELECT 2::int8").await, 2);
    held.rollback().await.expect("the victim's rollback");
    assert_eq!(
        int(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'"
        )
        .await,
        1
    );
    assert_eq!(bookkeeping_rows(&db).await, -1, "nothing was recorded");
}

#[tokio::test]
async fn a_dotenv_with_a_byte_order_mark_migrates_the_database_it_names() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let mut text = b"\xef\xbb\xbf".to_vec();
    text.extend_from_slice(format!("DATABASE_URL={}\n", test_db.url()).as_bytes());
    std::fs::write(dir.path().join(".env"), text).expect("write .env");
    let up = run(BIN, dir.path(), &[], &["up"]).ok();
    assert!(!up.stderr.contains("SQLite"), "{up:#?}");
    assert_eq!(applied_names(&db).await, history().names());
    assert_eq!(dir.files(), vec![".env"], "no SQLite file was created");
}

#[test]
fn a_dotenv_that_cannot_be_read_as_variables_is_refused_naming_the_line() {
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            "DATABASE_URL=postgres://u@127.0.0.1:1/x\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "UTF-16 with its byte-order mark",
            utf16,
            "error: cannot read .env: line 1: UTF-16 text; save it as UTF-8",
        ),
        (
            "an unterminated quote",
            b"# the database\nDATABASE_URL='postgres://u@127.0.0.1:1/x\n".to_vec(),
            "error: cannot read .env: line 2: a quote is not closed",
        ),
        (
            "a malformed line",
            b"DATABASE_URL postgres://u@127.0.0.1:1/x\n".to_vec(),
            "error: cannot read .env: line 1: not a VARIABLE=value line",
        ),
        (
            "no database URL",
            b"OTHER=1\n".to_vec(),
            "error: .env in the working directory sets neither SKETCH2BIM_DATABASE_URL nor \
             DATABASE_URL; set one of them in it to the database's URL, or pass -u (the SQLite \
             file sketch2bim.sqlite is used only where there is no .env)",
        ),
    ];
    for (what, text, expected) in cases {
        let dir = WorkDir::new();
        std::fs::write(dir.path().join(".env"), text).expect("write .env");
        for command in ["up", "status"] {
            let refused = run(BIN, dir.path(), &[], &[command]);
            assert_eq!(refused.code, 1, "{what}: {refused:#?}");
            assert_eq!(refused.stderr_lines(), vec![expected], "{what}");
            assert_eq!(
                dir.files(),
                vec![".env"],
                "{what}: no SQLite file was created"
            );
        }
    }
}

/// No line of `output` starts with `error: FORGED` or holds an escape byte.
#[track_caller]
fn assert_unforged(output: &test_support::cli::Run) {
    for line in output.stdout.lines().chain(output.stderr.lines()) {
        assert!(!line.starts_with("error: FORGED"), "forged: {output:#?}");
        assert!(!line.contains('\u{1b}'), "escape byte: {output:#?}");
    }
}

const FORGED_TABLE: &str = "CREATE TABLE \"zz_scratch\nerror: FORGED\u{1b}[2K\" (id int)";

#[tokio::test]
async fn a_table_name_cannot_forge_a_line_of_check() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    exec(&db, FORGED_TABLE).await;
    let check = cli(BIN, &dir, test_db.url(), &["check"]);
    assert_eq!(check.code, 1, "{check:#?}");
    assert_unforged(&check);
    assert_eq!(
        check.stdout_lines(),
        vec!["zz_scratch\\nerror: FORGED\\x1b[2K: table in the database, no entity has it"],
        "{check:#?}"
    );
}

#[tokio::test]
async fn a_table_name_cannot_forge_a_line_of_the_accepted_differences() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    exec(&db, FORGED_TABLE).await;
    let dir = WorkDir::new();
    let adopt = cli(BIN, &dir, test_db.url(), &["adopt", "--accept-differences"]).ok();
    assert_unforged(&adopt);
    let lines = adopt.stderr_lines();
    assert_eq!(
        lines[..2],
        [
            "warning: accepted difference: unexpected column zz_scratch\\nerror: FORGED\\x1b[2K.id",
            "warning: accepted difference: unexpected table zz_scratch\\nerror: FORGED\\x1b[2K",
        ],
        "{adopt:#?}"
    );
    // Refused without the flag: the error lists it, escaped, on one line.
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    exec(&db, FORGED_TABLE).await;
    let up = cli(BIN, &dir, test_db.url(), &["up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_unforged(&up);
    assert_eq!(up.stderr_lines().len(), 1, "{up:#?}");
}

#[test]
fn escape_bytes_given_in_to_are_shown_escaped() {
    let dir = WorkDir::new();
    let up = run(
        BIN,
        dir.path(),
        &[],
        &[
            "-u",
            "sqlite://x.sqlite?mode=rwc",
            "up",
            "--to",
            "m0\u{1b}[31m\nerror: FORGED",
        ],
    );
    assert_eq!(up.code, 1, "{up:#?}");
    assert_unforged(&up);
    assert_eq!(
        up.stderr_lines(),
        vec!["error: unknown migration m0\\x1b[31m\\nerror: FORGED"],
        "{up:#?}"
    );
}
