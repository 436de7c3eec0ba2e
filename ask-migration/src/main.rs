//! The ask migrator: `cargo run -p ask-migration -- --help`.

fn main() -> std::process::ExitCode {
    migration_core::cli::main::<ask_migration::Migrator>()
}
