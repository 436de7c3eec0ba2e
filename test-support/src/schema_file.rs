//! The checked-in `schemas/<database>_schema.sql` against a fresh dump, and
//! the dump against the catalog it came from.

use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::TestDb;
use crate::cli::{WorkDir, run};
use crate::walk::catalog;

/// `schemas/<database>_schema.sql` in the workspace.
pub fn path(database: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schemas")
        .join(format!("{database}_schema.sql"))
}

/// Regenerates the schema file with `bin`'s `schema update` into a scratch
/// file and compares it with the checked-in one; the dump of a database
/// migrated by `up` must be the same text. Then loads the dump into an empty
/// database in one transaction and checks that the catalogs are identical.
pub async fn check(bin: &str, database: &str) {
    let source = TestDb::postgres().await;
    let dir = WorkDir::new();
    let scratch = dir.path().join("schema.sql");
    let scratch_arg = scratch.display().to_string();
    run(
        bin,
        dir.path(),
        &[],
        &["-u", source.url(), "schema", "update", "-o", &scratch_arg],
    )
    .ok();
    let updated = std::fs::read_to_string(&scratch).expect("schema update wrote its file");
    run(bin, dir.path(), &[], &["-u", source.url(), "up"]).ok();
    let dump = run(
        bin,
        dir.path(),
        &[],
        &["-u", source.url(), "schema", "dump"],
    )
    .ok();
    assert_eq!(
        updated, dump.stdout,
        "schema update and schema dump of a database migrated by up differ"
    );

    let file = path(database);
    let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
    if checked_in != dump.stdout {
        let name = file.display().to_string();
        panic!(
            "{name} differs from the schema the migrations build ({} lines differ):\n{}\
             Regenerate it with: cargo run -p {database}-migration -- -u {} schema update",
            crate::diff::changed_lines(&checked_in, &dump.stdout),
            crate::diff::unified(&checked_in, &name, &dump.stdout, "schema dump"),
            crate::server_url(),
        );
    }

    let copy = TestDb::postgres().await;
    let db = copy.connect().await;
    let txn = db.begin().await.expect("a transaction");
    if let Err(e) = txn.execute_unprepared(&dump.stdout).await {
        panic!("loading the dump failed: {e}");
    }
    txn.commit().await.expect("commit");
    let origin = source.connect().await;
    let diff = catalog(&db).await.diff(&catalog(&origin).await, true);
    assert!(
        diff.is_empty(),
        "the dump does not recreate the catalog: {diff:#?}"
    );
}
