//! PostgreSQL: the migration lock, lock waits, catalog reads and adoption's
//! default evaluation.

pub(crate) mod catalog;
pub(crate) mod default_expr;
#[cfg(feature = "tooling")]
pub(crate) mod expected;
pub(crate) mod lock;
pub(crate) mod lock_wait;
