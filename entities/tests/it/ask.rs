use entities::ask::{groq_usage, payments, users};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, ModelTrait, PaginatorTrait,
    Set,
};
use test_support::Backend;

use crate::{at, at_head};

async fn roundtrip(db: &DatabaseConnection) {
    // users: insert with the database's defaults, select, update.
    let user = users::ActiveModel {
        email: Set("ada@example.com".into()),
        google_id: Set(Some("g-1".into())),
        subscription_expires_at: Set(Some(at(1, 9))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert user");
    assert_eq!(user.credits, Some(0));
    assert_eq!(user.subscription_tier.as_deref(), Some("trial"));
    assert_eq!(user.subscription_status.as_deref(), Some("inactive"));
    assert_eq!(user.subscription_auto_renew, Some(false));
    assert_eq!(user.is_active, Some(true));
    assert!(user.created_at.is_some(), "created_at defaults to now");
    let found = users::Entity::find_by_id(user.id)
        .one(db)
        .await
        .expect("select user");
    assert_eq!(found.as_ref(), Some(&user));
    let mut active = user.clone().into_active_model();
    active.name = Set(Some("Ada".into()));
    active.credits = Set(Some(12));
    let user = active.update(db).await.expect("update user");
    assert_eq!(
        (user.name.as_deref(), user.credits),
        (Some("Ada"), Some(12))
    );

    // payments: belongs to the user, cascades on delete.
    let payment = payments::ActiveModel {
        user_id: Set(user.id),
        razorpay_payment_id: Set(Some("pay_1".into())),
        amount: Set(Some(49_900)),
        completed_at: Set(Some(at(2, 10))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert payment");
    assert_eq!(payment.currency.as_deref(), Some("INR"));
    assert_eq!(
        (payment.credits_added, payment.processing_fee),
        (Some(0), Some(0))
    );
    let mut active = payment.clone().into_active_model();
    active.status = Set(Some("captured".into()));
    let payment = active.update(db).await.expect("update payment");
    assert_eq!(
        payments::Entity::find_by_id(payment.id)
            .one(db)
            .await
            .expect("select payment"),
        Some(payment.clone())
    );
    assert_eq!(
        user.find_related(payments::Entity)
            .all(db)
            .await
            .expect("user's payments"),
        vec![payment.clone()]
    );
    assert_eq!(
        payment
            .find_related(users::Entity)
            .one(db)
            .await
            .expect("payment's user"),
        Some(user.clone())
    );

    // groq_usage: the cost is a string.
    let usage = groq_usage::ActiveModel {
        input_tokens: Set(Some(120)),
        output_tokens: Set(Some(30)),
        total_tokens: Set(Some(150)),
        request_type: Set(Some("summary".into())),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert groq_usage");
    assert_eq!(usage.cost_usd.as_deref(), Some("0.0"));
    assert_eq!(usage.model.as_deref(), Some("llama-3.1-70b-versatile"));
    let mut active = usage.clone().into_active_model();
    active.cost_usd = Set(Some("0.00042".into()));
    let usage = active.update(db).await.expect("update groq_usage");
    assert_eq!(
        groq_usage::Entity::find_by_id(usage.id)
            .one(db)
            .await
            .expect("select groq_usage"),
        Some(usage.clone())
    );
    usage.delete(db).await.expect("delete groq_usage");
    assert_eq!(
        groq_usage::Entity::find().count(db).await.expect("count"),
        0
    );

    // Deleting the user takes its payments with it (ON DELETE CASCADE).
    let deleted = users::Entity::delete_by_id(user.id)
        .exec(db)
        .await
        .expect("delete user");
    assert_eq!(deleted.rows_affected, 1);
    assert_eq!(payments::Entity::find().count(db).await.expect("count"), 0);
    assert_eq!(users::Entity::find().count(db).await.expect("count"), 0);
}

#[tokio::test]
async fn ask_entities_roundtrip_on_postgres() {
    let (_guard, db) = at_head::<ask_migration::Migrator>(Backend::Postgres).await;
    roundtrip(&db).await;
}

#[tokio::test]
async fn ask_entities_roundtrip_on_sqlite() {
    let (_guard, db) = at_head::<ask_migration::Migrator>(Backend::Sqlite).await;
    roundtrip(&db).await;
}
