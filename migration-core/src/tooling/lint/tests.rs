//! `lint` over migrations that send given SQL.

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::*;

/// A migration sending `sql`, in a transaction or not.
struct Sends {
    sql: &'static [&'static str],
    transaction: bool,
}

impl MigrationName for Sends {
    fn name(&self) -> &str {
        "m011_probe"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Sends {
    fn use_transaction(&self) -> Option<bool> {
        (!self.transaction).then_some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for sql in self.sql {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

async fn rules(sql: &'static [&'static str], transaction: bool) -> Vec<(Option<usize>, String)> {
    let migration = Sends { sql, transaction };
    lint_migration(&migration, &LintOptions::default())
        .await
        .expect("linted")
        .into_iter()
        .map(|f| (f.statement.map(|(n, _)| n), f.rule))
        .collect()
}

fn found(list: &[(Option<usize>, &str)]) -> Vec<(Option<usize>, String)> {
    list.iter().map(|(n, r)| (*n, (*r).to_owned())).collect()
}

#[tokio::test]
async fn a_plain_index_on_an_existing_table_is_squawks_concurrent_index_rule() {
    assert_eq!(
        rules(&["CREATE INDEX ix ON jobs (user_id, created_at)"], true).await,
        found(&[(Some(1), "require-concurrent-index-creation")])
    );
}

#[tokio::test]
async fn concurrently_in_a_transactional_migration_names_the_transaction() {
    let found = rules(
        &["CREATE INDEX CONCURRENTLY ix ON jobs (user_id, created_at)"],
        true,
    )
    .await;
    assert!(
        found.contains(&(Some(1), "concurrently-in-transaction".to_owned())),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_concurrent_index_outside_a_transaction_passes() {
    assert_eq!(
        rules(
            &[
                "DROP INDEX CONCURRENTLY IF EXISTS ix",
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON jobs (user_id, created_at)"
            ],
            false
        )
        .await,
        found(&[])
    );
}

#[tokio::test]
async fn other_ddl_outside_a_transaction_is_the_migrators_rule() {
    assert_eq!(
        rules(
            &["ALTER TABLE jobs ADD COLUMN IF NOT EXISTS zz text"],
            false
        )
        .await,
        found(&[(Some(1), "non-concurrent-ddl-outside-transaction")])
    );
}

#[tokio::test]
async fn a_backfill_with_other_ddl_in_one_transaction_is_flagged_but_not_on_a_new_table() {
    assert_eq!(
        rules(
            &[
                "ALTER TABLE jobs ADD COLUMN kind varchar",
                "UPDATE jobs SET kind = 'a' WHERE kind IS NULL"
            ],
            true
        )
        .await,
        found(&[(Some(2), "long-statement-with-other-ddl")])
    );
    assert_eq!(
        rules(
            &[
                "CREATE TABLE zz (id integer, k text)",
                "CREATE INDEX ix_zz_k ON zz (k)"
            ],
            true
        )
        .await,
        found(&[])
    );
}

#[tokio::test]
async fn a_nullable_column_passes() {
    assert_eq!(
        rules(
            &["ALTER TABLE jobs ADD COLUMN review_notes text NULL"],
            true
        )
        .await,
        found(&[])
    );
}

#[test]
fn allowances_name_a_rule_and_a_reason() {
    let source = "//! Drops.\n// lint: allow ban-drop-table: the Alembic revision did; shipped\n\
                  //! lint: allow ban-drop-column: gone\nfn x() {}\n";
    assert_eq!(
        allowances(source),
        Ok(vec![
            Allowance {
                rule: "ban-drop-table".into(),
                reason: "the Alembic revision did; shipped".into()
            },
            Allowance {
                rule: "ban-drop-column".into(),
                reason: "gone".into()
            },
        ])
    );
    assert_eq!(
        allowances("// lint: allow ban-drop-table\n"),
        Err("line 1: an allowance is `// lint: allow RULE: REASON`, with both".to_owned())
    );
}

#[test]
fn a_finding_reads_as_one_line_with_the_statement() {
    let finding = Finding {
        migration: "m011_x".into(),
        statement: Some((2, "CREATE  INDEX ix\n ON jobs (a)".into())),
        rule: "require-concurrent-index-creation".into(),
        why: "it blocks writes".into(),
        fix: "build it concurrently".into(),
    };
    assert_eq!(
        describe(&finding),
        "m011_x statement 2 (CREATE INDEX ix ON jobs (a)): require-concurrent-index-creation: \
         it blocks writes; safe pattern: build it concurrently"
    );
}
