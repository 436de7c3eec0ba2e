//! Databases and inputs that try to mislead the migrator: defaults that
//! call functions, `.env` files it could misread, names that would forge
//! output lines, a search path that points elsewhere, and odd arguments.

use migration_core::runner::History;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, TransactionTrait};
use test_support::cli::{WorkDir, cli};
use test_support::db::{bookkeeping_rows, exec, int};
use test_support::{TestDb, alembic};

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

fn history() -> History {
    History::of::<sketch2bim_migration::Migrator>()
}

/// A one-connection pool that shows itself as `application` in pg_stat_activity.
async fn connect_as(url: &str, application: &str) -> DatabaseConnection {
    let separator = if url.contains('?') { '&' } else { '?' };
    let mut options =
        ConnectOptions::new(format!("{url}{separator}application_name={application}"));
    options.sqlx_logging(false).max_connections(1);
    Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("connect as {application}: {e}"))
}

#[tokio::test]
async fn adoption_never_runs_a_default_that_calls_a_function() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 5).await;
    exec(
        &db,
        "CREATE FUNCTION zz_scratch_kill() RETURNS varchar LANGUAGE plpgsql AS $$ \
         BEGIN \
           PERFORM pg_terminate_backend(pid) FROM pg_stat_activity \
           WHERE application_name = 'victim'; \
           RETURN 'usd'; \
         END $$; \
         ALTER TABLE payments ALTER COLUMN currency SET DEFAULT zz_scratch_kill()",
    )
    .await;
    let victim = connect_as(test_db.url(), "victim").await;
    let held = victim.begin().await.expect("the victim's transaction");
    assert_eq!(int(&held, "SELECT 1::int8").await, 1);

    let dir = WorkDir::new();
    let up = cli(BIN, &dir, test_db.url(), &["up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_eq!(
        up.stderr_lines(),
        vec![
            "error: not adopting: the schema differs from Alembic revision 005 in 1 place \
             (changed by hand?): column payments.currency: has character varying DEFAULT \
             zz_scratch_kill(), expected character varying DEFAULT 'usd'::character varying; \
             nothing was changed (`adopt --accept-differences` takes it over as it is)"
        ],
        "{up:#?}"
    );
    // The victim's session is alive: its open transaction still answers.
    assert_eq!(int(&held, "SELECT 2::int8").await, 2);
    held.rollback().await.expect("the victim's rollback");
    assert_eq!(
        int(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'"
        )
        .await,
        1
    );
    assert_eq!(bookkeeping_rows(&db).await, -1, "nothing was recorded");
    let _ = history();
}
