//! Placeholder: the Alembic reference steps are being written.

pub fn steps(_database: &str) -> &'static [(&'static str, &'static str)] {
    &[]
}
