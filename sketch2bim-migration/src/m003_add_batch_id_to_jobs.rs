//! Jobs submitted together share a `batch_id`, indexed for lookups by batch
//! (Alembic revision 003).

// lint: allow require-concurrent-index-creation: shipped as Alembic revision 003, which built ix_jobs_batch_id in its transaction
// lint: allow long-statement-with-other-ddl: shipped as Alembic revision 003, with the column and its index in one transaction

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    BatchId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(ColumnDef::new(Jobs::BatchId).string())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_jobs_batch_id")
                    .table(Jobs::Table)
                    .col(Jobs::BatchId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_jobs_batch_id").table(Jobs::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .drop_column(Jobs::BatchId)
                    .to_owned(),
            )
            .await
    }
}
