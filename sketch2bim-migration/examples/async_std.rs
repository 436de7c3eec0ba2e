//! The migrator embedded in an async-std application: `Migrator::up`,
//! `Migrator::down` and `migrate_on_startup` on each database URL given,
//! with no tokio runtime running. CI runs it against PostgreSQL and SQLite:
//!
//! ```sh
//! cargo run -p sketch2bim-migration --features runtime-async-std --example async_std -- \
//!     postgres://postgres@127.0.0.1:5432/scratch 'sqlite:///tmp/scratch.sqlite?mode=rwc'
//! ```
//!
//! It expects fresh databases and exits 1 with one line if anything is not
//! as it should be.

use sea_orm_migration::MigratorTrait;
use sketch2bim_migration::Migrator;

#[async_std::main]
async fn main() -> std::process::ExitCode {
    let urls: Vec<String> = std::env::args().skip(1).collect();
    if urls.is_empty() {
        eprintln!("usage: async_std DATABASE_URL…");
        return std::process::ExitCode::from(2);
    }
    for url in &urls {
        let backend = url.split(':').next().unwrap_or_default();
        match run(url).await {
            Ok(line) => println!("async-std, {backend}: {line}"),
            Err(e) => {
                eprintln!("error: async-std, {backend}: {e}");
                return std::process::ExitCode::from(1);
            }
        }
    }
    std::process::ExitCode::SUCCESS
}

async fn run(url: &str) -> Result<String, Box<dyn std::error::Error>> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err("a tokio runtime is running: this is meant to run on async-std only".into());
    }
    let db = sea_orm::Database::connect(url).await?;
    let head = sketch2bim_migration::head();

    Migrator::up(&db, None).await?;
    let current = sketch2bim_migration::current(&db).await?;
    if current.as_deref() != Some(head) {
        return Err(format!("Migrator::up left the database at {current:?}, not {head}").into());
    }
    Migrator::down(&db, Some(1)).await?;
    let pending = sketch2bim_migration::pending(&db).await?;
    if pending != [head] {
        return Err(format!("Migrator::down(1) left {pending:?} pending").into());
    }
    let report = sketch2bim_migration::migrate_on_startup(&db).await?;
    if report.applied != [head] || report.current.as_deref() != Some(head) {
        return Err(format!("migrate_on_startup did not apply {head}: {report}").into());
    }
    db.close().await?;
    Ok(format!(
        "Migrator::up applied every migration, Migrator::down(1) rolled back {head}, \
         migrate_on_startup re-applied it ({report})"
    ))
}
