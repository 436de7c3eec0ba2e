//! Iterations of a job's model, alternative layout variations, and user
//! referrals (Alembic revision 004).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Iterations {
    Table,
    Id,
    JobId,
    UserId,
    ParentIterationId,
    IfcUrl,
    IfcFilename,
    ChangesJson,
    ChangeSummary,
    Name,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LayoutVariations {
    Table,
    Id,
    JobId,
    UserId,
    VariationNumber,
    PlanData,
    Confidence,
    IfcUrl,
    PreviewImageUrl,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Referrals {
    Table,
    Id,
    ReferrerId,
    ReferredId,
    ReferralCode,
    Status,
    CreditsAwarded,
    CreatedAt,
    CompletedAt,
    RewardedAt,
}

fn index(name: &str, table: impl IntoIden, column: impl IntoIden) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(column)
        .to_owned()
}

fn fkey(name: &str, from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Iterations::Table)
                    .col(ColumnDef::new(Iterations::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Iterations::JobId).string().not_null())
                    .col(ColumnDef::new(Iterations::UserId).integer().not_null())
                    .col(ColumnDef::new(Iterations::ParentIterationId).string())
                    .col(ColumnDef::new(Iterations::IfcUrl).string())
                    .col(ColumnDef::new(Iterations::IfcFilename).string())
                    .col(ColumnDef::new(Iterations::ChangesJson).json())
                    .col(ColumnDef::new(Iterations::ChangeSummary).text())
                    .col(ColumnDef::new(Iterations::Name).string())
                    .col(ColumnDef::new(Iterations::Notes).text())
                    .col(ColumnDef::new(Iterations::CreatedAt).timestamp())
                    .foreign_key(&mut fkey(
                        "iterations_job_id_fkey",
                        (Iterations::Table, Iterations::JobId),
                        (Jobs::Table, Jobs::Id),
                    ))
                    .foreign_key(&mut fkey(
                        "iterations_parent_iteration_id_fkey",
                        (Iterations::Table, Iterations::ParentIterationId),
                        (Iterations::Table, Iterations::Id),
                    ))
                    .foreign_key(&mut fkey(
                        "iterations_user_id_fkey",
                        (Iterations::Table, Iterations::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("ix_iterations_id", Iterations::Table, Iterations::Id)).await?;
        manager.create_index(index("ix_iterations_job_id", Iterations::Table, Iterations::JobId)).await?;

        manager
            .create_table(
                Table::create()
                    .table(LayoutVariations::Table)
                    .col(ColumnDef::new(LayoutVariations::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(LayoutVariations::JobId).string().not_null())
                    .col(ColumnDef::new(LayoutVariations::UserId).integer().not_null())
                    .col(ColumnDef::new(LayoutVariations::VariationNumber).integer())
                    .col(ColumnDef::new(LayoutVariations::PlanData).json())
                    .col(ColumnDef::new(LayoutVariations::Confidence).double())
                    .col(ColumnDef::new(LayoutVariations::IfcUrl).string())
                    .col(ColumnDef::new(LayoutVariations::PreviewImageUrl).string())
                    .col(ColumnDef::new(LayoutVariations::CreatedAt).timestamp())
                    .foreign_key(&mut fkey(
                        "layout_variations_job_id_fkey",
                        (LayoutVariations::Table, LayoutVariations::JobId),
                        (Jobs::Table, Jobs::Id),
                    ))
                    .foreign_key(&mut fkey(
                        "layout_variations_user_id_fkey",
                        (LayoutVariations::Table, LayoutVariations::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("ix_layout_variations_id", LayoutVariations::Table, LayoutVariations::Id))
            .await?;
        manager
            .create_index(index(
                "ix_layout_variations_job_id",
                LayoutVariations::Table,
                LayoutVariations::JobId,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Referrals::Table)
                    .col(ColumnDef::new(Referrals::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Referrals::ReferrerId).integer().not_null())
                    .col(ColumnDef::new(Referrals::ReferredId).integer())
                    .col(ColumnDef::new(Referrals::ReferralCode).string().not_null())
                    .col(ColumnDef::new(Referrals::Status).string())
                    .col(ColumnDef::new(Referrals::CreditsAwarded).integer())
                    .col(ColumnDef::new(Referrals::CreatedAt).timestamp())
                    .col(ColumnDef::new(Referrals::CompletedAt).timestamp())
                    .col(ColumnDef::new(Referrals::RewardedAt).timestamp())
                    .foreign_key(&mut fkey(
                        "referrals_referrer_id_fkey",
                        (Referrals::Table, Referrals::ReferrerId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fkey(
                        "referrals_referred_id_fkey",
                        (Referrals::Table, Referrals::ReferredId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("ix_referrals_id", Referrals::Table, Referrals::Id)).await?;
        manager
            .create_index(index("ix_referrals_referral_code", Referrals::Table, Referrals::ReferralCode).unique().to_owned())
            .await?;
        manager
            .create_index(index("ix_referrals_referrer_id", Referrals::Table, Referrals::ReferrerId))
            .await?;
        manager
            .create_index(index("ix_referrals_referred_id", Referrals::Table, Referrals::ReferredId))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping a table drops its indexes and constraints with it.
        for table in [
            Referrals::Table.into_iden(),
            LayoutVariations::Table.into_iden(),
            Iterations::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
