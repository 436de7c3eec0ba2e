//! Databases and inputs that try to mislead the migrator: defaults that
//! call functions, `.env` files it could misread, names that would forge
//! output lines, a search path that points elsewhere, and odd arguments.

use migration_core::runner::History;
use sea_orm::TransactionTrait;
use test_support::cli::{WorkDir, cli, run, run_within};
use test_support::db::{bookkeeping_rows, connect_as, exec, int};
use test_support::walk::applied_names;
use test_support::{TestDb, alembic};

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

fn history() -> History {
    History::of::<sketch2bim_migration::Migrator>()
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

#[test]
fn an_sslrootcert_that_is_a_named_pipe_is_refused_at_once() {
    let dir = WorkDir::new();
    let fifo = dir.path().join("ca.pem");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let url = format!(
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=verify-full&sslrootcert={}",
        fifo.display()
    );
    let status = run_within(5, BIN, dir.path(), &[], &["-u", &url, "status"]);
    assert_eq!(status.code, 1, "{status:#?}");
    assert_eq!(
        status.stderr_lines(),
        vec![format!(
            "error: cannot use the sslrootcert file {}: not a regular file (a directory, named \
             pipe, socket or device)",
            fifo.display()
        )]
    );
}

#[tokio::test]
async fn adopt_at_refuses_a_database_without_any_of_the_tables() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let history = history();
    let at = history.names()[history.names().len() / 2];
    let dir = WorkDir::new();
    let adopt = cli(
        BIN,
        &dir,
        test_db.url(),
        &["adopt", "--at", at, "--accept-differences"],
    );
    assert_eq!(adopt.code, 1, "{adopt:#?}");
    assert_eq!(
        adopt.stderr_lines(),
        vec![format!(
            "error: not baselining at {at}: the database has none of the tables {at} and the \
             migrations before it build, so there is nothing to baseline; run up to migrate it \
             instead; nothing was changed"
        )]
    );
    assert_eq!(bookkeeping_rows(&db).await, -1, "nothing was recorded");
}

#[tokio::test]
async fn a_null_or_blank_alembic_version_is_named() {
    for (value, found) in [("NULL", "a NULL"), ("''", "an empty")] {
        let test_db = TestDb::postgres().await;
        let db = test_db.connect().await;
        alembic::build(&db, "sketch2bim", 5).await;
        exec(
            &db,
            &format!(
                "ALTER TABLE alembic_version DROP CONSTRAINT alembic_version_pkc; \
                 ALTER TABLE alembic_version ALTER COLUMN version_num DROP NOT NULL; \
                 UPDATE alembic_version SET version_num = {value}"
            ),
        )
        .await;
        let dir = WorkDir::new();
        for command in ["up", "status"] {
            let refused = cli(BIN, &dir, test_db.url(), &[command]);
            assert_eq!(refused.code, 1, "{command}: {refused:#?}");
            assert_eq!(
                refused.stderr_lines(),
                vec![format!(
                    "error: alembic_version records {found} revision, so the Alembic revision \
                     of this database is unknown; nothing was changed"
                )],
                "{command}"
            );
        }
        assert_eq!(bookkeeping_rows(&db).await, -1);
    }
}

#[tokio::test]
async fn an_empty_schema_name_is_refused() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let up = cli(BIN, &dir, test_db.url(), &["-s", "", "up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_eq!(
        up.stderr_lines(),
        vec!["error: invalid schema name \"\": give one schema name, without '\"' or ','"]
    );
    assert_eq!(bookkeeping_rows(&db).await, -1, "nothing was migrated");
}

#[test]
fn generate_refuses_names_that_are_not_snake_case_words() {
    let dir = WorkDir::new();
    for name in ["_", "Foo", "a__b", "_a", "a_", "1a", "add-notes", ""] {
        let generate = run(BIN, dir.path(), &[], &["generate", name]);
        assert_eq!(generate.code, 1, "{name:?}: {generate:#?}");
        assert_eq!(
            generate.stderr_lines(),
            vec![format!(
                "error: invalid migration name '{name}': use snake_case words (lowercase \
                 letters and digits, starting with a letter, joined by single underscores), \
                 e.g. add_notes_to_jobs"
            )],
            "{name:?}"
        );
    }
    assert!(dir.files().is_empty(), "nothing was written");
}

#[tokio::test]
async fn verify_fails_on_a_blank_checksum_and_says_it_is_blank() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let history = history();
    let names = history.names();
    let blank = names[names.len() / 2];
    let dir = WorkDir::new();
    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    exec(
        &db,
        &format!("UPDATE seaql_migrations SET checksum = '' WHERE version = '{blank}'"),
    )
    .await;
    let verify = cli(BIN, &dir, test_db.url(), &["verify"]);
    assert_eq!(verify.code, 1, "{verify:#?}");
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    let expected: Vec<String> = names
        .iter()
        .map(|name| {
            let said = if *name == blank {
                "blank checksum recorded"
            } else {
                "ok"
            };
            format!("{name:width$}  {said}")
        })
        .collect();
    assert_eq!(verify.stdout_lines(), expected);
    assert_eq!(
        verify.stderr_lines(),
        vec![format!(
            "error: 1 applied migration has a blank checksum recorded: {blank}; check its \
             schema against the code, then run repair to record its checksum"
        )]
    );
    cli(BIN, &dir, test_db.url(), &["repair"]).ok();
    cli(BIN, &dir, test_db.url(), &["verify"]).ok();
}

#[tokio::test]
async fn up_migrates_public_whatever_search_path_the_database_sets() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let history = history();
    let names = history.names();
    let partway = names[names.len() - 3];
    let dir = WorkDir::new();
    cli(BIN, &dir, test_db.url(), &["up", "--to", partway]).ok();
    // Another schema first on the search path, whose bookkeeping claims
    // every migration is applied.
    let forged: Vec<String> = names
        .iter()
        .map(|name| format!("('{name}', 0, NULL)"))
        .collect();
    exec(
        &db,
        &format!(
            "CREATE SCHEMA evil; \
             CREATE TABLE evil.seaql_migrations (version varchar PRIMARY KEY, \
                 applied_at bigint NOT NULL, checksum varchar); \
             INSERT INTO evil.seaql_migrations VALUES {}; \
             ALTER DATABASE \"{}\" SET search_path = evil, public",
            forged.join(", "),
            test_db.name()
        ),
    )
    .await;
    let recorded = |schema: &'static str| {
        let db = &db;
        async move {
            test_support::db::strings(
                db,
                &format!("SELECT version::text FROM {schema}.seaql_migrations ORDER BY version"),
            )
            .await
            .into_iter()
            .flatten()
            .collect::<Vec<String>>()
        }
    };
    let up = cli(BIN, &dir, test_db.url(), &["up"]).ok();
    assert!(
        up.stderr_lines()
            .last()
            .is_some_and(|l| l.ends_with(&format!(
                "; at {} (head)",
                history.head().unwrap_or_default()
            ))),
        "{up:#?}"
    );
    assert_eq!(recorded("public").await, names);
    assert_eq!(
        recorded("evil").await,
        names,
        "the other schema is untouched"
    );
    // The migrations' tables went to public, not to the first schema.
    assert_eq!(
        int(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'evil'"
        )
        .await,
        1
    );
    cli(BIN, &dir, test_db.url(), &["check"]).ok();
    let current = cli(BIN, &dir, test_db.url(), &["current"]).ok();
    assert_eq!(
        current.stdout,
        format!("{}\n", history.head().unwrap_or_default())
    );
}
