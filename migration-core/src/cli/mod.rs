//! The command line both migrator binaries share: sea-orm-migration's
//! commands (`up`, `down`, `status`, `fresh`, `refresh`, `reset`, `generate`)
//! and flags (`-u/--database-url`, `-s/--database-schema`), so
//! `sea-orm-cli migrate -d ./sketch2bim-migration up` keeps working.
//!
//! Progress goes to stderr, one line per migration; command output (status)
//! to stdout. A failure is one `error: …` line on stderr and exit code 1; a
//! usage error exits 2. No URL is ever printed with its password.

use sea_orm::DatabaseConnection;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::model::error::plural;
use crate::ops::runner::{self, Direction, Goal, History, RunOptions};
use crate::target::{Origin, SqliteLocation, Target};
use crate::tooling::check::EntityStatements;
use crate::{Database, Described, Error};

mod args;
mod error;
mod logging;
mod refuse;
mod show;
mod signals;

use args::{Cli, Command, Format, LockWait, SchemaCommand};
use logging::init_logging;
use refuse::{changes_state, refuse_remote_destruction, refuse_sqlite_that_keeps_nothing};
use show::{autogenerate, dry_run, schema_dump, status, summarize, verify};

/// Runs the CLI for one database and returns the process exit code.
pub fn main<M: Described>() -> ExitCode {
    main_with::<M>(None)
}

/// As [`main`], with the application's entities for `check`.
pub fn main_with_entities<M: Described>(entities: EntityStatements) -> ExitCode {
    main_with::<M>(Some(entities))
}

fn main_with<M: Described>(entities: Option<EntityStatements>) -> ExitCode {
    let database = &M::DATABASE;
    // Named after the binary, so that `--version` says which one it is (once
    // per process: the name lives as long as the process).
    let name: &'static str = format!("{}-migration", database.name).leak();
    let command = <Cli as clap::CommandFactory>::command().name(name);
    let parsed = command
        .try_get_matches()
        .and_then(|matches| <Cli as clap::FromArgMatches>::from_arg_matches(&matches));
    let mut cli = match parsed {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // A usage error quotes the arguments: each line escaped.
            for line in e.render().to_string().lines() {
                eprintln!("{}", crate::model::escape::escape(line));
            }
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    if cli.table_lock_timeout.is_none() {
        // Read here so that a bad value is a usage error, like a bad flag.
        match crate::backend::postgres::lock_wait::lock_wait_from_env() {
            Ok(wait) => cli.table_lock_timeout = Some(LockWait(wait)),
            Err(e) => {
                eprintln!("error: {}", error::line(e, &[]));
                return ExitCode::from(2);
            }
        }
    }
    match crate::ops::edited::allow_edited_from_env() {
        Ok(allow) => cli.allow_edited_env = allow,
        Err(e) => {
            eprintln!("error: {}", error::line(e, &[]));
            return ExitCode::from(2);
        }
    }
    init_logging(cli.verbose);
    let history = match cli.database_schema.as_deref() {
        Some(schema) => History::of::<M>().in_schema(schema),
        None => History::of::<M>(),
    };
    let mut secrets: Vec<String> = Vec::new();
    let outcome =
        crate::backend::rt::block_on(run(database, &history, &cli, entities, &mut secrets));
    let result = match outcome {
        Ok(result) => result,
        Err(source) => Err(Error::Runtime { source }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            eprintln!("error: {}", error::line(e, &secrets));
            ExitCode::from(1)
        }
    }
}

async fn run(
    database: &Database,
    history: &History,
    cli: &Cli,
    entities: Option<EntityStatements>,
    secrets: &mut Vec<String>,
) -> Result<(), Error> {
    match &cli.command {
        Command::Generate {
            name,
            dir,
            autogenerate: false,
        } => {
            let path = crate::tooling::generate::generate(database, dir.as_deref(), name)?;
            println!("created {}", path.display());
            return Ok(());
        }
        Command::Lint { pg_version } => {
            let options = crate::tooling::lint::LintOptions {
                pg_version: pg_version.clone(),
                lock_wait: cli.table_lock_timeout.map_or(
                    Some(crate::backend::postgres::lock_wait::DEFAULT_LOCK_WAIT),
                    |w| w.0,
                ),
            };
            return show::lint(database, history, &options).await;
        }
        Command::History => {
            let summaries = history.summaries();
            let width = summaries.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, summary) in summaries {
                println!("{name:width$}  {summary}");
            }
            return Ok(());
        }
        _ => {}
    }

    let target = Target::resolve(database, cli.database_url.as_deref())?;
    secrets.extend(target.secrets().into_iter().map(str::to_owned));
    refuse_remote_destruction(&cli.command, &target)?;
    refuse_sqlite_that_keeps_nothing(database, &cli.command, &target)?;
    if *target.origin() == Origin::DefaultSqlite {
        eprintln!(
            "no database URL configured (-u, {}, DATABASE_URL or .env): using the SQLite file {} \
             in the working directory",
            database.url_env, database.default_sqlite_file
        );
    }
    let target = match target.sqlite_location() {
        // Reading a database that is not there must not create it: read an
        // empty one instead, which is what the file would hold.
        Some(SqliteLocation::File { path, .. })
            if !changes_state(&cli.command) && std::fs::symlink_metadata(&path).is_err() =>
        {
            eprintln!(
                "{}: no database yet: the SQLite file {} does not exist, so no migration is \
                 applied",
                database.name,
                path.display()
            );
            Target::parse("sqlite::memory:", target.origin().clone())?
        }
        _ => target,
    };
    let allow_edited = matches!(
        cli.command,
        Command::Up {
            allow_edited: true,
            ..
        } | Command::Down {
            allow_edited: true,
            ..
        }
    );
    let options = RunOptions {
        allow_edited: allow_edited || cli.allow_edited_env,
        lock_timeout: Duration::from_secs(cli.wait_budget),
        lock_wait: cli.table_lock_timeout.map_or(
            Some(crate::backend::postgres::lock_wait::DEFAULT_LOCK_WAIT),
            |w| w.0,
        ),
    };
    let db = target
        .connect(
            cli.database_schema.as_deref(),
            cli.verbose,
            options.lock_timeout,
        )
        .await?;
    let result = match &cli.command {
        Command::Check => show::check(database, history, &db, entities).await,
        Command::Generate {
            name,
            dir,
            autogenerate: true,
        } => autogenerate(database, history, &db, entities, dir.as_deref(), name).await,
        Command::Schema {
            action: SchemaCommand::Update { output },
        } => {
            eprintln!(
                "{}: applying every migration to a scratch schema, to dump it; the database's \
                 own schemas are not touched",
                database.name
            );
            let sql = crate::tooling::schema::build_fresh(
                &target,
                &db,
                database,
                history,
                &options,
                cli.verbose,
            )
            .await;
            match sql {
                Ok(sql) => show::schema_update(database, history, &sql, output.as_deref()),
                Err(e) => Err(e),
            }
        }
        command => signals::until_stopped(execute(database, history, command, &db, &options)).await,
    };
    let _ = db.close().await;
    result
}

async fn execute(
    database: &Database,
    history: &History,
    command: &Command,
    db: &DatabaseConnection,
    options: &RunOptions,
) -> Result<(), Error> {
    let started = Instant::now();
    let report = match command {
        Command::Up {
            num,
            to,
            dry_run: true,
            ..
        } => {
            let goal = goal(*num, to, Goal::All);
            return dry_run(database, history, db, Direction::Up, &goal, options).await;
        }
        Command::Down {
            num,
            to,
            dry_run: true,
            ..
        } => {
            let goal = goal(*num, to, Goal::Steps(1));
            return dry_run(database, history, db, Direction::Down, &goal, options).await;
        }
        Command::Up { num, to, .. } => {
            let goal = goal(*num, to, Goal::All);
            runner::up(db, history, &goal, options).await?
        }
        Command::Down { num, to, .. } => {
            let goal = goal(*num, to, Goal::Steps(1));
            runner::down(db, history, &goal, options).await?
        }
        Command::Current => {
            let state = runner::read_state(db, history).await?;
            println!(
                "{}",
                crate::model::escape::escape(state.current().unwrap_or("none"))
            );
            return Ok(());
        }
        Command::Fresh { yes } => {
            if !yes {
                runner::refuse_not_our_history(db, history, "fresh").await?;
            }
            runner::fresh(db, history, options).await?
        }
        Command::Refresh { .. } => runner::refresh(db, history, options).await?,
        Command::Reset { .. } => runner::down(db, history, &Goal::All, options).await?,
        Command::Adopt {
            at,
            accept_differences,
        } => {
            let how = runner::AdoptOptions {
                at: at.clone(),
                accept_differences: *accept_differences,
            };
            runner::adopt(db, history, options, &how).await?
        }
        Command::DropAlembicVersion => {
            let dropped = runner::drop_alembic_version(db, history, options).await?;
            eprintln!(
                "{}: {}",
                database.name,
                if dropped {
                    "dropped alembic_version"
                } else {
                    "no alembic_version table: nothing to do"
                }
            );
            return Ok(());
        }
        Command::Status { format } => return status(history, db, *format).await,
        Command::Verify => return verify(database, history, db).await,
        Command::Repair => {
            let repaired = runner::repair(db, history, options).await?;
            eprintln!(
                "{}: {}",
                database.name,
                if repaired.is_empty() {
                    "nothing to repair: every applied migration's recorded checksum is what \
                     this binary renders"
                        .to_owned()
                } else {
                    format!(
                        "recorded the checksums of {}: {}",
                        plural(repaired.len(), "migration"),
                        repaired.join(", ")
                    )
                }
            );
            return Ok(());
        }
        Command::Schema {
            action: SchemaCommand::Dump { output },
        } => return schema_dump(database, history, db, output.as_deref()).await,
        Command::Generate { .. }
        | Command::History
        | Command::Lint { .. }
        | Command::Check
        | Command::Schema {
            action: SchemaCommand::Update { .. },
        } => return Ok(()),
    };
    summarize(database, &report, started.elapsed());
    Ok(())
}

fn goal(num: Option<u32>, to: &Option<String>, default: Goal) -> Goal {
    match (num, to) {
        (_, Some(name)) => Goal::To(name.clone()),
        (Some(n), None) => Goal::Steps(n),
        (None, None) => default,
    }
}
