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
