//! Taking over databases built by the Alembic migrator: at several revisions,
//! with rows in them, through the binary and the startup API; and refusing
//! what cannot be adopted safely, changing nothing.

use migration_core::runner::RunOptions;
use rstest::rstest;
use sea_orm::DatabaseConnection;
use test_support::cli::{WorkDir, catalog_at_head, cli, run_concurrently};
use test_support::db::{bookkeeping_rows, exec, strings};
use test_support::migrations::Migrations;
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb, alembic};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// The bookkeeping rows of a database at head: one per migration.
fn rows_at_head() -> i64 {
    i64::try_from(migrations().len()).expect("a count")
}

/// Rows as production has them at `revision`: an active user (no expiry),
/// an inactive one, a job, and an organization on the retired 'free' tier.
pub(crate) async fn seed(db: &DatabaseConnection) {
    exec(
        db,
        "INSERT INTO users (email, subscription_status) VALUES \
         ('active@example.com', 'active'), ('idle@example.com', 'inactive'); \
         INSERT INTO jobs (id, user_id) SELECT 'job-1', id FROM users WHERE email = 'active@example.com'; \
         INSERT INTO organizations (name, subscription_tier) VALUES ('Studio', 'free');",
    )
    .await;
}

/// Adoption compares the schema in a scratch schema: none is left behind.
pub(crate) async fn assert_no_scratch_schema(db: &DatabaseConnection) {
    assert_eq!(
        strings(
            db,
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'kvshvl_adoption%'"
        )
        .await,
        Vec::<Option<String>>::new()
    );
}

#[rstest]
#[case::revision_001(1)]
#[case::revision_005(5)]
#[case::revision_006(6)]
#[case::revision_010(10)]
#[tokio::test]
async fn adopts_alembic_revision(#[case] revision: usize) {
    let head = catalog_at_head(BIN, Backend::Postgres).await;
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", revision).await;
    seed(&db).await;
    let dir = WorkDir::new();
    let url = test_db.url();
    let rev = format!("{revision:03}");
    let names = migrations().names();
    let width = migrations().width();

    // Reading commands see the Alembic revision and write nothing.
    let status = cli(BIN, &dir, url, &["status"]).ok();
    let lines = status.stdout_lines();
    assert_eq!(
        lines[revision - 1],
        format!(
            "{:<width$}  applied  by Alembic (revision {rev}; recorded by the next up)",
            names[revision - 1]
        )
    );
    assert_eq!(
        cli(BIN, &dir, url, &["current"]).ok().stdout,
        format!("{}\n", names[revision - 1])
    );
    assert_eq!(bookkeeping_rows(&db).await, -1, "status created nothing");

    let up = cli(BIN, &dir, url, &["up"]).ok();
    let span = if revision == 1 {
        names[0].to_owned()
    } else {
        format!("{} … {}", names[0], names[revision - 1])
    };
    assert_eq!(
        up.stderr_lines()[0],
        format!("adopted the Alembic-built database at revision {rev}: recorded {span} as applied"),
        "{up:#?}"
    );
    let pending = names.len() - revision;
    let summary = if pending == 0 {
        format!("sketch2bim: adopted Alembic revision {rev} in ")
    } else {
        format!(
            "sketch2bim: adopted Alembic revision {rev}, applied {} in ",
            Migrations::count(pending)
        )
    };
    assert_eq!(up.stderr_lines().len(), 2 + pending, "{up:#?}");
    for (line, name) in up.stderr_lines()[1..=pending]
        .iter()
        .zip(&names[revision..])
    {
        assert!(line.starts_with(&format!("applied {name} (")), "{up:#?}");
    }
    let last = up.stderr_lines()[1 + pending];
    let at_head = format!("; at {} (head)", migrations().head());
    assert!(
        last.starts_with(&summary) && last.ends_with(&at_head),
        "{up:#?}"
    );
    assert_eq!(applied_names(&db).await, names);
    let diff = catalog(&db).await.diff(&head, true);
    assert!(diff.is_empty(), "differs from a fresh database: {diff:#?}");

    // The rows are kept; alembic_version too.
    assert_eq!(
        strings(&db, "SELECT email FROM users ORDER BY email").await,
        vec![
            Some("active@example.com".into()),
            Some("idle@example.com".into())
        ]
    );
    assert_eq!(
        strings(&db, "SELECT id FROM jobs").await,
        vec![Some("job-1".into())]
    );
    assert_eq!(
        strings(&db, "SELECT version_num FROM alembic_version").await,
        vec![Some(rev.clone())]
    );
    // 007's data step ran exactly where it was pending: the active user got
    // an expiry and the organization left 'free' only if 007 ran here.
    let expiry = strings(
        &db,
        "SELECT CAST(subscription_expires_at::date - CURRENT_DATE AS text) FROM users \
         WHERE email = 'active@example.com'",
    )
    .await;
    let tier = strings(&db, "SELECT subscription_tier FROM organizations").await;
    if revision < 7 {
        assert_eq!(expiry, vec![Some("30".into())]);
        assert_eq!(tier, vec![Some("trial".into())]);
    } else {
        assert_eq!(expiry, vec![None]);
        assert_eq!(tier, vec![Some("free".into())]);
    }
    if revision < 9 {
        assert_eq!(
            strings(&db, "SELECT project_type FROM jobs").await,
            vec![Some("architecture".into())]
        );
    }

    // And it behaves as any other database afterwards.
    let again = cli(BIN, &dir, url, &["up"]).ok();
    let again = again.stderr_lines();
    assert_eq!(again.len(), 1, "{again:#?}");
    assert!(
        again[0].starts_with("sketch2bim: nothing to do in ") && again[0].ends_with(&at_head),
        "{again:#?}"
    );
    cli(BIN, &dir, url, &["down", "-n", "1"]).ok();
    assert_eq!(applied_names(&db).await, names[..names.len() - 1].to_vec());
    cli(BIN, &dir, url, &["up"]).ok();
    assert_eq!(applied_names(&db).await, names);
    assert!(catalog(&db).await.diff(&head, true).is_empty());
}

#[tokio::test]
async fn the_startup_api_adopts_and_says_so() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 8).await;
    let report = migration_core::startup::migrate_with::<sketch2bim_migration::Migrator>(
        &db,
        true,
        &RunOptions::default(),
    )
    .await
    .expect("startup migration");
    assert_eq!(report.adopted.as_deref(), Some("008"));
    // Everything after m008: m009, m010 and whatever came after them.
    let after_008 = &migrations().names()[8..];
    assert_eq!(report.applied, after_008);
    assert_eq!(
        report.to_string(),
        format!(
            "sketch2bim: adopted Alembic revision 008; applied {}; at {}",
            after_008.join(", "),
            migrations().head()
        )
    );
}

/// An Alembic database at 005 whose alembic_version `sql` spoils: `up`,
/// `adopt` and `status` are refused with `expected`, and nothing changes.
#[rstest]
#[case::unknown_revision(
    "UPDATE alembic_version SET version_num = 'a1b2c3d4e5f6'",
    "error: alembic_version records revision 'a1b2c3d4e5f6', which this binary does not \
     know (it knows 001 … 010); nothing was changed"
)]
#[case::empty(
    "DELETE FROM alembic_version",
    "error: alembic_version is empty, so the Alembic revision of this database is \
     unknown; nothing was changed"
)]
#[case::several_revisions(
    "INSERT INTO alembic_version VALUES ('004')",
    "error: alembic_version holds 2 rows ('004', '005') where Alembic keeps one; \
     nothing was changed"
)]
#[tokio::test]
async fn a_spoilt_alembic_version_is_refused(#[case] sql: &str, #[case] expected: &str) {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    exec(&db, sql).await;
    let before = catalog(&db).await;
    let alembic_before = strings(&db, "SELECT version_num FROM alembic_version ORDER BY 1").await;
    let dir = WorkDir::new();
    for args in [&["up"][..], &["adopt"], &["status"]] {
        let up = cli(BIN, &dir, test_db.url(), args);
        assert_eq!(up.code, 1, "{args:?}: {up:#?}");
        assert_eq!(up.stderr_lines(), vec![expected], "{args:?}");
    }
    assert_eq!(bookkeeping_rows(&db).await, -1, "no bookkeeping created");
    assert!(catalog(&db).await.diff(&before, true).is_empty());
    assert_eq!(
        strings(&db, "SELECT version_num FROM alembic_version ORDER BY 1").await,
        alembic_before
    );
}

#[tokio::test]
async fn a_hand_modified_schema_is_refused_with_its_differences() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    exec(
        &db,
        "ALTER TABLE jobs ADD COLUMN zz_scratch_notes text; \
         ALTER TABLE users DROP COLUMN last_login; \
         ALTER TABLE payments ALTER COLUMN currency SET DEFAULT 'inr'",
    )
    .await;
    let before = catalog(&db).await;
    let dir = WorkDir::new();
    let up = cli(BIN, &dir, test_db.url(), &["up"]);
    assert_eq!(up.code, 1);
    assert_eq!(
        up.stderr_lines(),
        vec![
            "error: not adopting: the schema differs from Alembic revision 005 in 3 places \
             (changed by hand?): column payments.currency: has character varying DEFAULT \
             'inr'::character varying, expected character varying DEFAULT \
             'usd'::character varying; missing column users.last_login; unexpected column \
             jobs.zz_scratch_notes; nothing was changed (`adopt --accept-differences` takes it \
             over as it is)"
        ],
        "{up:#?}"
    );
    assert_eq!(bookkeeping_rows(&db).await, -1);
    assert!(catalog(&db).await.diff(&before, true).is_empty());
    assert_no_scratch_schema(&db).await;
}

#[tokio::test]
async fn alembic_version_is_dropped_only_on_request_after_adoption() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 10).await;
    let dir = WorkDir::new();
    let url = test_db.url();
    let early = cli(BIN, &dir, url, &["drop-alembic-version"]);
    assert_eq!(early.code, 1);
    assert_eq!(
        early.stderr_lines(),
        vec![
            "error: alembic_version is this database's only record of its migrations: run `up` \
             (or `adopt`) first; nothing was changed"
        ]
    );
    let adopt = cli(BIN, &dir, url, &["adopt"]).ok();
    assert!(
        adopt
            .stderr
            .contains("sketch2bim: adopted Alembic revision 010 in "),
        "{adopt:#?}"
    );
    // Adopting records what Alembic applied, m001 … m010, and applies nothing.
    assert_eq!(applied_names(&db).await, migrations().first(10));
    let dropped = cli(BIN, &dir, url, &["drop-alembic-version"]).ok();
    assert_eq!(dropped.stderr, "sketch2bim: dropped alembic_version\n");
    let again = cli(BIN, &dir, url, &["drop-alembic-version"]).ok();
    assert_eq!(
        again.stderr,
        "sketch2bim: no alembic_version table: nothing to do\n"
    );
    let current = cli(BIN, &dir, url, &["current"]).ok();
    assert_eq!(current.stdout, "m010_remove_reader_type_column\n");
}

#[tokio::test]
async fn replicas_starting_together_adopt_once() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    seed(&db).await;
    let runs = run_concurrently(BIN, 6, test_db.url(), &["up"]);
    for r in &runs {
        assert_eq!(r.code, 0, "{r:#?}");
    }
    let adopted = runs
        .iter()
        .filter(|r| r.stderr.contains("adopted Alembic revision 005"))
        .count();
    assert_eq!(adopted, 1, "{runs:#?}");
    assert_eq!(bookkeeping_rows(&db).await, rows_at_head());
    assert_eq!(
        strings(
            &db,
            "SELECT CAST(subscription_expires_at::date - CURRENT_DATE AS text) FROM users \
             WHERE email = 'active@example.com'"
        )
        .await,
        vec![Some("30".into())]
    );
}

#[tokio::test]
async fn defaults_are_compared_as_the_database_evaluates_them() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    // Spelled as another server version or a hand restore might spell them.
    exec(
        &db,
        "ALTER TABLE jobs ALTER COLUMN cost_usd SET DEFAULT 0.0; \
         ALTER TABLE payments ALTER COLUMN currency SET DEFAULT 'usd'::text",
    )
    .await;
    assert_eq!(
        strings(
            &db,
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d \
             JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
             WHERE a.attname IN ('cost_usd', 'currency') ORDER BY a.attname"
        )
        .await,
        vec![Some("0.0".into()), Some("'usd'::text".into())]
    );
    let dir = WorkDir::new();
    let up = cli(BIN, &dir, test_db.url(), &["up"]).ok();
    assert_eq!(
        up.stderr_lines()[0],
        "adopted the Alembic-built database at revision 005: recorded m001_initial_schema … \
         m005_add_sketchup_url as applied",
        "{up:#?}"
    );
    assert_eq!(bookkeeping_rows(&db).await, rows_at_head());
}

#[tokio::test]
async fn a_missing_index_or_constraint_is_refused() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    exec(
        &db,
        "DROP INDEX ix_jobs_batch_id; ALTER TABLE jobs ADD CONSTRAINT jobs_batch_unique UNIQUE (batch_id)",
    )
    .await;
    let before = catalog(&db).await;
    let dir = WorkDir::new();
    let up = cli(BIN, &dir, test_db.url(), &["up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_eq!(
        up.stderr_lines(),
        vec![
            "error: not adopting: the schema differs from Alembic revision 005 in 3 places \
             (changed by hand?): missing index ix_jobs_batch_id; unexpected constraint \
             jobs.jobs_batch_unique; unexpected index jobs_batch_unique; nothing was changed \
             (`adopt --accept-differences` takes it over as it is)"
        ],
        "{up:#?}"
    );
    assert_eq!(bookkeeping_rows(&db).await, -1);
    let diff = catalog(&db).await.diff(&before, true);
    assert!(diff.is_empty(), "the refusal changed the schema: {diff:#?}");
    assert_no_scratch_schema(&db).await;
}

#[tokio::test]
async fn accept_differences_adopts_a_hand_changed_database_and_lists_what_it_accepted() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    seed(&db).await;
    exec(&db, "ALTER TABLE jobs ADD COLUMN zz_scratch_notes text").await;
    let dir = WorkDir::new();
    let url = test_db.url();
    let adopt = cli(BIN, &dir, url, &["adopt", "--accept-differences"]).ok();
    let lines = adopt.stderr_lines();
    assert_eq!(lines.len(), 3, "{adopt:#?}");
    assert_eq!(
        lines[0],
        "warning: accepted difference: unexpected column jobs.zz_scratch_notes"
    );
    assert_eq!(
        lines[1],
        "adopted the Alembic-built database at revision 005: recorded m001_initial_schema … \
         m005_add_sketchup_url as applied (accepting 1 difference from the schema they build)"
    );
    assert!(
        lines[2].starts_with("sketch2bim: adopted Alembic revision 005 in "),
        "{adopt:#?}"
    );
    assert!(
        lines[2].ends_with(&format!(
            "; at m005_add_sketchup_url, {} pending",
            Migrations::count(migrations().after("m005_add_sketchup_url"))
        )),
        "{adopt:#?}"
    );
    assert_eq!(bookkeeping_rows(&db).await, 5);
    cli(BIN, &dir, url, &["up"]).ok();
    assert_eq!(bookkeeping_rows(&db).await, rows_at_head());
    assert_eq!(
        strings(&db, "SELECT zz_scratch_notes FROM jobs").await,
        vec![None],
        "the column accepted is kept, and so are the rows"
    );
}
