//! The earlier Alembic migrator's steps, as the SQL it emitted on PostgreSQL
//! (`fixtures/alembic/<database>/<revision>.sql`): the reference every
//! migration is compared with, and the way tests build databases "as
//! production has them" for adoption.

use sea_orm::{ConnectionTrait, DatabaseConnection};

const SKETCH2BIM: &[(&str, &str)] = &[
    (
        "001",
        include_str!("../fixtures/alembic/sketch2bim/001.sql"),
    ),
    (
        "002",
        include_str!("../fixtures/alembic/sketch2bim/002.sql"),
    ),
    (
        "003",
        include_str!("../fixtures/alembic/sketch2bim/003.sql"),
    ),
    (
        "004",
        include_str!("../fixtures/alembic/sketch2bim/004.sql"),
    ),
    (
        "005",
        include_str!("../fixtures/alembic/sketch2bim/005.sql"),
    ),
    (
        "006",
        include_str!("../fixtures/alembic/sketch2bim/006.sql"),
    ),
    (
        "007",
        include_str!("../fixtures/alembic/sketch2bim/007.sql"),
    ),
    (
        "008",
        include_str!("../fixtures/alembic/sketch2bim/008.sql"),
    ),
    (
        "009",
        include_str!("../fixtures/alembic/sketch2bim/009.sql"),
    ),
    (
        "010",
        include_str!("../fixtures/alembic/sketch2bim/010.sql"),
    ),
];

const ASK: &[(&str, &str)] = &[("001", include_str!("../fixtures/alembic/ask/001.sql"))];

/// The revisions of `database` ("ask" or "sketch2bim"), oldest first, each
/// with its SQL.
pub fn steps(database: &str) -> &'static [(&'static str, &'static str)] {
    match database {
        "ask" => ASK,
        "sketch2bim" => SKETCH2BIM,
        other => panic!("no Alembic history for database {other:?}"),
    }
}

/// Builds `database`'s schema up to `revision` (1-based) without Alembic's
/// bookkeeping table.
pub async fn build_schema_only(db: &DatabaseConnection, database: &str, revision: usize) {
    for (name, sql) in &steps(database)[..revision] {
        if let Err(e) = db.execute_unprepared(sql).await {
            panic!("Alembic step {database} {name} failed: {e}");
        }
    }
}

/// Builds `database` as the Alembic migrator left it at `revision`
/// (1-based): the schema plus `alembic_version` holding the revision id.
pub async fn build(db: &DatabaseConnection, database: &str, revision: usize) {
    build_schema_only(db, database, revision).await;
    let version = steps(database)[revision - 1].0;
    let sql = format!(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, \
         CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)); \
         INSERT INTO alembic_version (version_num) VALUES ('{version}');"
    );
    if let Err(e) = db.execute_unprepared(&sql).await {
        panic!("writing alembic_version failed: {e}");
    }
}
