//! Where the URL is found and how it is parsed, without a process
//! environment: [`Target::resolve_from`] is given the variables.

use super::{Origin, SqliteLocation, Target};
use crate::{Database, Error};
use sea_orm::DbBackend;
use std::env::VarError;

const DATABASE: Database = Database {
    name: "shop",
    title: "Shop",
    url_env: "SHOP_DATABASE_URL",
    default_sqlite_file: "shop.sqlite",
    crate_dir: "/nonexistent",
    alembic_revisions: 0,
};

type DotEnv = Result<Option<Vec<(String, String)>>, Error>;

/// The target resolved with `flag`, the variables `env` and the `.env`
/// file `dotenv`, as `(origin, shown URL)` or the error's message.
fn resolved(
    flag: Option<&str>,
    env: &[(&str, &str)],
    dotenv: Option<&[(&str, &str)]>,
) -> Result<(Origin, String), String> {
    let env = |name: &str| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .ok_or(VarError::NotPresent)
    };
    let dotenv = || -> DotEnv {
        Ok(dotenv.map(|vars| {
            vars.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        }))
    };
    Target::resolve_from(&DATABASE, flag, env, dotenv)
        .map(|t| (t.origin().clone(), t.to_string()))
        .map_err(|e| e.to_string())
}

fn found(origin: Origin, shown: &str) -> Result<(Origin, String), String> {
    Ok((origin, shown.to_owned()))
}

#[test]
fn the_flag_wins_over_every_variable() {
    assert_eq!(
        resolved(
            Some("postgres://u:pw@h/flag"),
            &[("SHOP_DATABASE_URL", "postgres://h/env")],
            Some(&[("SHOP_DATABASE_URL", "postgres://h/dotenv")]),
        ),
        found(Origin::Flag, "postgres://u:***@h/flag")
    );
    // Even an empty flag: it is the flag's URL that is wrong.
    assert_eq!(
        resolved(Some(""), &[("DATABASE_URL", "postgres://h/env")], None),
        Err("invalid database URL from the command line: relative URL without a base".to_owned())
    );
}

#[test]
fn the_databases_own_variable_comes_before_database_url() {
    let env = [
        ("DATABASE_URL", "postgres://h/generic"),
        ("SHOP_DATABASE_URL", "postgres://h/own"),
    ];
    assert_eq!(
        resolved(None, &env, None),
        found(Origin::Env("SHOP_DATABASE_URL"), "postgres://h/own")
    );
    assert_eq!(
        resolved(
            None,
            &env[..1],
            Some(&[("SHOP_DATABASE_URL", "postgres://h/d")])
        ),
        found(Origin::Env("DATABASE_URL"), "postgres://h/generic")
    );
}

#[test]
fn a_variable_set_but_empty_is_refused_naming_it() {
    for value in ["", "  "] {
        assert_eq!(
            resolved(
                None,
                &[
                    ("SHOP_DATABASE_URL", value),
                    ("DATABASE_URL", "postgres://h/x")
                ],
                None
            ),
            Err(
                "invalid database URL from SHOP_DATABASE_URL: it is set but empty; give it a \
                 database URL, or unset it"
                    .to_owned()
            )
        );
    }
    assert_eq!(
        resolved(None, &[], Some(&[("DATABASE_URL", "")])),
        Err(
            "invalid database URL from DATABASE_URL in .env: it is set but empty; give it a \
             database URL, or unset it"
                .to_owned()
        )
    );
}

#[test]
fn a_variable_that_is_not_utf8_is_refused_naming_it() {
    let env = |name: &str| match name {
        "SHOP_DATABASE_URL" => Err(VarError::NotUnicode("\u{fffd}".into())),
        _ => Ok("postgres://h/x".to_owned()),
    };
    let refused = Target::resolve_from(&DATABASE, None, env, || -> DotEnv { Ok(None) });
    assert_eq!(
        refused.map(|t| t.to_string()).map_err(|e| e.to_string()),
        Err("invalid database URL from SHOP_DATABASE_URL: not valid UTF-8".to_owned())
    );
}

#[test]
fn the_dotenv_file_is_read_only_when_no_variable_is_set() {
    let read = std::cell::Cell::new(false);
    let target = Target::resolve_from(
        &DATABASE,
        None,
        |_| Ok("postgres://h/env".to_owned()),
        || -> DotEnv {
            read.set(true);
            Ok(None)
        },
    );
    assert_eq!(
        target.map(|t| t.to_string()).map_err(|e| e.to_string()),
        Ok("postgres://h/env".to_owned())
    );
    assert!(!read.get());
    // In the file, too, the database's own name comes first.
    assert_eq!(
        resolved(
            None,
            &[],
            Some(&[
                ("DATABASE_URL", "postgres://h/generic"),
                ("SHOP_DATABASE_URL", "postgres://u:pw@h/own"),
            ])
        ),
        found(
            Origin::DotEnv("SHOP_DATABASE_URL"),
            "postgres://u:***@h/own"
        )
    );
    assert_eq!(
        resolved(None, &[], Some(&[("DATABASE_URL", "sqlite://d.db")])),
        found(Origin::DotEnv("DATABASE_URL"), "sqlite://d.db")
    );
}

#[test]
fn without_any_setting_the_default_sqlite_file_is_used() {
    assert_eq!(
        resolved(None, &[], None),
        found(Origin::DefaultSqlite, "sqlite://shop.sqlite?mode=rwc")
    );
    assert_eq!(
        resolved(None, &[], Some(&[("OTHER_URL", "postgres://h/x")])),
        Err(
            ".env in the working directory sets neither SHOP_DATABASE_URL nor DATABASE_URL; \
             set one of them in it to the database's URL (the SQLite file shop.sqlite is \
             used only where there is no .env)"
                .to_owned()
        )
    );
    assert_eq!(
        resolved(None, &[], Some(&[])),
        Err(
            ".env in the working directory sets neither SHOP_DATABASE_URL nor DATABASE_URL; \
             set one of them in it to the database's URL (the SQLite file shop.sqlite is \
             used only where there is no .env)"
                .to_owned()
        )
    );
    let target = Target::resolve_from(
        &DATABASE,
        None,
        |_| Err(VarError::NotPresent),
        || -> DotEnv { Ok(None) },
    );
    assert_eq!(
        target
            .map(|t| t.sqlite_location())
            .map_err(|e| e.to_string()),
        Ok(Some(SqliteLocation::File {
            path: "shop.sqlite".into(),
            create: true,
        }))
    );
}

#[test]
fn a_dotenv_file_that_cannot_be_read_stops_the_run() {
    let refused = Target::resolve_from(
        &DATABASE,
        None,
        |_| Err(VarError::NotPresent),
        || -> DotEnv {
            Err(Error::Io {
                action: "cannot read",
                path: ".env".to_owned(),
                source: std::io::Error::other("larger than 64 KiB"),
            })
        },
    );
    assert_eq!(
        refused.map(|t| t.to_string()).map_err(|e| e.to_string()),
        Err("cannot read .env".to_owned())
    );
}

#[test]
fn urls_are_refused_naming_where_they_came_from() {
    let parse = |url: &str, origin| Target::parse(url, origin).map(|t| t.to_string());
    for (url, origin, message) in [
        (
            "mysql://u:pw@h/x",
            Origin::Flag,
            "invalid database URL from the command line: unsupported scheme 'mysql', expected \
             postgres:// or sqlite://",
        ),
        (
            "localhost:5432/db",
            Origin::Env("DATABASE_URL"),
            "invalid database URL from DATABASE_URL: unsupported scheme 'localhost', expected \
             postgres:// or sqlite://",
        ),
        (
            "not a url",
            Origin::DotEnv("SHOP_DATABASE_URL"),
            "invalid database URL from SHOP_DATABASE_URL in .env: relative URL without a base",
        ),
        (
            "postgres://u:pw@h:99999/x",
            Origin::Api,
            "invalid database URL from the application: invalid port number",
        ),
        (
            "postgres://u:pw@[::1/x",
            Origin::DefaultSqlite,
            "invalid database URL from the default SQLite file: invalid IPv6 address",
        ),
    ] {
        assert_eq!(
            parse(url, origin).map_err(|e| e.to_string()),
            Err(message.to_owned()),
            "{url}"
        );
    }
}

#[test]
fn both_postgres_schemes_and_sqlite_are_accepted_and_trimmed() {
    for (url, backend, kept) in [
        ("postgres://u@h/x", DbBackend::Postgres, "postgres://u@h/x"),
        (
            " postgresql://u@h/x\n",
            DbBackend::Postgres,
            "postgresql://u@h/x",
        ),
        (
            "\tsqlite://a.db?mode=rwc ",
            DbBackend::Sqlite,
            "sqlite://a.db?mode=rwc",
        ),
    ] {
        let target = Target::parse(url, Origin::Api);
        assert_eq!(
            target
                .as_ref()
                .map(|t| (t.backend(), t.url(), t.driver_url.as_str()))
                .map_err(|e| e.to_string()),
            Ok((backend, kept, kept)),
            "{url:?}"
        );
    }
}

#[test]
fn sqlite_is_local() {
    let target = Target::parse("sqlite://x.db?mode=rwc", Origin::Flag).expect("parses");
    assert_eq!(target.remote_host(), None);
}
