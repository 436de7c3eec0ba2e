//! Stopping a run on request: the CLI asks for it on SIGTERM or SIGINT
//! ([`request`]), and the run then stops where it stands without leaving
//! anything behind on the server.
//!
//! A PostgreSQL step that is waiting or running has its statement cancelled
//! from the migration lock's connection (`pg_cancel_backend`, see
//! [`crate::backend::postgres::lock_wait::watch`]), its transaction is rolled back, and the
//! run's lock is released before the process exits, so no queued `ALTER`
//! keeps the application's queries waiting. A step that finishes meanwhile
//! is rolled back instead of committed; the run starts no further step and
//! stops waiting for another run's lock.

use std::sync::OnceLock;

use crate::Error;

static STOP: OnceLock<&'static str> = OnceLock::new();

/// Asks the run in progress (and any later one in this process) to stop,
/// naming why (`SIGTERM`). An application embedding the runner may call it
/// from its own shutdown handling.
pub fn request(signal: &'static str) {
    let _ = STOP.set(signal);
}

/// Why the run was asked to stop, if it was.
pub(crate) fn requested() -> Option<&'static str> {
    STOP.get().copied()
}

/// The run's error once it was asked to stop: `step` is the migration whose
/// transaction was cancelled and rolled back, if one was in flight.
pub(crate) fn refuse_if_stopped(step: Option<&str>) -> Result<(), Error> {
    match requested() {
        Some(signal) => Err(Error::Stopped {
            signal,
            step: step.map(str::to_owned),
        }),
        None => Ok(()),
    }
}
