//! Jobs say what kind of project they are: `jobs.project_type`, default
//! 'architecture', which every existing job gets (Alembic revision 009).

// lint: allow long-statement-with-other-ddl: shipped as Alembic revision 009, which filled in project_type in its transaction

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    ProjectType,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(ColumnDef::new(Jobs::ProjectType).string().default("architecture"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Jobs::Table)
                    .value(Jobs::ProjectType, "architecture")
                    .and_where(Expr::col(Jobs::ProjectType).is_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .drop_column(Jobs::ProjectType)
                    .to_owned(),
            )
            .await
    }
}
