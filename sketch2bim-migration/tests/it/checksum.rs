//! Each migration's checksum, as recorded when it is applied or adopted:
//! pinned for the first migrations on each backend (as recorded before `v2`,
//! and since), and the helpers the checksum tests share to read what a
//! database recorded.

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait;
use test_support::Backend;

use crate::migrations;

/// Each migration's checksum as recorded before `v2` (the SHA-256 of its `up`
/// statements alone) for PostgreSQL, which every database migrated before
/// `v2` holds. They change only if
/// a migration's statements change: migrations are frozen history, so a
/// change here is a new migration instead (or, after a dependency upgrade
/// that renders different SQL, a reviewed `repair` in every database).
const POSTGRES_V1: [(&str, &str); 10] = [
    (
        "m001_initial_schema",
        "87687521a665a4148640bffbad21015f40c53fa310b965a1a980f1734e7f59a8",
    ),
    (
        "m002_add_legend_to_jobs",
        "c0236ebb128a10eb7bb1bc9e01ae5fadd7afaa2e68387d8d03098850d24c0211",
    ),
    (
        "m003_add_batch_id_to_jobs",
        "2627a9378446b8e394983a9917e3669ee1ce2ed6f1058363894559b3d1fa7fdf",
    ),
    (
        "m004_add_iterations_variations_referrals",
        "67b63c9c1880f759d540fdbdcb64e1c69c0283d86e8b732b3a245d5ff55dbd89",
    ),
    (
        "m005_add_sketchup_url",
        "ebc97224e65dfb7bb6d55ea7af586f318c0aacc8610ae26e2486cb8f68abf879",
    ),
    (
        "m006_remove_api_keys",
        "ca0c4efcc8a09455121dbcaa71b2888233322be287d65e0b444d87e988499c9b",
    ),
    (
        "m007_add_subscription_expires_at",
        "c2c5c9de23e53e240f2fb15ab88cdb808aec0aeb89baecb65984364ebcf3ca09",
    ),
    (
        "m008_add_subscription_fields",
        "734988b4833531c5da607d8ce355f93f001f91a021ec54117cbca47514d764cf",
    ),
    (
        "m009_add_project_type_to_jobs",
        "2e3e51412d1610f8cfdc52e0d7419485cbbdd77920410b124442070553e9ceb5",
    ),
    (
        "m010_remove_reader_type_column",
        "a6e52d57300e55bcb122f6a382053c34f4d5b9683cdb358e9d6358649438870a",
    ),
];

/// As recorded before `v2` for SQLite, where three migrations render differently.
const SQLITE_V1: [(&str, &str); 10] = [
    (
        "m001_initial_schema",
        "8640e92a5fd26c6d74015da38ea3567cb971a032f91eec52821b5fbbfacf574f",
    ),
    (
        "m002_add_legend_to_jobs",
        "428d62fef82dca06b5c99500dd0fc4d62bb3d9ff6dc15590dd36d107eb025861",
    ),
    (
        "m003_add_batch_id_to_jobs",
        "2627a9378446b8e394983a9917e3669ee1ce2ed6f1058363894559b3d1fa7fdf",
    ),
    (
        "m004_add_iterations_variations_referrals",
        "68bd3a5ba7fadd799dd8c54e96dba2a9f541d91e6643e6abd3fe059cbe61115a",
    ),
    (
        "m005_add_sketchup_url",
        "ebc97224e65dfb7bb6d55ea7af586f318c0aacc8610ae26e2486cb8f68abf879",
    ),
    (
        "m006_remove_api_keys",
        "ca0c4efcc8a09455121dbcaa71b2888233322be287d65e0b444d87e988499c9b",
    ),
    (
        "m007_add_subscription_expires_at",
        "2155a95054a6cd657159632014447ec1f33d447c7e154f0c4f679756df9d07f6",
    ),
    (
        "m008_add_subscription_fields",
        "695286fc171e2968f33a74e1691783bf08adfc768c0575f9e4b8619174f1b60a",
    ),
    (
        "m009_add_project_type_to_jobs",
        "2e3e51412d1610f8cfdc52e0d7419485cbbdd77920410b124442070553e9ceb5",
    ),
    (
        "m010_remove_reader_type_column",
        "a6e52d57300e55bcb122f6a382053c34f4d5b9683cdb358e9d6358649438870a",
    ),
];

/// Each migration's checksum (`v2`: its `up` and `down` statements and its
/// `use_transaction()`) as rendered for PostgreSQL and recorded by every
/// apply since `v2`: changed deliberately when `v2` began.
pub(crate) const POSTGRES: [(&str, &str); 10] = [
    (
        "m001_initial_schema",
        "v2:f0cf77664e0cb0019c3001f78562bb31801d05afe942375391e3d772dc8981d9",
    ),
    (
        "m002_add_legend_to_jobs",
        "v2:a0c760462f00b75fdad911812605008112645e6e42605d453ea79c8d3069075e",
    ),
    (
        "m003_add_batch_id_to_jobs",
        "v2:1914210110de840e4c64c57f67595b020f6be13dc925f4335779c007dde1a42a",
    ),
    (
        "m004_add_iterations_variations_referrals",
        "v2:fafdbbae7a94631a484640b6ece6263c93d8b2af3fb76f07f96512a0f6b663e5",
    ),
    (
        "m005_add_sketchup_url",
        "v2:cd11932974153999d187b7e1aa125a3b80521afeda131f1fbf5ed2b3522f7aba",
    ),
    (
        "m006_remove_api_keys",
        "v2:122f91abbfbc40bdee7d3fc9605fc26292cfa988daa8ea35650a4e4f494de2fa",
    ),
    (
        "m007_add_subscription_expires_at",
        "v2:f33197e00e2ed1c890a770b8b4ee2a64dbb73845859571f100046a78974686d6",
    ),
    (
        "m008_add_subscription_fields",
        "v2:bb506b4eb792f3492d95395340fdd08c7ddf1dc1dc6e56a7ec241d2e290f512b",
    ),
    (
        "m009_add_project_type_to_jobs",
        "v2:14e8356315da8ba8822ba287c48dda3bfa55a8f0635b0743562b613d5c1a6f24",
    ),
    (
        "m010_remove_reader_type_column",
        "v2:8d6f1707475614e9d4ac117b70d8b2eb251cab2ddd05a72a01d272a79e21a2ac",
    ),
];

/// As rendered for SQLite.
const SQLITE: [(&str, &str); 10] = [
    (
        "m001_initial_schema",
        "v2:1bf1a24b657f8a705cb5c8817394fa52a0bd0a2c8ad3ce4c79cb4ec48d36d677",
    ),
    (
        "m002_add_legend_to_jobs",
        "v2:0bf6e90c3ec712ac708ee1183b4ee1d60691f2253c95aef7616b1cbf7406d5a4",
    ),
    (
        "m003_add_batch_id_to_jobs",
        "v2:1914210110de840e4c64c57f67595b020f6be13dc925f4335779c007dde1a42a",
    ),
    (
        "m004_add_iterations_variations_referrals",
        "v2:cb187b11188dffbadaeadbdd0abca805996c2f99461b30cebc73c8837d1a973d",
    ),
    (
        "m005_add_sketchup_url",
        "v2:cd11932974153999d187b7e1aa125a3b80521afeda131f1fbf5ed2b3522f7aba",
    ),
    (
        "m006_remove_api_keys",
        "v2:a5ab484ddc75486895f22bae96e2aa77e500ba2a076ed0d041a148d143be6708",
    ),
    (
        "m007_add_subscription_expires_at",
        "v2:b844748620198dc8fe582a2de6fc8cd342721b0aacfef8239fc2d14dcbdbeb2c",
    ),
    (
        "m008_add_subscription_fields",
        "v2:29b51efbe99251003ba56e55f7dca79d41fa6baf488be92116e06da4d4be4388",
    ),
    (
        "m009_add_project_type_to_jobs",
        "v2:14e8356315da8ba8822ba287c48dda3bfa55a8f0635b0743562b613d5c1a6f24",
    ),
    (
        "m010_remove_reader_type_column",
        "v2:8d6f1707475614e9d4ac117b70d8b2eb251cab2ddd05a72a01d272a79e21a2ac",
    ),
];

fn pinned(backend: Backend) -> &'static [(&'static str, &'static str); 10] {
    match backend {
        Backend::Postgres => &POSTGRES,
        Backend::Sqlite => &SQLITE,
    }
}

/// Every migration's checksum on `backend`, oldest first: the pinned one for
/// the migrations that have one, what this binary renders for the later ones.
pub(crate) async fn expected(backend: Backend) -> Vec<(String, String)> {
    let db_backend = match backend {
        Backend::Postgres => sea_orm::DbBackend::Postgres,
        Backend::Sqlite => sea_orm::DbBackend::Sqlite,
    };
    let mut all = Vec::new();
    for migration in sketch2bim_migration::Migrator::migrations() {
        let name = migration.name().to_owned();
        let checksum = match pinned(backend).iter().find(|(n, _)| *n == name) {
            Some((_, checksum)) => (*checksum).to_owned(),
            None => migration_core::checksum::of(migration.as_ref(), db_backend)
                .await
                .unwrap_or_else(|| panic!("{name} renders without a database")),
        };
        all.push((name, checksum));
    }
    all
}

#[tokio::test]
async fn the_pinned_checksums_are_the_first_migrations_and_what_they_render() {
    let names = migrations().first(POSTGRES.len());
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let pinned: Vec<&str> = pinned(backend).iter().map(|(n, _)| *n).collect();
        assert_eq!(pinned, names);
    }
    let db_backend = sea_orm::DbBackend::Postgres;
    for (migration, (name, checksum)) in sketch2bim_migration::Migrator::migrations()
        .iter()
        .zip(POSTGRES)
    {
        assert_eq!(
            migration_core::checksum::of(migration.as_ref(), db_backend)
                .await
                .as_deref(),
            Some(checksum),
            "{name}"
        );
    }
}

pub(crate) fn expected_v1(backend: Backend) -> &'static [(&'static str, &'static str); 10] {
    match backend {
        Backend::Postgres => &POSTGRES_V1,
        Backend::Sqlite => &SQLITE_V1,
    }
}

/// `(version, checksum)` of every bookkeeping row, in name order.
pub(crate) async fn recorded(db: &DatabaseConnection) -> Vec<(String, Option<String>)> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT version, checksum FROM seaql_migrations ORDER BY version",
    ))
    .await
    .expect("reading seaql_migrations")
    .iter()
    .map(|r| {
        (
            r.try_get::<String>("", "version").expect("version"),
            r.try_get::<Option<String>>("", "checksum")
                .expect("checksum"),
        )
    })
    .collect()
}

pub(crate) async fn all_recorded(backend: Backend) -> Vec<(String, Option<String>)> {
    expected(backend)
        .await
        .into_iter()
        .map(|(n, c)| (n, Some(c)))
        .collect()
}

/// Whether the bookkeeping table has the checksum column.
pub(crate) async fn has_checksum_column(db: &DatabaseConnection) -> bool {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "SELECT CAST(count(*) AS BIGINT) AS n FROM information_schema.columns \
             WHERE table_name = 'seaql_migrations' AND column_name = 'checksum'"
        }
        _ => {
            "SELECT count(*) AS n FROM pragma_table_info('seaql_migrations') WHERE name = 'checksum'"
        }
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("reading the catalog")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("count") == 1
}

pub(crate) fn names() -> Vec<&'static str> {
    migrations().names()
}
