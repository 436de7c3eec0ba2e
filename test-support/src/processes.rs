//! This test binary started again in several processes at once, each
//! running one test: what separate application processes racing on one
//! database do.

use std::process::{Command, Output, Stdio};

/// Starts the running test binary `n` times at once, each running only the
/// test `test` (its full path, e.g. `embed::a_test`) with `env` set, and
/// waits for them all; their outputs, in the order they were started.
pub fn run_test(test: &str, n: usize, env: &[(&str, &str)]) -> Vec<Output> {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("no test binary path: {e}"));
    let children: Vec<_> = (0..n)
        .map(|_| {
            Command::new(&exe)
                .args([test, "--exact", "--test-threads=1"])
                .envs(env.iter().copied())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()))
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap_or_else(|e| panic!("{e}")))
        .collect()
}
