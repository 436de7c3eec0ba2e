//! What a run refuses before changing anything: an applied migration
//! edited since it was applied, and a database ahead of the binary (an
//! older build deployed after a newer one migrated). The runner, the
//! startup API and `Migrator::up` refuse alike, saying why and what to do.

use migration_core::runner::{self, Goal, RunOptions};
use migration_core::startup::migrate_with;
use rstest::rstest;
use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::prelude::*;
use test_support::db::{exec, strings};
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb};

use crate::lifecycle::schema;
use crate::{NAMES, at_head, first, fixture, history, line, variant};

/// m002 as edited after it was applied: `pinned` is true by default.
struct EditedPinned;

impl MigrationName for EditedPinned {
    fn name(&self) -> &str {
        NAMES[1]
    }
}

#[async_trait::async_trait]
impl MigrationTrait for EditedPinned {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE notes ADD COLUMN pinned boolean NOT NULL DEFAULT true")
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE notes DROP COLUMN pinned")
            .await
            .map(|_| ())
    }
}

variant!(
    /// The fixture with m002 edited.
    Edited,
    {
        let mut migrations = fixture::Migrator::migrations();
        migrations[1] = Box::new(EditedPinned);
        migrations
    }
);

variant!(
    /// The fixture as it was before m003 was written.
    BeforeTheIndex,
    {
        let mut migrations = fixture::Migrator::migrations();
        migrations.truncate(2);
        migrations
    }
);

variant!(
    /// The fixture as it was before m004 was written.
    BeforeTheRename,
    {
        let mut migrations = fixture::Migrator::migrations();
        migrations.truncate(3);
        migrations
    }
);

/// The first 12 hex digits of a `v2:` checksum, as messages show it.
fn short(checksum: &str) -> &str {
    &checksum["v2:".len().."v2:".len() + 12]
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn an_edited_applied_migration_is_refused(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let options = RunOptions::default();
    runner::up(&db, &history(), &Goal::Steps(3), &options)
        .await
        .unwrap_or_else(|e| panic!("up: {}", line(&e)));
    let recorded = strings(
        &db,
        "SELECT checksum FROM seaql_migrations WHERE version = 'm002_add_pinned_to_notes'",
    )
    .await;
    let [Some(applied)] = recorded.as_slice() else {
        panic!("one checksum: {recorded:?}");
    };
    let now = migration_core::checksum::of(&EditedPinned, db.get_database_backend())
        .await
        .expect("the edited migration renders");
    assert_ne!(applied, &now);
    let refusal = format!(
        "1 applied migration was edited after it was applied: m002_add_pinned_to_notes \
         (applied as {}, {} now); revert the edit, or review it and run repair to record the \
         new checksum (MIGRATION_ALLOW_EDITED=1 runs anyway); nothing was changed",
        short(applied),
        short(&now)
    );

    let edited = runner::History::of::<Edited>();
    let up = runner::up(&db, &edited, &Goal::All, &options).await;
    assert_eq!(up.map(|_| ()).map_err(|e| line(&e)), Err(refusal.clone()));
    let down = runner::down(&db, &edited, &Goal::Steps(1), &options).await;
    assert_eq!(down.map(|_| ()).map_err(|e| line(&e)), Err(refusal.clone()));
    let at_boot = migrate_with::<Edited>(&db, true, &options).await;
    assert_eq!(at_boot.map(|_| ()).map_err(|e| line(&e)), Err(refusal));

    // Nothing ran: m004 is still pending, the schema is m003's.
    assert_eq!(applied_names(&db).await, first(3));
    assert_eq!(catalog(&db).await.objects(true), schema(backend, "body"));

    // The build as applied goes on.
    fixture::Migrator::up(&db, None)
        .await
        .expect("the unedited history");
    assert_eq!(applied_names(&db).await, first(4));
}

/// `up`, `down` and the startup API of `M` on `db`, each as one line.
async fn refusals<M: migration_core::Described>(db: &sea_orm::DatabaseConnection) -> [String; 3] {
    let history = runner::History::of::<M>();
    let options = RunOptions::default();
    let up = runner::up(db, &history, &Goal::All, &options).await;
    let down = runner::down(db, &history, &Goal::Steps(1), &options).await;
    let at_boot = migrate_with::<M>(db, true, &options).await;
    [
        up.map(|_| ()).map_err(|e| line(&e)),
        down.map(|_| ()).map_err(|e| line(&e)),
        at_boot.map(|_| ()).map_err(|e| line(&e)),
    ]
    .map(|outcome| outcome.expect_err("refused"))
}

/// A newer build applied m003; the build before it is deployed again.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn a_database_ahead_of_the_binary_is_refused(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    runner::up(&db, &history(), &Goal::Steps(3), &RunOptions::default())
        .await
        .unwrap_or_else(|e| panic!("up: {}", line(&e)));
    let ahead = "the database is ahead of this binary: it records m003_index_notes_pinned \
                 unknown to it; deploy a binary that has it";
    assert_eq!(
        refusals::<BeforeTheIndex>(&db).await,
        [ahead, ahead, ahead].map(str::to_owned)
    );
    assert_eq!(applied_names(&db).await, first(3));
    assert_eq!(catalog(&db).await.objects(true), schema(backend, "body"));

    // `Migrator::up` too, on a database a newer build took to head and past.
    fixture::Migrator::up(&db, None).await.expect("to head");
    exec(
        &db,
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m005_archive_notes', 0)",
    )
    .await;
    assert_eq!(
        fixture::Migrator::up(&db, None)
            .await
            .map_err(|e| e.to_string()),
        Err(
            "Migration Error: the database is ahead of this binary: it records \
             m005_archive_notes unknown to it; deploy a binary that has it"
                .to_owned()
        )
    );
    assert_eq!(catalog(&db).await.objects(true), schema(backend, "content"));
}

/// A newer build renamed a column of the first migration's table; the
/// build before it is deployed again. The database is this history's,
/// ahead of the binary, and should be refused as such.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn a_database_ahead_by_a_rename_of_the_first_tables_is_refused_as_ahead(
    #[case] backend: Backend,
) {
    let test_db = TestDb::new(backend).await;
    let db = at_head(&test_db).await;
    let ahead = "the database is ahead of this binary: it records \
                 m004_rename_body_to_content unknown to it; deploy a binary that has it";
    assert_eq!(
        refusals::<BeforeTheRename>(&db).await,
        [ahead, ahead, ahead].map(str::to_owned)
    );
    assert_eq!(applied_names(&db).await, first(4));
}
