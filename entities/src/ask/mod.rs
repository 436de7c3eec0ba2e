//! The ASK database at the migrator's head.

pub mod prelude {
    pub use super::groq_usage::Entity as GroqUsage;
    pub use super::payments::Entity as Payments;
    pub use super::users::Entity as Users;
}

crate::database! {
    /// The ASK tables and indexes these entities describe.
    users,
    payments,
    groq_usage,
}
