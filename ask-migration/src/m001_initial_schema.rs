//! The ASK schema (Alembic revision 001): users with their credits and
//! subscriptions, payments, and the Groq API usage log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    GoogleId,
    Credits,
    SubscriptionTier,
    SubscriptionStatus,
    RazorpayCustomerId,
    SubscriptionExpiresAt,
    RazorpaySubscriptionId,
    SubscriptionAutoRenew,
    CreatedAt,
    UpdatedAt,
    LastLogin,
    IsActive,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    UserId,
    RazorpayPaymentId,
    RazorpayOrderId,
    Amount,
    Currency,
    Status,
    ProductType,
    CreditsAdded,
    ProcessingFee,
    CreatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum GroqUsage {
    Table,
    Id,
    InputTokens,
    OutputTokens,
    TotalTokens,
    CostUsd,
    Model,
    RequestType,
    CreatedAt,
}

fn index(name: &str, table: impl IntoIden, column: impl IntoIden) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(column)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Users::Email).string().not_null())
                    .col(ColumnDef::new(Users::Name).string())
                    .col(ColumnDef::new(Users::GoogleId).string())
                    .col(ColumnDef::new(Users::Credits).integer().default(0))
                    .col(ColumnDef::new(Users::SubscriptionTier).string().default("trial"))
                    .col(ColumnDef::new(Users::SubscriptionStatus).string().default("inactive"))
                    .col(ColumnDef::new(Users::RazorpayCustomerId).string())
                    .col(ColumnDef::new(Users::SubscriptionExpiresAt).timestamp())
                    .col(ColumnDef::new(Users::RazorpaySubscriptionId).string())
                    .col(ColumnDef::new(Users::SubscriptionAutoRenew).boolean().default(false))
                    .col(ColumnDef::new(Users::CreatedAt).timestamp().default(Expr::current_timestamp()))
                    .col(ColumnDef::new(Users::UpdatedAt).timestamp().default(Expr::current_timestamp()))
                    .col(ColumnDef::new(Users::LastLogin).timestamp())
                    .col(ColumnDef::new(Users::IsActive).boolean().default(true))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("ix_users_email", Users::Table, Users::Email).unique().to_owned()).await?;
        manager.create_index(index("ix_users_google_id", Users::Table, Users::GoogleId).unique().to_owned()).await?;
        manager
            .create_index(
                index("ix_users_razorpay_customer_id", Users::Table, Users::RazorpayCustomerId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_users_razorpay_subscription_id",
                Users::Table,
                Users::RazorpaySubscriptionId,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(ColumnDef::new(Payments::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Payments::UserId).integer().not_null())
                    .col(ColumnDef::new(Payments::RazorpayPaymentId).string())
                    .col(ColumnDef::new(Payments::RazorpayOrderId).string())
                    .col(ColumnDef::new(Payments::Amount).integer())
                    .col(ColumnDef::new(Payments::Currency).string().default("INR"))
                    .col(ColumnDef::new(Payments::Status).string())
                    .col(ColumnDef::new(Payments::ProductType).string())
                    .col(ColumnDef::new(Payments::CreditsAdded).integer().default(0))
                    .col(ColumnDef::new(Payments::ProcessingFee).integer().default(0))
                    .col(ColumnDef::new(Payments::CreatedAt).timestamp().default(Expr::current_timestamp()))
                    .col(ColumnDef::new(Payments::CompletedAt).timestamp())
                    .foreign_key(
                        ForeignKey::create()
                            .name("payments_user_id_fkey")
                            .from(Payments::Table, Payments::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ix_payments_razorpay_payment_id", Payments::Table, Payments::RazorpayPaymentId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ix_payments_razorpay_order_id", Payments::Table, Payments::RazorpayOrderId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(GroqUsage::Table)
                    .col(ColumnDef::new(GroqUsage::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(GroqUsage::InputTokens).integer().default(0))
                    .col(ColumnDef::new(GroqUsage::OutputTokens).integer().default(0))
                    .col(ColumnDef::new(GroqUsage::TotalTokens).integer().default(0))
                    // A string, as the service stores it.
                    .col(ColumnDef::new(GroqUsage::CostUsd).string().default("0.0"))
                    .col(ColumnDef::new(GroqUsage::Model).string().default("llama-3.1-70b-versatile"))
                    .col(ColumnDef::new(GroqUsage::RequestType).string())
                    .col(ColumnDef::new(GroqUsage::CreatedAt).timestamp().default(Expr::current_timestamp()))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("ix_groq_usage_created_at", GroqUsage::Table, GroqUsage::CreatedAt))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_groq_usage_created_at", GroqUsage::Table.into_iden()),
            ("ix_payments_razorpay_order_id", Payments::Table.into_iden()),
            ("ix_payments_razorpay_payment_id", Payments::Table.into_iden()),
            ("ix_users_razorpay_subscription_id", Users::Table.into_iden()),
            ("ix_users_razorpay_customer_id", Users::Table.into_iden()),
            ("ix_users_google_id", Users::Table.into_iden()),
            ("ix_users_email", Users::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        for table in [
            GroqUsage::Table.into_iden(),
            Payments::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
