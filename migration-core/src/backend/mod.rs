//! What differs between PostgreSQL and SQLite when migrating, in one place,
//! one implementation per database (as sqlx's `Migrate` trait is): how a
//! step's transaction opens and what it sets, whether a migration is sent as
//! one batch, whether a step checks again under the write lock that it is
//! still due, whether a run holds a lock of its own, and how every table is
//! listed and dropped. The runner, the steps and dry runs ask [`of`] instead
//! of matching on the backend.

pub(crate) mod adoption;
pub(crate) mod catalog;
pub(crate) mod migrate;
pub(crate) mod postgres;
pub(crate) mod rows;
pub(crate) mod rt;
pub(crate) mod sqlite;
pub(crate) mod transport;

use sea_orm::DbBackend;

use crate::Error;
pub(crate) use migrate::Migrate;

/// How `backend` migrates. Every operation starts by reading what is
/// recorded, which refuses a backend the migrator does not support
/// ([`supported`]); past that, only PostgreSQL and SQLite reach here.
pub(crate) fn of(backend: DbBackend) -> &'static dyn Migrate {
    match backend {
        DbBackend::Sqlite => &sqlite::Sqlite,
        _ => &postgres::Postgres,
    }
}

/// [`of`] `backend`, or the error saying the migrator does not support it.
pub(crate) fn supported(backend: DbBackend) -> Result<&'static dyn Migrate, Error> {
    match backend {
        DbBackend::Postgres | DbBackend::Sqlite => Ok(of(backend)),
        DbBackend::MySql => Err(Error::UnsupportedBackend {
            backend: "MySQL".to_owned(),
        }),
        other => Err(Error::UnsupportedBackend {
            backend: format!("{other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_backend_without_a_folder_is_refused_saying_so() {
        let refused = supported(DbBackend::MySql).err().map(|e| e.to_string());
        assert_eq!(
            refused.as_deref(),
            Some("the migrator supports PostgreSQL and SQLite databases, not MySQL")
        );
        assert!(supported(DbBackend::Postgres).is_ok() && supported(DbBackend::Sqlite).is_ok());
    }

    #[test]
    fn postgres_steps_set_their_lock_wait_and_name_and_flush_only_last() {
        let pg = of(DbBackend::Postgres);
        assert_eq!(
            pg.prologue("tenant", "m003_x", Some(Duration::from_millis(1500)), true),
            vec![
                "SET LOCAL search_path TO \"tenant\"".to_owned(),
                "SET LOCAL lock_timeout = '1500ms'".to_owned(),
                "SET LOCAL application_name = 'migrating m003_x'".to_owned(),
            ]
        );
        assert_eq!(
            pg.prologue("public", "m003_x", None, false)
                .last()
                .map(String::as_str),
            Some("SET LOCAL synchronous_commit = off")
        );
        assert!(pg.batches() && pg.locks_runs() && !pg.rechecks_step());
        assert!(pg.runs_outside_transactions());
    }

    #[test]
    fn sqlite_steps_set_nothing_and_check_again_under_the_write_lock() {
        let sqlite = of(DbBackend::Sqlite);
        assert!(sqlite.prologue("public", "m003_x", None, false).is_empty());
        assert_eq!(sqlite.begin_sql(), "BEGIN IMMEDIATE");
        assert!(!sqlite.batches() && !sqlite.locks_runs() && sqlite.rechecks_step());
        assert!(!sqlite.runs_outside_transactions());
    }

    #[test]
    fn dropping_every_table() {
        let tables = ["jobs".to_owned(), "we\"ird".to_owned()];
        assert_eq!(
            of(DbBackend::Postgres).drop_tables("public", &tables),
            vec![
                r#"DROP TABLE IF EXISTS "public"."jobs" CASCADE"#.to_owned(),
                r#"DROP TABLE IF EXISTS "public"."we""ird" CASCADE"#.to_owned(),
            ]
        );
        assert_eq!(
            of(DbBackend::Sqlite).drop_tables("public", &tables),
            vec![
                "PRAGMA defer_foreign_keys = ON".to_owned(),
                r#"DROP TABLE IF EXISTS "jobs""#.to_owned(),
                r#"DROP TABLE IF EXISTS "we""ird""#.to_owned(),
            ]
        );
    }
}
