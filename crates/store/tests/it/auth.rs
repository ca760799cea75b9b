//! Sign-in records (schema 2): password hashes, sessions by token hash, expiry, re-authentication,
//! language, and the audit entries they leave.

use crate::common::{ADMIN, Engine, INV, R1, setup};
use crate::on_both;
use cryoseed_store::StoreError;
use sqlx::Row as _;

on_both!(sessions_are_stored_by_hash_and_expire, passwords_and_locales_are_audited, schema_1_upgrades_to_2);

const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const CSRF: &str = "csrf-token-of-at-least-thirty-two-chars";

async fn sessions_are_stored_by_hash_and_expire(engine: &Engine) {
    let store = engine.fresh(2).await;
    setup(&store, 1, true).await;
    let opened = store.open_session(INV, TOKEN, CSRF, 3600).await.unwrap();
    assert_eq!(opened.user.user_id, INV);
    assert_eq!(opened.locale, "en");
    assert_eq!(opened.csrf_token, CSRF);
    assert!(store.session(TOKEN).await.unwrap().is_some());
    assert!(!store.reauthenticated_within(TOKEN, 60).await.unwrap(), "signing needs the password typed again");
    // Only the hash is stored, and the audit trail has neither the token nor its hash.
    let mut conn = engine.raw().await;
    let row = sqlx::query("SELECT token_sha256 FROM sessions").fetch_one(&mut conn).await.unwrap();
    assert_eq!(row.try_get::<String, _>("token_sha256").unwrap(), TOKEN);
    let log = store.audit_log(Some(INV), 0, 100).await.unwrap();
    assert!(log.iter().any(|e| e.action == "login"), "{log:?}");
    assert!(log.iter().all(|e| !format!("{e:?}").contains(TOKEN)));
    // A malformed hash is refused, naming the field.
    let err = store.open_session(INV, "abc", CSRF, 60).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "token_sha256"), "{err}");
    // An unknown user cannot get a session.
    let other = TOKEN.replace('0', "f");
    assert!(matches!(store.open_session("nobody", &other, CSRF, 60).await, Err(StoreError::Forbidden { .. })));
    // Expired sessions are not returned, and purged.
    let err = store.open_session(R1, &other, CSRF, 0).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "ttl_seconds"), "{err}");
    store.open_session(R1, &other, CSRF, 60).await.unwrap();
    sqlx::query("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE user_id = 'reader1'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(store.session(&other).await.unwrap().is_none());
    assert_eq!(store.purge_expired_sessions().await.unwrap(), 1);
    // Re-authentication and sign-out.
    store.mark_reauthenticated(TOKEN).await.unwrap();
    assert!(store.reauthenticated_within(TOKEN, 5).await.unwrap());
    store.close_session(TOKEN).await.unwrap();
    assert!(store.session(TOKEN).await.unwrap().is_none());
    let log = store.audit_log(Some(INV), 0, 100).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.ends_with(&["login", "reauthenticate", "logout"]), "{actions:?}");
    assert!(store.verify_audit().await.unwrap().is_intact());
}

async fn passwords_and_locales_are_audited(engine: &Engine) {
    let store = engine.fresh(2).await;
    setup(&store, 1, true).await;
    store.set_password_hash(ADMIN, INV, PHC).await.unwrap();
    assert_eq!(store.password_hash(INV).await.unwrap().as_deref(), Some(PHC));
    assert_eq!(store.password_hash("nobody").await.unwrap(), None);
    // Not an Argon2id string; someone else's password without being admin; an unknown user.
    let err = store.set_password_hash(ADMIN, INV, "plain").await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "password_phc"), "{err}");
    assert!(matches!(store.set_password_hash(R1, INV, PHC).await, Err(StoreError::Forbidden { .. })));
    assert!(matches!(store.set_password_hash(ADMIN, "nobody", PHC).await, Err(StoreError::NotFound { .. })));
    // Changing one's own password ends one's sessions.
    store.open_session(INV, TOKEN, CSRF, 3600).await.unwrap();
    store.set_password_hash(INV, INV, PHC).await.unwrap();
    assert!(store.session(TOKEN).await.unwrap().is_none());
    let log = store.audit_log(Some(INV), 0, 100).await.unwrap();
    assert!(log.iter().all(|e| e.new_value.as_deref() != Some(PHC) && e.old_value.as_deref() != Some(PHC)));
    assert!(log.iter().any(|e| e.action == "change_password"));
    // Language.
    store.set_locale(INV, "zh").await.unwrap();
    store.open_session(INV, TOKEN, CSRF, 3600).await.unwrap();
    assert_eq!(store.session(TOKEN).await.unwrap().unwrap().locale, "zh");
    let err = store.set_locale(INV, "fr").await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "locale"), "{err}");
    store.record_view(INV, "allocation", "P-001", "arm").await.unwrap();
    let log = store.audit_log(Some("P-001"), 0, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].action.as_str(), log[0].field.as_deref()), ("view", Some("arm")));
    assert!(store.verify_audit().await.unwrap().is_intact());
}

/// A database made by schema 1 (before sign-in, site countries, the per-patient indexes and
/// plan-review bundles existed) upgrades in place, to the newest schema.
async fn schema_1_upgrades_to_2(engine: &Engine) {
    let store = engine.fresh(2).await;
    setup(&store, 1, true).await;
    let schema_1 = [
        "DROP TABLE plan_reviews",
        "DROP TABLE sessions",
        "DROP TABLE user_settings",
        "DROP TABLE credentials",
        "DROP INDEX adverse_events_by_patient",
        "DROP INDEX plans_by_patient",
        "DROP INDEX procedures_by_patient",
        "DROP INDEX deviations_by_patient",
        "DROP INDEX queries_by_patient",
        "DROP INDEX signatures_by_patient",
        "ALTER TABLE sites DROP COLUMN country",
        "DELETE FROM schema_migrations WHERE version > 1",
    ];
    for sql in schema_1 {
        let mut conn = engine.raw().await;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.unwrap();
    }
    assert_eq!(store.schema_version().await.unwrap(), 1);
    assert_eq!(store.migrate().await.unwrap(), vec![2, 3, 4, 5]);
    assert!(store.plan_reviews().await.unwrap().is_empty());
    store.set_password_hash(ADMIN, INV, PHC).await.unwrap();
    assert!(store.verify_audit().await.unwrap().is_intact());
}
