//! What each command prints: progress and summaries on stderr, listings
//! (status, verify, check, dry runs, schema dumps) on stdout.

use sea_orm::{DatabaseConnection, DbBackend};
use std::time::Duration;

use super::Format;
use crate::model::error::plural;
use crate::ops::runner::{self, Direction, Goal, History, Report, RunOptions, Verification};
use crate::pure::checksum::{self, Verdict};
use crate::tooling::check::EntityStatements;
use crate::{Database, Error, fmt_duration};

/// `up --dry-run` / `down --dry-run`: each step's SQL on stdout.
pub(super) async fn dry_run(
    database: &Database,
    history: &History,
    db: &DatabaseConnection,
    direction: Direction,
    goal: &Goal,
    options: &RunOptions,
) -> Result<(), Error> {
    let steps = crate::tooling::dry_run::plan(db, history, direction, goal, options).await?;
    let lints = crate::tooling::lint::LintOptions {
        lock_wait: options.lock_wait,
        ..Default::default()
    };
    let sources = history.sources();
    for step in &steps {
        let way = match step.direction {
            Direction::Up => "up",
            Direction::Down => "down",
        };
        println!("-- {} ({way})", step.name);
        // What `lint` finds in the migration, above the statement it is in.
        let migration = history.migrations.iter().find(|m| m.name() == step.name);
        let (findings, allowed) = match migration {
            Some(m)
                if step.direction == Direction::Up
                    && db.get_database_backend() == DbBackend::Postgres =>
            {
                crate::tooling::lint::lint_allowing(m.as_ref(), &sources, &lints).await?
            }
            _ => (Vec::new(), Vec::new()),
        };
        let mut shown = vec![false; findings.len()];
        for statement in &step.statements {
            for (i, finding) in findings.iter().enumerate() {
                if !shown[i]
                    && finding
                        .statement
                        .as_ref()
                        .is_some_and(|(_, sql)| sql == statement)
                {
                    println!(
                        "-- lint: {}: {}; safe pattern: {}",
                        finding.rule, finding.why, finding.fix
                    );
                    shown[i] = true;
                }
            }
            for a in &allowed {
                if a.finding
                    .statement
                    .as_ref()
                    .is_some_and(|(_, sql)| sql == statement)
                {
                    println!("-- lint: {} (allowed: {})", a.finding.rule, a.reason);
                }
            }
            println!("{statement};");
        }
        for (i, finding) in findings.iter().enumerate() {
            if !shown[i] {
                println!(
                    "-- lint: {}: {}; safe pattern: {}",
                    finding.rule, finding.why, finding.fix
                );
            }
        }
        println!();
    }
    let verb = match direction {
        Direction::Up => "apply",
        Direction::Down => "roll back",
    };
    eprintln!(
        "{}: dry run: would {verb} {}; nothing was changed",
        database.name,
        plural(steps.len(), "migration")
    );
    Ok(())
}

pub(super) fn summarize(database: &Database, report: &Report, elapsed: Duration) {
    let up = report
        .steps
        .iter()
        .filter(|s| s.direction == Direction::Up)
        .count();
    let down = report.steps.len() - up;
    let position = match (&report.current, &report.head) {
        (Some(current), Some(head)) if current == head => format!("at {current} (head)"),
        (Some(current), _) => format!(
            "at {current}, {} pending",
            plural(report.pending.len(), "migration")
        ),
        (None, _) => format!(
            "no migration applied, {} pending",
            plural(report.pending.len(), "migration")
        ),
    };
    let mut did = Vec::new();
    if let Some(revision) = &report.adopted {
        did.push(format!("adopted Alembic revision {revision}"));
    }
    if let Some(name) = &report.baselined {
        did.push(format!("baselined at {name}"));
    }
    if down > 0 {
        did.push(format!("rolled back {}", plural(down, "migration")));
    }
    if up > 0 {
        did.push(format!("applied {}", plural(up, "migration")));
    }
    if did.is_empty() {
        did.push("nothing to do".to_owned());
    }
    eprintln!(
        "{}: {} in {}; {position}",
        database.name,
        did.join(", "),
        fmt_duration(elapsed)
    );
}

/// Lists what is recorded as it is; a gap or duplicate rows, which `up` and
/// `down` refuse, are also said on stderr (`warning: …`), exit code 0.
pub(super) async fn status(
    history: &History,
    db: &DatabaseConnection,
    format: Format,
) -> Result<(), Error> {
    let state = runner::read_state(db, history).await?;
    if let Err(damage) = state.refuse_damage(history) {
        eprintln!(
            "warning: {}",
            crate::model::escape::escape(&damage.to_string())
        );
    }
    let mut checks = checksum::compare(history, &state, db.get_database_backend(), false).await;
    if !checksum::edited(&checks).is_empty() {
        // Another migrator's history renders differently too: say that.
        if let Err(foreign @ Error::Foreign { .. }) =
            runner::refuse_foreign(db, history, &state).await
        {
            eprintln!(
                "warning: {}",
                crate::model::escape::escape(&foreign.to_string())
            );
            checks.clear();
        }
    }
    for entry in checksum::edited(&checks) {
        eprintln!(
            "warning: {}",
            crate::model::escape::escape(&checksum::warning(entry))
        );
    }
    let verdict = |name: &str| checks.iter().find(|e| e.name == name).map(|e| &e.verdict);
    let alembic = state.alembic.as_ref().map(|a| a.revision.clone());
    let rows: Vec<(String, Option<String>)> = history
        .names()
        .into_iter()
        .map(|name| {
            let at = state
                .applied
                .iter()
                .find(|a| a.name == name)
                .map(|a| match &alembic {
                    Some(revision) => {
                        format!("by Alembic (revision {revision}; recorded by the next up)")
                    }
                    None => iso8601(a.applied_at),
                });
            (name.to_owned(), at)
        })
        .collect();
    match format {
        Format::Text => {
            let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, at) in &rows {
                let edited = match verdict(name) {
                    Some(Verdict::Edited { .. }) => "  (edited since it was applied)",
                    _ => "",
                };
                match at {
                    Some(at) => println!("{}  applied  {at}{edited}", pad(name, width)),
                    None => println!("{}  pending", pad(name, width)),
                }
            }
            for name in &state.unknown {
                println!("{}  applied  (unknown to this binary)", pad(name, width));
            }
        }
        Format::Json => {
            let mut list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(name, at)| {
                    serde_json::json!({
                        "name": name,
                        "status": if at.is_some() { "applied" } else { "pending" },
                        "applied_at": if alembic.is_some() { None } else { at.as_ref() },
                        "checksum": verdict(name).map(|v| match v {
                            Verdict::Matches => "matches",
                            Verdict::Edited { .. } => "edited",
                            Verdict::NotRecorded => "not recorded",
                            Verdict::Blank => "blank",
                            Verdict::Unknown => "unknown",
                        }),
                    })
                })
                .collect();
            list.extend(state.unknown.iter().map(
                |name| serde_json::json!({ "name": name, "status": "unknown", "applied_at": null }),
            ));
            let doc = serde_json::json!({
                "current": state.current(),
                "head": history.head(),
                "alembic_revision": alembic,
                "migrations": list,
            });
            println!("{doc}");
        }
    }
    Ok(())
}

/// Lists each applied migration with what its recorded checksum says, and
/// fails ([`Error::Edited`]) when any was edited since it was applied.
pub(super) async fn verify(
    database: &Database,
    history: &History,
    db: &DatabaseConnection,
) -> Result<(), Error> {
    let checks = match runner::verify(db, history).await? {
        Verification::AtAlembic { revision } => {
            eprintln!(
                "{}: nothing recorded yet: the database is at Alembic revision {revision}, and \
                 the next up or adopt records it with its checksums",
                database.name
            );
            return Ok(());
        }
        Verification::NothingApplied => {
            eprintln!(
                "{}: no migration is applied, so there is nothing to verify",
                database.name
            );
            return Ok(());
        }
        Verification::Checked(checks) => checks,
    };
    let width = checks.iter().map(|e| e.name.len()).max().unwrap_or(0);
    for entry in &checks {
        let said = match &entry.verdict {
            Verdict::Matches => "ok".to_owned(),
            Verdict::Edited { recorded, now } => format!(
                "edited: applied as {}, renders {} now",
                checksum::short(recorded),
                checksum::short(now)
            ),
            Verdict::NotRecorded => "no checksum recorded".to_owned(),
            Verdict::Blank => "blank checksum recorded".to_owned(),
            Verdict::Unknown => "cannot be rendered without a database".to_owned(),
        };
        println!("{}  {said}", pad(&entry.name, width));
    }
    let edited: Vec<String> = checksum::edited(&checks)
        .into_iter()
        .map(|e| e.name.clone())
        .collect();
    if !edited.is_empty() {
        return Err(Error::Edited { names: edited });
    }
    let blank: Vec<String> = checks
        .iter()
        .filter(|e| e.verdict == Verdict::Blank)
        .map(|e| e.name.clone())
        .collect();
    if !blank.is_empty() {
        return Err(Error::BlankChecksum { names: blank });
    }
    let count = |verdict: Verdict| checks.iter().filter(|e| e.verdict == verdict).count();
    let unrecorded = count(Verdict::NotRecorded);
    let unknown = count(Verdict::Unknown);
    let matching = count(Verdict::Matches);
    let mut said = format!(
        "{} of {} applied match what this binary renders",
        matching,
        plural(checks.len(), "migration")
    );
    if unrecorded > 0 {
        said.push_str(&format!(
            "; {unrecorded} {} no checksum recorded (applied before checksums were kept, or by \
             another tool): run repair to record {}",
            if unrecorded == 1 { "has" } else { "have" },
            if unrecorded == 1 { "it" } else { "them" }
        ));
    }
    if unknown > 0 {
        said.push_str(&format!(
            "; {unknown} cannot be rendered without a database, so {} not verified",
            if unknown == 1 { "it is" } else { "they are" }
        ));
    }
    eprintln!("{}: {said}", database.name);
    Ok(())
}

pub(super) async fn autogenerate(
    database: &Database,
    history: &History,
    db: &DatabaseConnection,
    entities: Option<EntityStatements>,
    dir: Option<&std::path::Path>,
    name: &str,
) -> Result<(), Error> {
    let Some(written) =
        crate::tooling::autogen::autogenerate(database, history, db, entities, dir, name).await?
    else {
        eprintln!(
            "{}: the database already matches the entities; no migration written",
            database.name
        );
        return Ok(());
    };
    println!("created {}", written.path.display());
    for note in &written.lint_notes {
        eprintln!("warning: lint: {note}");
    }
    Ok(())
}

/// `check`: the differences on stdout, a summary or the error on stderr.
pub(super) async fn check(
    database: &Database,
    history: &History,
    db: &DatabaseConnection,
    entities: Option<EntityStatements>,
) -> Result<(), Error> {
    let Some(entities) = entities else {
        return Err(Error::NoEntities {
            database: database.name,
            purpose: "check against",
        });
    };
    let report = crate::tooling::check::check(db, history, entities).await?;
    if report.differences.is_empty() {
        eprintln!(
            "{}: the database matches the entities ({} tables)",
            database.name, report.tables
        );
        return Ok(());
    }
    for line in &report.differences {
        println!("{}", crate::model::escape::escape(line));
    }
    Err(Error::EntityDrift {
        differences: report.differences,
    })
}

/// `schema dump`: to stdout, or to `output`.
pub(super) async fn schema_dump(
    database: &Database,
    history: &History,
    db: &DatabaseConnection,
    output: Option<&std::path::Path>,
) -> Result<(), Error> {
    let sql = crate::tooling::schema::dump_database(db, database, history).await?;
    match output {
        Some(path) => {
            std::fs::write(path, sql).map_err(|source| Error::Io {
                action: "cannot write",
                path: path.display().to_string(),
                source,
            })?;
            eprintln!("{}: wrote {}", database.name, path.display());
        }
        None => print!("{sql}"),
    }
    Ok(())
}

/// Writes what `schema update` built to `output`, or to the workspace's
/// schema file.
pub(super) fn schema_update(
    database: &Database,
    history: &History,
    sql: &str,
    output: Option<&std::path::Path>,
) -> Result<(), Error> {
    let path = output.map_or_else(
        || crate::tooling::schema::file(database),
        std::path::Path::to_path_buf,
    );
    std::fs::write(&path, sql).map_err(|source| Error::Io {
        action: "cannot write",
        path: path.display().to_string(),
        source,
    })?;
    eprintln!(
        "{}: wrote {}, the schema at {} as the migrations build it (the scratch schema is \
         dropped again)",
        database.name,
        path.display(),
        history.head().unwrap_or("no migration")
    );
    Ok(())
}

/// `lint`: every finding on stdout, one line each, then the allowances;
/// a summary on stderr; an error naming the migrations with findings.
pub(super) async fn lint(
    database: &Database,
    history: &History,
    options: &crate::tooling::lint::LintOptions,
) -> Result<(), Error> {
    let report = crate::tooling::lint::lint(history, options).await?;
    for finding in &report.findings {
        println!("{}", crate::tooling::lint::describe(finding));
    }
    for allowed in &report.allowed {
        println!(
            "allowed: {} ({})",
            crate::tooling::lint::describe(&allowed.finding),
            allowed.reason
        );
    }
    eprintln!(
        "{}: linted {} for PostgreSQL {}: {}, {} allowed",
        database.name,
        plural(report.migrations, "migration"),
        options.pg_version,
        plural(report.findings.len(), "finding"),
        report.allowed.len()
    );
    if report.findings.is_empty() {
        return Ok(());
    }
    let mut names: Vec<String> = report
        .findings
        .iter()
        .map(|f| f.migration.clone())
        .collect();
    names.dedup();
    Err(Error::LintFindings {
        count: report.findings.len(),
        names,
    })
}

fn iso8601(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// `name` escaped ([`crate::model::escape`]) and padded to `width` characters.
fn pad(name: &str, width: usize) -> String {
    format!("{:width$}", crate::model::escape::escape(name))
}
