//! SeaORM entities of the ASK and Sketch2BIM head schemas, shared by the
//! migrators' tests and the platform's services.
//!
//! Rust types follow the PostgreSQL columns exactly: `i32` for integer,
//! `String` for `character varying` and `text`, `f64` for double precision,
//! [`Json`](sea_orm::prelude::Json) for json, `NaiveDateTime` for timestamp,
//! `Option` wherever the column is nullable.
//!
//! A schema change starts here: edit the entity, then
//! `generate NAME --autogenerate` (run against a database at head) writes the
//! migration between the database and the entities, which you review; `check`
//! compares the two afterwards (see `docs/adding-a-migration.md`). Migrations
//! never import this crate: each is frozen history with its own identifiers.

pub mod ask;
pub mod sketch2bim;

use sea_orm::sea_query::{IndexCreateStatement, TableCreateStatement};
use sea_orm::{DbBackend, EntityTrait, Schema};

/// Declares a database's entity modules once, and from that one list its
/// [`Statements`] (`statements`) and `tables_without_rows`, which reads one
/// row of every table through its entity. List each table after those it
/// references.
macro_rules! database {
    ($(#[$doc:meta])* $($module:ident),* $(,)?) => {
        $(pub mod $module;)*

        $(#[$doc])*
        pub fn statements(backend: sea_orm::DbBackend) -> crate::Statements {
            crate::statements_of(backend, |c| {
                $(c.add::<$module::Entity>();)*
            })
        }

        /// Reads one row of every table through its entity and returns the
        /// tables that have none. A column the entity and the database
        /// disagree on is an error here: the row does not decode.
        pub async fn tables_without_rows<C: sea_orm::ConnectionTrait>(
            db: &C,
        ) -> Result<Vec<&'static str>, sea_orm::DbErr> {
            use sea_orm::{EntityName, EntityTrait};
            let mut empty = Vec::new();
            $(
                if $module::Entity::find().one(db).await?.is_none() {
                    empty.push($module::Entity.table_name());
                }
            )*
            Ok(empty)
        }
    };
}
pub(crate) use database;

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
