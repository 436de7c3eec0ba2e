//! Checksums of applied migrations: recorded when a migration is applied and
//! when a database is adopted; an edit is flagged by `up` and `status`,
//! `verify` exits 1 listing it, `repair` records the new checksum; a
//! bookkeeping table made before checksums were kept gets the column from the
//! first run that records something, and sea-orm's own reader still reads it.

use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement};
use sea_orm_migration::MigratorTrait;
use test_support::cli::{WorkDir, cli};
use test_support::db::exec;
use test_support::migrations::Migrations;
use test_support::{Backend, TestDb, alembic};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// The checksums of the migrations that replaced the Alembic history, as
/// rendered for PostgreSQL. They change only if a migration's statements
/// change: migrations are frozen history, so a change here is a new migration
/// instead (or, after a dependency upgrade that renders different SQL, a
/// reviewed `repair` in every database). Later migrations are checked against
/// what this binary renders for them.
const POSTGRES: [(&str, &str); 10] = [
    (
        "m001_initial_schema",
        "87687521a665a4148640bffbad21015f40c53fa310b965a1a980f1734e7f59a8",
    ),
    (
        "m002_add_legend_to_jobs",
        "c0236ebb128a10eb7bb1bc9e01ae5fadd7afaa2e68387d8d03098850d24c0211",
    ),
    (
        "m003_add_batch_id_to_jobs",
        "2627a9378446b8e394983a9917e3669ee1ce2ed6f1058363894559b3d1fa7fdf",
    ),
    (
        "m004_add_iterations_variations_referrals",
        "67b63c9c1880f759d540fdbdcb64e1c69c0283d86e8b732b3a245d5ff55dbd89",
    ),
    (
        "m005_add_sketchup_url",
        "ebc97224e65dfb7bb6d55ea7af586f318c0aacc8610ae26e2486cb8f68abf879",
    ),
    (
        "m006_remove_api_keys",
        "ca0c4efcc8a09455121dbcaa71b2888233322be287d65e0b444d87e988499c9b",
    ),
    (
        "m007_add_subscription_expires_at",
        "c2c5c9de23e53e240f2fb15ab88cdb808aec0aeb89baecb65984364ebcf3ca09",
    ),
    (
        "m008_add_subscription_fields",
        "734988b4833531c5da607d8ce355f93f001f91a021ec54117cbca47514d764cf",
    ),
    (
        "m009_add_project_type_to_jobs",
        "2e3e51412d1610f8cfdc52e0d7419485cbbdd77920410b124442070553e9ceb5",
    ),
    (
        "m010_remove_reader_type_column",
        "a6e52d57300e55bcb122f6a382053c34f4d5b9683cdb358e9d6358649438870a",
    ),
];

/// As rendered for SQLite, where three migrations render differently.
const SQLITE: [(&str, &str); 10] = [
    (
        "m001_initial_schema",
        "8640e92a5fd26c6d74015da38ea3567cb971a032f91eec52821b5fbbfacf574f",
    ),
    (
        "m002_add_legend_to_jobs",
        "428d62fef82dca06b5c99500dd0fc4d62bb3d9ff6dc15590dd36d107eb025861",
    ),
    (
        "m003_add_batch_id_to_jobs",
        "2627a9378446b8e394983a9917e3669ee1ce2ed6f1058363894559b3d1fa7fdf",
    ),
    (
        "m004_add_iterations_variations_referrals",
        "68bd3a5ba7fadd799dd8c54e96dba2a9f541d91e6643e6abd3fe059cbe61115a",
    ),
    (
        "m005_add_sketchup_url",
        "ebc97224e65dfb7bb6d55ea7af586f318c0aacc8610ae26e2486cb8f68abf879",
    ),
    (
        "m006_remove_api_keys",
        "ca0c4efcc8a09455121dbcaa71b2888233322be287d65e0b444d87e988499c9b",
    ),
    (
        "m007_add_subscription_expires_at",
        "2155a95054a6cd657159632014447ec1f33d447c7e154f0c4f679756df9d07f6",
    ),
    (
        "m008_add_subscription_fields",
        "695286fc171e2968f33a74e1691783bf08adfc768c0575f9e4b8619174f1b60a",
    ),
    (
        "m009_add_project_type_to_jobs",
        "2e3e51412d1610f8cfdc52e0d7419485cbbdd77920410b124442070553e9ceb5",
    ),
    (
        "m010_remove_reader_type_column",
        "a6e52d57300e55bcb122f6a382053c34f4d5b9683cdb358e9d6358649438870a",
    ),
];

fn pinned(backend: Backend) -> &'static [(&'static str, &'static str); 10] {
    match backend {
        Backend::Postgres => &POSTGRES,
        Backend::Sqlite => &SQLITE,
    }
}

/// Every migration's checksum on `backend`, oldest first: the pinned one for
/// the migrations that have one, what this binary renders for the later ones.
async fn expected(backend: Backend) -> Vec<(String, String)> {
    let db_backend = match backend {
        Backend::Postgres => sea_orm::DbBackend::Postgres,
        Backend::Sqlite => sea_orm::DbBackend::Sqlite,
    };
    let mut all = Vec::new();
    for migration in sketch2bim_migration::Migrator::migrations() {
        let name = migration.name().to_owned();
        let checksum = match pinned(backend).iter().find(|(n, _)| *n == name) {
            Some((_, checksum)) => (*checksum).to_owned(),
            None => migration_core::checksum::of(migration.as_ref(), db_backend)
                .await
                .unwrap_or_else(|| panic!("{name} renders without a database")),
        };
        all.push((name, checksum));
    }
    all
}

#[tokio::test]
async fn the_pinned_checksums_are_the_first_migrations_and_what_they_render() {
    let names = migrations().first(POSTGRES.len());
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let pinned: Vec<&str> = pinned(backend).iter().map(|(n, _)| *n).collect();
        assert_eq!(pinned, names);
    }
    let db_backend = sea_orm::DbBackend::Postgres;
    for (migration, (name, checksum)) in sketch2bim_migration::Migrator::migrations()
        .iter()
        .zip(POSTGRES)
    {
        assert_eq!(
            migration_core::checksum::of(migration.as_ref(), db_backend)
                .await
                .as_deref(),
            Some(checksum),
            "{name}"
        );
    }
}

/// `(version, checksum)` of every bookkeeping row, in name order.
async fn recorded(db: &DatabaseConnection) -> Vec<(String, Option<String>)> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT version, checksum FROM seaql_migrations ORDER BY version",
    ))
    .await
    .expect("reading seaql_migrations")
    .iter()
    .map(|r| {
        (
            r.try_get::<String>("", "version").expect("version"),
            r.try_get::<Option<String>>("", "checksum")
                .expect("checksum"),
        )
    })
    .collect()
}

async fn all_recorded(backend: Backend) -> Vec<(String, Option<String>)> {
    expected(backend)
        .await
        .into_iter()
        .map(|(n, c)| (n, Some(c)))
        .collect()
}

/// Whether the bookkeeping table has the checksum column.
async fn has_checksum_column(db: &DatabaseConnection) -> bool {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "SELECT CAST(count(*) AS BIGINT) AS n FROM information_schema.columns \
             WHERE table_name = 'seaql_migrations' AND column_name = 'checksum'"
        }
        _ => {
            "SELECT count(*) AS n FROM pragma_table_info('seaql_migrations') WHERE name = 'checksum'"
        }
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("reading the catalog")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("count") == 1
}

fn names() -> Vec<&'static str> {
    migrations().names()
}

const EDITED: &str = "m003_add_batch_id_to_jobs was edited after it was applied: its checksum \
                      was 000000000000, it is 2627a9378446 now; review the change, then run \
                      repair to record the new checksum";

async fn edits_are_flagged_verified_and_repaired(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up"]).ok();
    assert_eq!(recorded(&db).await, all_recorded(backend).await);

    let verify = cli(BIN, &dir, url, &["verify"]).ok();
    let width = names().iter().map(|n| n.len()).max().unwrap_or(0);
    let ok: Vec<String> = names().iter().map(|n| format!("{n:width$}  ok")).collect();
    assert_eq!(verify.stdout_lines(), ok);
    assert_eq!(
        verify.stderr_lines(),
        vec![format!(
            "sketch2bim: {} of {} applied match what this binary renders",
            migrations().len(),
            Migrations::count(migrations().len())
        )]
    );

    // m003 as if its code had rendered something else when it was applied.
    exec(
        &db,
        &format!(
            "UPDATE seaql_migrations SET checksum = '{}' WHERE version = 'm003_add_batch_id_to_jobs'",
            "0".repeat(64)
        ),
    )
    .await;

    let status = cli(BIN, &dir, url, &["status"]).ok();
    assert_eq!(status.stderr_lines(), vec![format!("warning: {EDITED}")]);
    let marked: Vec<&str> = status
        .stdout_lines()
        .into_iter()
        .filter(|l| l.ends_with("  (edited since it was applied)"))
        .collect();
    assert_eq!(marked.len(), 1, "{status:#?}");
    assert!(marked[0].starts_with("m003_add_batch_id_to_jobs "));
    let json = cli(BIN, &dir, url, &["status", "--format", "json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let verdicts: Vec<&str> = doc["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| m["checksum"].as_str().expect("checksum"))
        .collect();
    let mut want = vec!["matches"; migrations().len()];
    want[2] = "edited";
    assert_eq!(verdicts, want);

    let verify = cli(BIN, &dir, url, &["verify"]);
    assert_eq!(verify.code, 1, "{verify:#?}");
    assert_eq!(
        verify.stdout_lines()[2],
        format!(
            "{:width$}  edited: applied as 000000000000, renders 2627a9378446 now",
            "m003_add_batch_id_to_jobs"
        )
    );
    assert_eq!(
        verify.stderr_lines(),
        vec![
            "error: 1 applied migration was edited after it was applied: \
             m003_add_batch_id_to_jobs; review the change, then run repair to record the new \
             checksum"
        ]
    );

    // `up` flags it and goes on: nothing it applies depends on the edit.
    let up = cli(BIN, &dir, url, &["up"]).ok();
    assert_eq!(up.stderr_lines()[0], format!("warning: {EDITED}"));
    assert_eq!(up.stderr_lines().len(), 2, "{up:#?}");
    // So does the startup API, in its report.
    let report = migration_core::startup::migrate_with::<sketch2bim_migration::Migrator>(
        &db,
        true,
        &migration_core::runner::RunOptions::default(),
    )
    .await
    .expect("startup");
    assert_eq!(report.edited, vec!["m003_add_batch_id_to_jobs"]);
    assert_eq!(
        report.to_string(),
        format!(
            "sketch2bim: up to date at {}; edited since applied: m003_add_batch_id_to_jobs \
             (review, then run repair)",
            migrations().head()
        )
    );

    let repair = cli(BIN, &dir, url, &["repair"]).ok();
    assert_eq!(
        repair.stderr_lines(),
        vec![
            "recorded the checksum of m003_add_batch_id_to_jobs (2627a9378446)",
            "sketch2bim: recorded the checksums of 1 migration: m003_add_batch_id_to_jobs",
        ]
    );
    assert_eq!(recorded(&db).await, all_recorded(backend).await);
    cli(BIN, &dir, url, &["verify"]).ok();
    let again = cli(BIN, &dir, url, &["repair"]).ok();
    assert_eq!(
        again.stderr_lines(),
        vec![
            "sketch2bim: nothing to repair: every applied migration's recorded checksum is \
             what this binary renders"
        ]
    );
}

#[tokio::test]
async fn postgres_edits_are_flagged_verified_and_repaired() {
    edits_are_flagged_verified_and_repaired(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_edits_are_flagged_verified_and_repaired() {
    edits_are_flagged_verified_and_repaired(Backend::Sqlite).await;
}

/// A database migrated before checksums were kept: reading commands add
/// nothing; the first run that records a migration adds the column; `repair`
/// records the rest; sea-orm's own reader reads the table throughout.
async fn a_table_without_the_column_gets_it(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up"]).ok();
    exec(&db, "ALTER TABLE seaql_migrations DROP COLUMN checksum").await;

    let verify = cli(BIN, &dir, url, &["verify"]).ok();
    let n = migrations().len();
    assert_eq!(verify.stdout_lines().len(), n, "{verify:#?}");
    assert!(
        verify
            .stdout_lines()
            .iter()
            .all(|l| l.ends_with("  no checksum recorded")),
        "{verify:#?}"
    );
    assert_eq!(
        verify.stderr_lines(),
        vec![format!(
            "sketch2bim: 0 of {} applied match what this binary renders; {n} have no checksum \
             recorded (applied before checksums were kept, or by another tool): run repair to \
             record them",
            Migrations::count(n)
        )]
    );
    cli(BIN, &dir, url, &["status"]).ok();
    assert!(!has_checksum_column(&db).await, "a read command added it");

    cli(BIN, &dir, url, &["down", "-n", "1"]).ok();
    assert!(!has_checksum_column(&db).await, "down added it");
    let dry = cli(BIN, &dir, url, &["up", "--dry-run"]).ok();
    assert_eq!(
        &dry.stdout_lines()[..2],
        &[
            "-- the bookkeeping table's checksum column (up)".to_owned(),
            match backend {
                Backend::Postgres => {
                    "ALTER TABLE IF EXISTS \"public\".\"seaql_migrations\" ADD COLUMN IF NOT \
                     EXISTS checksum varchar;"
                }
                Backend::Sqlite => "ALTER TABLE \"seaql_migrations\" ADD COLUMN checksum varchar;",
            }
            .to_owned()
        ]
    );
    cli(BIN, &dir, url, &["up"]).ok();
    let mut want: Vec<(String, Option<String>)> =
        names().iter().map(|n| ((*n).to_owned(), None)).collect();
    // Only the head, rolled back and applied again, has its checksum.
    want[n - 1].1 = expected(backend).await.pop().map(|(_, checksum)| checksum);
    assert_eq!(recorded(&db).await, want);

    // sea-orm's own reader, as its CLI and `get_applied_migrations` use it.
    let rows = sea_orm_migration::seaql_migrations::Entity::find()
        .all(&db)
        .await
        .expect("sea-orm reads the bookkeeping table");
    assert_eq!(
        rows.iter().map(|r| r.version.as_str()).collect::<Vec<_>>(),
        names()
    );
    let applied = sketch2bim_migration::Migrator::get_applied_migrations(&db)
        .await
        .expect("get_applied_migrations");
    assert_eq!(
        applied.iter().map(|m| m.name()).collect::<Vec<_>>(),
        names()
    );

    let repair = cli(BIN, &dir, url, &["repair"]).ok();
    assert_eq!(
        repair.stderr_lines().last().map(|l| (*l).to_owned()),
        Some(format!(
            "sketch2bim: recorded the checksums of {}: {}",
            Migrations::count(n - 1),
            migrations().first(n - 1).join(", ")
        ))
    );
    assert_eq!(recorded(&db).await, all_recorded(backend).await);
}

#[tokio::test]
async fn postgres_table_without_the_column_gets_it() {
    a_table_without_the_column_gets_it(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_table_without_the_column_gets_it() {
    a_table_without_the_column_gets_it(Backend::Sqlite).await;
}

/// A row written by sea-orm's own insert (no checksum) is unrecorded, not
/// edited; adopting an Alembic-built database records its checksums.
#[tokio::test]
async fn adoption_records_checksums_and_foreign_rows_are_unrecorded() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    alembic::build(&db, "sketch2bim", 5).await;
    // A dry run shows the adoption as it will run, checksums included, and
    // changes nothing.
    let dry = cli(
        BIN,
        &dir,
        url,
        &["up", "--dry-run", "--to", "m005_add_sketchup_url"],
    )
    .ok();
    let lines = dry.stdout_lines();
    assert_eq!(
        &lines[..3],
        &[
            "-- adoption of Alembic revision 005 (up)",
            "BEGIN;",
            "ALTER TABLE IF EXISTS \"public\".\"seaql_migrations\" ADD COLUMN IF NOT EXISTS \
             checksum varchar;",
        ],
        "{dry:#?}"
    );
    assert!(
        lines[3].starts_with("CREATE TABLE IF NOT EXISTS \"public\".\"seaql_migrations\""),
        "{dry:#?}"
    );
    let insert = lines[4];
    assert!(
        insert.starts_with(
            "INSERT INTO \"public\".\"seaql_migrations\" (version, applied_at, checksum) \
             SELECT column1, "
        ),
        "{dry:#?}"
    );
    for (name, checksum) in &POSTGRES[..5] {
        assert!(
            insert.contains(&format!("('{name}', '{checksum}')")),
            "{insert}"
        );
    }
    assert!(!insert.contains("m006_"), "{insert}");
    assert_eq!(&lines[5..], &["COMMIT;", ""], "{dry:#?}");
    assert!(
        !test_support::db::has_bookkeeping(&db).await,
        "a dry run recorded something"
    );
    cli(BIN, &dir, url, &["adopt"]).ok();
    assert_eq!(
        recorded(&db).await,
        all_recorded(Backend::Postgres).await[..5]
    );

    // m006 recorded the way sea-orm's CLI records it.
    cli(BIN, &dir, url, &["up", "--to", "m006_remove_api_keys"]).ok();
    exec(
        &db,
        "UPDATE seaql_migrations SET checksum = NULL WHERE version = 'm006_remove_api_keys'",
    )
    .await;
    let verify = cli(BIN, &dir, url, &["verify"]).ok();
    assert_eq!(
        verify.stderr_lines(),
        vec![
            "sketch2bim: 5 of 6 migrations applied match what this binary renders; 1 has no \
             checksum recorded (applied before checksums were kept, or by another tool): run \
             repair to record it"
        ]
    );
    let status = cli(BIN, &dir, url, &["status"]).ok();
    assert_eq!(status.stderr, "", "an unrecorded checksum is no warning");
}

/// Adding the column waits for the table's readers no longer than the lock
/// wait, and `repair` on a table that has it takes no lock they hold off.
#[tokio::test]
async fn the_checksum_column_waits_for_readers_no_longer_than_the_lock_wait() {
    use sea_orm::TransactionTrait;
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up"]).ok();
    exec(&db, "ALTER TABLE seaql_migrations DROP COLUMN checksum").await;
    cli(BIN, &dir, url, &["down", "-n", "1"]).ok();

    // An application reads the bookkeeping table in a transaction it keeps open.
    let reader = test_db.connect().await;
    let open = reader.begin().await.expect("begin");
    exec(&open, "SELECT count(*) FROM seaql_migrations").await;
    let up = cli(BIN, &dir, url, &["--lock-wait", "200ms", "up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_eq!(
        up.stderr_lines(),
        vec![
            "error: adding the checksum column to seaql_migrations failed: canceling statement \
             due to lock timeout"
        ]
    );
    assert!(!has_checksum_column(&db).await, "half-added");
    open.commit().await.expect("commit");
    cli(BIN, &dir, url, &["up"]).ok();
    assert!(has_checksum_column(&db).await);

    // With the column there, repair only updates rows: a reader does not
    // hold it up.
    cli(BIN, &dir, url, &["repair"]).ok();
    exec(
        &db,
        "UPDATE seaql_migrations SET checksum = NULL WHERE version = 'm001_initial_schema'",
    )
    .await;
    let open = reader.begin().await.expect("begin");
    exec(&open, "SELECT count(*) FROM seaql_migrations").await;
    let repair = cli(BIN, &dir, url, &["--lock-wait", "200ms", "repair"]).ok();
    assert_eq!(
        repair.stderr_lines().last().copied(),
        Some("sketch2bim: recorded the checksums of 1 migration: m001_initial_schema")
    );
    open.commit().await.expect("commit");
}
