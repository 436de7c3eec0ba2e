//! Identifiers and string literals in SQL text.

/// `s` as an SQL string literal: `'it''s'`.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `ident` in double quotes, inner quotes doubled, always (PostgreSQL and
/// SQLite alike); see [`crate::pure::catalog::quote_if_needed`] for names
/// quoted only where needed, as `pg_dump` writes them.
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}
