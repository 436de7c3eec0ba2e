//! The sketch2bim migrator: `cargo run -p sketch2bim-migration -- --help`.

fn main() -> std::process::ExitCode {
    migration_core::cli::main::<sketch2bim_migration::Migrator>()
}
