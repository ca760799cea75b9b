//! `cryoseed password` and `cryoseed serve --demo` as a user meets them.

use crate::{cryoseed, stderr, stdout};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn with_stdin(args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cryoseed"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn password_is_read_from_stdin_and_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    assert!(cryoseed(&["db", "init", "--db", &url, "--admin", "admin"]).status.success());
    let short = with_stdin(&["password", "--db", &url, "--as", "admin", "--user", "admin"], "short\n");
    assert_eq!(short.status.code(), Some(1));
    assert!(stderr(&short).contains("at least 12 characters"), "{}", stderr(&short));
    let ok = with_stdin(&["password", "--db", &url, "--as", "admin", "--user", "admin"], "a long enough secret\n");
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("password of admin set"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let phc = rt.block_on(async {
        let store = cryoseed_store::Store::connect(&url).await.unwrap();
        store.password_hash("admin").await.unwrap().unwrap()
    });
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(cryoseed_server::auth::verify_password("a long enough secret", &phc));
    let unknown =
        with_stdin(&["password", "--db", &url, "--as", "admin", "--user", "nobody"], "a long enough secret\n");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("user nobody does not exist"), "{}", stderr(&unknown));
}

/// Starts `serve --demo` on a free port, reads the printed passwords, signs in over real HTTP.
#[test]
fn serve_demo_prints_users_and_answers_http() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cryoseed"))
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let mut addr = None;
    while addr.is_none() {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("serve ended early: {printed}{err}");
        }
        if let Some(rest) = line.split("on http://").nth(1) {
            addr = rest.split('/').next().map(str::to_owned);
        }
        printed.push_str(&line);
    }
    let addr = addr.unwrap();
    for role in ["admin", "investigator", "statistician", "data_manager", "reader", "adjudicator"] {
        assert!(printed.contains(role), "{role} missing from:\n{printed}");
    }
    let inv1 = printed.lines().find(|l| l.starts_with("inv1 ")).expect("inv1 listed");
    let password = inv1.split_whitespace().last().unwrap();
    let body = format!(r#"{{"user_id": "inv1", "password": "{password}"}}"#);
    let request = format!(
        "POST /api/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("cryoseed_session=") && response.contains("HttpOnly"), "{response}");
    assert!(!response.to_lowercase().contains("; secure"), "loopback: no Secure flag");
}
