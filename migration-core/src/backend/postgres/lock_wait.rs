//! Bounded lock waits: a migration never queues the application behind it for
//! long, and says who it is waiting for.
//!
//! A statement such as `ALTER TABLE jobs …` needs an exclusive lock on `jobs`.
//! While an application transaction holds any lock on `jobs` (even by having
//! read it), the ALTER waits, and every later query on `jobs` queues behind the
//! waiting ALTER: the table is unusable until the application transaction
//! ends. So on PostgreSQL each migration's transaction starts with
//! `SET LOCAL lock_timeout` (the *lock wait*, 2 s by default, `--table-lock-timeout` or
//! `MIGRATION_LOCK_WAIT`): a statement that cannot get its lock in that time
//! fails with SQLSTATE 55P03, the runner rolls the whole migration back, which
//! lets the queued application queries through, and tries again after a pause
//! (250 ms, doubling up to 2 s), until the run's `--wait-budget` is spent.
//!
//! Who blocks it is read while it waits, from the migration lock's own
//! connection (the migration's connection is busy waiting): the migration's
//! transaction names itself with `SET LOCAL application_name = 'migrating
//! <migration>'`, so it can be found in `pg_stat_activity` (and is
//! recognisable there to anyone looking), and `pg_blocking_pids` of that
//! backend, joined with `pg_locks` (the relation it waits for) and
//! `pg_stat_activity` (each blocker's application name, state and
//! transaction start), names the table and the blocking backends. It is read
//! halfway through each lock wait (every 5 s when the wait is unbounded), in
//! a savepoint of the lock's transaction, after clearing that transaction's
//! statistics snapshot.

use futures_util::future::{Either, select};
use sea_orm::DbErr;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::Error;
use crate::backend::postgres::lock::sqlstate;

pub(crate) use crate::model::run::DEFAULT_LOCK_WAIT;

/// The environment variable that sets the lock wait (the CLI's `--table-lock-timeout`
/// wins over it; `migrate_on_startup` reads it too).
pub const LOCK_WAIT_ENV: &str = "MIGRATION_LOCK_WAIT";

/// The pause after the first attempt that timed out; it doubles after each
/// further one, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// The longest pause between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

const EXPECTED: &str = "a duration such as 500ms, 2s or 1.5s, or 0 for no bound";

/// Parses a lock wait: `500ms`, `2s`, `1.5s`, `1s 500ms`; `0` (with or
/// without a unit) means no bound (`None`). Units are `ms` and `s` only, in
/// any case: `m` would be minutes to some readers and milliseconds to others.
pub fn parse_lock_wait(name: &'static str, value: &str) -> Result<Option<Duration>, Error> {
    let invalid = || Error::InvalidSetting {
        name,
        value: value.to_owned(),
        expected: EXPECTED,
    };
    let text = value.trim().to_ascii_lowercase();
    let units_known = text
        .split(|c: char| !c.is_alphabetic())
        .all(|unit| matches!(unit, "" | "ms" | "s"));
    if !units_known {
        return Err(invalid());
    }
    // humantime takes a bare `0` and requires a unit on anything else, and
    // a leading digit: `.5s` is `0.5s`, as it always was here.
    let text = match text.strip_prefix('.') {
        Some(fraction) => format!("0.{fraction}"),
        None => text,
    };
    let wait = humantime::parse_duration(&text).map_err(|_| invalid())?;
    // PostgreSQL's lock_timeout is an int of milliseconds; a non-zero wait
    // below a millisecond is one, not "no bound".
    let ms = match (wait.as_nanos() + 500_000) / 1_000_000 {
        0 if !wait.is_zero() => 1,
        ms => ms,
    };
    if ms > i32::MAX as u128 {
        return Err(invalid());
    }
    if ms == 0 {
        return Ok(None);
    }
    Ok(Some(Duration::from_millis(ms as u64)))
}

/// The lock wait from `MIGRATION_LOCK_WAIT`, else the default.
pub fn lock_wait_from_env() -> Result<Option<Duration>, Error> {
    match std::env::var(LOCK_WAIT_ENV) {
        Ok(value) => parse_lock_wait(LOCK_WAIT_ENV, &value),
        Err(std::env::VarError::NotPresent) => Ok(Some(DEFAULT_LOCK_WAIT)),
        Err(std::env::VarError::NotUnicode(value)) => Err(Error::InvalidSetting {
            name: LOCK_WAIT_ENV,
            value: value.to_string_lossy().into_owned(),
            expected: EXPECTED,
        }),
    }
}

/// `2 s`, `1.5 s`, `200 ms`, `unbounded`.
pub(crate) fn show(wait: Option<Duration>) -> String {
    match wait {
        None => "unbounded".to_owned(),
        Some(d) if d.as_millis() % 1000 == 0 => format!("{} s", d.as_secs()),
        Some(d) if d.as_millis() >= 1000 => format!("{} s", d.as_millis() as f64 / 1000.0),
        Some(d) => format!("{} ms", d.as_millis()),
    }
}

/// How the migration's backend names itself while its transaction is open
/// (at most 63 bytes, as PostgreSQL keeps it).
fn marker(migration: &str) -> String {
    let mut marker = format!("migrating {migration}");
    while marker.len() > 63 {
        marker.pop();
    }
    marker
}

/// The statements that open a migration's transaction on PostgreSQL: its
/// lock wait, and the name it goes by in `pg_stat_activity`.
pub(crate) fn prologue(migration: &str, wait: Option<Duration>) -> Vec<String> {
    let timeout = match wait {
        Some(d) => format!("SET LOCAL lock_timeout = '{}ms'", d.as_millis().max(1)),
        None => "SET LOCAL lock_timeout = 0".to_owned(),
    };
    vec![
        timeout,
        format!(
            "SET LOCAL application_name = {}",
            crate::backend::transport::literal(&marker(migration))
        ),
    ]
}

/// The database's error when `err` is a statement that gave up waiting for
/// a lock (SQLSTATE 55P03, lock_not_available).
pub(crate) fn lock_not_available(err: &Error) -> bool {
    matches!(err, Error::Migration { source, .. } if sqlstate(source).as_deref() == Some("55P03"))
}

/// A backend holding (or queued before) a lock the migration waits for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Blocker {
    /// What the migration waits for: a table's name, or the kind of lock.
    pub relation: String,
    pub pid: i32,
    pub application: String,
    pub state: String,
    /// Seconds since its transaction began.
    pub transaction_open: Option<f64>,
}

/// What the migration's backend waits for and who holds it, now; empty when
/// it is not waiting (or on any error: this only informs).
async fn observe(conn: &crate::backend::transport::Transaction, migration: &str) -> Vec<Blocker> {
    // pg_stat_activity is read once per transaction and then kept: start
    // from a fresh snapshot, in a savepoint so that a failure here cannot
    // abort the transaction that holds the migration lock.
    if conn
        .execute("SAVEPOINT lock_wait_observer; SELECT pg_stat_clear_snapshot()")
        .await
        .is_err()
    {
        return Vec::new();
    }
    let sql = format!(
        "SELECT coalesce(w.relation::regclass::text, w.locktype) AS relation, \
                b.pid AS pid, \
                coalesce(b.application_name, '') AS application, \
                coalesce(b.state, 'state unknown') AS state, \
                extract(epoch FROM clock_timestamp() - b.xact_start)::float8 AS transaction_open \
         FROM pg_stat_activity m \
         JOIN pg_locks w ON w.pid = m.pid AND NOT w.granted \
         CROSS JOIN LATERAL unnest(pg_blocking_pids(m.pid)) AS blocking(pid) \
         JOIN pg_stat_activity b ON b.pid = blocking.pid \
         WHERE m.datname = current_database() AND m.application_name = {} \
         ORDER BY b.xact_start NULLS LAST, b.pid",
        crate::backend::transport::literal(&marker(migration))
    );
    let rows = crate::backend::transport::Reader::query_all(conn, sql).await;
    let end = if rows.is_ok() {
        "RELEASE SAVEPOINT lock_wait_observer"
    } else {
        "ROLLBACK TO SAVEPOINT lock_wait_observer"
    };
    let _ = conn.execute(end).await;
    let parse = |row: &sea_orm::QueryResult| -> Result<Blocker, DbErr> {
        Ok(Blocker {
            relation: row.try_get("", "relation")?,
            pid: row.try_get("", "pid")?,
            application: row.try_get("", "application")?,
            state: row.try_get("", "state")?,
            transaction_open: row.try_get("", "transaction_open")?,
        })
    };
    match rows {
        Ok(rows) => rows.iter().filter_map(|r| parse(r).ok()).collect(),
        Err(e) => {
            tracing::debug!("cannot read who blocks {migration}: {e}");
            Vec::new()
        }
    }
}

/// How often a step in flight looks whether the run was asked to stop.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Cancels the statement the migration's backend is running or waiting in
/// (PostgreSQL's cancel request, sent from the lock's connection), so that
/// its transaction fails, is rolled back, and queues nothing behind it.
async fn cancel(conn: &crate::backend::transport::Transaction, migration: &str) {
    // In a savepoint, from a fresh statistics snapshot, as `observe`.
    let sql = format!(
        "SAVEPOINT stop_cancel; SELECT pg_stat_clear_snapshot(); \
         SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = {} \
         AND pid <> pg_backend_pid()",
        crate::backend::transport::literal(&marker(migration))
    );
    let end = match conn.execute(&sql).await {
        Ok(_) => "RELEASE SAVEPOINT stop_cancel",
        Err(e) => {
            tracing::debug!("cannot cancel {migration}: {e}");
            "ROLLBACK TO SAVEPOINT stop_cancel"
        }
    };
    let _ = conn.execute(end).await;
}

/// The tables waited for, and who held them: `jobs`, `held by pid 4242
/// (application "api", idle in transaction, transaction open 12.3 s)`.
pub(crate) fn describe(blockers: &[Blocker]) -> (String, String) {
    if blockers.is_empty() {
        return (
            "a table".to_owned(),
            "held by a transaction that ended before it could be named".to_owned(),
        );
    }
    let mut relations: Vec<&str> = Vec::new();
    for b in blockers {
        if !relations.contains(&b.relation.as_str()) {
            relations.push(&b.relation);
        }
    }
    let mut seen: Vec<i32> = Vec::new();
    let held: Vec<String> = blockers
        .iter()
        .filter(|b| {
            let new = !seen.contains(&b.pid);
            seen.push(b.pid);
            new
        })
        .map(|b| {
            let mut what = vec![if b.application.is_empty() {
                "no application name".to_owned()
            } else {
                format!("application {:?}", b.application)
            }];
            what.push(b.state.clone());
            if let Some(open) = b.transaction_open {
                what.push(format!("transaction open {open:.1} s"));
            }
            format!("pid {} ({})", b.pid, what.join(", "))
        })
        .collect();
    (
        relations.join(", "),
        format!("held by {}", held.join(" and ")),
    )
}

/// Runs `attempt` (one try at a migration) while looking, from the
/// migration lock's connection `observer`, at what it waits for: halfway
/// through each lock wait, or after 1 s and then every 5 s when the wait is
/// unbounded (each new blocker is then logged, since no retry will). Returns
/// the attempt's outcome and the last blockers seen.
pub(crate) async fn watch<T>(
    attempt: impl Future<Output = T>,
    observer: Option<&crate::backend::transport::Transaction>,
    migration: &str,
    wait: Option<Duration>,
) -> (T, Vec<Blocker>) {
    let Some(conn) = observer else {
        return (attempt.await, Vec::new());
    };
    let mut attempt = std::pin::pin!(attempt);
    let mut seen: Vec<Blocker> = Vec::new();
    let mut every = match wait {
        Some(w) => (w / 2).max(Duration::from_millis(20)),
        None => Duration::from_secs(1),
    };
    let mut next = Instant::now() + every;
    let mut cancelled = false;
    loop {
        // Woken at least every 100 ms to see whether the run was asked to
        // stop (no statement is sent for that).
        let tick = next
            .saturating_duration_since(Instant::now())
            .min(STOP_POLL);
        let pause = std::pin::pin!(crate::backend::rt::sleep(tick));
        match select(attempt.as_mut(), pause).await {
            Either::Left((outcome, _)) => return (outcome, seen),
            // The attempt is not polled meanwhile; its statement keeps
            // running on the server and is picked up on the next turn.
            Either::Right(((), _)) => {
                if !cancelled && crate::model::stop::requested().is_some() {
                    cancel(conn, migration).await;
                    cancelled = true;
                }
                if Instant::now() < next {
                    continue;
                }
                next = Instant::now() + every;
                let now = observe(conn, migration).await;
                if now.is_empty() {
                    continue;
                }
                if wait.is_none() {
                    let pids = |b: &[Blocker]| b.iter().map(|b| b.pid).collect::<Vec<_>>();
                    if pids(&now) != pids(&seen) {
                        let (relation, held) = describe(&now);
                        tracing::info!(
                            "waiting for a lock on {relation} (lock wait unbounded): {held}"
                        );
                    }
                    every = Duration::from_secs(5);
                    next = Instant::now() + every;
                }
                seen = now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_waits_parse_with_a_unit_and_zero_means_no_bound() {
        let ok = |v| parse_lock_wait("MIGRATION_LOCK_WAIT", v).ok();
        assert_eq!(ok("500ms"), Some(Some(Duration::from_millis(500))));
        assert_eq!(ok("2s"), Some(Some(Duration::from_secs(2))));
        assert_eq!(ok(" 1.5s "), Some(Some(Duration::from_millis(1500))));
        assert_eq!(ok(".5s"), Some(Some(Duration::from_millis(500))));
        assert_eq!(ok("0"), Some(None));
        assert_eq!(ok("0s"), Some(None));
        // Below a millisecond but not zero: a millisecond, not "no bound".
        assert_eq!(ok("0.4ms"), Some(Some(Duration::from_millis(1))));
        assert_eq!(ok("0.0001s"), Some(Some(Duration::from_millis(1))));
        for bad in [
            "",
            "2",
            "-1s",
            "2 m",
            "s",
            "ms",
            "1e3ms",
            "abc",
            "99999999999s",
        ] {
            let err = parse_lock_wait("MIGRATION_LOCK_WAIT", bad).err();
            assert_eq!(
                err.map(|e| e.to_string()),
                Some(format!(
                    "invalid MIGRATION_LOCK_WAIT={bad:?}: expected a duration such as 500ms, \
                     2s or 1.5s, or 0 for no bound"
                ))
            );
        }
    }

    #[test]
    fn lock_waits_take_ms_and_s_in_any_case_and_round_to_milliseconds() {
        let ok = |v| parse_lock_wait("MIGRATION_LOCK_WAIT", v).ok();
        assert_eq!(ok("1s 500ms"), Some(Some(Duration::from_millis(1500))));
        assert_eq!(ok("2S"), Some(Some(Duration::from_secs(2))));
        assert_eq!(ok("250MS"), Some(Some(Duration::from_millis(250))));
        assert_eq!(ok("2 s"), Some(Some(Duration::from_secs(2))));
        assert_eq!(ok("1.4ms"), Some(Some(Duration::from_millis(1))));
        assert_eq!(ok("1.5ms"), Some(Some(Duration::from_millis(2))));
        assert_eq!(ok("0ms"), Some(None));
        assert_eq!(ok("0.0s"), Some(None));
        // PostgreSQL's limit, 2^31 - 1 ms, and one past it.
        assert_eq!(
            ok("2147483647ms"),
            Some(Some(Duration::from_millis(2_147_483_647)))
        );
        for bad in [
            "2147483648ms",
            "1m",
            "2 minutes",
            "1h",
            "5us",
            "5µs",
            "1.s",
            "+1s",
            "00",
        ] {
            assert!(
                parse_lock_wait("MIGRATION_LOCK_WAIT", bad).is_err(),
                "{bad:?} was taken"
            );
        }
    }

    #[test]
    fn a_wait_is_shown_in_its_own_unit() {
        assert_eq!(show(Some(Duration::from_secs(2))), "2 s");
        assert_eq!(show(Some(Duration::from_millis(1500))), "1.5 s");
        assert_eq!(show(Some(Duration::from_millis(200))), "200 ms");
        assert_eq!(show(None), "unbounded");
    }

    #[test]
    fn blockers_are_described_on_one_line() {
        let b = |pid, app: &str| Blocker {
            relation: "jobs".into(),
            pid,
            application: app.into(),
            state: "idle in transaction".into(),
            transaction_open: Some(12.34),
        };
        assert_eq!(
            describe(&[b(4242, "api"), b(4243, "")]),
            (
                "jobs".to_owned(),
                "held by pid 4242 (application \"api\", idle in transaction, transaction open \
                 12.3 s) and pid 4243 (no application name, idle in transaction, transaction \
                 open 12.3 s)"
                    .to_owned()
            )
        );
        assert_eq!(
            prologue("m009_x", Some(Duration::from_millis(200))),
            vec![
                "SET LOCAL lock_timeout = '200ms'".to_owned(),
                "SET LOCAL application_name = 'migrating m009_x'".to_owned()
            ]
        );
    }
}
