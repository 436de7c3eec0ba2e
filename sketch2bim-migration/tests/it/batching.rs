//! On PostgreSQL a migration that reads nothing is recorded and sent in one
//! batch; one that reads the database runs statement by statement, so what
//! it reads decides what it sends. Both kinds in one run.

use migration_core::runner::{self, Goal, History, RunOptions};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_orm_migration::prelude::*;
use test_support::TestDb;
use test_support::walk::applied_names;

/// Adds `floors`, reading nothing: sent as one batch.
struct AddFloors;
/// Adds `rooms` only where `floors` exists, asking the database first.
struct AddRoomsIfFloors;

impl MigrationName for AddFloors {
    fn name(&self) -> &str {
        "m001_add_floors"
    }
}
impl MigrationName for AddRoomsIfFloors {
    fn name(&self) -> &str {
        "m002_add_rooms_if_floors"
    }
}

fn table(name: &str) -> TableCreateStatement {
    Table::create()
        .table(Alias::new(name))
        .col(ColumnDef::new(Alias::new("id")).integer().not_null())
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for AddFloors {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(table("floors")).await
    }
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("floors")).to_owned())
            .await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddRoomsIfFloors {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_table("floors").await? {
            manager.create_table(table("rooms")).await?;
        }
        Ok(())
    }
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("rooms"))
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

struct Floors;

impl MigratorTrait for Floors {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(AddFloors), Box::new(AddRoomsIfFloors)]
    }
}

impl migration_core::Described for Floors {
    const DATABASE: migration_core::Database = sketch2bim_migration::DATABASE;

    fn summaries() -> Vec<(&'static str, &'static str)> {
        vec![
            ("m001_add_floors", "Adds floors."),
            ("m002_add_rooms_if_floors", "Adds rooms where floors exist."),
        ]
    }
}

async fn tables(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT tablename::text AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    ))
    .await
    .expect("list tables")
    .iter()
    .map(|r| r.try_get::<String>("", "t").expect("a name"))
    .collect()
}

#[tokio::test]
async fn batched_and_statement_by_statement_migrations_in_one_postgres_run() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let history = History::of::<Floors>();
    let report = runner::up(&db, &history, &Goal::All, &RunOptions::default())
        .await
        .expect("up");
    assert_eq!(report.steps.len(), 2);
    assert_eq!(
        applied_names(&db).await,
        vec!["m001_add_floors", "m002_add_rooms_if_floors"]
    );
    // The second migration saw the first one's table.
    assert_eq!(
        tables(&db).await,
        vec!["floors", "rooms", "seaql_migrations"]
    );

    runner::down(&db, &history, &Goal::All, &RunOptions::default())
        .await
        .expect("down");
    assert!(applied_names(&db).await.is_empty());
    assert_eq!(tables(&db).await, vec!["seaql_migrations"]);
}

/// The startup API on an app's pool of one connection: the lock would keep
/// that connection and the run would wait on itself, so it is refused at
/// once, by name; at head, where no lock is taken, it is fine.
#[tokio::test]
async fn a_one_connection_pool_is_refused_before_anything_runs() {
    let test_db = TestDb::postgres().await;
    let mut options = sea_orm::ConnectOptions::new(test_db.url().to_owned());
    options.max_connections(1).sqlx_logging(false);
    let app = sea_orm::Database::connect(options).await.expect("connect");
    let refused = sketch2bim_migration::migrate_on_startup(&app)
        .await
        .expect_err("refused");
    assert_eq!(
        migration_core::one_line(&refused, &[]),
        "the connection pool allows 1 connection(s); migrating needs 2 (one holds the \
         migration lock): set max_connections to at least 2"
    );
    let db = test_db.connect().await;
    assert_eq!(
        tables(&db).await,
        Vec::<String>::new(),
        "not even bookkeeping"
    );

    runner::up(
        &db,
        &sketch2bim_migration_history(),
        &Goal::All,
        &RunOptions::default(),
    )
    .await
    .expect("up on a pool of two");
    let report = sketch2bim_migration::migrate_on_startup(&app)
        .await
        .expect("at head");
    assert!(report.applied.is_empty());
    assert_eq!(report.current.as_deref(), Some(crate::migrations().head()));
}

fn sketch2bim_migration_history() -> History {
    History::of::<sketch2bim_migration::Migrator>()
}
