//! SQLite: catalog reads.

pub(crate) mod catalog;
