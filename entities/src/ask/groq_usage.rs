//! `groq_usage`: one row per Groq API call, with its token counts and cost.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "groq_usage")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub input_tokens: Option<i32>,
    pub output_tokens: Option<i32>,
    pub total_tokens: Option<i32>,
    /// Stored as a string, as the service has always written it.
    pub cost_usd: Option<String>,
    pub model: Option<String>,
    pub request_type: Option<String>,
    #[sea_orm(indexed)]
    pub created_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
