//! An applied migration edited since: flagged by `up` and `status`, `verify`
//! exits 1 listing it, `up`, `down` and the startup API refuse it unless
//! allowed, and `repair` records the new checksum; checksums recorded before
//! `v2` still match.

use rstest::rstest;
use test_support::cli::{WorkDir, cli};
use test_support::db::exec;
use test_support::migrations::Migrations;
use test_support::{Backend, TestDb};

use crate::checksum::{all_recorded, expected, expected_v1, names, recorded};
use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

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
    // The startup API refuses it too, unless allowed, in the same words less
    // the flag, which an application does not have.
    let refused = migration_core::startup::migrate_with::<sketch2bim_migration::Migrator>(
        &db,
        true,
        &migration_core::runner::RunOptions::default(),
    )
    .await
    .expect_err("an edited history");
    assert_eq!(
        format!("error: {}", migration_core::one_line(&refused, &[])),
        REFUSED.replacen("(--allow-edited or ", "(", 1)
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
