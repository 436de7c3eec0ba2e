//! `users`: ASK's accounts and their subscriptions.

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
    pub subscription_expires_at: Option<DateTime>,
    #[sea_orm(indexed)]
    pub razorpay_subscription_id: Option<String>,
    pub subscription_auto_renew: Option<bool>,
    pub created_at: Option<DateTime>,
    pub updated_at: Option<DateTime>,
    pub last_login: Option<DateTime>,
    pub is_active: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::payments::Entity")]
    Payments,
}

impl Related<super::payments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Payments.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
