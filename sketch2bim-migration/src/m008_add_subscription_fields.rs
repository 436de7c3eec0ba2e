//! Users get recurring subscriptions: `razorpay_subscription_id` (indexed) and
//! `subscription_auto_renew` (Alembic revision 008).

// lint: allow require-concurrent-index-creation: shipped as Alembic revision 008, which built the index in its transaction
// lint: allow long-statement-with-other-ddl: shipped as Alembic revision 008, with the columns and the index in one transaction

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    RazorpaySubscriptionId,
    SubscriptionAutoRenew,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::RazorpaySubscriptionId).string())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::SubscriptionAutoRenew)
                            .boolean()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_razorpay_subscription_id")
                    .table(Users::Table)
                    .col(Users::RazorpaySubscriptionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_users_razorpay_subscription_id")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::SubscriptionAutoRenew)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::RazorpaySubscriptionId)
                    .to_owned(),
            )
            .await
    }
}
