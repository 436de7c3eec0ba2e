//! Subscriptions expire: `users.subscription_expires_at`, 30 days out for
//! active users that had none; organizations without a tier, or on the retired
//! 'free' tier, move to 'trial' (Alembic revision 007). The data changes are
//! not reversed by the down step.

// lint: allow long-statement-with-other-ddl: shipped as Alembic revision 007, which filled in the new column in its transaction

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    SubscriptionExpiresAt,
    SubscriptionStatus,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    SubscriptionTier,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();

        // 1. The column.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::SubscriptionExpiresAt).timestamp())
                    .to_owned(),
            )
            .await?;

        // 2. Active users without an expiry get one 30 days from now.
        let in_30_days = match backend {
            DbBackend::Sqlite => Expr::cust("datetime('now', '+30 days')"),
            _ => Expr::cust("LOCALTIMESTAMP + INTERVAL '30 days'"),
        };
        manager
            .exec_stmt(
                Query::update()
                    .table(Users::Table)
                    .value(Users::SubscriptionExpiresAt, in_30_days)
                    .and_where(Expr::col(Users::SubscriptionStatus).eq("active"))
                    .and_where(Expr::col(Users::SubscriptionExpiresAt).is_null())
                    .to_owned(),
            )
            .await?;

        // 3. The tier's default is already 'trial'; set again for fidelity with
        // the Alembic history. SQLite cannot change a column's default, and
        // does not need to: its default is already 'trial'.
        if backend != DbBackend::Sqlite {
            manager
                .alter_table(
                    Table::alter()
                        .table(Organizations::Table)
                        .modify_column(ColumnDef::new(Organizations::SubscriptionTier).default("trial"))
                        .to_owned(),
                )
                .await?;
        }

        // 4. No tier, or the retired 'free' one, becomes 'trial'.
        manager
            .exec_stmt(
                Query::update()
                    .table(Organizations::Table)
                    .value(Organizations::SubscriptionTier, "trial")
                    .cond_where(
                        Cond::any()
                            .add(Expr::col(Organizations::SubscriptionTier).is_null())
                            .add(Expr::col(Organizations::SubscriptionTier).eq("free")),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::SubscriptionExpiresAt)
                    .to_owned(),
            )
            .await
    }
}
