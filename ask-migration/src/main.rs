//! `ask-migration`: the ASK migrator's command line.

fn main() -> std::process::ExitCode {
    migration_core::cli::main_with_entities::<ask_migration::Migrator>(entities::ask::statements)
}
