//! Tables in an order that creates each after those it references.

use std::collections::{BTreeMap, BTreeSet};

/// The names of `dependencies` (name → names it depends on), each after
/// those it depends on; among names that are ready, the first by name comes
/// first. A name depending on itself, or on a name that is not a key of
/// `dependencies`, is not held back by it. Names in a cycle come out anyway:
/// when none is ready, the first remaining by name is taken (its foreign keys
/// then have to be added after the tables, as schema dumps do).
pub fn dependency_order<'a>(dependencies: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<&'a str> {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::with_capacity(dependencies.len());
    while order.len() < dependencies.len() {
        let mut remaining = dependencies
            .iter()
            .filter(|(name, _)| !done.contains(*name));
        let ready = remaining.clone().find(|(name, needs)| {
            needs
                .iter()
                .all(|n| n == *name || done.contains(n) || !dependencies.contains_key(n))
        });
        let Some((&name, _)) = ready.or_else(|| remaining.next()) else {
            break;
        };
        done.insert(name);
        order.push(name);
    }
    order
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    fn order(edges: &[(&'static str, &[&'static str])]) -> Vec<&'static str> {
        let deps: BTreeMap<&str, BTreeSet<&str>> = edges
            .iter()
            .map(|(name, needs)| (*name, needs.iter().copied().collect()))
            .collect();
        super::dependency_order(&deps)
    }

    #[test]
    fn each_comes_after_what_it_references_ties_by_name() {
        assert_eq!(
            order(&[
                ("iterations", &["jobs", "users"]),
                ("jobs", &["users"]),
                ("payments", &["users"]),
                ("users", &[]),
                ("audit", &[]),
            ]),
            ["audit", "users", "jobs", "iterations", "payments"]
        );
    }

    #[test]
    fn a_self_reference_does_not_hold_a_table_back() {
        assert_eq!(
            order(&[("iterations", &["iterations", "jobs"]), ("jobs", &[])]),
            ["jobs", "iterations"]
        );
    }

    #[test]
    fn a_reference_outside_the_catalog_is_ignored() {
        assert_eq!(
            order(&[("jobs", &["other.users"]), ("alpha", &["jobs"])]),
            ["jobs", "alpha"]
        );
    }

    #[test]
    fn a_cycle_is_broken_at_its_first_name_by_name() {
        assert_eq!(
            order(&[("b", &["a"]), ("a", &["b"]), ("c", &["b"]), ("d", &[])]),
            ["d", "a", "b", "c"]
        );
        assert_eq!(order(&[]), Vec::<&str>::new());
    }
}
