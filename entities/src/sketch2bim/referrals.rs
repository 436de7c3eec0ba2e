//! `referrals`: a referral code handed out by one user and redeemed by another.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key, indexed)]
    pub id: i32,
    #[sea_orm(indexed)]
    pub referrer_id: i32,
    #[sea_orm(indexed)]
    pub referred_id: Option<i32>,
    #[sea_orm(unique, indexed)]
    pub referral_code: String,
    pub status: Option<String>,
    pub credits_awarded: Option<i32>,
    pub created_at: Option<DateTime>,
    pub completed_at: Option<DateTime>,
    pub rewarded_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::ReferrerId",
        to = "super::users::Column::Id"
    )]
    Referrer,
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::ReferredId",
        to = "super::users::Column::Id"
    )]
    Referred,
}

/// The user who handed out the code.
#[derive(Debug)]
pub struct Referrer;

impl Linked for Referrer {
    type FromEntity = Entity;
    type ToEntity = super::users::Entity;
    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::Referrer.def()]
    }
}

/// The user who redeemed it, once someone has.
#[derive(Debug)]
pub struct Referred;

impl Linked for Referred {
    type FromEntity = Entity;
    type ToEntity = super::users::Entity;
    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::Referred.def()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
