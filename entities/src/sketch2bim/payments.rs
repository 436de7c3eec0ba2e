//! `payments`: Razorpay payments that bought credits.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    #[sea_orm(unique, indexed)]
    pub razorpay_payment_id: Option<String>,
    #[sea_orm(unique, indexed)]
    pub razorpay_order_id: Option<String>,
    pub amount: Option<i32>,
    pub currency: Option<String>,
    pub status: Option<String>,
    pub product_type: Option<String>,
    pub credits_added: Option<i32>,
    pub created_at: Option<DateTime>,
    pub completed_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id"
    )]
    User,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
