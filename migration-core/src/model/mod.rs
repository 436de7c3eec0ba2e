//! Plain data and errors: what every other layer speaks in.

pub(crate) mod database;
pub(crate) mod error;
pub(crate) mod escape;
pub(crate) mod recorded;
pub(crate) mod redact;
pub(crate) mod run;
pub(crate) mod stop;
pub(crate) mod text;
