//! What is recorded, held against the history: what is pending, what is
//! current, and whether the records are damaged.

use crate::Error;
use crate::model::recorded::State;
use crate::pure::history::History;

impl State {
    pub(crate) fn is_applied(&self, name: &str) -> bool {
        self.applied.iter().any(|a| a.name == name)
    }

    /// The migrations of `history` not applied, oldest first.
    pub fn pending<'h>(&self, history: &'h History) -> Vec<&'h str> {
        history
            .names()
            .into_iter()
            .filter(|n| !self.is_applied(n))
            .collect()
    }

    /// The newest applied migration, in history order.
    pub fn current(&self) -> Option<&str> {
        self.applied.last().map(|a| a.name.as_str())
    }

    /// Refuses duplicate rows and gaps ([`crate::pure::history::check`]); pure.
    pub fn refuse_damage(&self, history: &History) -> Result<(), Error> {
        let recorded: Vec<&str> = self.recorded.iter().map(String::as_str).collect();
        crate::pure::history::check(&history.names(), &recorded, &history.table)
    }

    pub(crate) fn refuse_unknown(&self) -> Result<(), Error> {
        if self.unknown.is_empty() {
            Ok(())
        } else if !self.renumbered.is_empty() {
            Err(Error::Renumbered {
                renumbered: self.renumbered.clone(),
            })
        } else {
            Err(Error::Ahead {
                names: self.unknown.clone(),
            })
        }
    }
}
