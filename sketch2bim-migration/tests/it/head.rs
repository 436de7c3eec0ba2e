//! The schema at the end of the Alembic history (m010, Alembic's head) on
//! PostgreSQL, checked against the schema contract's words directly (the walk
//! compares with the Alembic steps; this guards against both being wrong the
//! same way). Later migrations are the walk's and the schema file's to prove.

use migration_core::runner::{self, Goal, RunOptions};
use test_support::TestDb;
use test_support::walk::catalog;

fn column<'a>(
    catalog: &'a migration_core::catalog::Catalog,
    table: &str,
    name: &str,
) -> &'a migration_core::catalog::Column {
    let Some(t) = catalog.tables.get(table) else {
        panic!("no table {table}");
    };
    let Some(c) = t.columns.iter().find(|c| c.name == name) else {
        panic!("no column {table}.{name}");
    };
    c
}

#[tokio::test]
async fn alembic_head_schema_on_postgres_is_the_contracts() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let alembic_head = Goal::To("m010_remove_reader_type_column".to_owned());
    runner::up(
        &db,
        &super::history(),
        &alembic_head,
        &RunOptions::default(),
    )
    .await
    .expect("up");
    let head = catalog(&db).await;

    assert_eq!(
        head.tables.keys().cloned().collect::<Vec<_>>(),
        [
            "iterations",
            "jobs",
            "layout_variations",
            "organization_members",
            "organizations",
            "payments",
            "project_versions",
            "referrals",
            "users"
        ]
    );
    assert_eq!(
        head.column_names()["jobs"],
        [
            "id",
            "user_id",
            "status",
            "progress",
            "sketch_filename",
            "sketch_url",
            "sketch_format",
            "detection_confidence",
            "plan_data",
            "ifc_url",
            "dwg_url",
            "rvt_url",
            "model_3dm_url",
            "preview_image_url",
            "error_message",
            "retry_count",
            "qc_report_path",
            "requires_review",
            "cost_usd",
            "created_at",
            "started_at",
            "completed_at",
            "expires_at",
            "legend_data",
            "legend_detected",
            "batch_id",
            "sketchup_url",
            "project_type"
        ]
    );
    assert_eq!(
        head.column_names()["users"],
        [
            "id",
            "email",
            "name",
            "google_id",
            "credits",
            "subscription_tier",
            "subscription_status",
            "razorpay_customer_id",
            "created_at",
            "updated_at",
            "last_login",
            "is_active",
            "subscription_expires_at",
            "razorpay_subscription_id",
            "subscription_auto_renew"
        ]
    );

    let id = column(&head, "users", "id");
    assert_eq!(
        (
            id.data_type.as_str(),
            id.not_null,
            id.default.as_deref(),
            id.identity.as_deref()
        ),
        (
            "integer",
            true,
            Some("nextval('users_id_seq'::regclass)"),
            None
        )
    );
    let seq = &head.sequences["users_id_seq"];
    assert_eq!(
        (seq.data_type.as_str(), seq.owned_by.as_deref()),
        ("integer", Some("users.id"))
    );
    assert_eq!(
        column(&head, "users", "credits").default.as_deref(),
        Some("5")
    );
    assert_eq!(column(&head, "users", "created_at").default, None);
    assert_eq!(
        column(&head, "users", "subscription_expires_at").data_type,
        "timestamp without time zone"
    );

    let job_id = column(&head, "jobs", "id");
    assert_eq!(
        (
            job_id.data_type.as_str(),
            job_id.not_null,
            job_id.default.as_deref()
        ),
        ("character varying", true, None)
    );
    assert_eq!(column(&head, "jobs", "plan_data").data_type, "json");
    let cost = column(&head, "jobs", "cost_usd");
    assert_eq!(
        (cost.data_type.as_str(), cost.default.as_deref()),
        ("double precision", Some("'0'::double precision"))
    );
    assert_eq!(
        column(&head, "jobs", "project_type").default.as_deref(),
        Some("'architecture'::character varying")
    );
    assert_eq!(
        column(&head, "jobs", "legend_detected").default.as_deref(),
        Some("false")
    );
    assert!(
        head.tables
            .values()
            .flat_map(|t| &t.columns)
            .all(|c| c.identity.is_none()),
        "no identity columns"
    );

    let members = &head.tables["organization_members"].constraints;
    assert_eq!(
        members["uq_org_user"].definition,
        "UNIQUE (organization_id, user_id)"
    );
    assert_eq!(
        members["organization_members_user_id_fkey"].definition,
        "FOREIGN KEY (user_id) REFERENCES users(id)"
    );
    assert_eq!(
        head.tables["iterations"].constraints["iterations_parent_iteration_id_fkey"].definition,
        "FOREIGN KEY (parent_iteration_id) REFERENCES iterations(id)"
    );
    assert_eq!(
        head.tables["jobs"].indexes["ix_jobs_id"].definition,
        "CREATE INDEX ix_jobs_id ON jobs USING btree (id)"
    );
    assert_eq!(
        head.tables["users"].indexes["ix_users_email"].definition,
        "CREATE UNIQUE INDEX ix_users_email ON users USING btree (email)"
    );
    assert_eq!(
        head.index_names(),
        [
            "iterations_pkey",
            "ix_iterations_id",
            "ix_iterations_job_id",
            "ix_jobs_batch_id",
            "ix_jobs_id",
            "ix_layout_variations_id",
            "ix_layout_variations_job_id",
            "ix_organizations_razorpay_customer_id",
            "ix_organizations_slug",
            "ix_payments_razorpay_order_id",
            "ix_payments_razorpay_payment_id",
            "ix_project_versions_project_name",
            "ix_referrals_id",
            "ix_referrals_referral_code",
            "ix_referrals_referred_id",
            "ix_referrals_referrer_id",
            "ix_users_email",
            "ix_users_google_id",
            "ix_users_razorpay_customer_id",
            "ix_users_razorpay_subscription_id",
            "jobs_pkey",
            "layout_variations_pkey",
            "organization_members_pkey",
            "organizations_pkey",
            "payments_pkey",
            "project_versions_pkey",
            "referrals_pkey",
            "uq_org_user",
            "users_pkey"
        ]
    );
}
