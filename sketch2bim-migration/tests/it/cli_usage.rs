//! The command line itself: `--version`, the help's warning about
//! passwords, and values refused as usage errors (exit code 2) before
//! anything is opened.

use test_support::cli::{WorkDir, run};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

#[test]
fn version_and_the_password_warning_in_help() {
    let dir = WorkDir::new();
    for flag in ["--version", "-V"] {
        let version = run(BIN, dir.path(), &[], &[flag]).ok();
        assert_eq!(
            version.stdout,
            format!("sketch2bim-migration {}\n", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(version.stderr, "");
    }
    let help = run(BIN, dir.path(), &[], &["--help"]).ok();
    let url_help: String = help
        .stdout
        .split("--database-url <URL>")
        .nth(1)
        .and_then(|rest| rest.split("-s, --database-schema").next())
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        url_help.ends_with(
            "A password given here is visible to other users of the machine (ps shows the \
             command line): put it in the environment or .env instead"
        ),
        "{help:#?}"
    );
}

#[test]
fn a_wait_budget_out_of_range_is_a_usage_error() {
    let dir = WorkDir::new();
    for value in ["0", "86401", "99999999"] {
        let up = run(BIN, dir.path(), &[], &["up", "--wait-budget", value]);
        assert_eq!(up.code, 2, "{value}: {up:#?}");
        assert_eq!(
            up.stderr_lines(),
            vec![
                format!(
                    "error: invalid value '{value}' for '--wait-budget <SECONDS>': {value} is \
                     not in 1..=86400"
                )
                .as_str(),
                "",
                "For more information, try '--help'."
            ]
        );
    }
    // Nothing was opened, not even the default SQLite file.
    assert_eq!(dir.files(), Vec::<String>::new());
    let history = run(BIN, dir.path(), &[], &["--wait-budget", "86400", "history"]).ok();
    assert_eq!(history.stdout_lines().len(), migrations().len());
}

/// `--lock-timeout` and `--lock-wait`, the former spellings of
/// `--wait-budget` and `--table-lock-timeout`, are still taken, and checked
/// as the flags they stand for.
#[test]
fn the_former_lock_flag_spellings_still_work() {
    let dir = WorkDir::new();
    let history = run(
        BIN,
        dir.path(),
        &[],
        &["--lock-timeout", "86400", "--lock-wait", "500ms", "history"],
    )
    .ok();
    assert_eq!(history.stdout_lines().len(), migrations().len());
    let up = run(BIN, dir.path(), &[], &["up", "--lock-timeout", "0"]);
    assert_eq!(up.code, 2, "{up:#?}");
    assert_eq!(
        up.stderr_lines()[0],
        "error: invalid value '0' for '--wait-budget <SECONDS>': 0 is not in 1..=86400"
    );
    let up = run(BIN, dir.path(), &[], &["up", "--lock-wait", "2"]);
    assert_eq!(up.code, 2, "{up:#?}");
    assert_eq!(
        up.stderr_lines()[0],
        "error: invalid value '2' for '--table-lock-timeout <DURATION>': expected a duration \
         such as 500ms, 2s or 1.5s, or 0 for no bound"
    );
    assert_eq!(dir.files(), Vec::<String>::new());
}
