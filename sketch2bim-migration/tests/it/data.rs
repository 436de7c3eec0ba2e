//! Rows written at each step survive every later step, and the data steps of
//! 007 and 009 do what the contract says, on PostgreSQL and SQLite.

use migration_core::runner::{self, Goal, History, RunOptions};
use rstest::rstest;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use test_support::db::{exec, int};
use test_support::walk::step;
use test_support::{Backend, TestDb};

async fn text(db: &DatabaseConnection, sql: &str) -> Option<String> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get_by_index::<Option<String>>(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn counts(db: &DatabaseConnection, tables: &[&str]) -> Vec<i64> {
    let mut out = Vec::new();
    for t in tables {
        out.push(int(db, &format!("SELECT CAST(count(*) AS BIGINT) FROM {t}")).await);
    }
    out
}

const USER_A: &str = "(SELECT id FROM users WHERE email = 'a@example.com')";
const USER_B: &str = "(SELECT id FROM users WHERE email = 'b@example.com')";

/// Seconds from now until the user's subscription expires, by the database's clock.
async fn expires_in(db: &DatabaseConnection, backend: Backend, email: &str) -> Option<i64> {
    let sql = match backend {
        Backend::Postgres => format!(
            "SELECT CAST(EXTRACT(EPOCH FROM (subscription_expires_at - LOCALTIMESTAMP)) AS BIGINT) \
             FROM users WHERE email = '{email}'"
        ),
        Backend::Sqlite => format!(
            "SELECT CAST((julianday(subscription_expires_at) - julianday('now')) * 86400 AS INTEGER) \
             FROM users WHERE email = '{email}'"
        ),
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<Option<i64>>(0).expect("seconds")
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn rows_survive_every_step(#[case] backend: Backend) {
    let history: History = super::history();
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;

    step(&db, &history, true).await; // 001
    exec(
        &db,
        "INSERT INTO users (email, subscription_status, subscription_tier) VALUES \
               ('a@example.com', 'active', 'pro'), ('b@example.com', 'inactive', 'trial'), \
               ('c@example.com', 'active', 'trial')",
    )
    .await;
    exec(
        &db,
        &format!(
            "INSERT INTO jobs (id, user_id, reader_type, plan_data, cost_usd) VALUES \
               ('j1', {USER_A}, 'yolo', '{{\"rooms\":3}}', 1.5)"
        ),
    )
    .await;
    exec(
        &db,
        &format!("INSERT INTO api_keys (user_id, key) VALUES ({USER_A}, 'k1')"),
    )
    .await;
    exec(
        &db,
        &format!("INSERT INTO payments (user_id, amount) VALUES ({USER_A}, 500)"),
    )
    .await;
    exec(
        &db,
        "INSERT INTO organizations (name, slug, subscription_tier) VALUES \
               ('o1', 'o1', NULL), ('o2', 'o2', 'free'), ('o3', 'o3', 'pro')",
    )
    .await;
    exec(
        &db,
        &format!(
            "INSERT INTO organization_members (organization_id, user_id) VALUES \
               ((SELECT id FROM organizations WHERE slug = 'o1'), {USER_A})"
        ),
    )
    .await;
    exec(
        &db,
        &format!(
            "INSERT INTO project_versions (project_name, user_id, version_number, job_id) \
               VALUES ('house', {USER_A}, 1, 'j1')"
        ),
    )
    .await;
    assert_eq!(
        int(
            &db,
            "SELECT CAST(credits AS BIGINT) FROM users WHERE email = 'a@example.com'"
        )
        .await,
        5
    );

    step(&db, &history, true).await; // 002
    exec(
        &db,
        &format!(
            "INSERT INTO jobs (id, user_id, legend_data, legend_detected) VALUES \
               ('j2', {USER_A}, '{{\"walls\":1}}', true)"
        ),
    )
    .await;
    assert_eq!(
        int(
            &db,
            "SELECT CASE WHEN legend_detected THEN 1 ELSE 0 END FROM jobs WHERE id = 'j1'"
        )
        .await,
        0
    );

    step(&db, &history, true).await; // 003
    exec(
        &db,
        &format!("INSERT INTO jobs (id, user_id, batch_id) VALUES ('j3', {USER_A}, 'b1')"),
    )
    .await;

    step(&db, &history, true).await; // 004
    exec(&db, &format!("INSERT INTO iterations (id, job_id, user_id, name) VALUES ('it1', 'j1', {USER_A}, 'first')")).await;
    exec(
        &db,
        &format!(
            "INSERT INTO iterations (id, job_id, user_id, parent_iteration_id) VALUES \
               ('it2', 'j1', {USER_A}, 'it1')"
        ),
    )
    .await;
    exec(
        &db,
        &format!(
            "INSERT INTO layout_variations (id, job_id, user_id, variation_number, confidence) \
               VALUES ('lv1', 'j1', {USER_A}, 1, 0.75)"
        ),
    )
    .await;
    exec(
        &db,
        &format!(
            "INSERT INTO referrals (referrer_id, referred_id, referral_code) VALUES \
               ({USER_A}, {USER_B}, 'REF1')"
        ),
    )
    .await;

    step(&db, &history, true).await; // 005
    exec(
        &db,
        &format!(
            "INSERT INTO jobs (id, user_id, sketchup_url) VALUES ('j4', {USER_A}, 'https://su')"
        ),
    )
    .await;

    step(&db, &history, true).await; // 006
    exec(
        &db,
        "INSERT INTO users (email, subscription_status) VALUES ('d@example.com', 'active')",
    )
    .await;

    step(&db, &history, true).await; // 007
    let thirty_days = 30 * 86_400;
    for email in ["a@example.com", "c@example.com", "d@example.com"] {
        let left = expires_in(&db, backend, email).await;
        assert!(
            left.is_some_and(|s| (thirty_days - 300..=thirty_days + 5).contains(&s)),
            "{email}: expiry {left:?} s from now, expected 30 days"
        );
    }
    assert_eq!(expires_in(&db, backend, "b@example.com").await, None);
    assert_eq!(
        [
            text(
                &db,
                "SELECT subscription_tier FROM organizations WHERE slug = 'o1'"
            )
            .await,
            text(
                &db,
                "SELECT subscription_tier FROM organizations WHERE slug = 'o2'"
            )
            .await,
            text(
                &db,
                "SELECT subscription_tier FROM organizations WHERE slug = 'o3'"
            )
            .await,
        ],
        [
            Some("trial".into()),
            Some("trial".into()),
            Some("pro".into())
        ]
    );
    exec(
        &db,
        "INSERT INTO users (email, subscription_status, subscription_expires_at) VALUES \
               ('e@example.com', 'active', '2030-01-01 00:00:00')",
    )
    .await;

    step(&db, &history, true).await; // 008
    assert_eq!(int(&db, "SELECT CASE WHEN subscription_auto_renew THEN 1 ELSE 0 END FROM users WHERE email = 'a@example.com'").await, 0);
    exec(
        &db,
        "UPDATE users SET razorpay_subscription_id = 'sub_1' WHERE email = 'c@example.com'",
    )
    .await;

    step(&db, &history, true).await; // 009
    assert_eq!(
        int(
            &db,
            "SELECT CAST(count(*) AS BIGINT) FROM jobs WHERE project_type = 'architecture'"
        )
        .await,
        4
    );
    exec(
        &db,
        &format!(
            "INSERT INTO jobs (id, user_id, project_type) VALUES ('j5', {USER_A}, 'interior')"
        ),
    )
    .await;

    step(&db, &history, true).await; // 010
    // And every migration after the Alembic history.
    runner::up(&db, &history, &Goal::All, &RunOptions::default())
        .await
        .unwrap_or_else(|e| panic!("up to head: {e}"));
    assert_eq!(
        test_support::walk::applied_names(&db).await,
        crate::migrations().names()
    );

    assert_eq!(
        counts(
            &db,
            &[
                "users",
                "jobs",
                "payments",
                "organizations",
                "organization_members",
                "project_versions",
                "iterations",
                "layout_variations",
                "referrals"
            ]
        )
        .await,
        [5, 5, 1, 3, 1, 1, 2, 1, 1]
    );
    assert_eq!(
        text(
            &db,
            "SELECT CAST(plan_data AS TEXT) FROM jobs WHERE id = 'j1'"
        )
        .await
        .as_deref(),
        Some("{\"rooms\":3}")
    );
    assert_eq!(
        text(
            &db,
            "SELECT CAST(legend_data AS TEXT) FROM jobs WHERE id = 'j2'"
        )
        .await
        .as_deref(),
        Some("{\"walls\":1}")
    );
    assert_eq!(
        text(&db, "SELECT batch_id FROM jobs WHERE id = 'j3'")
            .await
            .as_deref(),
        Some("b1")
    );
    assert_eq!(
        text(&db, "SELECT sketchup_url FROM jobs WHERE id = 'j4'")
            .await
            .as_deref(),
        Some("https://su")
    );
    assert_eq!(
        text(&db, "SELECT project_type FROM jobs WHERE id = 'j5'")
            .await
            .as_deref(),
        Some("interior")
    );
    assert_eq!(
        text(
            &db,
            "SELECT parent_iteration_id FROM iterations WHERE id = 'it2'"
        )
        .await
        .as_deref(),
        Some("it1")
    );
    assert_eq!(
        text(&db, "SELECT referral_code FROM referrals")
            .await
            .as_deref(),
        Some("REF1")
    );
    assert_eq!(
        text(
            &db,
            "SELECT razorpay_subscription_id FROM users WHERE email = 'c@example.com'"
        )
        .await
        .as_deref(),
        Some("sub_1")
    );
    assert_eq!(
        int(&db, "SELECT CAST(amount AS BIGINT) FROM payments").await,
        500
    );
    let cost = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT cost_usd FROM jobs WHERE id = 'j1'",
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index::<f64>(0)
        .expect("cost");
    assert_eq!(cost, 1.5);
    let e = text(
        &db,
        "SELECT CAST(subscription_expires_at AS TEXT) FROM users WHERE email = 'e@example.com'",
    )
    .await;
    assert_eq!(e.as_deref(), Some("2030-01-01 00:00:00"));
}
