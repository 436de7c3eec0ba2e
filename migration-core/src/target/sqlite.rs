//! Where a SQLite URL keeps its database: a file (and whether it may be
//! created), memory, or nothing at all.

/// Where a SQLite URL keeps its database, read as the driver reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteLocation {
    /// `sqlite::memory:`, `sqlite://:memory:`, `?mode=memory`: gone when the
    /// run ends.
    Memory,
    /// `sqlite://` with no file name.
    Unnamed,
    /// A file; `create` when the URL asks for it to be created if missing
    /// (`?mode=rwc`).
    File {
        path: std::path::PathBuf,
        create: bool,
    },
}

/// [`SqliteLocation`] of a `sqlite:` URL: the part before `?` (percent
/// decoded) is the file, `:memory:` or `mode=memory` an in-memory database.
/// Hand-written after sqlx's parser, whose `SqliteConnectOptions` tells the
/// file name but not whether it is in memory or may be created.
pub fn sqlite_location(url: &str) -> SqliteLocation {
    let url = url.trim();
    // The scheme is case-insensitive, as the URL parser takes it.
    let rest = match url.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("sqlite:") => &url[7..],
        _ => url,
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    let mut create = false;
    for (key, value) in url::form_urlencoded::parse(params.as_bytes()) {
        if key == "mode" {
            match &*value {
                "memory" => return SqliteLocation::Memory,
                "rwc" => create = true,
                _ => create = false,
            }
        }
    }
    if database == ":memory:" {
        return SqliteLocation::Memory;
    }
    let path = percent_encoding::percent_decode_str(database)
        .decode_utf8_lossy()
        .into_owned();
    if path.is_empty() {
        return SqliteLocation::Unnamed;
    }
    SqliteLocation::File {
        path: path.into(),
        create,
    }
}

#[cfg(test)]
mod tests {
    use super::{SqliteLocation, sqlite_location};
    use crate::target::{Origin, Target};

    fn file(path: &str, create: bool) -> SqliteLocation {
        SqliteLocation::File {
            path: path.into(),
            create,
        }
    }

    #[test]
    fn sqlite_locations_as_the_driver_reads_them() {
        for (url, expected) in [
            ("sqlite::memory:", SqliteLocation::Memory),
            ("sqlite://:memory:", SqliteLocation::Memory),
            ("sqlite://?mode=memory", SqliteLocation::Memory),
            ("sqlite://x.db?mode=memory", SqliteLocation::Memory),
            ("sqlite://", SqliteLocation::Unnamed),
            ("sqlite:", SqliteLocation::Unnamed),
            ("sqlite://?mode=rwc", SqliteLocation::Unnamed),
            ("sqlite://x.db", file("x.db", false)),
            ("sqlite://x.db?mode=ro", file("x.db", false)),
            ("sqlite://x.db?mode=rwc", file("x.db", true)),
            ("sqlite:///tmp/a%20b.db?mode=rwc", file("/tmp/a b.db", true)),
            ("sqlite:x.db?cache=shared", file("x.db", false)),
            // The scheme in any case, as the URL parser takes it.
            ("SQLITE://x.db?mode=rwc", file("x.db", true)),
            ("Sqlite:x.db", file("x.db", false)),
        ] {
            assert_eq!(sqlite_location(url), expected, "{url}");
        }
        let refused = Target::parse("sqlite://?mode=rwc", Origin::Flag).map(|t| t.to_string());
        assert_eq!(
            refused.map_err(|e| e.to_string()),
            Err(
                "invalid database URL from the command line: it names no SQLite file; give one, \
                 e.g. sqlite://app.sqlite?mode=rwc"
                    .to_owned()
            )
        );
    }

    #[test]
    fn the_last_mode_decides_whether_the_file_is_created() {
        assert_eq!(
            sqlite_location("sqlite://x.db?mode=rwc&mode=ro"),
            file("x.db", false)
        );
        assert_eq!(
            sqlite_location("sqlite://x.db?mode=ro&mode=rwc"),
            file("x.db", true)
        );
        // Memory wins wherever it stands.
        assert_eq!(
            sqlite_location("sqlite://x.db?mode=memory&mode=rwc"),
            SqliteLocation::Memory
        );
        // Parameter names are matched exactly.
        assert_eq!(
            sqlite_location("sqlite://x.db?Mode=rwc&cache=shared"),
            file("x.db", false)
        );
    }

    #[test]
    fn sqlite_paths_are_percent_decoded_and_trimmed() {
        assert_eq!(
            sqlite_location("  sqlite://data/app.sqlite?mode=rwc \n"),
            file("data/app.sqlite", true)
        );
        assert_eq!(
            sqlite_location("sqlite:///abs/x.db"),
            file("/abs/x.db", false)
        );
        assert_eq!(
            sqlite_location("sqlite://caf%C3%A9.db"),
            file("café.db", false)
        );
    }

    #[test]
    fn sqlite_urls_accepted_and_refused_by_parse() {
        let parse = |url: &str| Target::parse(url, Origin::Flag).map_err(|e| e.to_string());
        for url in ["sqlite::memory:", "sqlite://x.db?mode=rwc", "sqlite:x.db"] {
            let target = parse(url);
            assert_eq!(
                target.as_ref().map(|t| t.sqlite_location().is_some()),
                Ok(true),
                "{url}"
            );
        }
        for url in ["sqlite://", "sqlite:", "sqlite://?mode=ro"] {
            assert_eq!(
                parse(url).map(|t| t.to_string()),
                Err(
                    "invalid database URL from the command line: it names no SQLite file; give \
                     one, e.g. sqlite://app.sqlite?mode=rwc"
                        .to_owned()
                ),
                "{url}"
            );
        }
        // SQLite takes none of PostgreSQL's parameters: they reach the driver.
        let target = parse("sqlite://x.db?connect_timeout=0");
        assert_eq!(
            target
                .as_ref()
                .map(|t| (t.connect_timeout(), t.driver_url.as_str())),
            Ok((
                std::time::Duration::from_secs(5),
                "sqlite://x.db?connect_timeout=0"
            ))
        );
    }
}
