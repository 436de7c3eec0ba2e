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

/// Migrates a fresh PostgreSQL database with `bin`, dumps it, and compares
/// the dump with the checked-in file. Then loads the dump into an empty
/// database in one transaction and checks that the catalogs are identical.
/// `UPDATE_SCHEMAS=1` rewrites the file instead of comparing and then fails,
/// so that a run that rewrote the file is never taken for a passing check.
pub async fn check(bin: &str, database: &str) {
    let source = TestDb::postgres().await;
    let dir = WorkDir::new();
    run(bin, dir.path(), &[], &["-u", source.url(), "up"]).ok();
    let dump = run(
        bin,
        dir.path(),
        &[],
        &["-u", source.url(), "schema", "dump"],
    )
    .ok();

    let file = path(database);
    let command =
        format!("UPDATE_SCHEMAS=1 cargo test -p {database}-migration --test it schema_file");
    let update = std::env::var("UPDATE_SCHEMAS").is_ok_and(|v| v == "1");
    if update {
        if let Err(e) = std::fs::write(&file, &dump.stdout) {
            panic!("cannot write {}: {e}", file.display());
        }
    } else {
        let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
        if checked_in != dump.stdout {
            let name = file.display().to_string();
            panic!(
                "{name} differs from the schema the migrations build ({} lines differ):\n{}\
                 Regenerate it with: {command} (that run fails once it has rewritten the \
                 file), then run the test again without UPDATE_SCHEMAS",
                crate::diff::changed_lines(&checked_in, &dump.stdout),
                crate::diff::unified(&checked_in, &name, &dump.stdout, "schema dump"),
            );
        }
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
    if update {
        panic!(
            "rewrote {}; run again without UPDATE_SCHEMAS to check it",
            file.display()
        );
    }
}
