//! `sketch2bim-migration`: the Sketch2BIM migrator's command line.

fn main() -> std::process::ExitCode {
    migration_core::cli::main_with_entities::<sketch2bim_migration::Migrator>(
        entities::sketch2bim::statements,
    )
}
