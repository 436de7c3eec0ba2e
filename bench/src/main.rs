//! `cargo run --release -p bench`: measures the Sketch2BIM migrator against
//! real PostgreSQL and prints the tables of `docs/performance.md`.
//!
//! 1. No-op `up` at head (the boot-time check): in-process latency, what is
//!    sent (connections, round trips, statements, DDL), and whole-process wall
//!    time and peak memory of the release binary against the psql binary and
//!    a minimal libpq C client sending the same SELECT (`src/floors.rs`).
//! 2. A fresh database to head, against applying `schemas/sketch2bim_schema.sql`
//!    in one transaction (in process, with the psql binary and with the libpq
//!    client) and against stock sea-orm-migration applying it as one
//!    migration. `cargo run --release -p bench -- floors` runs only 1 and 2.
//! 3. A populated database (200,000 users, 1,000,000 jobs) from m006 to head,
//!    against the same statements executed by hand.
//!
//! 4. A busy table: the longest wait of an application query on `jobs`
//!    (every 50 ms from its own connection) while `up` alters `jobs` and an
//!    application transaction holds it for 3 s, with the default lock wait,
//!    a shorter one, and none (`--table-lock-timeout 0`). `cargo run --release -p
//!    bench -- busy` runs only this section.
//! 5. Writers during an index build and a backfill on 1,000,000 jobs: a
//!    plain `CREATE INDEX` against the lock-safe helpers of
//!    `migration_core::lock_safe` (`src/lock_safe.rs`). `cargo run --release -p
//!    bench -- lock-safe` runs only this section.
//!
//! (1) and (2) run with the default sslmode and with `sslmode=disable`. The
//! server is `BENCH_DATABASE_URL`, else `TEST_DATABASE_URL`, else
//! postgres://postgres@127.0.0.1:5432/postgres; the benchmark creates and
//! drops its own databases there.

mod floors;
mod lock_safe;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use migration_core::dry_run;
use migration_core::runner::{self, Direction, Goal, History, RunOptions};
use migration_core::target::Target;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use sketch2bim_migration::Migrator;

type Fallible<T> = Result<T, String>;

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let only = std::env::args().nth(1);
    let outcome = match only.as_deref() {
        None => runtime.block_on(run()),
        Some("floors") => runtime.block_on(floors_only()),
        Some("busy") => runtime.block_on(busy_only()),
        Some("lock-safe") => runtime.block_on(lock_safe_only()),
        Some(other) => Err(format!(
            "unknown section {other:?}: run with no argument for every section, `floors`, \
             `busy` or `lock-safe`"
        )),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

fn server_url() -> String {
    ["BENCH_DATABASE_URL", "TEST_DATABASE_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `server` with database `name` and, if given, `sslmode`.
fn url_for(server: &str, name: &str, sslmode: Option<&str>) -> Fallible<String> {
    let mut url = url::Url::parse(server).map_err(|e| format!("invalid server URL: {e}"))?;
    url.set_path(&format!("/{name}"));
    let others: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "sslmode")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in &others {
            pairs.append_pair(k, v);
        }
        if let Some(mode) = sslmode {
            pairs.append_pair("sslmode", mode);
        }
    }
    let mut s = url.to_string();
    if s.ends_with('?') {
        s.pop();
    }
    Ok(s)
}

async fn connect_plain(url: &str) -> Fallible<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).max_connections(1);
    Database::connect(options)
        .await
        .map_err(|e| format!("cannot connect: {e}"))
}

/// Connects as the migrator does (its pool settings).
async fn connect_as_migrator(url: &str) -> Fallible<DatabaseConnection> {
    let target = Target::resolve(&sketch2bim_migration::DATABASE, Some(url))
        .map_err(|e| migration_core::one_line(&e, &[]))?;
    target
        .connect(None, false, Duration::from_secs(60))
        .await
        .map_err(|e| migration_core::one_line(&e, &[]))
}

async fn exec(db: &DatabaseConnection, sql: &str) -> Fallible<()> {
    db.execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|e| format!("{sql}: {e}"))
}

async fn create_db(admin: &DatabaseConnection, name: &str, template: Option<&str>) -> Fallible<()> {
    exec(
        admin,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
    .await?;
    match template {
        Some(t) => {
            exec(
                admin,
                &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
            )
            .await?
        }
        None => exec(admin, &format!("CREATE DATABASE \"{name}\"")).await?,
    }
    // Copying the template wrote its pages to the WAL; flush them now, not
    // in the middle of the next measurement. Needs superuser or
    // pg_checkpoint; without, the figures are noisier, not wrong.
    let _ = exec(admin, "CHECKPOINT").await;
    Ok(())
}

async fn drop_db(admin: &DatabaseConnection, name: &str) -> Fallible<()> {
    exec(
        admin,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
    .await
}

/// Median and 95th percentile.
fn spread(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    if samples.is_empty() {
        return (Duration::ZERO, Duration::ZERO);
    }
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Wall time of `program args` (stdout and stderr discarded).
fn run_process(program: &Path, args: &[&str]) -> Fallible<Duration> {
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SKETCH2BIM_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(format!("{} {args:?} failed: {status}", program.display()));
    }
    Ok(elapsed)
}

/// Peak resident memory of `program args`, in MiB, from GNU time.
fn peak_rss(program: &Path, args: &[&str]) -> Fallible<f64> {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time (install GNU time): {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kib: f64 = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("no peak memory from /usr/bin/time: {stderr}"))?;
    Ok(kib / 1024.0)
}

fn migrator_binary() -> Fallible<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no directory for the bench binary")?;
    let bin = dir.join("sketch2bim-migration");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "sketch2bim-migration",
        ])
        .status()
        .map_err(|e| format!("cannot build the migrator: {e}"))?;
    if !status.success() || !bin.exists() {
        return Err(format!(
            "the release migrator is missing at {}",
            bin.display()
        ));
    }
    Ok(bin)
}

fn schema_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/sketch2bim_schema.sql")
}

async fn run() -> Fallible<()> {
    let server = server_url();
    let admin = connect_plain(&server).await?;
    let bin = migrator_binary()?;
    let history = History::of::<Migrator>();

    let version: String = admin
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT split_part(version(), ' ', 2) || ', ssl ' || current_setting('ssl')",
        ))
        .await
        .map_err(|e| e.to_string())?
        .and_then(|r| r.try_get_by_index::<String>(0).ok())
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("Machine: {cpu}, {cores} cores; PostgreSQL {version}, local (127.0.0.1).\n");

    println!(
        "Load average (1, 5, 15 min) at the start: {}.\n",
        floors::load()
    );
    floors::run(&admin, &server, &bin, &history).await?;

    // 3. Populated database, m006 → head.
    populated(&admin, &server, &history).await?;
    busy(&admin, &server, &bin).await?;
    lock_safe::run(&admin, &server).await
}

/// Sections 1 and 2 alone.
async fn floors_only() -> Fallible<()> {
    let server = server_url();
    let admin = connect_plain(&server).await?;
    let bin = migrator_binary()?;
    println!(
        "Load average (1, 5, 15 min) at the start: {}.\n",
        floors::load()
    );
    floors::run(&admin, &server, &bin, &History::of::<Migrator>()).await
}

/// Section 5 alone.
async fn lock_safe_only() -> Fallible<()> {
    let server = server_url();
    let admin = connect_plain(&server).await?;
    lock_safe::run(&admin, &server).await
}

/// Section 4 alone.
async fn busy_only() -> Fallible<()> {
    let server = server_url();
    let admin = connect_plain(&server).await?;
    let bin = migrator_binary()?;
    busy(&admin, &server, &bin).await
}

/// How long the blocking application transaction stays open.
const BLOCKER_HOLDS: Duration = Duration::from_secs(3);

/// One round of section 4: returns the app queries' waits, the `up`
/// process's lock waits (lines it logged), and how long after the blocker
/// ended `up` finished.
async fn busy_round(
    admin: &DatabaseConnection,
    server: &str,
    bin: &Path,
    lock_wait: &str,
) -> Fallible<(Vec<Duration>, usize, Duration)> {
    let name = "kvshvl_bench_busy";
    create_db(admin, name, None).await?;
    let url = url_for(server, name, Some("disable"))?;
    {
        let db = connect_as_migrator(&url).await?;
        runner::up(
            &db,
            &History::of::<Migrator>(),
            &Goal::To("m008_add_subscription_fields".into()),
            &RunOptions::default(),
        )
        .await
        .map_err(|e| migration_core::one_line(&e, &[]))?;
        exec(
            &db,
            "INSERT INTO users (email, subscription_status, created_at) \
             SELECT 'user' || g || '@example.com', 'active', LOCALTIMESTAMP \
             FROM generate_series(1, 1000) g; \
             INSERT INTO jobs (id, user_id, status, reader_type, created_at) \
             SELECT 'job-' || g, (g % 1000) + 1, 'completed', 'v1', LOCALTIMESTAMP \
             FROM generate_series(1, 10000) g; ANALYZE",
        )
        .await?;
        let _ = db.close().await;
    }
    let blocker = connect_plain(&url).await?;
    let app = connect_plain(&url).await?;
    exec(&blocker, "BEGIN").await?;
    exec(&blocker, "SELECT count(*) FROM jobs").await?;
    let opened = Instant::now();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app_stop = stop.clone();
    let app_task = tokio::spawn(async move {
        let mut waits = Vec::new();
        while !app_stop.load(std::sync::atomic::Ordering::Relaxed) {
            let t = Instant::now();
            exec(&app, "SELECT count(*) FROM jobs").await?;
            waits.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok::<_, String>(waits)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let bin = bin.to_owned();
    let lock_wait = lock_wait.to_owned();
    let migrating = tokio::task::spawn_blocking(move || {
        Command::new(&bin)
            .args(["-u", &url, "--table-lock-timeout", &lock_wait, "up"])
            .env_remove("DATABASE_URL")
            .env_remove("SKETCH2BIM_DATABASE_URL")
            .env_remove("MIGRATION_LOCK_WAIT")
            .stdout(Stdio::null())
            .output()
            .map(|out| (out, Instant::now()))
    });
    tokio::time::sleep(BLOCKER_HOLDS.saturating_sub(opened.elapsed())).await;
    exec(&blocker, "COMMIT").await?;
    let ended = Instant::now();
    let (out, finished) = migrating
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot run the migrator: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("up on a busy table failed: {stderr}"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let waits = app_task.await.map_err(|e| e.to_string())??;
    let _ = blocker.close().await;
    drop_db(admin, name).await?;
    let lock_waits = stderr
        .lines()
        .filter(|l| l.starts_with("waiting for a lock on "))
        .count();
    Ok((waits, lock_waits, finished.saturating_duration_since(ended)))
}

async fn busy(admin: &DatabaseConnection, server: &str, bin: &Path) -> Fallible<()> {
    println!(
        "### 4. A busy table: `up` (m009 alters `jobs`) while an application transaction holds `jobs` for {} s\n",
        BLOCKER_HOLDS.as_secs()
    );
    println!(
        "An application connection runs `SELECT count(*) FROM jobs` (10,000 rows) every 50 ms \
         throughout; 3 rounds per row.\n"
    );
    println!(
        "| lock wait | app query's longest wait: median of rounds / worst | app queries slower than 100 ms (per round) | `up` done after the blocker ended: median | lock waits logged (per round) |"
    );
    println!("|---|---|---|---|---|");
    for (label, wait) in [
        ("2 s (default)", "2s"),
        ("500 ms", "500ms"),
        ("none (`--table-lock-timeout 0`)", "0"),
    ] {
        let (mut longest, mut slow, mut after, mut logged) = (vec![], vec![], vec![], vec![]);
        for _ in 0..3 {
            let (waits, lock_waits, done_after) = busy_round(admin, server, bin, wait).await?;
            longest.push(waits.iter().copied().max().unwrap_or_default());
            slow.push(
                waits
                    .iter()
                    .filter(|w| **w > Duration::from_millis(100))
                    .count(),
            );
            after.push(done_after);
            logged.push(lock_waits);
        }
        let worst = longest.iter().copied().max().unwrap_or_default();
        println!(
            "| {label} | {} / {} | {} | {} | {} |",
            ms(spread(longest).0),
            ms(worst),
            slow.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            ms(spread(after).0),
            logged
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!();
    Ok(())
}

async fn populated(admin: &DatabaseConnection, server: &str, history: &History) -> Fallible<()> {
    let template = "kvshvl_bench_populated";
    create_db(admin, template, None).await?;
    {
        let db = connect_as_migrator(&url_for(server, template, Some("disable"))?).await?;
        runner::up(
            &db,
            history,
            &Goal::To("m006_remove_api_keys".into()),
            &RunOptions::default(),
        )
        .await
        .map_err(|e| migration_core::one_line(&e, &[]))?;
        let t = Instant::now();
        exec(
            &db,
            "INSERT INTO users (email, subscription_status, created_at) \
             SELECT 'user' || g || '@example.com', \
                    CASE WHEN g % 4 = 0 THEN 'active' ELSE 'inactive' END, LOCALTIMESTAMP \
             FROM generate_series(1, 200000) g; \
             INSERT INTO jobs (id, user_id, status, reader_type, created_at) \
             SELECT 'job-' || g, (g % 200000) + 1, 'completed', 'v1', LOCALTIMESTAMP \
             FROM generate_series(1, 1000000) g; \
             INSERT INTO organizations (name, subscription_tier) \
             SELECT 'org' || g, CASE WHEN g % 2 = 0 THEN 'free' END \
             FROM generate_series(1, 1000) g;",
        )
        .await?;
        exec(&db, "VACUUM ANALYZE").await?;
        println!(
            "### 3. 200,000 users and 1,000,000 jobs, m006 → head\n\n(loaded in {})\n",
            ms(t.elapsed())
        );
        let _ = db.close().await;
    }

    let ours_db = "kvshvl_bench_ours";
    let hand_db = "kvshvl_bench_by_hand";
    let (mut ours_total, mut hand_total) = (Vec::new(), Vec::new());
    let mut ours_steps: Vec<(String, Vec<Duration>)> = Vec::new();
    let mut hand_steps: Vec<(String, Vec<Duration>)> = Vec::new();
    for round in 0..3 {
        create_db(admin, ours_db, Some(template)).await?;
        let db = connect_as_migrator(&url_for(server, ours_db, Some("disable"))?).await?;
        let t = Instant::now();
        let report = runner::up(&db, history, &Goal::All, &RunOptions::default())
            .await
            .map_err(|e| migration_core::one_line(&e, &[]))?;
        ours_total.push(t.elapsed());
        for (i, step) in report.steps.iter().enumerate() {
            if round == 0 {
                ours_steps.push((step.name.clone(), Vec::new()));
            }
            ours_steps[i].1.push(step.elapsed);
        }
        let _ = db.close().await;
        drop_db(admin, ours_db).await?;

        // By hand: the same statements, each migration in its transaction,
        // every commit waiting for the disk.
        create_db(admin, hand_db, Some(template)).await?;
        let db = connect_plain(&url_for(server, hand_db, Some("disable"))?).await?;
        let plan = dry_run::plan(
            &db,
            history,
            Direction::Up,
            &Goal::All,
            &RunOptions::default(),
        )
        .await
        .map_err(|e| migration_core::one_line(&e, &[]))?;
        let t = Instant::now();
        for (i, step) in plan.into_iter().enumerate() {
            let s = Instant::now();
            for statement in &step.statements {
                if !statement.starts_with("SET LOCAL") {
                    exec(&db, statement).await?;
                }
            }
            if round == 0 {
                hand_steps.push((step.name.clone(), Vec::new()));
            }
            hand_steps[i].1.push(s.elapsed());
        }
        hand_total.push(t.elapsed());
        let _ = db.close().await;
        drop_db(admin, hand_db).await?;
    }
    drop_db(admin, template).await?;

    println!(
        "| migration (median of 3) | its transaction, holding its ACCESS EXCLUSIVE locks throughout: migrator | by hand |"
    );
    println!("|---|---|---|");
    let median = |d: &Vec<Duration>| spread(d.clone()).0;
    for ((name, ours), (_, hand)) in ours_steps.iter().zip(&hand_steps) {
        println!("| {name} | {} | {} |", ms(median(ours)), ms(median(hand)));
    }
    let longest = |steps: &[(String, Vec<Duration>)]| {
        steps
            .iter()
            .map(|(_, d)| median(d))
            .max()
            .unwrap_or_default()
    };
    let (o, h) = (spread(ours_total).0, spread(hand_total).0);
    println!(
        "| **total (median of 3)** | **{}** | **{}** ({:.2}×) |",
        ms(o),
        ms(h),
        o.as_secs_f64() / h.as_secs_f64()
    );
    println!(
        "\nLongest exclusive-lock hold: migrator {}, by hand {}.",
        ms(longest(&ours_steps)),
        ms(longest(&hand_steps))
    );
    Ok(())
}
