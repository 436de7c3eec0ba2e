//! Line diffs for failure messages.

use similar::{ChangeTag, TextDiff};

/// A unified diff (3 lines of context) from `old`, called `old_name`, to
/// `new`, called `new_name`; empty when they are equal.
pub fn unified(old: &str, old_name: &str, new: &str, new_name: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

/// How many lines are only in `old` or only in `new`.
pub fn changed_lines(old: &str, new: &str) -> usize {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .filter(|change| change.tag() != ChangeTag::Equal)
        .count()
}
