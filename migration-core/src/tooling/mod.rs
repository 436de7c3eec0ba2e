//! Behind the `tooling` feature: dry runs, `check` against the entities,
//! schema dumps, `lint` and the migration generator, as library functions
//! returning data.

pub(crate) mod autogen;
pub mod check;
pub mod dry_run;
pub(crate) mod generate;
pub mod lint;
pub mod schema;
