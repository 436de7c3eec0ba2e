//! The ASK database at head (`m001_initial_schema`).

pub mod groq_usage;
pub mod payments;
pub mod users;

pub mod prelude {
    pub use super::groq_usage::Entity as GroqUsage;
    pub use super::payments::Entity as Payments;
    pub use super::users::Entity as Users;
}
