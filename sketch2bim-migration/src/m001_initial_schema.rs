//! The Sketch2BIM schema as the service first shipped it (Alembic revision 001):
//! users, jobs, api_keys, payments, project_versions, organizations and their
//! members.

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
    CreatedAt,
    UpdatedAt,
    LastLogin,
    IsActive,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    UserId,
    Status,
    Progress,
    SketchFilename,
    SketchUrl,
    SketchFormat,
    ReaderType,
    DetectionConfidence,
    PlanData,
    IfcUrl,
    DwgUrl,
    RvtUrl,
    #[sea_orm(iden = "model_3dm_url")]
    Model3dmUrl,
    PreviewImageUrl,
    ErrorMessage,
    RetryCount,
    QcReportPath,
    RequiresReview,
    CostUsd,
    CreatedAt,
    StartedAt,
    CompletedAt,
    ExpiresAt,
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
    CreatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum ProjectVersions {
    Table,
    Id,
    ProjectName,
    UserId,
    VersionNumber,
    JobId,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Slug,
    RazorpayCustomerId,
    SubscriptionTier,
    SharedCredits,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrganizationMembers {
    Table,
    Id,
    OrganizationId,
    UserId,
    Role,
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
                    .col(ColumnDef::new(Users::Credits).integer().default(5))
                    .col(ColumnDef::new(Users::SubscriptionTier).string().default("trial"))
                    .col(ColumnDef::new(Users::SubscriptionStatus).string().default("inactive"))
                    .col(ColumnDef::new(Users::RazorpayCustomerId).string())
                    .col(ColumnDef::new(Users::CreatedAt).timestamp())
                    .col(ColumnDef::new(Users::UpdatedAt).timestamp())
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
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(ColumnDef::new(Jobs::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Jobs::UserId).integer().not_null())
                    .col(ColumnDef::new(Jobs::Status).string().default("queued"))
                    .col(ColumnDef::new(Jobs::Progress).integer().default(0))
                    .col(ColumnDef::new(Jobs::SketchFilename).string())
                    .col(ColumnDef::new(Jobs::SketchUrl).string())
                    .col(ColumnDef::new(Jobs::SketchFormat).string())
                    .col(ColumnDef::new(Jobs::ReaderType).string())
                    .col(ColumnDef::new(Jobs::DetectionConfidence).double())
                    .col(ColumnDef::new(Jobs::PlanData).json())
                    .col(ColumnDef::new(Jobs::IfcUrl).string())
                    .col(ColumnDef::new(Jobs::DwgUrl).string())
                    .col(ColumnDef::new(Jobs::RvtUrl).string())
                    .col(ColumnDef::new(Jobs::Model3dmUrl).string())
                    .col(ColumnDef::new(Jobs::PreviewImageUrl).string())
                    .col(ColumnDef::new(Jobs::ErrorMessage).text())
                    .col(ColumnDef::new(Jobs::RetryCount).integer().default(0))
                    .col(ColumnDef::new(Jobs::QcReportPath).string())
                    .col(ColumnDef::new(Jobs::RequiresReview).boolean().default(false))
                    // The string '0.0', as the Alembic migrator declared it:
                    // PostgreSQL keeps it as '0'::double precision.
                    .col(ColumnDef::new(Jobs::CostUsd).double().default("0.0"))
                    .col(ColumnDef::new(Jobs::CreatedAt).timestamp())
                    .col(ColumnDef::new(Jobs::StartedAt).timestamp())
                    .col(ColumnDef::new(Jobs::CompletedAt).timestamp())
                    .col(ColumnDef::new(Jobs::ExpiresAt).timestamp())
                    .foreign_key(
                        ForeignKey::create()
                            .name("jobs_user_id_fkey")
                            .from(Jobs::Table, Jobs::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Redundant with the primary key; kept because Alembic created it.
        manager.create_index(index("ix_jobs_id", Jobs::Table, Jobs::Id)).await?;

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
        manager.create_index(index("ix_api_keys_key", ApiKeys::Table, ApiKeys::Key).unique().to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(ColumnDef::new(Payments::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Payments::UserId).integer().not_null())
                    .col(ColumnDef::new(Payments::RazorpayPaymentId).string())
                    .col(ColumnDef::new(Payments::RazorpayOrderId).string())
                    .col(ColumnDef::new(Payments::Amount).integer())
                    .col(ColumnDef::new(Payments::Currency).string().default("usd"))
                    .col(ColumnDef::new(Payments::Status).string())
                    .col(ColumnDef::new(Payments::ProductType).string())
                    .col(ColumnDef::new(Payments::CreditsAdded).integer().default(0))
                    .col(ColumnDef::new(Payments::CreatedAt).timestamp())
                    .col(ColumnDef::new(Payments::CompletedAt).timestamp())
                    .foreign_key(
                        ForeignKey::create()
                            .name("payments_user_id_fkey")
                            .from(Payments::Table, Payments::UserId)
                            .to(Users::Table, Users::Id),
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
                    .table(ProjectVersions::Table)
                    .col(ColumnDef::new(ProjectVersions::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(ProjectVersions::ProjectName).string())
                    .col(ColumnDef::new(ProjectVersions::UserId).integer().not_null())
                    .col(ColumnDef::new(ProjectVersions::VersionNumber).integer())
                    .col(ColumnDef::new(ProjectVersions::JobId).string())
                    .col(ColumnDef::new(ProjectVersions::Notes).text())
                    .col(ColumnDef::new(ProjectVersions::CreatedAt).timestamp())
                    .foreign_key(
                        ForeignKey::create()
                            .name("project_versions_user_id_fkey")
                            .from(ProjectVersions::Table, ProjectVersions::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("project_versions_job_id_fkey")
                            .from(ProjectVersions::Table, ProjectVersions::JobId)
                            .to(Jobs::Table, Jobs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_project_versions_project_name",
                ProjectVersions::Table,
                ProjectVersions::ProjectName,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(ColumnDef::new(Organizations::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Organizations::Name).string().not_null())
                    .col(ColumnDef::new(Organizations::Slug).string())
                    .col(ColumnDef::new(Organizations::RazorpayCustomerId).string())
                    .col(ColumnDef::new(Organizations::SubscriptionTier).string().default("trial"))
                    .col(ColumnDef::new(Organizations::SharedCredits).integer().default(0))
                    .col(ColumnDef::new(Organizations::CreatedAt).timestamp())
                    .col(ColumnDef::new(Organizations::UpdatedAt).timestamp())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("ix_organizations_slug", Organizations::Table, Organizations::Slug).unique().to_owned())
            .await?;
        manager
            .create_index(
                index(
                    "ix_organizations_razorpay_customer_id",
                    Organizations::Table,
                    Organizations::RazorpayCustomerId,
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrganizationMembers::Table)
                    .col(
                        ColumnDef::new(OrganizationMembers::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OrganizationMembers::OrganizationId).integer().not_null())
                    .col(ColumnDef::new(OrganizationMembers::UserId).integer().not_null())
                    .col(ColumnDef::new(OrganizationMembers::Role).string().default("member"))
                    .col(ColumnDef::new(OrganizationMembers::CreatedAt).timestamp())
                    .foreign_key(
                        ForeignKey::create()
                            .name("organization_members_organization_id_fkey")
                            .from(OrganizationMembers::Table, OrganizationMembers::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("organization_members_user_id_fkey")
                            .from(OrganizationMembers::Table, OrganizationMembers::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    // A UNIQUE constraint (not a unique index), as Alembic made it.
                    .index(
                        Index::create()
                            .name("uq_org_user")
                            .unique()
                            .col(OrganizationMembers::OrganizationId)
                            .col(OrganizationMembers::UserId),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping a table drops its indexes and constraints with it.
        for table in [
            OrganizationMembers::Table.into_iden(),
            Organizations::Table.into_iden(),
            ProjectVersions::Table.into_iden(),
            Payments::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Jobs::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
