//! A user switched to Chinese sees no untranslated string on the main screens: every visible
//! text node and message attribute outside `translate="no"` data is Chinese, a number or an
//! allowed abbreviation; in both languages no message key leaks through.

use crate::common::{Client, Engine, site1_randomized};
use crate::on_both;
use axum::http::StatusCode;

on_both!(chinese_screens_have_no_untranslated_strings);

/// Abbreviations and names kept in English in Chinese clinical documents.
const ALLOWED: &[&str] = &[
    "RECIST", "CTCAE", "ECOG", "INR", "AST", "ALT", "ULN", "MedDRA", "mm", "mL", "min", "API", "json", "openapi",
    // Standards, methods and formats named in English in Chinese statistical documents.
    "CONSORT", "Kaplan", "Meier", "Cox", "GEE", "Newcombe", "Fisher", "CDISC", "SDTM", "ADaM", "IPD", "zip", "UTC",
];

const VOID: &[&str] = &["input", "br", "meta", "link", "img", "hr", "source", "col", "wbr"];

fn decode(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    for quote in ['"', '\''] {
        let key = format!(" {name}={quote}");
        if let Some(i) = tag.find(&key) {
            let rest = &tag[i + key.len()..];
            return rest.find(quote).map(|j| decode(&rest[..j]));
        }
    }
    None
}

/// Visible text of a page (text nodes and message attributes), without `<head>`, scripts and
/// elements marked `translate="no"`.
pub fn visible_text(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip: Vec<(String, usize)> = Vec::new(); // (tag name, depth) of a skipped element
    let mut depth = 0usize;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if skip.is_empty() && !text.trim().is_empty() {
            out.push(decode(text.trim()));
        }
        let gt = rest[lt..].find('>').map(|g| lt + g).expect("closed tag");
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_lowercase();
            depth = depth.saturating_sub(1);
            if skip.last().is_some_and(|(n, d)| *n == name && *d == depth) {
                skip.pop();
            }
            continue;
        }
        let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("").to_lowercase();
        if skip.is_empty() {
            for a in ["title", "placeholder", "aria-label", "data-confirm"] {
                if let Some(v) = attr(tag, a) {
                    out.push(v);
                }
            }
        }
        if VOID.contains(&name.as_str()) || tag.ends_with('/') {
            continue;
        }
        let hidden =
            name == "head" || name == "script" || name == "style" || attr(tag, "translate").as_deref() == Some("no");
        if hidden {
            skip.push((name, depth));
        }
        depth += 1;
    }
    out
}

fn untranslated(texts: &[String]) -> Vec<String> {
    let mut bad = Vec::new();
    for t in texts {
        let mut word = String::new();
        for c in t.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_alphabetic() {
                word.push(c);
            } else {
                if word.len() >= 2 && !ALLOWED.contains(&word.as_str()) {
                    bad.push(format!("{word:?} in {t:?}"));
                }
                word.clear();
            }
        }
    }
    bad
}

fn leaked_keys(texts: &[String]) -> Vec<String> {
    texts
        .iter()
        .flat_map(|t| t.split_whitespace())
        .filter(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() >= 2
                && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .map(str::to_owned)
        .collect()
}

async fn chinese_screens_have_no_untranslated_strings(engine: &Engine) {
    let (store, demo) = engine.demo().await;
    let app = crate::common::router(&store);
    let patient = site1_randomized(&store, &demo).await;
    let queued = store.assessments().await.unwrap();
    assert!(!queued.is_empty());
    // A query, so that the data manager's screens list one.
    let dm = Client::login(&app, "dm1").await;
    let r = dm
        .post(&format!("/api/patients/{patient}/queries"), serde_json::json!({"field": "lesion T1", "question": "?"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let screens: &[(&str, &[&str])] = &[
        (
            "inv1",
            &[
                "/patients",
                "/patients/{p}",
                "/screening",
                "/patients/{p}/adverse-events/new",
                "/patients/{p}/plans",
                "/patients/{p}/procedures/new",
            ],
        ),
        ("dm1", &["/patients", "/patients/{p}", "/patients/{p}/plans", "/queries", "/patients/{p}/audit"]),
        ("stat1", &["/statistics"]),
        ("reader1", &["/patients", "/patients/{p}", "/patients/{p}/read"]),
        ("adj1", &["/patients", "/adjudications"]),
    ];
    for locale in ["zh", "en"] {
        for (user, paths) in screens {
            let client = Client::login(&app, user).await;
            assert_eq!(
                client.put("/api/session/locale", serde_json::json!({"locale": locale})).await.status,
                StatusCode::NO_CONTENT
            );
            for path in *paths {
                let path = path.replace("{p}", &patient);
                let r = client.get(&path).await;
                assert_eq!(r.status, StatusCode::OK, "{user} {path}: {}", r.text);
                assert!(r.text.contains(&format!("<html lang=\"{locale}\">")), "{user} {path} is in {locale}");
                let texts = visible_text(&r.text);
                assert!(texts.len() > 5, "{user} {path}: {texts:?}");
                let keys = leaked_keys(&texts);
                assert!(keys.is_empty(), "{user} {path} ({locale}) shows message keys: {keys:?}");
                if locale == "zh" {
                    let bad = untranslated(&texts);
                    assert!(bad.is_empty(), "{user} {path} in Chinese shows English: {bad:?}");
                }
            }
        }
        let anonymous = Client::anonymous(&app);
        let r = anonymous.get(&format!("/login?lang={locale}")).await;
        assert_eq!(r.status, StatusCode::OK);
        if locale == "zh" {
            assert!(untranslated(&visible_text(&r.text)).is_empty(), "{}", r.text);
        }
    }
    // Per-locale dates: the patient list shows the screening date as 2026年1月5日.
    let client = Client::login(&app, "inv1").await;
    client.put("/api/session/locale", serde_json::json!({"locale": "zh"})).await;
    assert!(client.get("/patients").await.text.contains("2026年1月5日"));
    // The checker finds English when there is some.
    assert!(!untranslated(&visible_text("<html><body><p>患者 Patient list</p></body></html>")).is_empty());
    assert!(untranslated(&visible_text("<p translate=\"no\">SIM-0001 <b>x</b></p><p>患者</p>")).is_empty());
}
