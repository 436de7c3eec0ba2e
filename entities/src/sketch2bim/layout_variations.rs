//! `layout_variations`: alternative layouts generated for a job.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "layout_variations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, indexed)]
    pub id: String,
    #[sea_orm(indexed)]
    pub job_id: String,
    pub user_id: i32,
    pub variation_number: Option<i32>,
    #[sea_orm(column_type = "Json", nullable)]
    pub plan_data: Option<Json>,
    pub confidence: Option<f64>,
    pub ifc_url: Option<String>,
    pub preview_image_url: Option<String>,
    pub created_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::jobs::Entity",
        from = "Column::JobId",
        to = "super::jobs::Column::Id"
    )]
    Job,
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id"
    )]
    User,
}

impl Related<super::jobs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Job.def()
    }
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
