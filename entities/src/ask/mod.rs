//! The ASK database at head (`m001_initial_schema`).

pub mod groq_usage;
pub mod payments;
pub mod users;

pub mod prelude {
    pub use super::groq_usage::Entity as GroqUsage;
    pub use super::payments::Entity as Payments;
    pub use super::users::Entity as Users;
}

/// The ASK tables and indexes these entities describe.
pub fn statements(backend: sea_orm::DbBackend) -> crate::Statements {
    crate::statements_of(backend, |c| {
        c.add::<users::Entity>()
            .add::<payments::Entity>()
            .add::<groq_usage::Entity>();
    })
}
