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

use sea_orm::sea_query::{IndexCreateStatement, TableCreateStatement};
use sea_orm::{DbBackend, EntityTrait, Schema};

/// The tables (in dependency order) and indexes the entities of one database
/// describe, as `CREATE` statements for `backend`. `migrate check` compares
/// them with a database; `generate --autogenerate` writes the migration
/// between the two.
pub type Statements = (Vec<TableCreateStatement>, Vec<IndexCreateStatement>);

pub(crate) fn statements_of(backend: DbBackend, add: impl FnOnce(&mut Collector)) -> Statements {
    let mut collector = Collector {
        schema: Schema::new(backend),
        out: (Vec::new(), Vec::new()),
    };
    add(&mut collector);
    collector.out
}

pub(crate) struct Collector {
    schema: Schema,
    out: Statements,
}

impl Collector {
    pub(crate) fn add<E: EntityTrait + Default>(&mut self) -> &mut Self {
        self.out
            .0
            .push(self.schema.create_table_from_entity(E::default()));
        self.out
            .1
            .extend(self.schema.create_index_from_entity(E::default()));
        self
    }
}
