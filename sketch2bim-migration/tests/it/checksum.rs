//! Checksums of applied migrations: recorded when a migration is applied and
//! when a database is adopted; an edit is flagged by `up` and `status`,
//! `verify` exits 1 listing it, `repair` records the new checksum; a
//! bookkeeping table made before checksums were kept gets the column from the
//! first run that records something, and sea-orm's own reader still reads it.

use rstest::rstest;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement};
use sea_orm_migration::MigratorTrait;
use test_support::cli::{WorkDir, cli};
use test_support::db::exec;
use test_support::migrations::Migrations;
use test_support::{Backend, TestDb, alembic};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// Each migration's checksum as recorded before `v2` (the SHA-256 of its `up`
/// statements alone) for PostgreSQL, which every database migrated before
/// `v2` holds. They change only if
/// a migration's statements change: migrations are frozen history, so a
/// change here is a new migration instead (or, after a dependency upgrade
/// that renders different SQL, a reviewed `repair` in every database).
const POSTGRES_V1: [(&str, &str); 10] = [
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

/// As recorded before `v2` for SQLite, where three migrations render differently.
const SQLITE_V1: [(&str, &str); 10] = [
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

/// Each migration's checksum (`v2`: its `up` and `down` statements and its
/// `use_transaction()`) as rendered for PostgreSQL and recorded by every
/// apply since `v2`: changed deliberately when `v2` began.
const POSTGRES: [(&str, &str); 10] = [
    (
        "m001_initial_schema",
        "v2:f0cf77664e0cb0019c3001f78562bb31801d05afe942375391e3d772dc8981d9",
    ),
    (
        "m002_add_legend_to_jobs",
        "v2:a0c760462f00b75fdad911812605008112645e6e42605d453ea79c8d3069075e",
    ),
    (
        "m003_add_batch_id_to_jobs",
        "v2:1914210110de840e4c64c57f67595b020f6be13dc925f4335779c007dde1a42a",
    ),
    (
        "m004_add_iterations_variations_referrals",
        "v2:fafdbbae7a94631a484640b6ece6263c93d8b2af3fb76f07f96512a0f6b663e5",
    ),
    (
        "m005_add_sketchup_url",
        "v2:cd11932974153999d187b7e1aa125a3b80521afeda131f1fbf5ed2b3522f7aba",
    ),
    (
        "m006_remove_api_keys",
        "v2:122f91abbfbc40bdee7d3fc9605fc26292cfa988daa8ea35650a4e4f494de2fa",
    ),
    (
        "m007_add_subscription_expires_at",
        "v2:f33197e00e2ed1c890a770b8b4ee2a64dbb73845859571f100046a78974686d6",
    ),
    (
        "m008_add_subscription_fields",
        "v2:bb506b4eb792f3492d95395340fdd08c7ddf1dc1dc6e56a7ec241d2e290f512b",
    ),
    (
        "m009_add_project_type_to_jobs",
        "v2:14e8356315da8ba8822ba287c48dda3bfa55a8f0635b0743562b613d5c1a6f24",
    ),
    (
        "m010_remove_reader_type_column",
        "v2:8d6f1707475614e9d4ac117b70d8b2eb251cab2ddd05a72a01d272a79e21a2ac",
    ),
];

/// As rendered for SQLite.
const SQLITE: [(&str, &str); 10] = [
    (
        "m001_initial_schema",
        "v2:1bf1a24b657f8a705cb5c8817394fa52a0bd0a2c8ad3ce4c79cb4ec48d36d677",
    ),
    (
        "m002_add_legend_to_jobs",
        "v2:0bf6e90c3ec712ac708ee1183b4ee1d60691f2253c95aef7616b1cbf7406d5a4",
    ),
    (
        "m003_add_batch_id_to_jobs",
        "v2:1914210110de840e4c64c57f67595b020f6be13dc925f4335779c007dde1a42a",
    ),
    (
        "m004_add_iterations_variations_referrals",
        "v2:cb187b11188dffbadaeadbdd0abca805996c2f99461b30cebc73c8837d1a973d",
    ),
    (
        "m005_add_sketchup_url",
        "v2:cd11932974153999d187b7e1aa125a3b80521afeda131f1fbf5ed2b3522f7aba",
    ),
    (
        "m006_remove_api_keys",
        "v2:a5ab484ddc75486895f22bae96e2aa77e500ba2a076ed0d041a148d143be6708",
    ),
    (
        "m007_add_subscription_expires_at",
        "v2:b844748620198dc8fe582a2de6fc8cd342721b0aacfef8239fc2d14dcbdbeb2c",
    ),
    (
        "m008_add_subscription_fields",
        "v2:29b51efbe99251003ba56e55f7dca79d41fa6baf488be92116e06da4d4be4388",
    ),
    (
        "m009_add_project_type_to_jobs",
        "v2:14e8356315da8ba8822ba287c48dda3bfa55a8f0635b0743562b613d5c1a6f24",
    ),
    (
        "m010_remove_reader_type_column",
        "v2:8d6f1707475614e9d4ac117b70d8b2eb251cab2ddd05a72a01d272a79e21a2ac",
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

fn expected_v1(backend: Backend) -> &'static [(&'static str, &'static str); 10] {
    match backend {
        Backend::Postgres => &POSTGRES_V1,
        Backend::Sqlite => &SQLITE_V1,
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
                      was 000000000000, it is 1914210110de now; review the change, then run \
                      repair to record the new checksum";

const REFUSED: &str = "error: 1 applied migration was edited after it was applied: \
                       m003_add_batch_id_to_jobs (applied as 000000000000, 1914210110de now); \
                       revert the edit, or review it and run repair to record the new checksum \
                       (--allow-edited or MIGRATION_ALLOW_EDITED=1 runs anyway); nothing was \
                       changed";

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn edits_are_flagged_verified_and_repaired(#[case] backend: Backend) {
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

    // Checksums recorded before v2 still match: verify and up accept them.
    for (name, v1) in expected_v1(backend) {
        exec(
            &db,
            &format!("UPDATE seaql_migrations SET checksum = '{v1}' WHERE version = '{name}'"),
        )
        .await;
    }
    cli(BIN, &dir, url, &["verify"]).ok();
    let up = cli(BIN, &dir, url, &["up"]).ok();
    assert_eq!(up.stderr_lines().len(), 1, "{up:#?}");
    for (name, v2) in expected(backend).await {
        exec(
            &db,
            &format!("UPDATE seaql_migrations SET checksum = '{v2}' WHERE version = '{name}'"),
        )
        .await;
    }

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
            "{:width$}  edited: applied as 000000000000, renders 1914210110de now",
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

    // `up` and `down` refuse it, even at head; allowed, `up` warns and goes on.
    let up = cli(BIN, &dir, url, &["up"]);
    assert_eq!((up.code, up.stderr_lines()), (1, vec![REFUSED]), "{up:#?}");
    let down = cli(BIN, &dir, url, &["down"]);
    assert_eq!(
        (down.code, down.stderr_lines()),
        (1, vec![REFUSED]),
        "{down:#?}"
    );
    assert_eq!(
        recorded(&db).await.len(),
        migrations().len(),
        "down changed something"
    );
    let up = test_support::cli::run(
        BIN,
        dir.path(),
        &[("MIGRATION_ALLOW_EDITED", "1")],
        &["-u", url, "up"],
    )
    .ok();
    assert_eq!(up.stderr_lines()[0], format!("warning: {EDITED}"));
    assert_eq!(up.stderr_lines().len(), 2, "{up:#?}");
    let up = cli(BIN, &dir, url, &["up", "--allow-edited"]).ok();
    assert_eq!(up.stderr_lines()[0], format!("warning: {EDITED}"));
    // The startup API refuses it too, unless allowed.
    let refused = migration_core::startup::migrate_with::<sketch2bim_migration::Migrator>(
        &db,
        true,
        &migration_core::runner::RunOptions::default(),
    )
    .await
    .expect_err("an edited history");
    assert_eq!(
        format!("error: {}", migration_core::one_line(&refused, &[])),
        REFUSED
    );
    let report = migration_core::startup::migrate_with::<sketch2bim_migration::Migrator>(
        &db,
        true,
        &migration_core::runner::RunOptions {
            allow_edited: true,
            ..Default::default()
        },
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
            "recorded the checksum of m003_add_batch_id_to_jobs (1914210110de)",
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

/// A database migrated before checksums were kept: reading commands add
/// nothing; the first run that records a migration adds the column; `repair`
/// records the rest; sea-orm's own reader reads the table throughout.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn a_table_without_the_column_gets_it(#[case] backend: Backend) {
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
