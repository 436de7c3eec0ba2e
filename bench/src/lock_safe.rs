//! Section 5: an application's writes and reads on `jobs` (1,000,000 rows)
//! while the runner applies (a) a plain `CREATE INDEX` in a transactional
//! migration, (b) the same index built as the guide
//! (`docs/lock-safe-migrations.md`) writes it, with
//! `lock_safe::create_index_concurrently` in a migration outside a
//! transaction, and (c) a new column backfilled the guide's way: added
//! nullable with a default for new rows by one migration, filled by `lock_safe::backfill_in_batches` in
//! a second one outside a transaction.
//!
//! A writer inserts into `jobs` about 250 times a second on a connection of
//! its own, a reader selects a job by its key about 100 times a second on
//! another; each statement is timed. Each scenario runs through the real
//! runner (`migration_core::runner::up`) with a small migrator of the
//! bench's own, which keeps its bookkeeping in a table of its own
//! (`bench_migrations`), beside the Sketch2BIM history of the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use migration_core::lock_safe;
use migration_core::runner::{self, Goal, History, RunOptions};
use sea_orm::sea_query::{Alias, ColumnDef, IntoIden, Table};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, DynIden, Statement};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

use super::{
    Fallible, connect_as_migrator, connect_plain, create_db, drop_db, exec, ms, spread, url_for,
};

/// Rounds per scenario.
const ROUNDS: usize = 3;
/// Jobs in the table.
const JOBS: u32 = 1_000_000;
/// Rows per statement of the backfill.
const BATCH: u32 = 10_000;
/// What the backfill sets.
const SET_PRIORITY: &str = "priority = CASE WHEN status = 'queued' THEN 1 ELSE 0 END";
/// Time between two inserts of the writer (about 250 a second).
const WRITE_EVERY: Duration = Duration::from_millis(4);
/// Time between two reads of the reader (about 100 a second).
const READ_EVERY: Duration = Duration::from_millis(10);
/// Writes and reads timed before the migration starts and after it ends.
const MARGIN: Duration = Duration::from_millis(500);

/// (a) The index built as a plain transactional migration would.
struct PlainIndex;
/// (b) The same index, as the guide writes it.
struct IndexConcurrently;
/// (c) A nullable column and its default for new rows, in the
/// migration's transaction.
struct AddPriority;
/// (c) Its backfill, batch by batch, outside a transaction.
struct BackfillPriority;

impl MigrationName for PlainIndex {
    fn name(&self) -> &str {
        "m001_plain_index_on_jobs"
    }
}
impl MigrationName for IndexConcurrently {
    fn name(&self) -> &str {
        "m001_index_jobs_concurrently"
    }
}
impl MigrationName for AddPriority {
    fn name(&self) -> &str {
        "m001_add_priority_to_jobs"
    }
}
impl MigrationName for BackfillPriority {
    fn name(&self) -> &str {
        "m002_backfill_jobs_priority"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for PlainIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX ix_jobs_user_created ON jobs (user_id, created_at)")
            .await
            .map(|_| ())
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for IndexConcurrently {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        lock_safe::create_index_concurrently(
            manager,
            "ix_jobs_user_created",
            "jobs",
            &["user_id", "created_at"],
        )
        .await
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for AddPriority {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("jobs"))
                    .add_column(ColumnDef::new(Alias::new("priority")).integer())
                    .to_owned(),
            )
            .await?;
        // New jobs (queued) get theirs from the default, so the writer's
        // rows are never pending and the backfill ends.
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE jobs ALTER COLUMN priority SET DEFAULT 1")
            .await
            .map(|_| ())
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for BackfillPriority {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        lock_safe::backfill_in_batches(
            manager,
            "jobs",
            "id",
            SET_PRIORITY,
            "priority IS NULL",
            BATCH,
        )
        .await
        .map(|_| ())
    }
}

/// A migrator of the bench's own: `$name` applies `$migration`s, recorded
/// in `bench_migrations`.
macro_rules! bench_migrator {
    ($name:ident: $($migration:expr),+) => {
        struct $name;

        #[sea_orm_migration::async_trait::async_trait]
        impl MigratorTrait for $name {
            fn migrations() -> Vec<Box<dyn MigrationTrait>> {
                vec![$(Box::new($migration)),+]
            }

            fn migration_table_name() -> DynIden {
                Alias::new("bench_migrations").into_iden()
            }
        }

        impl migration_core::Described for $name {
            const DATABASE: migration_core::Database = migration_core::Database {
                name: "bench",
                title: "Bench",
                url_env: "BENCH_DATABASE_URL",
                default_sqlite_file: "bench.sqlite",
                crate_dir: ".",
                alembic_revisions: 0,
            };

            fn summaries() -> Vec<(&'static str, &'static str)> {
                Vec::new()
            }
        }
    };
}

bench_migrator!(Plain: PlainIndex);
bench_migrator!(Concurrent: IndexConcurrently);
bench_migrator!(Backfill: AddPriority, BackfillPriority);

/// What one round measured.
struct Round {
    migration: Duration,
    inserts: Vec<Duration>,
    selects: Vec<Duration>,
}

/// Times `sql` on `db` every `every` until `stop`.
fn timed_loop(
    db: DatabaseConnection,
    every: Duration,
    stop: Arc<AtomicBool>,
    sql: impl Fn(u64) -> String + Send + 'static,
    read: bool,
) -> tokio::task::JoinHandle<Fallible<Vec<Duration>>> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut taken = Vec::new();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            n += 1;
            let sql = sql(n);
            let t = Instant::now();
            if read {
                db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql.as_str()))
                    .await
                    .map_err(|e| format!("{sql}: {e}"))?
                    .ok_or_else(|| format!("{sql}: no row"))?;
            } else {
                exec(&db, &sql).await?;
            }
            taken.push(t.elapsed());
        }
        let _ = db.close().await;
        Ok(taken)
    })
}

/// One round: a copy of `template`, the writer and the reader started,
/// `history` applied by the runner, then a check of what it built.
async fn round(
    admin: &DatabaseConnection,
    server: &str,
    template: &str,
    history: &History,
    check: &str,
) -> Fallible<Round> {
    let name = "kvshvl_bench_lock_safe";
    create_db(admin, name, Some(template)).await?;
    let url = url_for(server, name, Some("disable"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = timed_loop(
        connect_plain(&url).await?,
        WRITE_EVERY,
        stop.clone(),
        |n| {
            format!(
                "INSERT INTO jobs (id, user_id, status, created_at) \
                 VALUES ('written-{n}', {}, 'queued', LOCALTIMESTAMP)",
                n % 200_000 + 1
            )
        },
        false,
    );
    let reader = timed_loop(
        connect_plain(&url).await?,
        READ_EVERY,
        stop.clone(),
        |n| {
            format!(
                "SELECT id, status FROM jobs WHERE id = 'job-{}'",
                n * 7919 % u64::from(JOBS) + 1
            )
        },
        true,
    );
    let db = connect_as_migrator(&url).await?;
    tokio::time::sleep(MARGIN).await;
    let t = Instant::now();
    let ran = runner::up(&db, history, &Goal::All, &RunOptions::default())
        .await
        .map_err(|e| migration_core::one_line(&e, &[]));
    let migration = t.elapsed();
    tokio::time::sleep(MARGIN).await;
    stop.store(true, Ordering::Relaxed);
    let inserts = writer.await.map_err(|e| e.to_string())??;
    let selects = reader.await.map_err(|e| e.to_string())??;
    let report = ran?;
    if report.steps.len() != history.names().len() {
        return Err(format!(
            "the runner applied {} of {} bench migrations",
            report.steps.len(),
            history.names().len()
        ));
    }
    let checked = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, check))
        .await
        .map_err(|e| format!("{check}: {e}"))?
        .and_then(|row| row.try_get_by_index::<bool>(0).ok());
    if checked != Some(true) {
        return Err(format!("after the migration, {check} is not true"));
    }
    let _ = db.close().await;
    drop_db(admin, name).await?;
    Ok(Round {
        migration,
        inserts,
        selects,
    })
}

/// The 99th percentile.
fn p99(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples
        .get(((samples.len().max(1) - 1) as f64 * 0.99).round() as usize)
        .copied()
        .unwrap_or_default()
}

/// Loads the template: Sketch2BIM at head, 200,000 users and 1,000,000 jobs.
async fn load(admin: &DatabaseConnection, server: &str, template: &str) -> Fallible<Duration> {
    create_db(admin, template, None).await?;
    let db = connect_as_migrator(&url_for(server, template, Some("disable"))?).await?;
    runner::up(
        &db,
        &History::of::<sketch2bim_migration::Migrator>(),
        &Goal::All,
        &RunOptions::default(),
    )
    .await
    .map_err(|e| migration_core::one_line(&e, &[]))?;
    let t = Instant::now();
    exec(
        &db,
        &format!(
            "INSERT INTO users (email, subscription_status, created_at) \
             SELECT 'user' || g || '@example.com', \
                    CASE WHEN g % 4 = 0 THEN 'active' ELSE 'inactive' END, LOCALTIMESTAMP \
             FROM generate_series(1, 200000) g; \
             INSERT INTO jobs (id, user_id, status, created_at) \
             SELECT 'job-' || g, (g % 200000) + 1, 'completed', \
                    LOCALTIMESTAMP - make_interval(secs => g) \
             FROM generate_series(1, {JOBS}) g;"
        ),
    )
    .await?;
    exec(&db, "VACUUM ANALYZE").await?;
    let _ = db.close().await;
    let _ = exec(admin, "CHECKPOINT").await;
    Ok(t.elapsed())
}

/// Section 5.
pub(crate) async fn run(admin: &DatabaseConnection, server: &str) -> Fallible<()> {
    let template = "kvshvl_bench_lock_safe_template";
    let loaded = load(admin, server, template).await?;
    println!(
        "### 5. Writers during an index build and a backfill\n\n\
         (1,000,000 jobs, loaded in {}; a writer inserts into `jobs` every {} ms, a reader \
         selects a job by key every {} ms, each on its own connection, from {} ms before the \
         migration to {} ms after it; {ROUNDS} rounds per row)\n",
        ms(loaded),
        WRITE_EVERY.as_millis(),
        READ_EVERY.as_millis(),
        MARGIN.as_millis(),
        MARGIN.as_millis()
    );
    println!(
        "| migration | migration took: median | inserts timed (per round) | insert p99: median of rounds | insert worst: median of rounds / worst | `SELECT` by key worst: median of rounds / worst |"
    );
    println!("|---|---|---|---|---|---|");
    let index_valid = "SELECT bool_and(i.indisvalid) AND count(*) = 1 FROM pg_index i \
                       JOIN pg_class c ON c.oid = i.indexrelid \
                       WHERE c.relname = 'ix_jobs_user_created'";
    let scenarios = [
        (
            "(a) `CREATE INDEX ix_jobs_user_created ON jobs (user_id, created_at)` in a transactional migration",
            History::of::<Plain>(),
            index_valid,
        ),
        (
            "(b) the same index with `create_index_concurrently`, outside a transaction",
            History::of::<Concurrent>(),
            index_valid,
        ),
        (
            "(c) `priority` added nullable (default 1 for new rows), then `backfill_in_batches` (10,000 rows a statement) outside a transaction",
            History::of::<Backfill>(),
            "SELECT count(*) = 0 FROM jobs WHERE priority IS NULL",
        ),
    ];
    for (label, history, check) in &scenarios {
        let (mut took, mut counts, mut p99s, mut worst, mut read_worst) =
            (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..ROUNDS {
            let r = round(admin, server, template, history, check).await?;
            took.push(r.migration);
            counts.push(r.inserts.len().to_string());
            p99s.push(p99(r.inserts.clone()));
            worst.push(r.inserts.iter().copied().max().unwrap_or_default());
            read_worst.push(r.selects.iter().copied().max().unwrap_or_default());
        }
        let max = |d: &[Duration]| d.iter().copied().max().unwrap_or_default();
        println!(
            "| {label} | {} | {} | {} | {} / {} | {} / {} |",
            ms(spread(took).0),
            counts.join(", "),
            ms(spread(p99s).0),
            ms(spread(worst.clone()).0),
            ms(max(&worst)),
            ms(spread(read_worst.clone()).0),
            ms(max(&read_worst)),
        );
    }
    println!();
    drop_db(admin, template).await
}
