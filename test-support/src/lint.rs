//! `lint` over a migrator's whole history, as both migrators' tests run it.

use migration_core::lint::{LintOptions, describe, lint};
use migration_core::runner::History;

use crate::cli::{WorkDir, run};
use crate::migrations::Migrations;

/// Every migration of `history` passes `lint` (squawk's rules and the
/// migrator's own), a migration that shipped through the allowances written
/// in it; `bin lint` prints exactly those allowances and its summary, and
/// exits 0.
pub async fn assert_history_lints_clean(bin: &str, database: &str, history: &History) {
    let report = lint(history, &LintOptions::default())
        .await
        .expect("lint renders every migration");
    let findings: Vec<String> = report.findings.iter().map(describe).collect();
    assert!(findings.is_empty(), "lint finds:\n{}", findings.join("\n"));
    assert_eq!(report.migrations, history.names().len());

    let dir = WorkDir::new();
    let cli = run(bin, dir.path(), &[], &["lint"]).ok();
    let allowed: Vec<String> = report
        .allowed
        .iter()
        .map(|a| format!("allowed: {} ({})", describe(&a.finding), a.reason))
        .collect();
    assert_eq!(cli.stdout_lines(), allowed);
    assert_eq!(
        cli.stderr,
        format!(
            "{database}: linted {} for PostgreSQL 15: 0 findings, {} allowed\n",
            Migrations::count(history.names().len()),
            report.allowed.len()
        )
    );
}
