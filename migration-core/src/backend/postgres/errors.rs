//! PostgreSQL's errors, by SQLSTATE.

use sea_orm::DbErr;

/// The SQLSTATE of a driver error, if the server sent one.
pub(crate) fn sqlstate(e: &DbErr) -> Option<String> {
    use sea_orm::RuntimeErr;
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => s
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}
