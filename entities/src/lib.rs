//! SeaORM entities of the ASK and Sketch2BIM head schemas, shared by the
//! migrators' tests and the platform's services.
//!
//! Rust types follow the PostgreSQL columns exactly: `i32` for integer,
//! `String` for `character varying` and `text`, `f64` for double precision,
//! [`Json`](sea_orm::prelude::Json) for json, `NaiveDateTime` for timestamp,
//! `Option` wherever the column is nullable. Migrations never import this
//! crate: a schema change is a new migration first, then an edit here, and
//! `migrate check` compares the two.

pub mod ask;
pub mod sketch2bim;
