//! What the migrator decides without a database: the history and its
//! checks, plans, checksums, the bookkeeping table's statements, what a
//! migration sends, and the catalog's typed form.

pub(crate) mod bookkeeping;
pub(crate) mod capture;
pub mod catalog;
pub mod checksum;
pub(crate) mod dialect;
pub(crate) mod history;
pub(crate) mod layout;
pub(crate) mod plan;
pub(crate) mod quote;
pub(crate) mod state;
pub(crate) mod step;
