//! The history as it is written: the migration files in a migrator crate's
//! `src/` and the list in its `migrator!`. Checked by a test that
//! [`crate::migrator!`] adds to every migrator crate, so a broken history
//! fails `cargo test` where it was written, naming the files and the fix,
//! rather than a deploy:
//!
//! - names follow `mNNN_snake_case` (at least three digits, then lower-case
//!   words joined by single underscores);
//! - numbers are unique, start at 1, and go up by one in the order the
//!   migrator lists them;
//! - every `src/mNNN_*` file is a registered migration's `.rs` file (one
//!   that is not registered builds and is never run), and every registered
//!   migration has its file.
//!
//! Two migrations with one number are what a merge of two branches leaves.
//! The fix is to renumber the one that no database has applied yet: its
//! name is what `seaql_migrations` records, so renaming one already applied
//! somewhere makes that database record a name the binary no longer has.

use std::path::Path;

/// `m011_add_notes` → `(11, "011", "add_notes")`, when the name follows
/// `mNNN_snake_case`.
pub fn parse(name: &str) -> Option<(u32, &str, &str)> {
    let rest = name.strip_prefix('m')?;
    let (digits, words) = rest.split_once('_')?;
    let number_ok = digits.len() >= 3 && digits.bytes().all(|b| b.is_ascii_digit());
    let words_ok = !words.is_empty()
        && words.split('_').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !(number_ok && words_ok) {
        return None;
    }
    Some((digits.parse().ok()?, digits, words))
}

/// The number part of a name that starts like a migration (`m` and a
/// digit), however the rest is written: `m11_Notes` → `11`.
fn loose_number(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('m')?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Every problem with the history written in `src` (a migrator crate's
/// source directory) and `registered` (its `migrator!` list, in order),
/// one line each, naming the files and the fix. Empty when it is sound.
pub fn problems(src: &Path, registered: &[&str]) -> Vec<String> {
    let mut files: Vec<String> = match std::fs::read_dir(src) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|f| loose_number(f).is_some() && f.contains('_'))
            .collect(),
        Err(e) => return vec![format!("cannot read {}: {e}", src.display())],
    };
    files.sort();
    check(&files, registered)
}

/// [`problems`] over the file names found (`m011_x.rs`, …), pure.
pub fn check(files: &[String], registered: &[&str]) -> Vec<String> {
    let list = "the migrator! list in src/lib.rs";
    let mut out = Vec::new();
    for name in registered {
        if parse(name).is_none() {
            out.push(format!(
                "{name} (src/{name}.rs) is not named mNNN_snake_case (m, at least three digits, \
                 an underscore, then lower-case words joined by single underscores): rename the \
                 file and its entry in {list} before any database applies it"
            ));
        }
    }
    // One number, several migrations.
    let numbered: Vec<(u32, &str)> = registered
        .iter()
        .filter_map(|n| loose_number(n).map(|k| (k, *n)))
        .collect();
    let mut seen: Vec<u32> = Vec::new();
    for (number, _) in &numbered {
        if seen.contains(number) {
            continue;
        }
        seen.push(*number);
        let same: Vec<&str> = numbered
            .iter()
            .filter(|(k, _)| k == number)
            .map(|(_, n)| *n)
            .collect();
        if same.len() > 1 {
            let files: Vec<String> = same.iter().map(|n| format!("src/{n}.rs")).collect();
            out.push(format!(
                "{} share the number {number:03} (two branches merged?): renumber the one that \
                 no database has applied yet to m{:03} and up (rename its file and its entry \
                 in {list}; a name already recorded in seaql_migrations must not change)",
                files.join(" and "),
                numbered.iter().map(|(k, _)| *k).max().unwrap_or(0) + 1,
            ));
        }
    }
    // Consecutive and in order, from 1.
    for (i, (number, name)) in numbered.iter().enumerate() {
        let expected = i as u32 + 1;
        if *number == expected || seen_duplicate(&numbered, *number) {
            continue;
        }
        let previous = i
            .checked_sub(1)
            .map_or("the start".to_owned(), |p| numbered[p].1.to_owned());
        out.push(format!(
            "src/{name}.rs is number {number:03} but stands {} in {list}, after {previous}: \
             migrations are numbered 001, 002, … in the order they are listed, with no gap; \
             list it in number order, or renumber it m{expected:03} if no database has \
             applied it yet",
            ordinal(i + 1)
        ));
        break;
    }
    // Files and registrations.
    for file in files {
        let stem = file.strip_suffix(".rs");
        if stem.is_some_and(|s| registered.contains(&s)) {
            continue;
        }
        out.push(match stem {
            Some(stem) => format!(
                "src/{file} is not registered: it builds but never runs; add `{stem},` to {list} \
                 (in number order), or delete the file"
            ),
            None => format!(
                "src/{file} looks like a migration but is not a Rust file: migrations are \
                 src/mNNN_name.rs registered in {list}; rename or remove it"
            ),
        });
    }
    for name in registered {
        let file = format!("{name}.rs");
        if !files.contains(&file) {
            out.push(format!(
                "{name} is registered in {list} but src/{file} does not exist"
            ));
        }
    }
    out
}

/// The migration of `names` that `recorded` (a name the binary does not
/// have) probably is under another number: the one with the same words
/// after `mNNN_` and another number.
pub fn renumbered_as<'n>(recorded: &str, names: &[&'n str]) -> Option<&'n str> {
    let (number, _, words) = parse(recorded)?;
    names
        .iter()
        .copied()
        .find(|n| parse(n).is_some_and(|(k, _, w)| w == words && k != number))
}

fn seen_duplicate(numbered: &[(u32, &str)], number: u32) -> bool {
    numbered.iter().filter(|(k, _)| *k == number).count() > 1
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| format!("{n}.rs")).collect()
    }

    #[test]
    fn names_are_m_three_digits_and_snake_case_words() {
        assert_eq!(parse("m011_add_notes"), Some((11, "011", "add_notes")));
        assert_eq!(parse("m1000_x2"), Some((1000, "1000", "x2")));
        for bad in [
            "m11_notes",
            "m011_",
            "m011__",
            "m011_a__b",
            "m011_Notes",
            "m011_notes_",
            "011_notes",
            "m011notes",
            "m0x1_notes",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_sound_history_has_no_problems() {
        let names = ["m001_a", "m002_b", "m003_c"];
        assert_eq!(check(&files(&names), &names), Vec::<String>::new());
    }

    #[test]
    fn two_migrations_with_one_number_are_named_with_the_fix() {
        let names = ["m001_a", "m002_b", "m002_c"];
        assert_eq!(
            check(&files(&names), &names),
            [
                "src/m002_b.rs and src/m002_c.rs share the number 002 (two branches merged?): \
              renumber the one that no database has applied yet to m003 and up (rename its \
              file and its entry in the migrator! list in src/lib.rs; a name already recorded \
              in seaql_migrations must not change)"
            ]
        );
    }

    #[test]
    fn an_unregistered_file_is_named() {
        let names = ["m001_a", "m002_b"];
        let mut found = files(&names);
        found.push("m003_forgotten.rs".to_owned());
        found.push("m004_notes.sql".to_owned());
        assert_eq!(
            check(&found, &names),
            [
                "src/m003_forgotten.rs is not registered: it builds but never runs; add \
                 `m003_forgotten,` to the migrator! list in src/lib.rs (in number order), or \
                 delete the file",
                "src/m004_notes.sql looks like a migration but is not a Rust file: migrations \
                 are src/mNNN_name.rs registered in the migrator! list in src/lib.rs; rename \
                 or remove it",
            ]
        );
    }

    #[test]
    fn gaps_order_and_names_are_named() {
        let names = ["m001_a", "m003_c"];
        assert_eq!(
            check(&files(&names), &names),
            [
                "src/m003_c.rs is number 003 but stands 2nd in the migrator! list in src/lib.rs, \
              after m001_a: migrations are numbered 001, 002, … in the order they are listed, \
              with no gap; list it in number order, or renumber it m002 if no database has \
              applied it yet"
            ]
        );
        let names = ["m002_b", "m001_a"];
        assert_eq!(check(&files(&names), &names).len(), 1);
        let names = ["m001_a", "m2_Bad"];
        assert_eq!(
            check(&files(&names), &names),
            [
                "m2_Bad (src/m2_Bad.rs) is not named mNNN_snake_case (m, at least three digits, \
              an underscore, then lower-case words joined by single underscores): rename the \
              file and its entry in the migrator! list in src/lib.rs before any database \
              applies it"
            ]
        );
    }

    fn line(e: crate::Error) -> String {
        crate::one_line(&e, &[])
    }

    #[test]
    fn a_recorded_name_the_binary_has_under_another_number_is_renumbered() {
        let names = ["m010_x", "m011_add_a", "m012_add_b"];
        assert_eq!(renumbered_as("m011_add_b", &names), Some("m012_add_b"));
        assert_eq!(renumbered_as("m011_add_c", &names), None);
        assert_eq!(renumbered_as("m011_add_a", &names), None);
        let state = crate::model::recorded::State {
            unknown: vec!["m011_add_b".to_owned()],
            renumbered: vec![crate::model::recorded::Renumbered {
                recorded: "m011_add_b".to_owned(),
                now: "m012_add_b".to_owned(),
                table: "seaql_migrations".to_owned(),
            }],
            ..Default::default()
        };
        assert_eq!(
            line(state.refuse_unknown().expect_err("refused")),
            "the database records m011_add_b, which this binary does not have but has as \
             m012_add_b: renumbered since it was applied (two branches took one number?); if \
             it is the same migration, rename the row: UPDATE seaql_migrations SET version = \
             'm012_add_b' WHERE version = 'm011_add_b'; nothing was changed"
        );
    }

    #[test]
    fn a_gap_between_two_migrations_of_one_number_says_so() {
        let names = ["m001_a", "m002_b", "m002_c"];
        let e = crate::pure::history::check(&names, &["m001_a", "m002_c"], "seaql_migrations")
            .expect_err("refused");
        assert_eq!(
            line(e),
            "m002_b is not recorded although m002_c, which has the same number, is: two \
             migrations share one number (two branches merged?); renumber the one that no \
             database has applied yet (not m002_c, which this database has) to follow the last \
             migration, and deploy a binary with that; nothing was changed"
        );
    }

    #[test]
    fn a_registered_migration_without_its_file_is_named() {
        assert_eq!(
            check(&files(&["m001_a"]), &["m001_a", "m002_b"]),
            [
                "m002_b is registered in the migrator! list in src/lib.rs but src/m002_b.rs does \
              not exist"
            ]
        );
    }
}
