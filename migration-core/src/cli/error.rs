//! A runtime [`Error`] as the command line reports it: the same situation,
//! completed with what to type about it (the flag that overrides a refusal,
//! the command that resolves it). Applications that embed the migrator get
//! the runtime's message alone, which names no flag.

use crate::Error;
use crate::model::error::{
    adopt_at_other_revision, already_recorded, dotenv_without_url, edited_history,
};
use crate::target::Origin;

/// How to go ahead with a command that drops data.
const YES: &str = "; run it again with --yes if that is what you want";

/// A runtime error with the command line's hint.
#[derive(Debug)]
pub(super) struct CliError(pub(super) Error);

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        CliError(error)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let error = &self.0;
        match error {
            Error::InvalidUrl { origin, reason } if *origin == Origin::Flag.to_string() => {
                write!(f, "invalid database URL from --database-url: {reason}")
            }
            Error::NotOurHistory { .. } | Error::RemoteDestructive { .. } => {
                write!(f, "{error}{YES}")
            }
            Error::EditedHistory { edits } => {
                f.write_str(&edited_history(edits, "--allow-edited or "))
            }
            Error::DotEnvWithoutUrl {
                url_env,
                sqlite_file,
            } => f.write_str(&dotenv_without_url(url_env, sqlite_file, ", or pass -u")),
            Error::SchemaDrift { .. } => write!(
                f,
                "{error} (`adopt --accept-differences` takes it over as it is)"
            ),
            Error::AdoptAtOtherRevision {
                revision,
                recorded,
                asked,
            } => f.write_str(&adopt_at_other_revision(
                revision,
                recorded,
                asked,
                ": run adopt without --at to adopt it at its recorded revision",
            )),
            Error::AlreadyRecorded { current } => f.write_str(&already_recorded(
                current,
                "adopt --at only baselines a database that records none",
            )),
            Error::NothingToAdopt => write!(
                f,
                "{error}; to baseline a database that already has a migration's schema, run \
                 adopt --at <migration>"
            ),
            Error::AlreadyBuilt { .. } => write!(
                f,
                "{error}; if its schema is at a known migration, baseline it with \
                 `adopt --at <migration>`"
            ),
            Error::PostgresOnly { command } => write!(
                f,
                "{command} reads PostgreSQL's catalog: point -u at a PostgreSQL database"
            ),
            _ => std::fmt::Display::fmt(error, f),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

/// `error: …` as printed: the one line of [`crate::one_line`].
pub(super) fn line(error: Error, secrets: &[&str]) -> String {
    crate::one_line(&CliError(error), secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(error: Error) -> (String, String) {
        let runtime = error.to_string();
        (runtime, line(error, &[]))
    }

    #[test]
    fn the_runtime_names_no_flag_and_the_command_line_adds_it() {
        let edits = vec!["m003_x (applied as 000000000000, 2627a9378446 now)".to_owned()];
        let (runtime, cli) = both(Error::EditedHistory { edits });
        let common = "1 applied migration was edited after it was applied: m003_x (applied as \
                      000000000000, 2627a9378446 now); revert the edit, or review it and run \
                      repair to record the new checksum (";
        assert_eq!(
            runtime,
            format!("{common}MIGRATION_ALLOW_EDITED=1 runs anyway); nothing was changed")
        );
        assert_eq!(
            cli,
            format!(
                "{common}--allow-edited or MIGRATION_ALLOW_EDITED=1 runs anyway); nothing was \
                 changed"
            )
        );

        let (runtime, cli) = both(Error::RemoteDestructive {
            what: "fresh",
            target: "postgres://db.internal/app".to_owned(),
            server: String::new(),
        });
        assert_eq!(
            runtime,
            "fresh on the remote database postgres://db.internal/app drops data"
        );
        assert_eq!(cli, format!("{runtime}{YES}"));

        let (runtime, cli) = both(Error::AlreadyRecorded {
            current: "m002_x".to_owned(),
        });
        assert_eq!(
            runtime,
            "the database already records its migrations (at m002_x): only a database that \
             records none can be baselined; nothing was changed"
        );
        assert_eq!(
            cli,
            "the database already records its migrations (at m002_x): adopt --at only \
             baselines a database that records none; nothing was changed"
        );

        let (runtime, cli) = both(Error::InvalidUrl {
            origin: Origin::Flag.to_string(),
            reason: "relative URL without a base".to_owned(),
        });
        assert_eq!(
            runtime,
            "invalid database URL from the command line: relative URL without a base"
        );
        assert_eq!(
            cli,
            "invalid database URL from --database-url: relative URL without a base"
        );
        // Where no flag helps, the command line says what the runtime says.
        let (runtime, cli) = both(Error::LockTimeout { seconds: 2 });
        assert_eq!(runtime, cli);
    }
}
