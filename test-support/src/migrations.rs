//! A migrator's migrations as the tests name them: every count, list and
//! head a test compares with is taken from the migrator's own history, so a
//! new migration appended to it changes what the tests expect, not the tests.

use migration_core::Described;
use migration_core::runner::History;

/// The names of a migrator's migrations, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrations {
    names: Vec<String>,
}

impl Migrations {
    /// The migrations of the migrator `M`.
    pub fn of<M: Described>() -> Migrations {
        Migrations::from_history(&History::of::<M>())
    }

    /// The migrations of `history`.
    pub fn from_history(history: &History) -> Migrations {
        let names: Vec<String> = history.names().into_iter().map(str::to_owned).collect();
        assert!(!names.is_empty(), "a migrator has at least one migration");
        Migrations { names }
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are none (never: a migrator has at least one).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every name, oldest first.
    pub fn names(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }

    /// The oldest `n` names, what a database at the `n`th migration records.
    pub fn first(&self, n: usize) -> Vec<&str> {
        assert!(n <= self.len(), "only {} migrations, not {n}", self.len());
        self.names[..n].iter().map(String::as_str).collect()
    }

    /// The name of the migration at `index` (0 is the first).
    pub fn name(&self, index: usize) -> &str {
        &self.names[index]
    }

    /// The width `status` and `history` give the name column: the longest
    /// name's.
    pub fn width(&self) -> usize {
        self.names.iter().map(String::len).max().unwrap_or(0)
    }

    /// The newest migration's name.
    pub fn head(&self) -> &str {
        self.names.last().expect("at least one migration")
    }

    /// The migration just before the head.
    pub fn before_head(&self) -> &str {
        assert!(self.len() >= 2, "no migration before the head");
        &self.names[self.len() - 2]
    }

    /// Where `name` is in the history (0 is the first).
    pub fn position(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("{name} is not a migration of this history"))
    }

    /// How many migrations come after `name`.
    pub fn after(&self, name: &str) -> usize {
        self.len() - 1 - self.position(name)
    }

    /// The number the next generated migration takes: one more than the
    /// newest migration's `mNNN_` number.
    pub fn next_number(&self) -> u32 {
        number_of(self.head()) + 1
    }

    /// The name `generate <suffix>` gives the next migration, `mNNN_<suffix>`.
    pub fn next_name(&self, suffix: &str) -> String {
        format!("m{:03}_{suffix}", self.next_number())
    }

    /// `n` migrations, in the words of the migrator's summaries: `1 migration`,
    /// `2 migrations`.
    pub fn count(n: usize) -> String {
        if n == 1 {
            "1 migration".to_owned()
        } else {
            format!("{n} migrations")
        }
    }
}

/// The number in a migration name `mNNN_…`.
pub fn number_of(name: &str) -> u32 {
    name.strip_prefix('m')
        .and_then(|rest| rest.split('_').next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not named mNNN_…"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_from_names() {
        assert_eq!(number_of("m010_remove_reader_type_column"), 10);
        assert_eq!(number_of("m001_initial_schema"), 1);
        assert_eq!(number_of("m123_x"), 123);
        let m = Migrations {
            names: vec!["m001_a".to_owned(), "m009_b".to_owned()],
        };
        assert_eq!(m.next_name("add_x"), "m010_add_x");
        assert_eq!(m.first(1), vec!["m001_a"]);
        assert_eq!(m.after("m001_a"), 1);
        assert_eq!(m.before_head(), "m001_a");
        assert_eq!(Migrations::count(1), "1 migration");
        assert_eq!(Migrations::count(3), "3 migrations");
    }
}
