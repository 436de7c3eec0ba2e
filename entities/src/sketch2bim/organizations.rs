//! `organizations`: teams sharing a credit pool.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    #[sea_orm(unique, indexed)]
    pub slug: Option<String>,
    #[sea_orm(unique, indexed)]
    pub razorpay_customer_id: Option<String>,
    pub subscription_tier: Option<String>,
    pub shared_credits: Option<i32>,
    pub created_at: Option<DateTime>,
    pub updated_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::organization_members::Entity")]
    Members,
}

impl Related<super::organization_members::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Members.def()
    }
}

/// An organization's users, through their memberships.
impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        super::organization_members::Relation::User.def()
    }
    fn via() -> Option<RelationDef> {
        Some(
            super::organization_members::Relation::Organization
                .def()
                .rev(),
        )
    }
}

impl ActiveModelBehavior for ActiveModel {}
