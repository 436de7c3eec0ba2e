//! The Sketch2BIM database at head (`m010_remove_reader_type_column`).

pub mod iterations;
pub mod jobs;
pub mod layout_variations;
pub mod organization_members;
pub mod organizations;
pub mod payments;
pub mod project_versions;
pub mod referrals;
pub mod users;

pub mod prelude {
    pub use super::iterations::Entity as Iterations;
    pub use super::jobs::Entity as Jobs;
    pub use super::layout_variations::Entity as LayoutVariations;
    pub use super::organization_members::Entity as OrganizationMembers;
    pub use super::organizations::Entity as Organizations;
    pub use super::payments::Entity as Payments;
    pub use super::project_versions::Entity as ProjectVersions;
    pub use super::referrals::Entity as Referrals;
    pub use super::users::Entity as Users;
}

/// The Sketch2BIM tables and indexes these entities describe, each table
/// after those it references.
pub fn statements(backend: sea_orm::DbBackend) -> crate::Statements {
    crate::statements_of(backend, |c| {
        c.add::<users::Entity>()
            .add::<organizations::Entity>()
            .add::<jobs::Entity>()
            .add::<payments::Entity>()
            .add::<project_versions::Entity>()
            .add::<organization_members::Entity>()
            .add::<iterations::Entity>()
            .add::<layout_variations::Entity>()
            .add::<referrals::Entity>();
    })
}
