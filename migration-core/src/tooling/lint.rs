//! `lint`: each migration's PostgreSQL statements, rendered as a run sends
//! them ([`crate::pure::capture`]), checked with squawk's rules for migrations that
//! lock tables, and with the migrator's own rules that squawk cannot know
//! because they depend on how the runner runs a migration.
//!
//! Each migration is linted as the runner runs it: a transactional one
//! between `BEGIN` and `COMMIT` with the lock wait and name the runner sets
//! (`SET LOCAL lock_timeout …`), one whose `use_transaction()` is
//! `Some(false)` statement by statement outside a transaction; for the
//! server version given (15 unless told).
//!
//! Squawk's default rules apply, less those in [`LEFT_OUT`]: the ones that
//! would change this schema's conventions rather than how it locks (its
//! strings are `character varying`, its ids `serial` integers and its
//! timestamps without time zone, as the Alembic history made them; see
//! `schemas/HISTORY.md`), and `require-statement-timeout`: the runner bounds
//! every lock wait (`require-lock-timeout` holds), not how long a statement
//! runs, since a timeout would cut an index build or a backfill half way;
//! long statements are what `require-concurrent-index-creation` and the
//! migrator's own `long-statement-with-other-ddl` point at. The migrator's
//! own rules are [`OWN_RULES`].
//!
//! A migration that shipped is frozen, so a finding there is allowed only by
//! an allowance in its source, a comment naming the rule and why:
//!
//! ```text
//! // lint: allow ban-drop-table: the Alembic revision dropped api_keys; shipped
//! ```
//!
//! An allowance no finding uses is itself a finding, so allowances do not
//! outlive what they allow.

use std::time::Duration;

use sea_orm::DbBackend;
use sea_orm_migration::MigrationTrait;
use squawk_linter::{Linter, Rule};
use squawk_syntax::SourceFile;

use crate::Error;
use crate::model::run::Direction;
use crate::pure::history::History;

/// Squawk rules left out, and why.
pub const LEFT_OUT: &[(&str, &str)] = &[
    ("prefer-bigint-over-int", CONVENTION),
    ("prefer-bigint-over-smallint", CONVENTION),
    ("prefer-identity", CONVENTION),
    ("prefer-text-field", CONVENTION),
    ("prefer-timestamptz", CONVENTION),
    (
        "require-statement-timeout",
        "the runner bounds lock waits, not how long a statement runs",
    ),
];

const CONVENTION: &str = "the schema's convention since the Alembic history";

/// The migrator's own rules: `(name, why it is dangerous, the safe pattern)`.
pub const OWN_RULES: &[(&str, &str, &str)] = &[
    (
        CONCURRENTLY_IN_TRANSACTION,
        "PostgreSQL refuses CONCURRENTLY inside a transaction block, and the runner runs this \
         migration in one",
        "give the statement a migration of its own whose use_transaction() returns Some(false)",
    ),
    (
        DDL_OUTSIDE_TRANSACTION,
        "outside a transaction a failure part way leaves the statements before it applied and \
         the migration unrecorded, and the next run repeats them",
        "keep only CREATE/DROP INDEX CONCURRENTLY (and batched data changes) in a migration \
         that runs outside a transaction; put other DDL in a transactional migration",
    ),
    (
        LONG_WITH_OTHER_DDL,
        "it validates or rewrites a whole table while the transaction holds the locks of the \
         other DDL statements, so every query on those tables waits for all of it",
        "give the long statement a migration of its own (a NOT VALID constraint is validated \
         in a later migration; a backfill runs in batches outside a transaction)",
    ),
    (
        UNUSED_ALLOWANCE,
        "an allowance that allows nothing hides the next finding of its rule",
        "delete the allowance",
    ),
];

const CONCURRENTLY_IN_TRANSACTION: &str = "concurrently-in-transaction";
const DDL_OUTSIDE_TRANSACTION: &str = "non-concurrent-ddl-outside-transaction";
const LONG_WITH_OTHER_DDL: &str = "long-statement-with-other-ddl";
const UNUSED_ALLOWANCE: &str = "unused-allowance";

/// How to lint: the server version and the runner's lock wait.
#[derive(Debug, Clone)]
pub struct LintOptions {
    /// PostgreSQL's version, `15` or `15.4`.
    pub pg_version: String,
    /// The lock wait the runner sets in each transactional migration.
    pub lock_wait: Option<Duration>,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            pg_version: "15".to_owned(),
            lock_wait: Some(crate::backend::postgres::lock_wait::DEFAULT_LOCK_WAIT),
        }
    }
}

/// Whether squawk reads `version` as a PostgreSQL version (`15`, `15.4`).
pub fn check_pg_version(version: &str) -> Result<(), String> {
    version
        .parse::<squawk_linter::Version>()
        .map(|_| ())
        .map_err(|_| "expected a PostgreSQL version such as 15 or 15.4".to_owned())
}

/// One finding: where, which rule, why, and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub migration: String,
    /// 1-based position of the statement among the migration's own, and its
    /// SQL; `None` for a finding about the migration as a whole.
    pub statement: Option<(usize, String)>,
    pub rule: String,
    /// What is dangerous about it.
    pub why: String,
    /// The safe pattern.
    pub fix: String,
}

/// A finding an allowance in the migration's source allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub finding: Finding,
    pub reason: String,
}

/// What `lint` found over a history.
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    pub migrations: usize,
    pub findings: Vec<Finding>,
    pub allowed: Vec<Allowed>,
}

/// An allowance written in a migration's source: `// lint: allow RULE: REASON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    pub rule: String,
    pub reason: String,
}

/// The allowances in `source`, and a finding-worthy problem for a malformed
/// one (no rule, no reason).
pub fn allowances(source: &str) -> Result<Vec<Allowance>, String> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let text = line.trim_start();
        let Some(comment) = text.strip_prefix("//!").or_else(|| text.strip_prefix("//")) else {
            continue;
        };
        let Some(rest) = comment.trim_start().strip_prefix("lint: allow ") else {
            continue;
        };
        match rest.split_once(':') {
            Some((rule, reason)) if !rule.trim().is_empty() && !reason.trim().is_empty() => out
                .push(Allowance {
                    rule: rule.trim().to_owned(),
                    reason: reason.trim().to_owned(),
                }),
            _ => {
                return Err(format!(
                    "line {}: an allowance is `// lint: allow RULE: REASON`, with both",
                    n + 1
                ));
            }
        }
    }
    Ok(out)
}

/// Lints every migration of `history` (its up step), each against the
/// allowances in its source.
pub async fn lint(history: &History, options: &LintOptions) -> Result<LintReport, Error> {
    let sources = history.sources();
    let mut report = LintReport::default();
    for migration in &history.migrations {
        let (findings, allowed) = lint_allowing(migration.as_ref(), &sources, options).await?;
        report.findings.extend(findings);
        report.allowed.extend(allowed);
        report.migrations += 1;
    }
    Ok(report)
}

/// One migration's findings, and those the allowances in its source (one
/// of `sources`) allow.
pub async fn lint_allowing(
    migration: &dyn MigrationTrait,
    sources: &[(&str, &str)],
    options: &LintOptions,
) -> Result<(Vec<Finding>, Vec<Allowed>), Error> {
    let name = migration.name();
    let source = sources
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, s)| *s);
    let mut findings = lint_migration(migration, options).await?;
    let allowances = match allowances(source) {
        Ok(allowances) => allowances,
        Err(problem) => {
            findings.push(Finding {
                migration: name.to_owned(),
                statement: None,
                rule: "malformed-allowance".to_owned(),
                why: problem,
                fix: "write it as `// lint: allow RULE: REASON`".to_owned(),
            });
            Vec::new()
        }
    };
    let mut all_allowed = Vec::new();
    for allowance in &allowances {
        let (allowed, kept): (Vec<Finding>, Vec<Finding>) =
            findings.into_iter().partition(|f| f.rule == allowance.rule);
        findings = kept;
        if allowed.is_empty() {
            findings.push(own(name, None, UNUSED_ALLOWANCE, &allowance.rule));
        }
        all_allowed.extend(allowed.into_iter().map(|finding| Allowed {
            finding,
            reason: allowance.reason.clone(),
        }));
    }
    Ok((findings, all_allowed))
}

/// The findings of one migration's up step, before allowances.
pub async fn lint_migration(
    migration: &dyn MigrationTrait,
    options: &LintOptions,
) -> Result<Vec<Finding>, Error> {
    let name = migration.name();
    let statements = crate::pure::capture::render(migration, Direction::Up, DbBackend::Postgres)
        .await
        .map_err(|source| Error::Migration {
            name: name.to_owned(),
            action: "rendering it for lint",
            source,
        })?;
    let in_transaction = migration.use_transaction() != Some(false);
    lint_statements(name, &statements, in_transaction, options)
}

/// The findings in `statements`, the up step of migration `name`, run in a
/// transaction or not: what `generate --autogenerate` checks in what it
/// writes.
pub fn lint_statements(
    name: &str,
    statements: &[String],
    in_transaction: bool,
    options: &LintOptions,
) -> Result<Vec<Finding>, Error> {
    let mut findings = squawk(name, statements, in_transaction, options)?;
    findings.extend(own::own_rules(name, statements, in_transaction));
    Ok(findings)
}

/// Squawk's findings, each mapped to the statement it is in.
fn squawk(
    name: &str,
    statements: &[String],
    in_transaction: bool,
    options: &LintOptions,
) -> Result<Vec<Finding>, Error> {
    // The text as the runner sends it: its transaction and what it sets.
    let mut text = String::new();
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    if in_transaction {
        text.push_str("BEGIN;\n");
        for setting in crate::backend::of(DbBackend::Postgres).prologue(
            crate::pure::history::DEFAULT_SCHEMA,
            name,
            options.lock_wait,
            true,
        ) {
            text.push_str(&setting);
            text.push_str(";\n");
        }
    } else {
        // Outside a transaction the runner bounds each statement's lock wait
        // on its session, as it sends them (see outside).
        for setting in crate::ops::outside::prologue(name, options.lock_wait) {
            text.push_str(&setting);
            text.push_str(";\n");
        }
    }
    for (i, statement) in statements.iter().enumerate() {
        let start = text.len();
        text.push_str(statement);
        spans.push((i + 1, start, text.len()));
        text.push_str(";\n");
    }
    if in_transaction {
        text.push_str("COMMIT;\n");
    }
    let left_out: Vec<Rule> = LEFT_OUT
        .iter()
        .filter_map(|(r, _)| Rule::try_from(*r).ok())
        .collect();
    let mut linter = Linter::with_rules(&[], &left_out);
    linter.settings.pg_version = options
        .pg_version
        .parse()
        .map_err(|_| Error::InvalidSetting {
            name: "pg_version",
            value: options.pg_version.clone(),
            expected: "a PostgreSQL version such as 15 or 15.4",
        })?;
    linter.settings.assume_in_transaction = false;
    let parsed = SourceFile::parse(&text);
    let mut out = Vec::new();
    for violation in linter.lint(&parsed, &text) {
        let at = usize::from(violation.text_range.start());
        let statement = spans
            .iter()
            .find(|(_, start, end)| (*start..=*end).contains(&at))
            .map(|(n, _, _)| (*n, statements[n - 1].clone()));
        let rule = violation.code.to_string();
        let fix = match &violation.help {
            Some(help) => help.trim_end_matches('.').to_owned(),
            None => fallback_fix(&rule).to_owned(),
        };
        out.push(Finding {
            migration: name.to_owned(),
            statement,
            rule,
            why: one_line(violation.message.trim_end_matches('.')),
            fix: one_line(&fix),
        });
    }
    Ok(out)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The safe pattern for squawk's rules that give no help of their own.
fn fallback_fix(rule: &str) -> &'static str {
    if rule.starts_with("ban-drop-") {
        "first release code that no longer uses it, then drop it in a later migration"
    } else if rule.starts_with("renaming-") {
        "add the new name beside the old one, move the code over, then drop the old one"
    } else {
        "see squawk's documentation of the rule"
    }
}

fn own(name: &str, statement: Option<(usize, &str)>, rule: &str, about: &str) -> Finding {
    let (_, why, fix) = OWN_RULES
        .iter()
        .find(|(r, _, _)| *r == rule)
        .copied()
        .unwrap_or((rule, "", ""));
    let why = if rule == UNUSED_ALLOWANCE {
        format!("the allowance of {about} allows no finding: {why}")
    } else {
        why.to_owned()
    };
    Finding {
        migration: name.to_owned(),
        statement: statement.map(|(n, s)| (n, s.to_owned())),
        rule: rule.to_owned(),
        why,
        fix: fix.to_owned(),
    }
}

/// One finding as `lint` prints it: where, the rule, why, and what to do.
pub fn describe(finding: &Finding) -> String {
    let statement = match &finding.statement {
        Some((n, sql)) => {
            let sql: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            let short = if sql.chars().count() > 100 {
                format!("{}…", sql.chars().take(99).collect::<String>())
            } else {
                sql
            };
            format!(" statement {n} ({short})")
        }
        None => String::new(),
    };
    format!(
        "{}{statement}: {}: {}; safe pattern: {}",
        finding.migration, finding.rule, finding.why, finding.fix
    )
}

mod own;
#[cfg(test)]
mod tests;
