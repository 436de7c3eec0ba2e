//! What a run does: which migrations `up` applies and `down` rolls back, in
//! order, from what is recorded. Pure: no database.

use crate::Error;
use crate::model::recorded::State;
use crate::model::run::Goal;
use crate::pure::history::History;

pub(crate) fn plan_up(history: &History, state: &State, goal: &Goal) -> Result<Vec<usize>, Error> {
    let pending: Vec<usize> = (0..history.migrations.len())
        .filter(|&i| !state.is_applied(history.migrations[i].name()))
        .collect();
    Ok(match goal {
        Goal::All => pending,
        Goal::Steps(n) => pending.into_iter().take(*n as usize).collect(),
        Goal::To(name) => {
            let last = history.position(name)?;
            pending.into_iter().filter(|&i| i <= last).collect()
        }
    })
}

pub(crate) fn plan_down(
    history: &History,
    state: &State,
    goal: &Goal,
) -> Result<Vec<usize>, Error> {
    let mut applied: Vec<usize> = (0..history.migrations.len())
        .filter(|&i| state.is_applied(history.migrations[i].name()))
        .collect();
    applied.reverse();
    Ok(match goal {
        Goal::All => applied,
        Goal::Steps(n) => applied.into_iter().take(*n as usize).collect(),
        Goal::To(name) => {
            let keep = history.position(name)?;
            if !state.is_applied(name) {
                return Err(Error::NotApplied { name: name.clone() });
            }
            applied.into_iter().filter(|&i| i > keep).collect()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::recorded::Applied;

    const NAMES: [&str; 4] = ["m001_a", "m002_b", "m003_c", "m004_d"];

    /// A state with `applied` recorded.
    fn state(applied: &[&str]) -> State {
        State {
            tracked: true,
            applied: applied
                .iter()
                .map(|n| Applied {
                    name: (*n).to_owned(),
                    applied_at: 0,
                    checksum: None,
                })
                .collect(),
            ..State::default()
        }
    }

    fn up(applied: &[&str], goal: Goal) -> Result<Vec<usize>, Error> {
        plan_up(&History::named(&NAMES), &state(applied), &goal)
    }

    fn down(applied: &[&str], goal: Goal) -> Result<Vec<usize>, Error> {
        plan_down(&History::named(&NAMES), &state(applied), &goal)
    }

    #[test]
    fn up_applies_every_pending_migration_in_order() {
        assert_eq!(up(&[], Goal::All).ok(), Some(vec![0, 1, 2, 3]));
        assert_eq!(up(&["m001_a", "m002_b"], Goal::All).ok(), Some(vec![2, 3]));
        assert_eq!(up(&NAMES, Goal::All).ok(), Some(vec![]));
    }

    #[test]
    fn up_with_a_number_applies_at_most_that_many() {
        assert_eq!(up(&["m001_a"], Goal::Steps(2)).ok(), Some(vec![1, 2]));
        assert_eq!(up(&["m001_a"], Goal::Steps(9)).ok(), Some(vec![1, 2, 3]));
        assert_eq!(up(&["m001_a"], Goal::Steps(0)).ok(), Some(vec![]));
    }

    #[test]
    fn up_to_a_name_stops_after_it() {
        assert_eq!(up(&[], Goal::To("m002_b".into())).ok(), Some(vec![0, 1]));
        assert_eq!(
            up(&["m001_a", "m002_b", "m003_c"], Goal::To("m002_b".into())).ok(),
            Some(vec![])
        );
    }

    #[test]
    fn up_to_an_unknown_name_is_an_error_naming_it() {
        match up(&[], Goal::To("m009_z".into())) {
            Err(Error::UnknownMigration { name, .. }) => assert_eq!(name, "m009_z"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn down_rolls_back_newest_first() {
        assert_eq!(down(&NAMES, Goal::Steps(1)).ok(), Some(vec![3]));
        assert_eq!(down(&NAMES, Goal::Steps(2)).ok(), Some(vec![3, 2]));
        assert_eq!(down(&NAMES, Goal::All).ok(), Some(vec![3, 2, 1, 0]));
        assert_eq!(down(&[], Goal::All).ok(), Some(vec![]));
    }

    #[test]
    fn down_to_a_name_keeps_it_applied() {
        assert_eq!(
            down(&NAMES, Goal::To("m002_b".into())).ok(),
            Some(vec![3, 2])
        );
        assert_eq!(down(&NAMES, Goal::To("m004_d".into())).ok(), Some(vec![]));
    }

    #[test]
    fn down_to_a_name_not_applied_is_refused() {
        match down(&["m001_a"], Goal::To("m003_c".into())) {
            Err(e @ Error::NotApplied { .. }) => assert_eq!(
                e.to_string(),
                "m003_c is not applied, so down cannot stop at it"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_history_with_a_hole_plans_only_what_is_missing() {
        // The runner refuses a gap before planning; planning itself stays
        // literal about what is recorded.
        assert_eq!(up(&["m001_a", "m003_c"], Goal::All).ok(), Some(vec![1, 3]));
        assert_eq!(
            down(&["m001_a", "m003_c"], Goal::Steps(1)).ok(),
            Some(vec![2])
        );
    }
}
