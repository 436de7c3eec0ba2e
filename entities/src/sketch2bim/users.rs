//! `users`: Sketch2BIM's accounts, credits and subscriptions.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique, indexed)]
    pub email: String,
    pub name: Option<String>,
    #[sea_orm(unique, indexed)]
    pub google_id: Option<String>,
    pub credits: Option<i32>,
    pub subscription_tier: Option<String>,
    pub subscription_status: Option<String>,
    #[sea_orm(unique, indexed)]
    pub razorpay_customer_id: Option<String>,
    pub created_at: Option<DateTime>,
    pub updated_at: Option<DateTime>,
    pub last_login: Option<DateTime>,
    pub is_active: Option<bool>,
    pub subscription_expires_at: Option<DateTime>,
    #[sea_orm(indexed)]
    pub razorpay_subscription_id: Option<String>,
    pub subscription_auto_renew: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::jobs::Entity")]
    Jobs,
    #[sea_orm(has_many = "super::payments::Entity")]
    Payments,
    #[sea_orm(has_many = "super::iterations::Entity")]
    Iterations,
    #[sea_orm(has_many = "super::layout_variations::Entity")]
    LayoutVariations,
    #[sea_orm(has_many = "super::project_versions::Entity")]
    ProjectVersions,
    #[sea_orm(has_many = "super::organization_members::Entity")]
    Memberships,
}

impl Related<super::jobs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Jobs.def()
    }
}

impl Related<super::payments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Payments.def()
    }
}

impl Related<super::iterations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Iterations.def()
    }
}

impl Related<super::layout_variations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LayoutVariations.def()
    }
}

impl Related<super::project_versions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ProjectVersions.def()
    }
}

impl Related<super::organization_members::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Memberships.def()
    }
}

/// A user's organizations, through their memberships.
impl Related<super::organizations::Entity> for Entity {
    fn to() -> RelationDef {
        super::organization_members::Relation::Organization.def()
    }
    fn via() -> Option<RelationDef> {
        Some(super::organization_members::Relation::User.def().rev())
    }
}

/// The referrals a user made (as referrer).
#[derive(Debug)]
pub struct ReferralsMade;

impl Linked for ReferralsMade {
    type FromEntity = Entity;
    type ToEntity = super::referrals::Entity;
    fn link(&self) -> Vec<RelationDef> {
        vec![super::referrals::Relation::Referrer.def().rev()]
    }
}

/// The referral that brought a user in (as referred).
#[derive(Debug)]
pub struct ReferredBy;

impl Linked for ReferredBy {
    type FromEntity = Entity;
    type ToEntity = super::referrals::Entity;
    fn link(&self) -> Vec<RelationDef> {
        vec![super::referrals::Relation::Referred.def().rev()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
