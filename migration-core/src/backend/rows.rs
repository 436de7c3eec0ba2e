//! Reading the text columns of catalog rows.

use sea_orm::{DbErr, QueryResult};

use crate::backend::transport::Reader;

pub(crate) fn text(row: &QueryResult, col: &str) -> Result<String, DbErr> {
    row.try_get::<String>("", col)
}

pub(crate) fn opt_text(row: &QueryResult, col: &str) -> Result<Option<String>, DbErr> {
    row.try_get::<Option<String>>("", col)
}

pub(crate) async fn rows<C: Reader + ?Sized>(db: &C, sql: &str) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all(sql.to_owned()).await
}
