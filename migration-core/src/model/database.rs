//! The databases the migrators migrate, and what a migrator says about
//! itself.

/// How one of the platform's databases is named and found.
#[derive(Debug, Clone, Copy)]
pub struct Database {
    /// Short lowercase name, used in messages: `sketch2bim`.
    pub name: &'static str,
    /// Name for people: `Sketch2BIM`.
    pub title: &'static str,
    /// The environment variable naming this database's URL: `SKETCH2BIM_DATABASE_URL`.
    pub url_env: &'static str,
    /// SQLite file used, in the working directory, when no URL is configured.
    pub default_sqlite_file: &'static str,
    /// The migrator crate's directory, where `generate` writes new migrations.
    pub crate_dir: &'static str,
    /// How many revisions the Alembic migrator this history replaces had:
    /// migrations 1..=N are its revisions '001'… (0 for a history that
    /// replaces none). A database stamped with a later revision is refused
    /// however many migrations came after.
    pub alembic_revisions: usize,
}

/// A migrator that knows its database and can say what each of its
/// migrations does. Declared with [`migrator!`].
pub trait Described: sea_orm_migration::MigratorTrait {
    /// The database this history migrates.
    const DATABASE: Database;

    /// `(name, leading doc paragraph)` per migration, oldest first.
    fn summaries() -> Vec<(&'static str, &'static str)>;

    /// `(name, source file)` per migration, oldest first (`lint` reads the
    /// allowances written there).
    fn sources() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}
