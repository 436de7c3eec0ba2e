//! `iterations`: an edited revision of a job's model, possibly derived from
//! an earlier iteration.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "iterations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, indexed)]
    pub id: String,
    #[sea_orm(indexed)]
    pub job_id: String,
    pub user_id: i32,
    pub parent_iteration_id: Option<String>,
    pub ifc_url: Option<String>,
    pub ifc_filename: Option<String>,
    #[sea_orm(column_type = "Json", nullable)]
    pub changes_json: Option<Json>,
    #[sea_orm(column_type = "Text", nullable)]
    pub change_summary: Option<String>,
    pub name: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
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
        belongs_to = "Entity",
        from = "Column::ParentIterationId",
        to = "Column::Id"
    )]
    ParentIteration,
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

/// The iteration this one was derived from.
#[derive(Debug)]
pub struct Parent;

impl Linked for Parent {
    type FromEntity = Entity;
    type ToEntity = Entity;
    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::ParentIteration.def()]
    }
}

/// The iterations derived from this one.
#[derive(Debug)]
pub struct Children;

impl Linked for Children {
    type FromEntity = Entity;
    type ToEntity = Entity;
    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::ParentIteration.def().rev()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
