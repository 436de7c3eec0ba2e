//! SIGTERM and SIGINT during a command: the run is asked to stop
//! ([`crate::model::stop`]), cancels its statement on the server, rolls back,
//! releases its lock and ends with one `error: stopped by …` line. A second
//! signal ends the process at once. Needs tokio's signal handling: a CLI
//! built for async-std only keeps the default (the process ends, and the
//! server ends the run's transactions once it notices).

use std::future::Future;

use crate::Error;

/// Runs `work`, asking it to stop on the first SIGTERM or SIGINT.
#[cfg(feature = "runtime-tokio")]
pub(super) async fn until_stopped<T>(
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let mut signals = Signals::new();
    let mut work = std::pin::pin!(work);
    tokio::select! {
        outcome = &mut work => return outcome,
        signal = signals.next() => crate::model::stop::request(signal),
    }
    tokio::select! {
        outcome = &mut work => outcome,
        signal = signals.next() => Err(Error::Stopped { signal, step: None }),
    }
}

#[cfg(not(feature = "runtime-tokio"))]
pub(super) async fn until_stopped<T>(
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    work.await
}

#[cfg(feature = "runtime-tokio")]
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

#[cfg(feature = "runtime-tokio")]
impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal's name; never, when none can be listened for.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.term) => "SIGTERM",
                () = recv(&mut self.int) => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}
