//! Sign-in: Argon2id passwords, random session tokens (only their SHA-256 is stored), cookies,
//! CSRF tokens, login rate limiting, and the guard middleware that checks every request against
//! the route table.

use crate::access::{self, Kind};
use crate::error::ApiError;
use crate::i18n::{Locale, Tr};
use crate::{AppState, pages};
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, PasswordHash};
use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cryoseed_store::model::User;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Hashes a password as an Argon2id PHC string (random salt, the crate's default parameters:
/// m = 19 MiB, t = 2, p = 1, as OWASP recommends).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(&format!("password hashing: {e}")))
}

/// Whether `password` matches the PHC string (constant-time comparison inside argon2).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// `n` random bytes from the operating system, as lowercase hex.
pub fn random_hex(n: usize) -> Result<String, ApiError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(&format!("random number generator: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// SHA-256 of a session token, as stored.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signed-in user of a request (inserted by [`guard`]).
#[derive(Clone, Debug)]
pub struct Current {
    /// The user.
    pub user: User,
    /// SHA-256 of the session token.
    pub token_sha256: String,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// The user's language.
    pub locale: Locale,
}

impl Current {
    /// The user's translator.
    pub fn tr(&self) -> Tr {
        Tr::new(self.locale)
    }
}

/// Extractor: the signed-in user (401 when none).
#[derive(Debug)]
pub struct Auth(pub Current);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Current>().cloned().map(Auth).ok_or_else(ApiError::unauthenticated)
    }
}

/// Extractor: the signed-in user, if any, and the locale to speak (the user's, else the
/// browser's `Accept-Language`).
#[derive(Debug)]
pub struct Viewer {
    /// The signed-in user.
    pub current: Option<Current>,
    /// The language of the response.
    pub locale: Locale,
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let current = parts.extensions.get::<Current>().cloned();
        let locale = current.as_ref().map_or_else(
            || Locale::from_accept_language(parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())),
            |c| c.locale,
        );
        Ok(Viewer { current, locale })
    }
}

/// Extractor: the client's address (for rate limiting): the TCP peer, or `unknown` when the
/// server runs without connection info (in-process tests). `X-Forwarded-For` is not trusted.
#[derive(Debug)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .map_or_else(|| "unknown".to_owned(), |ip: IpAddr| ip.to_string()),
        ))
    }
}

/// Session cookie settings.
#[derive(Clone, Debug)]
pub struct CookieConfig {
    /// Send the cookie only over HTTPS (`Secure`, `__Host-` name). Off only for plain HTTP on
    /// a loopback address.
    pub secure: bool,
    /// Session lifetime.
    pub ttl: Duration,
}

impl CookieConfig {
    /// The cookie's name.
    pub fn name(&self) -> &'static str {
        if self.secure { "__Host-cryoseed_session" } else { "cryoseed_session" }
    }

    /// `Set-Cookie` for a new session token.
    pub fn set(&self, token: &str) -> String {
        format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            self.name(),
            self.ttl.as_secs(),
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn clear(&self) -> String {
        format!(
            "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            self.name(),
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// The session token in a request's cookies.
    pub fn token(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name())
            .map(|(_, value)| value.to_owned())
            .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

/// Limits on failed sign-ins.
#[derive(Clone, Debug)]
pub struct LoginLimits {
    /// Failures allowed per account id (existing or not) within `window`.
    pub per_account: u32,
    /// Failures allowed per client address within `window`.
    pub per_address: u32,
    /// The window.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits { per_account: 5, per_address: 20, window: Duration::from_secs(15 * 60) }
    }
}

/// Counts failed sign-ins per account id and per client address in a fixed window (in memory:
/// one server process; a restart forgets the counts).
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    /// A limiter with `limits`.
    pub fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter { limits, failures: Mutex::new(HashMap::new()) }
    }

    fn count(&self, key: &str) -> u32 {
        let map = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key).filter(|(_, since)| since.elapsed() < self.limits.window).map_or(0, |(n, _)| *n)
    }

    /// Whether a sign-in for `account` from `address` may be tried now.
    pub fn allowed(&self, account: &str, address: &str) -> bool {
        self.count(&format!("account:{}", account.to_lowercase())) < self.limits.per_account
            && self.count(&format!("address:{address}")) < self.limits.per_address
    }

    /// Records a failed sign-in.
    pub fn fail(&self, account: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = self.limits.window;
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        for key in [format!("account:{}", account.to_lowercase()), format!("address:{address}")] {
            let entry = map.entry(key).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= window {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    /// Forgets an account's failures after a successful sign-in.
    pub fn succeed(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&format!("account:{}", account.to_lowercase()));
    }
}

/// Loads the session named by the cookie, if live.
async fn load_session(state: &AppState, headers: &HeaderMap) -> Result<Option<Current>, ApiError> {
    let Some(token) = state.cookies.token(headers) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    Ok(state.store.session(&hash).await?.map(|s| Current {
        user: s.user,
        token_sha256: hash,
        csrf_token: s.csrf_token,
        locale: Locale::from_code(&s.locale),
    }))
}

/// The CSRF token of a state-changing request: the `X-CSRF-Token` header, or a `csrf` field of
/// a URL-encoded form (the body is read and put back).
async fn submitted_csrf(req: Request) -> Result<(Option<String>, Request), ApiError> {
    if let Some(v) = req.headers().get("x-csrf-token") {
        let token = v.to_str().ok().map(str::to_owned);
        return Ok((token, req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "form larger than 64 KiB"))?;
    let token = form_field(&bytes, "csrf");
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// One field of an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(k, v)| (percent_decode(k) == name).then(|| percent_decode(v)))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn refuse(kind: Kind, error: ApiError, locale: Locale) -> Response {
    match (kind, error.status) {
        (Kind::Api | Kind::Static, _) => error.into_response(),
        (Kind::Page, StatusCode::UNAUTHORIZED) => Redirect::to("/login").into_response(),
        (Kind::Page, status) => pages::error_page(Tr::new(locale), status),
    }
}

/// The guard in front of every routed request: finds the route's row in the table (a route
/// without a row is refused), loads the session, checks the CSRF token of state-changing
/// requests on signed-in routes, and the role. Passes the signed-in user to the handler.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let method = if req.method() == Method::HEAD { "GET".to_owned() } else { req.method().as_str().to_owned() };
    let locale = Locale::from_accept_language(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let Some(spec) = matched.as_ref().and_then(|m| access::spec(&method, m.as_str())) else {
        return ApiError::forbidden().into_response();
    };
    let current = match load_session(&state, req.headers()).await {
        Ok(c) => c,
        Err(e) => return refuse(spec.kind, e, locale),
    };
    let locale = current.as_ref().map_or(locale, |c| c.locale);
    let mut req = req;
    if let Some(roles) = spec.roles {
        let Some(current) = &current else {
            return refuse(spec.kind, ApiError::unauthenticated(), locale);
        };
        if spec.is_state_changing() {
            let (token, rebuilt) = match submitted_csrf(req).await {
                Ok(x) => x,
                Err(e) => return refuse(spec.kind, e, locale),
            };
            req = rebuilt;
            if !token.is_some_and(|t| constant_time_eq(t.as_bytes(), current.csrf_token.as_bytes())) {
                return refuse(
                    Kind::Api,
                    ApiError::new(StatusCode::FORBIDDEN, "csrf", "missing or wrong CSRF token (reload the page)"),
                    locale,
                );
            }
        }
        if !roles.contains(&current.user.role) {
            return refuse(spec.kind, ApiError::forbidden(), locale);
        }
    }
    if let Some(current) = current {
        req.extensions_mut().insert(current);
    }
    next.run(req).await
}

/// Security headers on every response: a strict content-security policy (no inline script, no
/// other origin), no framing, no MIME sniffing, no referrer, and no caching of API data.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, header::HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    if is_api {
        set(h, "cache-control", "no-store");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_as_argon2id_and_verify() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct horsf", &phc));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(hash_password("correct horse").unwrap(), phc, "salted");
    }

    #[test]
    fn limiter_counts_accounts_and_addresses() {
        let limiter =
            LoginLimiter::new(LoginLimits { per_account: 2, per_address: 3, window: Duration::from_secs(60) });
        assert!(limiter.allowed("Inv1", "10.0.0.1"));
        limiter.fail("inv1", "10.0.0.1");
        limiter.fail("INV1", "10.0.0.2");
        assert!(!limiter.allowed("inv1", "10.0.0.3"), "account limit across addresses and case");
        limiter.fail("other", "10.0.0.1");
        limiter.fail("third", "10.0.0.1");
        assert!(!limiter.allowed("fourth", "10.0.0.1"), "address limit across accounts");
        limiter.succeed("inv1");
        assert!(limiter.allowed("inv1", "10.0.0.3"));
    }

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(form_field(b"a=1&csrf=ab%2Bc+d&x=", "csrf").as_deref(), Some("ab+c d"));
        assert_eq!(form_field(b"locale=zh", "csrf"), None);
        assert_eq!(form_field(b"csrf=%zz%4", "csrf").as_deref(), Some("%zz%4"));
    }

    #[test]
    fn cookies_are_strict_and_secure_off_loopback() {
        let secure = CookieConfig { secure: true, ttl: Duration::from_secs(60) };
        assert_eq!(
            secure.set("ab"),
            "__Host-cryoseed_session=ab; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
        let local = CookieConfig { secure: false, ttl: Duration::from_secs(60) };
        assert!(!local.set("ab").contains("Secure"));
        let token = "a".repeat(64);
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, format!("x=1; cryoseed_session={token}").parse().unwrap());
        assert_eq!(local.token(&headers).as_deref(), Some(token.as_str()));
        assert_eq!(secure.token(&headers), None);
    }
}
