//! What `generate --autogenerate` writes for given catalogs.

use crate::pure::catalog::{Catalog, Column, Table};

fn column(name: &str, data_type: &str, not_null: bool) -> Column {
    Column {
        name: name.to_owned(),
        position: 0,
        data_type: data_type.to_owned(),
        not_null,
        default: None,
        identity: None,
    }
}

fn catalog(columns: Vec<Column>) -> Catalog {
    let mut catalog = Catalog::default();
    catalog.tables.insert(
        "jobs".to_owned(),
        Table {
            columns,
            ..Table::default()
        },
    );
    catalog
}

#[test]
fn what_it_cannot_decide_becomes_a_review_note() {
    let have = catalog(vec![
        column("id", "character varying", true),
        column("progress", "integer", false),
        column("title", "character varying", false),
    ]);
    let want = catalog(vec![
        column("id", "character varying", true),
        column("progress", "bigint", true),
        column("name", "character varying", false),
    ]);
    let source = super::migration_source(&have, &want).expect("a migration");
    for note in [
        "// review: jobs.title may have been renamed to name: if so, replace the add and \
         drop below with a rename, or the column's values are lost",
        "// review: jobs.progress: the database has integer, the entity bigint; not changed",
        "// review: jobs.progress: the database has it nullable, the entity NOT NULL; not \
         changed",
        "// review: jobs.title: no entity has this column; the up step drops it with its \
         values",
    ] {
        assert!(source.contains(note), "{note}\n{source}");
    }
    assert!(source.contains(".add_column(ColumnDef::new(\"name\").string().null())"));
}

#[test]
fn nothing_to_do_writes_nothing() {
    let same = catalog(vec![column("id", "character varying", true)]);
    assert!(super::migration_source(&same, &same).is_none());
}

#[test]
fn new_tables_follow_what_they_reference_with_their_foreign_keys() {
    use crate::pure::catalog::{Constraint, FkAction, ForeignKey, Index};
    let fk = |columns: &str, to_table: &str, on_delete| {
        Constraint::foreign_key(ForeignKey {
            columns: vec![columns.into()],
            to_table: to_table.into(),
            to_columns: vec!["id".into()],
            on_update: FkAction::NoAction,
            on_delete,
        })
    };
    let mut want = Catalog::default();
    let mut jobs = Table {
        columns: vec![column("id", "character varying", true)],
        ..Table::default()
    };
    jobs.constraints.insert(
        "jobs_pkey".into(),
        Constraint::primary_key(vec!["id".into()]),
    );
    let mut iterations = Table {
        columns: vec![
            column("id", "character varying", true),
            column("job_id", "character varying", true),
            column("parent_id", "character varying", false),
        ],
        ..Table::default()
    };
    iterations.constraints.insert(
        "iterations_job_id_fkey".into(),
        fk("job_id", "jobs", FkAction::Cascade),
    );
    iterations.constraints.insert(
        "fk-iterations-parent".into(),
        fk("parent_id", "iterations", FkAction::NoAction),
    );
    want.tables.insert("iterations".into(), iterations);
    want.tables.insert("jobs".into(), jobs);

    let mut have = Catalog::default();
    let mut legacy = Table {
        columns: vec![column("email", "text", false)],
        ..Table::default()
    };
    legacy.indexes.insert(
        "ix_legacy_lower_email".into(),
        Index {
            unique: true,
            columns: vec![None],
            definition: "CREATE UNIQUE INDEX ix_legacy_lower_email ON legacy USING btree \
                         (lower(email))"
                .into(),
        },
    );
    have.tables.insert("legacy".into(), legacy);

    let source = super::migration_source(&have, &want).expect("a migration");
    let created = |table: &str| {
        source
            .find(&format!(
                "Table::create()\n                    .table({table:?})"
            ))
            .unwrap_or_else(|| panic!("{table} is not created:\n{source}"))
    };
    assert!(created("jobs") < created("iterations"), "{source}");
    for code in [
        ".foreign_key(ForeignKey::create().name(\"iterations_job_id_fkey\")\
         .from(\"iterations\", \"job_id\").to(\"jobs\", \"id\")\
         .on_delete(ForeignKeyAction::Cascade))",
        ".foreign_key(ForeignKey::create().name(\"iterations_parent_id_fkey\")\
         .from(\"iterations\", \"parent_id\").to(\"iterations\", \"id\"))",
        "// review: legacy: index ix_legacy_lower_email has an expression among its keys; \
         the down step does not recreate it",
    ] {
        assert!(source.contains(code), "{code}\n{source}");
    }
    assert!(!source.contains(".lower("), "{source}");
}

fn with_default(mut column: Column, default: &str) -> Column {
    column.default = Some(default.to_owned());
    column
}

#[test]
fn added_columns_carry_the_entitys_default_and_not_null_without_one_is_a_review_note() {
    let have = catalog(vec![column("id", "character varying", true)]);
    let want = catalog(vec![
        column("id", "character varying", true),
        with_default(column("archived", "boolean", true), "FALSE"),
        column("owner", "character varying", true),
        column("review_notes", "text", false),
    ]);
    let source = super::migration_source(&have, &want).expect("a migration");
    for code in [
        ".add_column(ColumnDef::new(\"archived\").boolean().not_null().default(Expr::cust(\"FALSE\")))",
        ".add_column(ColumnDef::new(\"review_notes\").text().null())",
        "// review: jobs.owner: NOT NULL without a default fails on a table with rows (column \
         contains null values); give the entity a default_value, or add the column nullable, \
         fill it, and make it NOT NULL in a later migration",
    ] {
        assert!(source.contains(code), "{code}\n{source}");
    }
    assert!(!source.contains("// review: jobs.archived"), "{source}");
    assert!(!source.contains("// review: jobs.review_notes"), "{source}");
}

#[test]
fn an_index_over_several_columns_is_kept_with_a_review_note() {
    use crate::pure::catalog::Index;
    let mut have = catalog(vec![
        column("id", "character varying", true),
        column("user_id", "integer", true),
        column("created_at", "timestamp without time zone", false),
    ]);
    let want = have.clone();
    let jobs = have.tables.get_mut("jobs").expect("jobs");
    jobs.indexes.insert(
        "ix_jobs_user_created".into(),
        Index {
            unique: false,
            columns: vec![Some("user_id".into()), Some("created_at".into())],
            definition: "CREATE INDEX ix_jobs_user_created ON jobs USING btree (user_id, \
                         created_at)"
                .into(),
        },
    );
    jobs.indexes.insert(
        "ix_jobs_user_id".into(),
        Index {
            unique: false,
            columns: vec![Some("user_id".into())],
            definition: "CREATE INDEX ix_jobs_user_id ON jobs USING btree (user_id)".into(),
        },
    );
    let source = super::migration_source(&have, &want).expect("a migration");
    assert!(
        source.contains(
            "// review: jobs: index ix_jobs_user_created on (user_id, created_at) is in the \
             database, and an entity cannot declare an index over several columns; kept: drop \
             it here if it should go"
        ),
        "{source}"
    );
    assert!(
        !source.contains(".name(\"ix_jobs_user_created\")"),
        "{source}"
    );
    // A single-column index no entity declares is dropped, and restored by down.
    assert!(
        source.contains(
            ".drop_index(Index::drop().name(\"ix_jobs_user_id\").table(\"jobs\").to_owned())"
        ),
        "{source}"
    );
}

#[test]
fn what_lint_finds_in_the_migration_is_a_review_note() {
    use crate::pure::catalog::Index;
    let have = catalog(vec![
        column("id", "character varying", true),
        column("user_id", "integer", true),
    ]);
    let mut want = have.clone();
    want.tables.get_mut("jobs").expect("jobs").indexes.insert(
        "idx-jobs-user_id".into(),
        Index {
            unique: false,
            columns: vec![Some("user_id".into())],
            definition: String::new(),
        },
    );
    let source = super::migration_source(&have, &want).expect("a migration");
    assert!(
        source.contains(
            "        // review: lint require-concurrent-index-creation (CREATE INDEX \
             ix_jobs_user_id ON jobs (user_id)): During normal index creation, table updates \
             are blocked, but reads are still allowed; safe pattern: Use `concurrently` to \
             avoid blocking writes\n"
        ),
        "{source}"
    );
}
