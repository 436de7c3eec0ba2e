//! The service on real databases: startup migration, `/health`, a job with
//! its iterations, and startup failures.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, header};
use entities::sketch2bim::{iterations, jobs, users};
use hyper_util::rt::TokioIo;
use platform_api::AppState;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use test_support::TestDb;
use test_support::migrations::Migrations;
use tower::ServiceExt;

/// The migrations of each database, as the service's binaries know them.
fn migrations() -> (Migrations, Migrations) {
    (
        Migrations::of::<ask_migration::Migrator>(),
        Migrations::of::<sketch2bim_migration::Migrator>(),
    )
}

/// `GET path`, handled by the service's router in this process.
async fn get(app: &Router, path: &str) -> (u16, Value) {
    let response = app
        .clone()
        .oneshot(request(path))
        .await
        .unwrap_or_else(|never| match never {});
    status_and_json(response).await
}

fn request(path: &str) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, "localhost")
        .body(Body::empty())
        .expect("a request")
}

/// A response's status code and JSON body.
async fn status_and_json(response: Response<Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the body");
    (status, serde_json::from_slice(&body).expect("a JSON body"))
}

/// `GET path` from a server on `port`, over HTTP/1.1; `None` while nothing
/// accepts connections there.
async fn get_over_http(port: u16, path: &str) -> Option<(u16, Value)> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 connection");
    tokio::spawn(connection);
    let response = sender
        .send_request(request(path))
        .await
        .expect("a response");
    Some(status_and_json(response.map(Body::new)).await)
}

async fn state(ask: &TestDb, sketch2bim: &TestDb) -> AppState {
    AppState {
        ask: ask.connect().await,
        sketch2bim: sketch2bim.connect().await,
    }
}

#[tokio::test]
async fn startup_migrates_both_databases_and_health_reports_head() {
    let (ask, sketch2bim) = (TestDb::postgres().await, TestDb::postgres().await);
    let state = state(&ask, &sketch2bim).await;
    let reports = platform_api::migrate(&state, true).await.expect("migrate");
    let (ask_migrations, sketch2bim_migrations) = migrations();
    assert_eq!(reports[0].applied, ask_migrations.names());
    assert_eq!(reports[1].applied, sketch2bim_migrations.names());
    let app = platform_api::router(state);
    let (status, body) = get(&app, "/health").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "ask": {
                "current": ask_migrations.head(),
                "head": ask_migrations.head(),
                "pending": 0
            },
            "sketch2bim": {
                "current": sketch2bim_migrations.head(),
                "head": sketch2bim_migrations.head(),
                "pending": 0
            }
        })
    );
}

#[tokio::test]
async fn a_job_comes_with_its_iterations() {
    let (ask, sketch2bim) = (TestDb::postgres().await, TestDb::postgres().await);
    let state = state(&ask, &sketch2bim).await;
    platform_api::migrate(&state, true).await.expect("migrate");
    let db = &state.sketch2bim;
    let user = users::ActiveModel {
        email: Set("ada@example.com".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("user");
    jobs::ActiveModel {
        id: Set("job-1".into()),
        user_id: Set(user.id),
        plan_data: Set(Some(json!({"rooms": 3}))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("job");
    for (id, parent) in [("it-1", None), ("it-2", Some("it-1"))] {
        iterations::ActiveModel {
            id: Set(id.into()),
            job_id: Set("job-1".into()),
            user_id: Set(user.id),
            parent_iteration_id: Set(parent.map(str::to_owned)),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("iteration");
    }
    let app = platform_api::router(state);
    let (status, body) = get(&app, "/jobs/job-1").await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], "job-1");
    assert_eq!(body["status"], "queued");
    assert_eq!(body["plan_data"], json!({"rooms": 3}));
    let ids: Vec<&Value> = body["iterations"]
        .as_array()
        .expect("iterations")
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, vec!["it-1", "it-2"]);
    assert_eq!(body["iterations"][1]["parent_iteration_id"], "it-1");

    let (status, body) = get(&app, "/jobs/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"error": "no job nope"}));
}

const BIN: &str = env!("CARGO_BIN_EXE_platform-api");

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test]
async fn with_auto_run_off_the_binary_serves_and_reports_pending() {
    let (ask, sketch2bim) = (TestDb::postgres().await, TestDb::postgres().await);
    let port = free_port();
    let mut child = Command::new(BIN)
        .env("ASK_DATABASE_URL", ask.url())
        .env("SKETCH2BIM_DATABASE_URL", sketch2bim.url())
        .env("AUTO_RUN_MIGRATIONS", "false")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start platform-api");
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        if let Some(health) = get_over_http(port, "/health").await {
            break health;
        }
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            panic!("platform-api did not start serving");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health.0, 200);
    let (ask_migrations, sketch2bim_migrations) = migrations();
    assert_eq!(
        health.1,
        json!({
            "ask": {
                "current": null,
                "head": ask_migrations.head(),
                "pending": ask_migrations.len()
            },
            "sketch2bim": {
                "current": null,
                "head": sketch2bim_migrations.head(),
                "pending": sketch2bim_migrations.len()
            }
        })
    );
    for (name, test_db) in [("ask", &ask), ("sketch2bim", &sketch2bim)] {
        let db = test_db.connect().await;
        assert_eq!(
            test_support::walk::catalog(&db).await.tables.len(),
            0,
            "nothing migrated in {name}"
        );
    }
}

#[test]
fn startup_failures_are_one_line_and_exit_1() {
    let run = |env: &[(&str, &str)]| {
        let mut command = Command::new(BIN);
        for var in [
            "ASK_DATABASE_URL",
            "SKETCH2BIM_DATABASE_URL",
            "AUTO_RUN_MIGRATIONS",
            "DATABASE_URL",
        ] {
            command.env_remove(var);
        }
        command.envs(env.iter().copied());
        let out = command.output().expect("run platform-api");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "error: ASK_DATABASE_URL is not set: the service needs the ASK database's URL\n"
    );
    let (code, stderr) = run(&[
        ("ASK_DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/ask"),
        (
            "SKETCH2BIM_DATABASE_URL",
            "postgres://u:hunter2@127.0.0.1:1/sketch2bim",
        ),
        ("AUTO_RUN_MIGRATIONS", "maybe"),
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "error: invalid AUTO_RUN_MIGRATIONS=\"maybe\": expected one of true, false, 1, 0, yes, no, on or off\n"
    );
    let (code, stderr) = run(&[
        ("ASK_DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/ask"),
        (
            "SKETCH2BIM_DATABASE_URL",
            "postgres://u:hunter2@127.0.0.1:1/sketch2bim",
        ),
    ]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with("error: cannot connect to postgres://u:***@127.0.0.1:1/ask: "),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
