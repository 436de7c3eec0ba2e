//! Drops `api_keys` (Alembic revision 006): the service no longer issues API
//! keys. Its rows are lost; the down step recreates the table exactly as 001
//! made it, empty (without the two extra indexes the Alembic down step added).

// lint: allow require-concurrent-index-deletion: shipped as Alembic revision 006; api_keys was unused when it was dropped
// lint: allow ban-drop-table: shipped as Alembic revision 006, which removed the unused api_keys

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    UserId,
    Key,
    Name,
    RateLimitPerMinute,
    RateLimitPerHour,
    TotalRequests,
    LastUsedAt,
    IsActive,
    CreatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_api_keys_key").table(ApiKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(ColumnDef::new(ApiKeys::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(ApiKeys::UserId).integer().not_null())
                    .col(ColumnDef::new(ApiKeys::Key).string().not_null())
                    .col(ColumnDef::new(ApiKeys::Name).string())
                    .col(ColumnDef::new(ApiKeys::RateLimitPerMinute).integer().default(10))
                    .col(ColumnDef::new(ApiKeys::RateLimitPerHour).integer().default(100))
                    .col(ColumnDef::new(ApiKeys::TotalRequests).integer().default(0))
                    .col(ColumnDef::new(ApiKeys::LastUsedAt).timestamp())
                    .col(ColumnDef::new(ApiKeys::IsActive).boolean().default(true))
                    .col(ColumnDef::new(ApiKeys::CreatedAt).timestamp())
                    .col(ColumnDef::new(ApiKeys::RevokedAt).timestamp())
                    .foreign_key(
                        ForeignKey::create()
                            .name("api_keys_user_id_fkey")
                            .from(ApiKeys::Table, ApiKeys::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_keys_key")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::Key)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
