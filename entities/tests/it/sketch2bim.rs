use entities::sketch2bim::{
    iterations, jobs, layout_variations, organization_members, organizations, payments,
    project_versions, referrals, users,
};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, ModelTrait, PaginatorTrait,
    Set,
};
use serde_json::json;
use test_support::Backend;

use crate::{at, at_head};

async fn user(db: &DatabaseConnection, email: &str) -> users::Model {
    users::ActiveModel {
        email: Set(email.into()),
        created_at: Set(Some(at(1, 8))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert user")
}

async fn roundtrip(db: &DatabaseConnection) {
    // users: the database's defaults come back, then an update.
    let ada = user(db, "ada@example.com").await;
    assert_eq!(ada.credits, Some(5));
    assert_eq!(ada.subscription_tier.as_deref(), Some("trial"));
    assert_eq!(ada.subscription_status.as_deref(), Some("inactive"));
    assert_eq!(
        (ada.is_active, ada.subscription_auto_renew),
        (Some(true), Some(false))
    );
    let mut active = ada.clone().into_active_model();
    active.subscription_status = Set(Some("active".into()));
    active.subscription_expires_at = Set(Some(at(31, 23)));
    active.razorpay_subscription_id = Set(Some("sub_1".into()));
    let ada = active.update(db).await.expect("update user");
    assert_eq!(
        users::Entity::find_by_id(ada.id)
            .one(db)
            .await
            .expect("select"),
        Some(ada.clone())
    );
    let bob = user(db, "bob@example.com").await;

    // jobs: a string id, JSON, a double, timestamps.
    let job = jobs::ActiveModel {
        id: Set("job-1".into()),
        user_id: Set(ada.id),
        plan_data: Set(Some(json!({"rooms": [{"name": "kitchen", "area": 12.5}]}))),
        detection_confidence: Set(Some(0.875)),
        created_at: Set(Some(at(2, 9))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert job");
    assert_eq!(job.status.as_deref(), Some("queued"));
    assert_eq!((job.progress, job.retry_count), (Some(0), Some(0)));
    assert_eq!(job.cost_usd, Some(0.0));
    assert_eq!(
        (job.requires_review, job.legend_detected),
        (Some(false), Some(false))
    );
    assert_eq!(job.project_type.as_deref(), Some("architecture"));
    let mut active = job.clone().into_active_model();
    active.status = Set(Some("completed".into()));
    active.progress = Set(Some(100));
    active.cost_usd = Set(Some(0.0125));
    active.legend_data = Set(Some(json!(["wall", "door"])));
    active.completed_at = Set(Some(at(2, 10)));
    let job = active.update(db).await.expect("update job");
    assert_eq!(
        jobs::Entity::find_by_id("job-1")
            .one(db)
            .await
            .expect("select"),
        Some(job.clone())
    );

    // payments.
    let payment = payments::ActiveModel {
        user_id: Set(ada.id),
        razorpay_order_id: Set(Some("order_1".into())),
        amount: Set(Some(999)),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert payment");
    assert_eq!(
        (payment.currency.as_deref(), payment.credits_added),
        (Some("usd"), Some(0))
    );
    let mut active = payment.clone().into_active_model();
    active.credits_added = Set(Some(50));
    let payment = active.update(db).await.expect("update payment");

    // project_versions: of a user, from a job.
    let version = project_versions::ActiveModel {
        project_name: Set(Some("house".into())),
        user_id: Set(ada.id),
        version_number: Set(Some(1)),
        job_id: Set(Some(job.id.clone())),
        notes: Set(Some("first cut".into())),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert project version");
    let mut active = version.clone().into_active_model();
    active.version_number = Set(Some(2));
    let version = active.update(db).await.expect("update project version");

    // iterations: a parent and a child derived from it.
    let first = iterations::ActiveModel {
        id: Set("it-1".into()),
        job_id: Set(job.id.clone()),
        user_id: Set(ada.id),
        changes_json: Set(Some(json!({"moved": "door"}))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert iteration");
    let second = iterations::ActiveModel {
        id: Set("it-2".into()),
        job_id: Set(job.id.clone()),
        user_id: Set(ada.id),
        parent_iteration_id: Set(Some(first.id.clone())),
        change_summary: Set(Some("wider door".into())),
        created_at: Set(Some(at(3, 11))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert child iteration");
    let mut active = second.clone().into_active_model();
    active.name = Set(Some("v2".into()));
    let second = active.update(db).await.expect("update iteration");

    // layout_variations.
    let variation = layout_variations::ActiveModel {
        id: Set("lv-1".into()),
        job_id: Set(job.id.clone()),
        user_id: Set(ada.id),
        variation_number: Set(Some(1)),
        confidence: Set(Some(0.5)),
        plan_data: Set(Some(json!({"rooms": []}))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert layout variation");
    let mut active = variation.clone().into_active_model();
    active.confidence = Set(Some(0.75));
    let variation = active.update(db).await.expect("update layout variation");

    // organizations and their members.
    let org = organizations::ActiveModel {
        name: Set("Studio".into()),
        slug: Set(Some("studio".into())),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert organization");
    assert_eq!(
        (org.subscription_tier.as_deref(), org.shared_credits),
        (Some("trial"), Some(0))
    );
    let mut active = org.clone().into_active_model();
    active.shared_credits = Set(Some(100));
    let org = active.update(db).await.expect("update organization");
    let mut members = Vec::new();
    for u in [&ada, &bob] {
        let member = organization_members::ActiveModel {
            organization_id: Set(org.id),
            user_id: Set(u.id),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert member");
        assert_eq!(member.role.as_deref(), Some("member"));
        members.push(member);
    }
    let mut active = members[0].clone().into_active_model();
    active.role = Set(Some("owner".into()));
    members[0] = active.update(db).await.expect("update member");
    let duplicate = organization_members::ActiveModel {
        organization_id: Set(org.id),
        user_id: Set(ada.id),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert!(
        duplicate.is_err(),
        "uq_org_user admits one membership per pair"
    );

    // referrals: Ada referred Bob.
    let referral = referrals::ActiveModel {
        referrer_id: Set(ada.id),
        referral_code: Set("ADA-2026".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert referral");
    let mut active = referral.clone().into_active_model();
    active.referred_id = Set(Some(bob.id));
    active.status = Set(Some("completed".into()));
    active.credits_awarded = Set(Some(10));
    let referral = active.update(db).await.expect("update referral");

    // Relations, both ways.
    assert_eq!(
        ada.find_related(jobs::Entity).all(db).await.expect("jobs"),
        vec![job.clone()]
    );
    assert_eq!(
        ada.find_related(payments::Entity)
            .all(db)
            .await
            .expect("payments"),
        vec![payment.clone()]
    );
    assert_eq!(
        ada.find_related(project_versions::Entity)
            .all(db)
            .await
            .expect("versions"),
        vec![version.clone()]
    );
    let mut its = ada
        .find_related(iterations::Entity)
        .all(db)
        .await
        .expect("iterations");
    its.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(its, vec![first.clone(), second.clone()]);
    assert_eq!(
        ada.find_related(layout_variations::Entity)
            .all(db)
            .await
            .expect("variations"),
        vec![variation.clone()]
    );
    assert_eq!(
        ada.find_related(organization_members::Entity)
            .all(db)
            .await
            .expect("memberships"),
        vec![members[0].clone()]
    );
    assert_eq!(
        bob.find_related(organizations::Entity)
            .all(db)
            .await
            .expect("bob's organizations"),
        vec![org.clone()]
    );
    let mut org_users = org
        .find_related(users::Entity)
        .all(db)
        .await
        .expect("org's users");
    org_users.sort_by_key(|u| u.id);
    assert_eq!(org_users, vec![ada.clone(), bob.clone()]);
    assert_eq!(
        org.find_related(organization_members::Entity)
            .count(db)
            .await
            .expect("members"),
        2
    );
    assert_eq!(
        job.find_related(users::Entity)
            .one(db)
            .await
            .expect("job's user"),
        Some(ada.clone())
    );
    assert_eq!(
        job.find_related(iterations::Entity)
            .count(db)
            .await
            .expect("job's iterations"),
        2
    );
    assert_eq!(
        job.find_related(layout_variations::Entity)
            .all(db)
            .await
            .expect("job's variations"),
        vec![variation.clone()]
    );
    assert_eq!(
        job.find_related(project_versions::Entity)
            .all(db)
            .await
            .expect("job's versions"),
        vec![version.clone()]
    );
    assert_eq!(
        version
            .find_related(jobs::Entity)
            .one(db)
            .await
            .expect("version's job"),
        Some(job.clone())
    );
    assert_eq!(
        second
            .find_linked(iterations::Parent)
            .all(db)
            .await
            .expect("parent"),
        vec![first.clone()]
    );
    assert_eq!(
        first
            .find_linked(iterations::Children)
            .all(db)
            .await
            .expect("children"),
        vec![second.clone()]
    );
    assert_eq!(
        referral
            .find_linked(referrals::Referrer)
            .one(db)
            .await
            .expect("referrer"),
        Some(ada.clone())
    );
    assert_eq!(
        referral
            .find_linked(referrals::Referred)
            .one(db)
            .await
            .expect("referred"),
        Some(bob.clone())
    );
    assert_eq!(
        ada.find_linked(users::ReferralsMade)
            .all(db)
            .await
            .expect("referrals made"),
        vec![referral.clone()]
    );
    assert_eq!(
        bob.find_linked(users::ReferredBy)
            .all(db)
            .await
            .expect("referred by"),
        vec![referral.clone()]
    );

    // Delete, children first; every table ends empty.
    referral.delete(db).await.expect("delete referral");
    for m in members {
        m.delete(db).await.expect("delete member");
    }
    org.delete(db).await.expect("delete organization");
    variation.delete(db).await.expect("delete variation");
    second.delete(db).await.expect("delete child iteration");
    first.delete(db).await.expect("delete iteration");
    version.delete(db).await.expect("delete version");
    payment.delete(db).await.expect("delete payment");
    job.delete(db).await.expect("delete job");
    ada.delete(db).await.expect("delete ada");
    bob.delete(db).await.expect("delete bob");
    let counts = [
        users::Entity::find().count(db).await,
        jobs::Entity::find().count(db).await,
        payments::Entity::find().count(db).await,
        project_versions::Entity::find().count(db).await,
        iterations::Entity::find().count(db).await,
        layout_variations::Entity::find().count(db).await,
        organizations::Entity::find().count(db).await,
        organization_members::Entity::find().count(db).await,
        referrals::Entity::find().count(db).await,
    ];
    let counts: Vec<u64> = counts.into_iter().map(|c| c.expect("count")).collect();
    assert_eq!(counts, vec![0; 9]);
}

#[tokio::test]
async fn sketch2bim_entities_roundtrip_on_postgres() {
    let (_guard, db) = at_head::<sketch2bim_migration::Migrator>(Backend::Postgres).await;
    roundtrip(&db).await;
}

#[tokio::test]
async fn sketch2bim_entities_roundtrip_on_sqlite() {
    let (_guard, db) = at_head::<sketch2bim_migration::Migrator>(Backend::Sqlite).await;
    roundtrip(&db).await;
}
