//! What the command line refuses before connecting: destructive commands
//! against a remote server without `--yes`, and SQLite URLs that would lose
//! or miss the database.

use super::Command;
use crate::target::{SqliteLocation, Target};
use crate::{Database, Error};

/// A command that changes the database needs a SQLite file that exists or
/// that the URL asks to create (`?mode=rwc`), not an in-memory database;
/// checked before connecting, so that the driver's `unable to open database
/// file` never stands without its reason.
pub(super) fn refuse_sqlite_that_keeps_nothing(
    database: &Database,
    command: &Command,
    target: &Target,
) -> Result<(), Error> {
    if !changes_state(command) {
        return Ok(());
    }
    match target.sqlite_location() {
        Some(SqliteLocation::Memory) => Err(Error::SqliteInMemory {
            command: command_name(command),
            target: target.to_string(),
            file: database.default_sqlite_file,
        }),
        Some(SqliteLocation::File {
            path,
            create: false,
        }) if std::fs::symlink_metadata(&path).is_err() => Err(Error::SqliteMissing {
            path: path.display().to_string(),
        }),
        _ => Ok(()),
    }
}

/// The command's name on the command line.
pub(super) fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Up { .. } => "up",
        Command::Down { .. } => "down",
        Command::Status { .. } => "status",
        Command::Current => "current",
        Command::History => "history",
        Command::Fresh { .. } => "fresh",
        Command::Refresh { .. } => "refresh",
        Command::Reset { .. } => "reset",
        Command::Adopt { .. } => "adopt",
        Command::DropAlembicVersion => "drop-alembic-version",
        Command::Verify => "verify",
        Command::Repair => "repair",
        Command::Check => "check",
        Command::Lint { .. } => "lint",
        Command::Schema { .. } => "schema",
        Command::Generate { .. } => "generate",
    }
}

/// Whether `command` may create the database: a command that only reads it,
/// or (`repair`) only changes what it records, reads a SQLite file that is
/// not there as an empty database instead of creating it.
pub(super) fn changes_state(command: &Command) -> bool {
    match command {
        Command::Up { dry_run, .. } | Command::Down { dry_run, .. } => !dry_run,
        Command::Fresh { .. }
        | Command::Refresh { .. }
        | Command::Reset { .. }
        | Command::Adopt { .. }
        | Command::DropAlembicVersion => true,
        Command::Status { .. }
        | Command::Verify
        | Command::Repair
        | Command::Current
        | Command::History
        | Command::Lint { .. }
        | Command::Check
        | Command::Schema { .. }
        | Command::Generate { .. } => false,
    }
}

/// Destructive commands against a server that is neither local nor SQLite
/// need `--yes`; checked before connecting.
pub(super) fn refuse_remote_destruction(command: &Command, target: &Target) -> Result<(), Error> {
    let (what, yes) = match command {
        Command::Fresh { yes } => ("fresh", *yes),
        Command::Refresh { yes } => ("refresh", *yes),
        Command::Reset { yes } => ("reset", *yes),
        Command::Down {
            num,
            to,
            yes,
            dry_run: false,
            ..
        } if to.is_some() || num.unwrap_or(1) > 1 => ("down of more than one migration", *yes),
        _ => return Ok(()),
    };
    let remote = match target.remote_host() {
        Some(remote) if !yes => remote,
        _ => return Ok(()),
    };
    // Name the server when the URL's own host is not the one that counts.
    let server = match remote.from {
        crate::target::HostFrom::Url => String::new(),
        _ => format!(" ({remote})"),
    };
    Err(Error::RemoteDestructive {
        what,
        target: target.to_string(),
        server,
    })
}
