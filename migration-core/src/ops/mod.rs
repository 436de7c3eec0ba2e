//! The operations: each run under the migration lock, one transaction per
//! migration.

pub(crate) mod adopt;
pub(crate) mod checks;
pub(crate) mod edited;
pub(crate) mod outside;
pub(crate) mod read;
pub(crate) mod record;
pub(crate) mod run;
pub(crate) mod runner;
pub(crate) mod step;
pub(crate) mod verify;
