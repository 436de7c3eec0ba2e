//! Drops the deprecated `jobs.reader_type` (Alembic revision 010); its values
//! are lost, and the down step brings the column back empty, at the end of the
//! table.

// lint: allow ban-drop-column: shipped as Alembic revision 010, after the service stopped reading reader_type

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    ReaderType,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .drop_column(Jobs::ReaderType)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(ColumnDef::new(Jobs::ReaderType).string())
                    .to_owned(),
            )
            .await
    }
}
