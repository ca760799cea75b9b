//! Sign-in records for the web service: password hashes, sessions, per-user language, and the
//! audit entries of sign-in events and of reads of unblinded data.
//!
//! The store never sees a password or a session token: the server hashes passwords (Argon2id PHC
//! strings) and gives the SHA-256 of each random session token. Opening and closing a session,
//! re-authenticating, changing a password and viewing unblinded data are audited in the hash
//! chain (without the hash or the token); looking a session up is a plain read.

use crate::clock::{now_utc, utc_in};
use crate::db::Store;
use crate::error::{Result, StoreError, invalid};
use crate::model::{Role, User};
use sqlx::Row as _;

/// The languages a user may choose.
pub const LOCALES: &[&str] = &["en", "zh"];

/// A live session and its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// The signed-in user.
    pub user: User,
    /// The session's CSRF token (sent back on every state-changing request).
    pub csrf_token: String,
    /// UTC instant after which the session is void.
    pub expires_at: String,
    /// Last re-authentication (password typed again after signing in), if any.
    pub reauthenticated_at: Option<String>,
    /// The user's language (`en` unless chosen).
    pub locale: String,
}

fn check_hex64(field: &str, text: &str) -> Result<()> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(invalid("session", field, "must be 64 hexadecimal digits (a SHA-256)"))
    }
}

impl Store {
    /// Sets a user's password hash (an Argon2id PHC string made by the caller): an administrator
    /// for anyone, or a user for themself. Audited without the hash.
    pub async fn set_password_hash(&self, actor: &str, user_id: &str, password_phc: &str) -> Result<()> {
        if !password_phc.starts_with("$argon2id$") {
            return Err(invalid("credentials", "password_phc", "must be an Argon2id PHC string ($argon2id$…)"));
        }
        let mut tx = self.write(actor).await?;
        if actor != user_id {
            tx.require(&[Role::Admin], "set another user's password")?;
        }
        if sqlx::query("SELECT 1 AS one FROM users WHERE user_id = $1")
            .bind(user_id.to_owned())
            .fetch_optional(&mut *tx.tx)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound { entity: "user", id: user_id.to_owned() });
        }
        let existed = sqlx::query("DELETE FROM credentials WHERE user_id = $1")
            .bind(user_id.to_owned())
            .execute(&mut *tx.tx)
            .await?
            .rows_affected()
            > 0;
        sqlx::query("INSERT INTO credentials (user_id, password_phc, changed_at) VALUES ($1, $2, $3)")
            .bind(user_id.to_owned())
            .bind(password_phc.to_owned())
            .bind(tx.at().to_owned())
            .execute(&mut *tx.tx)
            .await?;
        let action = if existed { "change_password" } else { "set_password" };
        tx.audit(action, "user", user_id, Some("password"), None, None, None).await?;
        // A new password ends the user's other sessions.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id.to_owned()).execute(&mut *tx.tx).await?;
        tx.commit().await
    }

    /// The stored password hash of a user, if any.
    pub async fn password_hash(&self, user_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT password_phc FROM credentials WHERE user_id = $1")
            .bind(user_id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get::<String, _>("password_phc"))
            .transpose()?)
    }

    /// Opens a session for a user whose password the caller has just verified: stores the
    /// token's SHA-256 and CSRF token, expiring `ttl_seconds` from now; audited as `login`.
    pub async fn open_session(
        &self,
        user_id: &str,
        token_sha256: &str,
        csrf_token: &str,
        ttl_seconds: i64,
    ) -> Result<SessionRecord> {
        check_hex64("token_sha256", token_sha256)?;
        if ttl_seconds <= 0 {
            return Err(invalid("session", "ttl_seconds", "must be positive"));
        }
        if csrf_token.len() < 32 {
            return Err(invalid("session", "csrf_token", "must be at least 32 characters"));
        }
        let mut tx = self.write(user_id).await?;
        tx.require(
            &[Role::Admin, Role::Investigator, Role::Statistician, Role::DataManager, Role::Reader, Role::Adjudicator],
            "sign in",
        )?;
        sqlx::query(
            "INSERT INTO sessions (token_sha256, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_sha256.to_owned())
        .bind(user_id.to_owned())
        .bind(csrf_token.to_owned())
        .bind(tx.at().to_owned())
        .bind(utc_in(ttl_seconds))
        .execute(&mut *tx.tx)
        .await?;
        tx.audit("login", "user", user_id, None, None, None, None).await?;
        tx.commit().await?;
        self.session(token_sha256)
            .await?
            .ok_or_else(|| StoreError::NotFound { entity: "session", id: "the session just opened".into() })
    }

    /// The live (unexpired) session with this token hash, with its user and language.
    pub async fn session(&self, token_sha256: &str) -> Result<Option<SessionRecord>> {
        let Some(row) = sqlx::query(
            "SELECT s.user_id, s.csrf_token, s.expires_at, s.reauthenticated_at, u.name, u.role, u.site_id, st.locale \
             FROM sessions s JOIN users u ON u.user_id = s.user_id LEFT JOIN user_settings st ON st.user_id = s.user_id \
             WHERE s.token_sha256 = $1 AND s.expires_at > $2",
        )
        .bind(token_sha256.to_owned())
        .bind(now_utc())
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let user_id: String = row.try_get("user_id")?;
        let role: String = row.try_get("role")?;
        let role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt {
            entity: "user",
            id: user_id.clone(),
            reason: format!("role {role:?}"),
        })?;
        Ok(Some(SessionRecord {
            user: User { name: row.try_get("name")?, role, site_id: row.try_get("site_id")?, user_id },
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
            reauthenticated_at: row.try_get("reauthenticated_at")?,
            locale: row.try_get::<Option<String>, _>("locale")?.unwrap_or_else(|| "en".to_owned()),
        }))
    }

    /// Ends a session (sign-out); audited as `logout`. An unknown token is not an error.
    pub async fn close_session(&self, token_sha256: &str) -> Result<()> {
        let Some(session) = self.session(token_sha256).await? else {
            return Ok(());
        };
        let mut tx = self.write(&session.user.user_id).await?;
        sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
            .bind(token_sha256.to_owned())
            .execute(&mut *tx.tx)
            .await?;
        tx.audit("logout", "user", &session.user.user_id, None, None, None, None).await?;
        tx.commit().await
    }

    /// Records that the session's user has just typed their password again (before signing);
    /// audited as `reauthenticate`.
    pub async fn mark_reauthenticated(&self, token_sha256: &str) -> Result<()> {
        let session = self
            .session(token_sha256)
            .await?
            .ok_or_else(|| StoreError::NotFound { entity: "session", id: "(expired or signed out)".into() })?;
        let mut tx = self.write(&session.user.user_id).await?;
        sqlx::query("UPDATE sessions SET reauthenticated_at = $1 WHERE token_sha256 = $2")
            .bind(tx.at().to_owned())
            .bind(token_sha256.to_owned())
            .execute(&mut *tx.tx)
            .await?;
        tx.audit("reauthenticate", "user", &session.user.user_id, None, None, None, None).await?;
        tx.commit().await
    }

    /// Whether the session's user re-authenticated within the last `seconds`.
    pub async fn reauthenticated_within(&self, token_sha256: &str, seconds: i64) -> Result<bool> {
        Ok(self
            .session(token_sha256)
            .await?
            .and_then(|s| s.reauthenticated_at)
            .is_some_and(|at| at >= utc_in(-seconds)))
    }

    /// Removes expired sessions; returns how many (not audited: sessions are not trial records).
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_utc())
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Sets a user's language (`en` or `zh`): the user themself; audited.
    pub async fn set_locale(&self, actor: &str, locale: &str) -> Result<()> {
        if !LOCALES.contains(&locale) {
            return Err(invalid("user_settings", "locale", format!("{locale:?}: one of {}", LOCALES.join(", "))));
        }
        let mut tx = self.write(actor).await?;
        let old: Option<String> = sqlx::query("SELECT locale FROM user_settings WHERE user_id = $1")
            .bind(actor.to_owned())
            .fetch_optional(&mut *tx.tx)
            .await?
            .map(|r| r.try_get("locale"))
            .transpose()?;
        if old.is_some() {
            sqlx::query("UPDATE user_settings SET locale = $1 WHERE user_id = $2")
                .bind(locale.to_owned())
                .bind(actor.to_owned())
                .execute(&mut *tx.tx)
                .await?;
        } else {
            sqlx::query("INSERT INTO user_settings (user_id, locale) VALUES ($1, $2)")
                .bind(actor.to_owned())
                .bind(locale.to_owned())
                .execute(&mut *tx.tx)
                .await?;
        }
        tx.audit_change("user", actor, "locale", old, Some(locale.to_owned()), None).await?;
        tx.commit().await
    }

    /// Audits a read of unblinded data (arm, modality, plan, procedure, dose) by `actor`:
    /// action `view`, the entity and id read, and what was shown in `field`.
    pub async fn record_view(&self, actor: &str, entity: &str, entity_id: &str, what: &str) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.audit("view", entity, entity_id, Some(what), None, None, None).await?;
        tx.commit().await
    }

    /// Records that `actor` downloaded an export of the trial (`dataset`: `sdtm`, `adam`, `ipd`,
    /// `report`); `detail` says what it held (files, data snapshot SHA-256).
    pub async fn record_export(&self, actor: &str, dataset: &str, detail: &str) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.audit("export", "trial", dataset, None, None, Some(detail.to_owned()), None).await?;
        tx.commit().await
    }
}
