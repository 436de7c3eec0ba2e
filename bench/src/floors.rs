//! Sections 1 and 2: the boot-time check and a fresh database to head,
//! each against its floors. `cargo run --release -p bench -- floors` runs
//! only these.
//!
//! The floors are real clients sending the same SQL:
//! - the psql binary (`pg_config --bindir`, or `BENCH_PSQL`), never a
//!   wrapper script: Debian's `/usr/bin/psql` is a Perl script that spends
//!   tens of milliseconds before it runs the binary;
//! - a minimal C client on libpq (`c/one_select.c`, built here with `cc` and
//!   `pg_config`): connect, one simple query, disconnect;
//! - in process, the schema file in one transaction on an open connection,
//!   and stock sea-orm-migration (its own `MigratorTrait::up`, not this
//!   project's runner) applying the final schema as one migration.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use migration_core::runner::{self, Goal, History, RunOptions};
use migration_core::startup::migrate_with;
use sea_orm::DatabaseConnection;
use sea_orm_migration::prelude::*;
use sketch2bim_migration::Migrator;
use test_support::proxy::{self, Counts};

use crate::{
    Fallible, connect_as_migrator, connect_plain, create_db, drop_db, exec, ms, peak_rss,
    run_process, schema_file, spread, url_for,
};

/// The one statement the boot-time check sends (checked against what the
/// proxy sees the migrator send).
const CHECK_SELECT: &str = r#"SELECT * FROM "public"."seaql_migrations" ORDER BY version"#;

/// Rounds of every measurement; within a round the programs compared run
/// in turn, so a burst of load on the shared machine hits all of them.
const ROUNDS: usize = 5;

/// The final schema, as the schema file has it.
const FINAL_SCHEMA: &str = include_str!("../../schemas/sketch2bim_schema.sql");

/// Samples taken in rounds.
struct Rounds(Vec<Vec<Duration>>);

impl Rounds {
    fn new() -> Rounds {
        Rounds(vec![Vec::new(); ROUNDS])
    }

    fn push(&mut self, round: usize, sample: Duration) {
        self.0[round].push(sample);
    }

    fn all(&self) -> Vec<Duration> {
        self.0.iter().flatten().copied().collect()
    }

    fn median(&self) -> Duration {
        spread(self.all()).0
    }

    /// `median / p95 (rounds' medians lo–hi)`.
    fn cell(&self) -> String {
        let (median, p95) = spread(self.all());
        let medians: Vec<Duration> = self
            .0
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| spread(r.clone()).0)
            .collect();
        let lo = medians.iter().min().copied().unwrap_or_default();
        let hi = medians.iter().max().copied().unwrap_or_default();
        format!("{} / {} ({}–{})", ms(median), ms(p95), ms(lo), ms(hi))
    }
}

/// Median of the ratios of paired samples (`a[i] / b[i]`).
fn paired_ratio(a: &Rounds, b: &Rounds) -> f64 {
    let mut ratios: Vec<f64> = a
        .all()
        .iter()
        .zip(b.all())
        .map(|(x, y)| x.as_secs_f64() / y.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().unwrap_or(0.0)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// The machine's load averages (1, 5, 15 minutes), as `uptime` shows them.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `url` as the libpq floors use it: without GSSAPI encryption. libpq's
/// default (`gssencmode=prefer`, where it is built with GSSAPI, as Debian's
/// is) first asks the server for GSSAPI encryption, a round trip and the
/// Kerberos library's start-up that the migrator (sqlx) never makes.
fn libpq_url(url: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}gssencmode=disable")
}

fn is_elf(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

fn pg_config(flag: &str) -> Fallible<String> {
    let out = Command::new("pg_config")
        .arg(flag)
        .output()
        .map_err(|e| format!("cannot run pg_config (Debian: apt-get install libpq-dev): {e}"))?;
    if !out.status.success() {
        return Err(format!("pg_config {flag} failed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The psql binary: `BENCH_PSQL`, else `psql` in `pg_config --bindir`, else
/// the newest `/usr/lib/postgresql/*/bin/psql`. A script (Debian's
/// `/usr/bin/psql` wrapper) is refused: it is not a floor.
fn psql_binary() -> Fallible<PathBuf> {
    let candidates: Vec<PathBuf> = if let Ok(path) = std::env::var("BENCH_PSQL") {
        vec![PathBuf::from(path)]
    } else {
        let mut found: Vec<PathBuf> = pg_config("--bindir")
            .map(|dir| vec![Path::new(&dir).join("psql")])
            .unwrap_or_default();
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.path().join("bin/psql"))
                    .filter(|p| p.exists())
                    .collect()
            })
            .unwrap_or_default();
        versions.sort_by_key(|p| {
            p.components()
                .nth(4)
                .and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok())
                .unwrap_or(0)
        });
        found.extend(versions.into_iter().rev());
        found
    };
    for path in &candidates {
        if path.exists() {
            return if is_elf(path) {
                Ok(path.clone())
            } else {
                Err(format!(
                    "{} is a script, not the psql binary: set BENCH_PSQL to the binary \
                     (Debian: /usr/lib/postgresql/<version>/bin/psql)",
                    path.display()
                ))
            };
        }
    }
    Err("no psql binary found: install PostgreSQL's client or set BENCH_PSQL".to_owned())
}

/// Builds `c/one_select.c` beside the bench binary; the reason when it
/// cannot.
fn libpq_client() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = exe
        .parent()
        .ok_or("no directory for the bench binary")?
        .join("one-select");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("c/one_select.c");
    let include = pg_config("--includedir")?;
    let lib = pg_config("--libdir")?;
    if !Path::new(&include).join("libpq-fe.h").exists() {
        return Err(format!(
            "no libpq-fe.h in {include} (Debian: apt-get install libpq-dev)"
        ));
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let built = Command::new(&cc)
        .arg("-O2")
        .arg(format!("-I{include}"))
        .arg(&source)
        .arg(format!("-L{lib}"))
        .arg("-lpq")
        .arg("-o")
        .arg(&out)
        .output()
        .map_err(|e| format!("cannot run {cc}: {e}"))?;
    if !built.status.success() {
        return Err(format!(
            "{cc} could not build {}: {}",
            source.display(),
            String::from_utf8_lossy(&built.stderr).trim()
        ));
    }
    Ok(out)
}

/// Stock sea-orm-migration with the final schema as its one migration.
struct StockFinalSchema;

struct FinalSchema;

impl MigrationName for FinalSchema {
    fn name(&self) -> &str {
        "m001_final_schema"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for FinalSchema {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(FINAL_SCHEMA)
            .await
            .map(|_| ())
    }
}

impl MigratorTrait for StockFinalSchema {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(FinalSchema)]
    }
}

fn counted(counts: &std::sync::Mutex<Counts>) -> Fallible<Counts> {
    std::thread::sleep(Duration::from_millis(100));
    let mut counts = counts.lock().map_err(|_| "proxy poisoned")?;
    Ok(std::mem::take(&mut *counts))
}

fn describe(sent: &Counts) -> String {
    format!(
        "{} connection(s) opened, {} round trips (a new connection's start-up included), {} \
         statement(s) executed, {} DDL",
        sent.connections,
        sent.round_trips,
        sent.executed(),
        sent.ddl().len()
    )
}

pub async fn run(
    admin: &DatabaseConnection,
    server: &str,
    bin: &Path,
    history: &History,
) -> Fallible<()> {
    let psql = psql_binary()?;
    let libpq = libpq_client();
    println!(
        "psql: `{}`, the binary (Debian's `/usr/bin/psql` is a Perl wrapper around it, not used \
         as a floor). The psql and libpq floors connect with `gssencmode=disable`: by default \
         libpq first asks for GSSAPI encryption, a round trip and Kerberos start-up the \
         migrator never spends.",
        psql.display()
    );
    match &libpq {
        Ok(path) => println!(
            "libpq client: `{}`, built from `bench/c/one_select.c` (connect, one simple query, \
             disconnect).",
            path.display()
        ),
        Err(why) => println!("libpq client: not built ({why}); its columns are left out."),
    }
    println!();
    boot_check(admin, server, bin, &psql, libpq.as_ref().ok()).await?;
    fresh(admin, server, bin, history, &psql, libpq.as_ref().ok()).await
}

async fn boot_check(
    admin: &DatabaseConnection,
    server: &str,
    bin: &Path,
    psql: &Path,
    libpq: Option<&PathBuf>,
) -> Fallible<()> {
    let options = RunOptions::default();
    let head_db = "kvshvl_bench_head";
    create_db(admin, head_db, None).await?;
    {
        let db = connect_as_migrator(&url_for(server, head_db, None)?).await?;
        runner::up(&db, &History::of::<Migrator>(), &Goal::All, &options)
            .await
            .map_err(|e| migration_core::one_line(&e, &[]))?;
        let _ = db.close().await;
    }
    println!("### 1. No-op `up` at head (the boot-time check)\n");
    println!(
        "Every process below sends the same one statement, `{CHECK_SELECT}`, over one new \
         connection. {ROUNDS} rounds; in each, the processes run in turn, 10 times each. Cells: \
         median / p95 of all runs (lowest–highest median of a round). Load average (1, 5, 15 \
         min) at the start: {}.\n",
        load()
    );
    let libpq_header = if libpq.is_some() {
        " libpq C client process, same SELECT |"
    } else {
        ""
    };
    println!(
        "| sslmode | in-process, open pool | in-process incl. connect | `sketch2bim-migration up` \
         process | psql binary process, same SELECT |{libpq_header}"
    );
    println!(
        "|---|---|---|---|---|{}",
        if libpq.is_some() { "---|" } else { "" }
    );
    let mut summary = Vec::new();
    for (label, mode) in [("default (prefer)", None), ("disable", Some("disable"))] {
        let url = url_for(server, head_db, mode)?;
        let floor_url = libpq_url(&url);
        let (mut warm, mut cold) = (Rounds::new(), Rounds::new());
        let (mut ours, mut floor, mut c) = (Rounds::new(), Rounds::new(), Rounds::new());
        for round in 0..ROUNDS {
            let db = connect_as_migrator(&url).await?;
            for _ in 0..60 {
                let t = Instant::now();
                migrate_with::<Migrator>(&db, true, &options)
                    .await
                    .map_err(|e| migration_core::one_line(&e, &[]))?;
                warm.push(round, t.elapsed());
            }
            let _ = db.close().await;
            for _ in 0..20 {
                let t = Instant::now();
                let db = connect_as_migrator(&url).await?;
                migrate_with::<Migrator>(&db, true, &options)
                    .await
                    .map_err(|e| migration_core::one_line(&e, &[]))?;
                let _ = db.close().await;
                cold.push(round, t.elapsed());
            }
            for _ in 0..10 {
                ours.push(round, run_process(bin, &["-u", &url, "up"])?);
                floor.push(
                    round,
                    run_process(psql, &[floor_url.as_str(), "-XAtqc", CHECK_SELECT])?,
                );
                if let Some(client) = libpq {
                    c.push(
                        round,
                        run_process(client, &[floor_url.as_str(), CHECK_SELECT])?,
                    );
                }
            }
        }
        let libpq_cell = if libpq.is_some() {
            format!(" {} |", c.cell())
        } else {
            String::new()
        };
        println!(
            "| {label} | {} | {} | {} | {} |{libpq_cell}",
            warm.cell(),
            cold.cell(),
            ours.cell(),
            floor.cell()
        );
        summary.push((label, ours.median(), floor.median(), c.median()));
    }
    println!();
    for (label, ours, psql_median, c) in &summary {
        let against_c = if libpq.is_some() {
            format!(
                ", {:.2}× the libpq client's ({} against {})",
                ratio(*ours, *c),
                ms(*ours),
                ms(*c)
            )
        } else {
            String::new()
        };
        println!(
            "- sslmode {label}: the `up` process takes {:.2}× the psql binary's time ({} against \
             {}){against_c}.",
            ratio(*ours, *psql_median),
            ms(*ours),
            ms(*psql_median)
        );
    }

    // For scale, not floors: libpq's defaults, and Debian's wrapper.
    let url = url_for(server, head_db, None)?;
    let scale = |program: &Path, args: &[&str]| -> Fallible<String> {
        let mut runs = Vec::new();
        for _ in 0..20 {
            runs.push(run_process(program, args)?);
        }
        let (median, p95) = spread(runs);
        Ok(format!("{} / {}", ms(median), ms(p95)))
    };
    println!(
        "\nThe libpq floors above run with `gssencmode=disable`. For scale, not floors (default \
         sslmode, median / p95 of 20):"
    );
    println!(
        "- the psql binary with libpq's default `gssencmode=prefer`: {};",
        scale(psql, &[url.as_str(), "-XAtqc", CHECK_SELECT])?
    );
    if let Some(client) = libpq {
        println!(
            "- the libpq client with libpq's default `gssencmode=prefer`: {};",
            scale(client, &[url.as_str(), CHECK_SELECT])?
        );
    }
    let wrapper = Path::new("/usr/bin/psql");
    if wrapper.exists() && !is_elf(wrapper) {
        println!(
            "- Debian's `/usr/bin/psql` wrapper (Perl, then the binary), libpq's defaults: {}.",
            scale(wrapper, &[url.as_str(), "-XAtqc", CHECK_SELECT])?
        );
    }

    // Of the in-process check, what comparing the applied migrations'
    // checksums costs: rendering each one without a database.
    {
        let db = connect_as_migrator(&url).await?;
        let history = History::of::<Migrator>();
        let state = runner::read_state(&db, &history)
            .await
            .map_err(|e| migration_core::one_line(&e, &[]))?;
        let mut compare = Vec::new();
        for _ in 0..300 {
            let t = Instant::now();
            let entries = migration_core::checksum::compare(
                &history,
                &state,
                sea_orm::ConnectionTrait::get_database_backend(&db),
                false,
            )
            .await;
            compare.push(t.elapsed());
            if entries.len() != history.names().len() {
                return Err("the checksum comparison missed a migration".into());
            }
        }
        let _ = db.close().await;
        let (median, p95) = spread(compare);
        println!(
            "\nOf the in-process check, comparing the {} applied migrations' checksums (each \
             rendered without a database): {} / {} (median / p95).",
            history.names().len(),
            ms(median),
            ms(p95)
        );
    }

    let peak = |program: &Path, args: &[&str]| -> Fallible<f64> {
        Ok((0..5)
            .map(|_| peak_rss(program, args))
            .collect::<Fallible<Vec<_>>>()?
            .into_iter()
            .fold(0.0, f64::max))
    };
    let rss_ours = peak(bin, &["-u", &url, "up"])?;
    let rss_psql = peak(psql, &[libpq_url(&url).as_str(), "-XAtqc", CHECK_SELECT])?;
    let rss_c = match libpq {
        Some(client) => Some(peak(client, &[libpq_url(&url).as_str(), CHECK_SELECT])?),
        None => None,
    };

    // What each process sends, counted by a proxy (plaintext).
    let (proxied, counts) =
        proxy::in_front_of(&url_for(server, head_db, None)?).map_err(|e| format!("proxy: {e}"))?;
    run_process(bin, &["-u", &proxied, "up"])?;
    let sent = counted(&counts)?;
    if sent.statements.iter().map(|s| &s[2..]).collect::<Vec<_>>() != [CHECK_SELECT] {
        return Err(format!(
            "the check no longer sends `{CHECK_SELECT}` alone: {:?}",
            sent.statements
        ));
    }
    println!("\nSent, counted by a proxy:");
    println!("- `sketch2bim-migration up`: {}.", describe(&sent));
    run_process(
        psql,
        &[libpq_url(&proxied).as_str(), "-XAtqc", CHECK_SELECT],
    )?;
    println!("- psql binary: {}.", describe(&counted(&counts)?));
    if let Some(client) = libpq {
        run_process(client, &[libpq_url(&proxied).as_str(), CHECK_SELECT])?;
        println!("- libpq client: {}.", describe(&counted(&counts)?));
    }
    println!(
        "\nPeak memory: `sketch2bim-migration up` {rss_ours:.1} MiB, psql binary {rss_psql:.1} \
         MiB{}.\n",
        rss_c.map_or(String::new(), |c| format!(", libpq client {c:.1} MiB"))
    );
    drop_db(admin, head_db).await
}

async fn fresh(
    admin: &DatabaseConnection,
    server: &str,
    bin: &Path,
    history: &History,
    psql: &Path,
    libpq: Option<&PathBuf>,
) -> Fallible<()> {
    let options = RunOptions::default();
    let schema = std::fs::read_to_string(schema_file()).map_err(|e| format!("schema file: {e}"))?;
    if schema != FINAL_SCHEMA {
        return Err("the schema file changed since the bench was built: rebuild it".into());
    }
    let file = schema_file();
    let file = file.to_string_lossy().into_owned();
    let in_one_transaction = format!("BEGIN;\n{schema}\nCOMMIT;");
    let per_round = 4;
    println!("### 2. Fresh database to head\n");
    println!(
        "In process, on an open connection: the migrator's `up` (ten migrations, each in its \
         transaction with its bookkeeping row, the migration lock on a second connection); stock \
         sea-orm-migration's own `MigratorTrait::up` applying the final schema \
         (`schemas/sketch2bim_schema.sql`) as one migration; the schema file in one transaction \
         (one round trip). As processes: `sketch2bim-migration up`, the psql binary running \
         `-1 -f` on the schema file{}. {ROUNDS} rounds; in each, both sslmodes, {per_round} \
         runs of each program, all in turn, each on a new database; cells: median / p95 (lowest–highest median of a round). Load \
         average at the start: {}.\n",
        if libpq.is_some() {
            ", and the libpq client sending the file in one transaction as one query"
        } else {
            ""
        },
        load()
    );
    println!(
        "| sslmode | migrator, in process | stock sea-orm-migration, one migration, in process | \
         schema file in one transaction, in process | migrator ÷ stock (paired) | migrator ÷ \
         file (paired) |"
    );
    println!("|---|---|---|---|---|---|");
    let fresh_db = "kvshvl_bench_fresh";
    // Both sslmodes in every round, so that a drift of the machine over the
    // section (it creates some 250 databases) shows in both alike.
    let modes = [("default (prefer)", None), ("disable", Some("disable"))];
    let mut samples: Vec<[Rounds; 6]> = modes
        .iter()
        .map(|_| std::array::from_fn(|_| Rounds::new()))
        .collect();
    for round in 0..ROUNDS {
        for ((_, mode), [ours, stock, floor, ours_p, psql_p, c_p]) in
            modes.iter().zip(samples.iter_mut())
        {
            let url = url_for(server, fresh_db, *mode)?;
            let floor_url = libpq_url(&url);
            for _ in 0..per_round {
                create_db(admin, fresh_db, None).await?;
                let db = connect_as_migrator(&url).await?;
                let t = Instant::now();
                runner::up(&db, history, &Goal::All, &options)
                    .await
                    .map_err(|e| migration_core::one_line(&e, &[]))?;
                ours.push(round, t.elapsed());
                let _ = db.close().await;

                create_db(admin, fresh_db, None).await?;
                let db = connect_plain(&url).await?;
                let t = Instant::now();
                StockFinalSchema::up(&db, None)
                    .await
                    .map_err(|e| format!("stock sea-orm-migration up: {e}"))?;
                stock.push(round, t.elapsed());
                let _ = db.close().await;

                create_db(admin, fresh_db, None).await?;
                let db = connect_plain(&url).await?;
                let t = Instant::now();
                exec(&db, &in_one_transaction).await?;
                floor.push(round, t.elapsed());
                let _ = db.close().await;

                create_db(admin, fresh_db, None).await?;
                ours_p.push(round, run_process(bin, &["-u", &url, "up"])?);
                create_db(admin, fresh_db, None).await?;
                psql_p.push(
                    round,
                    run_process(
                        psql,
                        &[
                            floor_url.as_str(),
                            "-Xq1",
                            "-v",
                            "ON_ERROR_STOP=1",
                            "-f",
                            &file,
                        ],
                    )?,
                );
                if let Some(client) = libpq {
                    create_db(admin, fresh_db, None).await?;
                    c_p.push(
                        round,
                        run_process(client, &[floor_url.as_str(), &in_one_transaction])?,
                    );
                }
            }
        }
    }
    let mut rss_fresh: f64 = 0.0;
    for (_, mode) in &modes {
        let url = url_for(server, fresh_db, *mode)?;
        create_db(admin, fresh_db, None).await?;
        rss_fresh = rss_fresh.max(peak_rss(bin, &["-u", &url, "up"])?);
    }
    let mut processes = Vec::new();
    for ((label, _), [ours, stock, floor, ours_p, psql_p, c_p]) in modes.iter().zip(&samples) {
        println!(
            "| {label} | {} | {} | {} | {:.2}× | {:.2}× |",
            ours.cell(),
            stock.cell(),
            floor.cell(),
            paired_ratio(ours, stock),
            paired_ratio(ours, floor),
        );
        processes.push((label, ours_p, psql_p, c_p));
    }
    println!();
    println!(
        "| sslmode | `sketch2bim-migration up` process | psql binary `-1 -f schemas/sketch2bim_schema.sql` process | migrator ÷ psql (paired) |{}",
        if libpq.is_some() {
            " libpq client, the file in one transaction, process | migrator ÷ libpq (paired) |"
        } else {
            ""
        }
    );
    println!(
        "|---|---|---|---|{}",
        if libpq.is_some() { "---|---|" } else { "" }
    );
    for (label, ours_p, psql_p, c_p) in &processes {
        let c = if libpq.is_some() {
            format!(" {} | {:.2}× |", c_p.cell(), paired_ratio(ours_p, c_p))
        } else {
            String::new()
        };
        println!(
            "| {label} | {} | {} | {:.2}× |{c}",
            ours_p.cell(),
            psql_p.cell(),
            paired_ratio(ours_p, psql_p)
        );
    }
    println!(
        "\nPeak memory of `sketch2bim-migration up` on a fresh database: {rss_fresh:.1} MiB. Load \
         average at the end: {}.\n",
        load()
    );

    // What each sends, counted by a proxy (plaintext).
    let (proxied, counts) =
        proxy::in_front_of(&url_for(server, fresh_db, None)?).map_err(|e| format!("proxy: {e}"))?;
    println!("Sent on a fresh database, counted by a proxy:");
    create_db(admin, fresh_db, None).await?;
    run_process(bin, &["-u", &proxied, "up"])?;
    println!(
        "- `sketch2bim-migration up`: {} (a second connection holds the migration lock).",
        describe(&counted(&counts)?)
    );
    create_db(admin, fresh_db, None).await?;
    {
        let db = connect_plain(&proxied).await?;
        counted(&counts)?;
        StockFinalSchema::up(&db, None)
            .await
            .map_err(|e| format!("stock sea-orm-migration up: {e}"))?;
        let _ = db.close().await;
        println!(
            "- stock sea-orm-migration, the final schema as one migration, on an open \
             connection: {}.",
            describe(&counted(&counts)?)
        );
    }
    create_db(admin, fresh_db, None).await?;
    run_process(
        psql,
        &[
            libpq_url(&proxied).as_str(),
            "-Xq1",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            &file,
        ],
    )?;
    println!(
        "- psql binary `-1 -f`: {} (psql sends the file statement by statement).",
        describe(&counted(&counts)?)
    );
    if let Some(client) = libpq {
        create_db(admin, fresh_db, None).await?;
        run_process(client, &[libpq_url(&proxied).as_str(), &in_one_transaction])?;
        println!("- libpq client: {}.", describe(&counted(&counts)?));
    }
    println!(
        "\nThe schema file is {} statements.\n",
        schema.matches(";\n").count()
    );
    drop_db(admin, fresh_db).await
}
