//! The Sketch2BIM database at the migrator's head.

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

crate::database! {
    /// The Sketch2BIM tables and indexes these entities describe, each table
    /// after those it references.
    users,
    organizations,
    jobs,
    payments,
    project_versions,
    organization_members,
    iterations,
    layout_variations,
    referrals,
}
