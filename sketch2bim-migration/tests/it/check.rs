//! `check` compares a database with the entities crate, table by table and
//! column by column.

use std::collections::BTreeMap;

use migration_core::catalog::Catalog;
use migration_core::check::EntityStatements;
use rstest::rstest;
use sea_orm::sea_query::{
    ColumnDef, ColumnType, ForeignKey, ForeignKeyAction, Index, IndexCreateStatement, PgInterval,
    Table, TableCreateStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use test_support::cli::{Run, WorkDir, cli};
use test_support::{Backend, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// What `check` says of a database that matches the entities: it counts the
/// entities' tables.
fn matches_the_entities() -> String {
    let tables = entities::sketch2bim::statements(DbBackend::Postgres)
        .0
        .len();
    format!("sketch2bim: the database matches the entities ({tables} tables)\n")
}

/// The start of the refusal of `down` on a database that cannot be written:
/// `down` rolls back the head first.
fn head_rollback_failed() -> String {
    format!(
        "error: migration {} failed while rolling it back: ",
        crate::migrations().head()
    )
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn check_passes_on_a_freshly_migrated_database(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let dir = WorkDir::new();
    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    let check = cli(BIN, &dir, test_db.url(), &["check"]).ok();
    assert_eq!(check.stdout, "");
    assert_eq!(check.stderr, matches_the_entities());
}

#[tokio::test]
async fn check_names_every_column_that_differs() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    db.execute_unprepared(
        "ALTER TABLE jobs ADD COLUMN zz_scratch_notes text; \
         ALTER TABLE jobs DROP COLUMN sketchup_url; \
         ALTER TABLE users ALTER COLUMN name SET NOT NULL; \
         ALTER TABLE payments ALTER COLUMN amount TYPE bigint; \
         DROP INDEX ix_organizations_slug; \
         CREATE TABLE zz_scratch_audit_log (id integer PRIMARY KEY);",
    )
    .await
    .expect("hand changes");
    let check = cli(BIN, &dir, test_db.url(), &["check"]);
    assert_eq!(check.code, 1, "{check:#?}");
    assert_eq!(
        check.stdout_lines(),
        vec![
            "jobs.zz_scratch_notes: column in the database, not in the entity",
            "jobs.sketchup_url: column of the entity, missing from the database",
            "organizations.slug: unique in the entity, not in the database",
            "payments.amount: type bigint in the database, integer in the entity",
            "users.name: NOT NULL in the database, nullable in the entity",
            "zz_scratch_audit_log: table in the database, no entity has it",
        ]
    );
    assert_eq!(
        check.stderr_lines(),
        vec!["error: the database differs from the entities in 6 places (listed above)"]
    );
}

/// Builds `tables` and `indexes` in a new PostgreSQL database and asserts
/// that the catalog `check` derives from them without a database is the
/// one PostgreSQL builds, object for object: types with their typmods,
/// nullability, serials' defaults, constraints, indexes and sequences.
async fn assert_derived_as_built(
    label: &str,
    tables: &[TableCreateStatement],
    indexes: &[IndexCreateStatement],
) {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    for table in tables {
        db.execute(table).await.expect("create a table");
    }
    for index in indexes {
        db.execute(index).await.expect("create an index");
    }
    let built = Catalog::read(&db, &[]).await.expect("read the catalog");
    let _ = db.close().await;
    let derived =
        migration_core::check::postgres_catalog(tables, indexes).expect("derive the catalog");
    let objects = |catalog: &Catalog| {
        catalog
            .objects(true)
            .into_iter()
            .map(|(key, description)| (key, description.replace(" ON public.", " ON ")))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(objects(&derived), objects(&built), "{label}");
}

#[tokio::test]
async fn the_derived_entity_schema_is_what_postgres_builds() {
    for (label, statements) in [
        (
            "sketch2bim",
            entities::sketch2bim::statements as EntityStatements,
        ),
        ("ask", entities::ask::statements),
    ] {
        let (tables, indexes) = statements(DbBackend::Postgres);
        assert_derived_as_built(label, &tables, &indexes).await;
    }
}

#[tokio::test]
async fn every_column_type_is_named_as_postgres_names_it() {
    let kinds = Table::create()
        .table("kinds")
        .col(
            ColumnDef::new("id")
                .big_integer()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new("a_char").char())
        .col(ColumnDef::new("a_char_3").char_len(3).not_null())
        .col(ColumnDef::new("a_string").string())
        .col(ColumnDef::new("a_string_255").string_len(255))
        .col(ColumnDef::new("a_text").text())
        .col(ColumnDef::new("a_tiny").tiny_integer())
        .col(ColumnDef::new("a_small").small_integer())
        .col(ColumnDef::new("an_integer").integer().unique_key())
        .col(ColumnDef::new("a_big").big_integer())
        .col(ColumnDef::new("a_tiny_unsigned").tiny_unsigned())
        .col(ColumnDef::new("a_small_unsigned").small_unsigned())
        .col(ColumnDef::new("an_unsigned").unsigned())
        .col(ColumnDef::new("a_big_unsigned").big_unsigned())
        .col(ColumnDef::new("a_float").float())
        .col(ColumnDef::new("a_double").double())
        .col(ColumnDef::new("a_decimal").decimal())
        .col(ColumnDef::new("a_decimal_10_2").decimal_len(10, 2))
        .col(ColumnDef::new("a_date_time").date_time())
        .col(ColumnDef::new("a_timestamp").timestamp())
        .col(ColumnDef::new("a_timestamptz").timestamp_with_time_zone())
        .col(ColumnDef::new("a_time").time())
        .col(ColumnDef::new("a_date").date())
        .col(ColumnDef::new("an_interval").interval(None, None))
        .col(ColumnDef::new("an_interval_fields").interval(Some(PgInterval::DayToSecond), Some(3)))
        .col(ColumnDef::new("an_interval_precision").interval(None, Some(2)))
        .col(ColumnDef::new("a_binary").binary())
        .col(ColumnDef::new("a_var_binary").var_binary(16))
        .col(ColumnDef::new("a_blob").blob())
        .col(ColumnDef::new("a_bit").bit(None))
        .col(ColumnDef::new("a_bit_4").bit(Some(4)))
        .col(ColumnDef::new("a_varbit").varbit(8))
        .col(ColumnDef::new("a_boolean").boolean())
        .col(ColumnDef::new("money").money())
        .col(ColumnDef::new("a_json").json())
        .col(ColumnDef::new("a_jsonb").json_binary())
        .col(ColumnDef::new("a_uuid").uuid())
        .col(ColumnDef::new("an_array").array(ColumnType::Integer))
        .col(ColumnDef::new("a_string_array").array(ColumnType::string(Some(40))))
        .col(ColumnDef::new("a_cidr").cidr())
        .col(ColumnDef::new("an_inet").inet())
        .col(ColumnDef::new("a_mac").mac_address())
        .col(ColumnDef::new("custom_int4").custom("int4"))
        .col(ColumnDef::new("custom_varchar").custom("VARCHAR(20)"))
        .col(ColumnDef::new("custom_numeric").custom("numeric(12, 4)"))
        .col(ColumnDef::new("custom_timestamptz").custom("timestamptz"))
        .col(ColumnDef::new("custom_timestamp_3").custom("timestamp(3)"))
        .col(ColumnDef::new("custom_text_array").custom("text[]"))
        .col(ColumnDef::new("Mixed Case").integer().unique_key())
        .to_owned();
    let members = Table::create()
        .table("kind_members")
        .col(ColumnDef::new("kind_id").big_integer().not_null())
        .col(ColumnDef::new("member").integer().not_null())
        .col(ColumnDef::new("slot").small_integer().auto_increment())
        .col(ColumnDef::new("email").string_len(120).unique_key())
        .col(ColumnDef::new("a").integer())
        .col(ColumnDef::new("b").integer())
        .primary_key(Index::create().col("kind_id").col("member"))
        .index(Index::create().name("uq_pair").unique().col("a").col("b"))
        .foreign_key(
            ForeignKey::create()
                .from("kind_members", "kind_id")
                .to("kinds", "id")
                .on_delete(ForeignKeyAction::Cascade)
                .on_update(ForeignKeyAction::Restrict),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk-member-kind")
                .from("kind_members", "a")
                .to("kinds", "an_integer"),
        )
        .to_owned();
    let indexes = vec![
        Index::create()
            .name("idx-kinds-a_text")
            .table("kinds")
            .col("a_text")
            .to_owned(),
        Index::create()
            .name("ix_kind_members_b_a")
            .table("kind_members")
            .unique()
            .col("b")
            .col("a")
            .to_owned(),
    ];
    assert_derived_as_built("every type", &[kinds, members], &indexes).await;
}

/// Tables, columns, constraints and indexes named by keywords (`on`, `to`,
/// `when`, `user`, `order`, `table`, `select`).
fn keyword_named() -> (Vec<TableCreateStatement>, Vec<IndexCreateStatement>) {
    let on = Table::create()
        .table("on")
        .col(
            ColumnDef::new("to")
                .integer()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new("when").text().unique_key())
        .col(ColumnDef::new("user").integer())
        .to_owned();
    let order = Table::create()
        .table("order")
        .col(ColumnDef::new("id").integer().not_null().primary_key())
        .col(ColumnDef::new("table").integer())
        .foreign_key(
            ForeignKey::create()
                .from("order", "table")
                .to("on", "to")
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_owned();
    let indexes = vec![
        Index::create()
            .name("select")
            .table("on")
            .col("user")
            .to_owned(),
        Index::create()
            .name("ix_order_table")
            .table("order")
            .col("table")
            .to_owned(),
    ];
    (vec![on, order], indexes)
}

#[tokio::test]
async fn keyword_names_are_derived_quoted_as_postgres_quotes_them() {
    let (tables, indexes) = keyword_named();
    assert_derived_as_built("keywords", &tables, &indexes).await;
}

#[tokio::test]
async fn a_schema_dump_quotes_keyword_names_and_loads_back() {
    let (tables, indexes) = keyword_named();
    let origin = TestDb::postgres().await;
    let db = origin.connect().await;
    for table in &tables {
        db.execute(table).await.expect("create a table");
    }
    for index in &indexes {
        db.execute(index).await.expect("create an index");
    }
    let built = Catalog::read(&db, &[]).await.expect("read the catalog");
    let _ = db.close().await;
    let dump = migration_core::schema::dump(&built, "keywords");
    for line in [
        "CREATE TABLE \"on\" (",
        "    \"to\" integer DEFAULT nextval('on_to_seq'::regclass) NOT NULL,",
        "    \"when\" text,",
        "ALTER TABLE \"on\" ADD CONSTRAINT on_when_key UNIQUE (\"when\");",
        "CREATE INDEX \"select\" ON \"on\" USING btree (\"user\");",
        "ALTER TABLE \"order\" ADD CONSTRAINT order_table_fkey FOREIGN KEY (\"table\") \
         REFERENCES \"on\"(\"to\") ON DELETE SET NULL;",
        "ALTER SEQUENCE on_to_seq OWNED BY \"on\".\"to\";",
    ] {
        assert!(dump.lines().any(|l| l == line), "{line}\n{dump}");
    }

    let copy = TestDb::postgres().await;
    let db = copy.connect().await;
    let txn = db.begin().await.expect("a transaction");
    if let Err(e) = txn.execute_unprepared(&dump).await {
        panic!("loading the dump failed: {e}\n{dump}");
    }
    txn.commit().await.expect("commit");
    let loaded = Catalog::read(&db, &[]).await.expect("read the catalog");
    let _ = db.close().await;
    let diff = loaded.diff(&built, true);
    assert!(
        diff.is_empty(),
        "the dump does not recreate the catalog: {diff:#?}"
    );
}

/// A login role that may only read: CONNECT on the database, USAGE on its
/// schema, SELECT on its tables. Dropped after the database (declare it
/// before the `TestDb`).
struct ReadOnlyRole {
    name: String,
}

impl ReadOnlyRole {
    async fn grant_on(test_db: &TestDb) -> (ReadOnlyRole, String) {
        let name = format!(
            "kvshvl_reader_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let db = test_db.connect().await;
        let database = test_db.name();
        db.execute_unprepared(&format!(
            "CREATE ROLE \"{name}\" LOGIN PASSWORD 'reader'; \
             REVOKE ALL ON DATABASE \"{database}\" FROM PUBLIC; \
             REVOKE ALL ON SCHEMA public FROM PUBLIC; \
             GRANT CONNECT ON DATABASE \"{database}\" TO \"{name}\"; \
             GRANT USAGE ON SCHEMA public TO \"{name}\"; \
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{name}\";"
        ))
        .await
        .expect("create the read-only role");
        let _ = db.close().await;
        let url = test_support::cli::with_user(test_db.url(), &name, Some("reader"));
        (ReadOnlyRole { name }, url)
    }
}

impl Drop for ReadOnlyRole {
    fn drop(&mut self) {
        let sql = format!("DROP ROLE IF EXISTS \"{}\"", self.name);
        let admin_url = test_support::server_url().to_owned();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                    let _ = admin.execute_unprepared(&sql).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

fn assert_matches(check: &Run) {
    assert_eq!(check.code, 0, "{check:#?}");
    assert_eq!(check.stdout, "");
    assert_eq!(check.stderr, matches_the_entities());
}

#[tokio::test]
async fn check_passes_as_a_role_that_may_only_select() {
    let role;
    let test_db = TestDb::postgres().await;
    let dir = WorkDir::new();
    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    let url;
    (role, url) = ReadOnlyRole::grant_on(&test_db).await;
    // The role really cannot write: creating anything is refused.
    let reader = sea_orm::Database::connect(&url)
        .await
        .expect("connect as the role");
    let refused = reader
        .execute_unprepared("CREATE TABLE kvshvl_probe (id integer)")
        .await
        .expect_err("a SELECT-only role cannot create a table");
    assert!(
        refused.to_string().contains("permission denied"),
        "{refused}"
    );
    let _ = reader.close().await;
    assert_matches(&cli(BIN, &dir, &url, &["check"]));
    drop(test_db);
    drop(role);
}

#[tokio::test]
async fn check_passes_on_a_read_only_database() {
    let test_db = TestDb::postgres().await;
    let dir = WorkDir::new();
    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    let db = test_db.connect().await;
    db.execute_unprepared(&format!(
        "ALTER DATABASE \"{}\" SET default_transaction_read_only = on",
        test_db.name()
    ))
    .await
    .expect("make the database read-only");
    let _ = db.close().await;
    assert_matches(&cli(BIN, &dir, test_db.url(), &["check"]));
    // New sessions are read-only: a write is refused.
    let db = test_db.connect().await;
    let refused = db
        .execute_unprepared("CREATE TABLE kvshvl_probe (id integer)")
        .await
        .expect_err("a read-only transaction cannot create a table");
    assert!(refused.to_string().contains("read-only"), "{refused}");
    let _ = db.close().await;
}

#[tokio::test]
async fn check_reports_drift_to_a_select_only_role_in_a_read_only_transaction() {
    let role;
    let test_db = TestDb::postgres().await;
    let dir = WorkDir::new();
    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    let db = test_db.connect().await;
    db.execute_unprepared(
        "ALTER TABLE jobs ADD COLUMN zz_scratch_notes text; \
         ALTER TABLE users ALTER COLUMN name SET NOT NULL;",
    )
    .await
    .expect("hand changes");
    let _ = db.close().await;
    let url;
    (role, url) = ReadOnlyRole::grant_on(&test_db).await;
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}options=-c%20default_transaction_read_only%3Don");
    let check = cli(BIN, &dir, &url, &["check"]);
    assert_eq!(check.code, 1, "{check:#?}");
    assert_eq!(
        check.stdout_lines(),
        vec![
            "jobs.zz_scratch_notes: column in the database, not in the entity",
            "users.name: NOT NULL in the database, nullable in the entity",
        ]
    );
    assert_eq!(
        check.stderr_lines(),
        vec!["error: the database differs from the entities in 2 places (listed above)"]
    );
    // The options are in force: a writing command on the same URL is refused.
    let down = cli(BIN, &dir, &url, &["down"]);
    assert_eq!(down.code, 1, "{down:#?}");
    let lines = down.stderr_lines();
    assert_eq!(lines.len(), 1, "{down:#?}");
    let why = lines[0]
        .strip_prefix(&head_rollback_failed())
        .unwrap_or_else(|| panic!("{down:#?}"));
    assert!(
        why.starts_with("cannot execute ") && why.ends_with(" in a read-only transaction"),
        "{down:#?}"
    );
    drop(test_db);
    drop(role);
}

#[tokio::test]
async fn check_passes_on_a_sqlite_file_opened_read_only() {
    let test_db = TestDb::sqlite().await;
    let dir = WorkDir::new();
    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    let read_only = test_db.url().replace("mode=rwc", "mode=ro");
    assert!(read_only.ends_with("mode=ro"), "{read_only}");
    assert_matches(&cli(BIN, &dir, &read_only, &["check"]));
    // The file is opened read-only: a writing command on the same URL is refused.
    let down = cli(BIN, &dir, &read_only, &["down"]);
    assert_eq!(down.code, 1, "{down:#?}");
    assert_eq!(
        down.stderr_lines(),
        vec![format!(
            "{}attempt to write a readonly database",
            head_rollback_failed()
        )],
        "{down:#?}"
    );
}
