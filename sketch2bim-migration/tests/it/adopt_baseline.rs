//! Baselining a database that records no migrations with `adopt --at`: built
//! some other way than by a migrator, it is taken over at the migration whose
//! schema it has, once; and `--at` must agree with an `alembic_version`.

use sea_orm::DatabaseConnection;
use test_support::cli::{WorkDir, catalog_at_head, cli};
use test_support::db::{bookkeeping_rows, strings};
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb, alembic};

use crate::adopt::{assert_no_scratch_schema, seed};
use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// A database built some other way (the platform's old `create_all()`
/// fallback): the schema of migration 5, no `alembic_version`, no record.
async fn built_without_records(db: &DatabaseConnection) {
    alembic::build_schema_only(db, "sketch2bim", 5).await;
    seed(db).await;
}

#[tokio::test]
async fn a_database_without_records_is_baselined_with_adopt_at() {
    let head = catalog_at_head(BIN, Backend::Postgres).await;
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    built_without_records(&db).await;
    let dir = WorkDir::new();
    let url = test_db.url();

    // up alone cannot know where it stands, and says what to do.
    let up = cli(BIN, &dir, url, &["up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_eq!(
        up.stderr_lines(),
        vec![
            "error: migration m001_initial_schema failed while applying it: the database \
             already has its tables but records no migrations; if its schema is at a known \
             migration, baseline it with `adopt --at <migration>`: relation \"users\" already \
             exists"
        ]
    );
    assert_eq!(bookkeeping_rows(&db).await, -1, "nothing half-applied");
    let adopt = cli(BIN, &dir, url, &["adopt"]);
    assert_eq!(adopt.code, 1);
    assert_eq!(
        adopt.stderr_lines(),
        vec![
            "error: nothing to adopt: the database has no alembic_version and records no \
             migrations; to baseline a database that already has a migration's schema, run \
             adopt --at <migration>"
        ]
    );

    // The wrong position is refused with what differs.
    let wrong = cli(
        BIN,
        &dir,
        url,
        &["adopt", "--at", "m004_add_iterations_variations_referrals"],
    );
    assert_eq!(wrong.code, 1, "{wrong:#?}");
    assert_eq!(
        wrong.stderr_lines(),
        vec![
            "error: not baselining: the schema differs from what m001_initial_schema … \
             m004_add_iterations_variations_referrals build in 1 place (changed by hand?): \
             unexpected column jobs.sketchup_url; nothing was changed \
             (`adopt --accept-differences` takes it over as it is)"
        ]
    );
    assert_eq!(bookkeeping_rows(&db).await, -1);

    let baseline = cli(BIN, &dir, url, &["adopt", "--at", "m005_add_sketchup_url"]).ok();
    let lines = baseline.stderr_lines();
    assert_eq!(
        lines[0],
        "baselined the database at m005_add_sketchup_url: recorded m001_initial_schema … \
         m005_add_sketchup_url as applied"
    );
    assert!(
        lines[1].starts_with("sketch2bim: baselined at m005_add_sketchup_url in "),
        "{baseline:#?}"
    );
    assert_eq!(lines.len(), 2, "{baseline:#?}");
    assert_eq!(bookkeeping_rows(&db).await, 5);

    // Baselining is once: now the database records its migrations.
    let again = cli(BIN, &dir, url, &["adopt", "--at", "m005_add_sketchup_url"]);
    assert_eq!(again.code, 1);
    assert_eq!(
        again.stderr_lines(),
        vec![
            "error: the database already records its migrations (at m005_add_sketchup_url): \
             adopt --at only baselines a database that records none; nothing was changed"
        ]
    );

    cli(BIN, &dir, url, &["up"]).ok();
    assert_eq!(applied_names(&db).await, migrations().names());
    assert!(catalog(&db).await.diff(&head, true).is_empty());
    assert_eq!(
        strings(&db, "SELECT id FROM jobs").await,
        vec![Some("job-1".into())]
    );
}

#[tokio::test]
async fn adopt_at_must_agree_with_alembic_version() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    let before = catalog(&db).await;
    let dir = WorkDir::new();
    let adopt = cli(
        BIN,
        &dir,
        test_db.url(),
        &["adopt", "--at", "m004_add_iterations_variations_referrals"],
    );
    assert_eq!(adopt.code, 1);
    assert_eq!(
        adopt.stderr_lines(),
        vec![
            "error: alembic_version records revision 005, which is m005_add_sketchup_url, not \
             m004_add_iterations_variations_referrals: run adopt without --at to adopt it at its \
             recorded revision; nothing was changed"
        ]
    );
    assert_eq!(bookkeeping_rows(&db).await, -1);
    assert_eq!(
        strings(&db, "SELECT version_num FROM alembic_version").await,
        vec![Some("005".into())]
    );
    let diff = catalog(&db).await.diff(&before, true);
    assert!(diff.is_empty(), "the refusal changed the schema: {diff:#?}");
    assert_no_scratch_schema(&db).await;
}
