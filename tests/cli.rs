//! The `authorizer` binary, run as a user runs it: files written under the
//! target's temporary directory, and a test issuer (or the binary's own
//! `serve-issuer`) on 127.0.0.1.

#![cfg(feature = "cli")]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::json;

use crate::adversary::{jwk_of, published_keys, weak_jwk, with};
use authorizer::testing::TestIssuer;

const BIN: &str = env!("CARGO_BIN_EXE_authorizer");

/// A 2048-bit RSA modulus with the ROCA fingerprint (see `keysets.rs`).
const ROCA_N: &str = "nc10IOQgwnCmgGDri1qnRXqfZkj4b6_tJ3XMH3muli8eY_G55RxV-epv3HMy6bAFjJ_y6x_ImFUCnPaq_iHmif6zisn_sS8c43G7XQ6armQWGrznS0JEv2jx7bRBH3VqCXyJKcFHQCReo1X4My0ao2u1DH3LRQXajeAuTlPTj43wYJfadSTfDfk9tI6sjMSvLToWJX6ysq3Ka6Rk5ZdPqSVQ0xsbq_Fh52ktALhuPdiG7KtKv74aj4zCY_9K9VzbRfQkmlGTkl9emD12LwtoAJQ-sCZ7CPQu0xHOH1yG6svIzk08t6L-4e9WQUI6HPQRTl7PUANKYKQSUjr55vSqEQ";

fn run(args: &[&str]) -> Output {
    run_with_stdin(args, "")
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// A refusal of bad input: exit code 2, one line on stderr, nothing of a panic.
fn assert_one_line_error(output: &Output, mentions: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("authorizer: "), "{err}");
    assert!(err.contains(mentions), "`{mentions}` in {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
}

/// Writes `contents` to a file of its own for one test.
fn file(name: &str, contents: &str) -> String {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

mod jwks {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reports_each_key_used_or_skipped_with_the_library_reason() {
        let issuer = TestIssuer::start().await;
        let keys = published_keys(&issuer).await;
        let rsa = jwk_of(&keys, "rs256");
        let document = json!({"keys": [
            rsa,
            jwk_of(&keys, "es256"),
            weak_jwk(),
            with(&rsa, json!({"kid": "roca", "n": ROCA_N})),
            with(&rsa, json!({"kid": "private", "d": "AQAB"})),
            with(&rsa, json!({"kid": "for-encryption", "use": "enc"})),
            with(&jwk_of(&keys, "ps256"), json!({"kid": "twin"})),
            with(&jwk_of(&keys, "es384"), json!({"kid": "twin"})),
        ]});
        let path = file("mixed.json", &document.to_string());
        let output = run(&["jwks", &path]);
        let out = stdout(&output);
        assert!(output.status.success(), "{out} {}", stderr(&output));
        let line = |kid: &str| {
            out.lines()
                .find(|l| l.contains(&format!("kid \"{kid}\"")))
                .unwrap_or_else(|| panic!("no line for {kid} in {out}"))
                .to_owned()
        };
        assert!(
            line("rs256").contains("use ") && line("rs256").contains("alg RS256"),
            "{out}"
        );
        assert!(
            line("es256").contains("use ") && line("es256").contains("ES256"),
            "{out}"
        );
        assert!(
            line("weak-1024").contains("skip") && line("weak-1024").contains("RSA modulus under 2048 bits"),
            "{out}"
        );
        assert!(line("roca").contains("ROCA fingerprint"), "{out}");
        assert!(line("private").contains("private or symmetric key material"), "{out}");
        assert!(line("for-encryption").contains("use is not sig"), "{out}");
        assert_eq!(out.matches("kid shared with another key").count(), 2, "{out}");
        assert!(out.contains("2 usable, 6 skipped"), "{out}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fetches_a_served_key_set_over_loopback_http() {
        let issuer = TestIssuer::start().await;
        let output = run(&["jwks", &issuer.jwks_url()]);
        let out = stdout(&output);
        assert!(output.status.success(), "{out} {}", stderr(&output));
        for kid in ["rs256", "ps512", "es384", "eddsa"] {
            assert!(out.contains(&format!("use   kid \"{kid}\"")), "{kid} in {out}");
        }
        assert!(out.contains(" 0 skipped"), "{out}");
        assert_eq!(issuer.jwks_fetches(), 1);
    }

    #[test]
    fn a_set_without_a_usable_key_exits_with_failure() {
        let path = file("weak.json", &json!({"keys": [weak_jwk()]}).to_string());
        let output = run(&["jwks", &path]);
        assert_eq!(output.status.code(), Some(1));
        assert!(stdout(&output).contains("0 usable, 1 skipped"));
        assert!(stderr(&output).contains("no usable key"));
    }

    #[test]
    fn bad_sources_are_one_line_errors() {
        assert_one_line_error(
            &run(&["jwks", "/nonexistent/jwks.json"]),
            "cannot read /nonexistent/jwks.json",
        );
        assert_one_line_error(&run(&["jwks", "http://example.com/jwks.json"]), "plain http");
        assert_one_line_error(&run(&["jwks", "ftp://127.0.0.1/jwks.json"]), "unsupported scheme");
        assert_one_line_error(&run(&["jwks", "https://"]), "not a valid URL");
        assert_one_line_error(&run(&["jwks", &file("notjson.json", "{\"keys\": [\n")]), "is not JSON");
        assert_one_line_error(
            &run(&["jwks", &file("nokeys.json", "{\"key\": []}")]),
            "no `keys` array",
        );
        assert_one_line_error(&run_with_stdin(&["jwks", "-"], "[1, 2]"), "no `keys` array");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreachable_or_failing_url_is_one_line() {
        let issuer = TestIssuer::start().await;
        issuer.set_outage(true);
        assert_one_line_error(&run(&["jwks", &issuer.jwks_url()]), "answered 503");
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        assert_one_line_error(
            &run(&["jwks", &format!("http://127.0.0.1:{port}/jwks.json")]),
            "cannot fetch",
        );
    }
}

mod routes {
    use super::*;

    #[test]
    fn prints_each_route_rule_and_the_fallback() {
        let table = json!({
            "routes": {
                "GET /public": {"optional": true},
                "ANY /me": {},
                "ANY /admin/{proxy+}": {"require": {"claim": "st-role", "at": "v", "contains": "admin"}},
                "DELETE /items/{id}": {"deny": true}
            },
            "fallback": {"deny": true}
        });
        let output = run(&["routes", &file("table.json", &table.to_string())]);
        let out = stdout(&output);
        assert!(output.status.success(), "{out} {}", stderr(&output));
        let line = |start: &str| {
            out.lines()
                .find(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" ") == start)
                .unwrap_or_else(|| panic!("no `{start}` in {out}"))
                .to_owned()
        };
        assert!(line("GET /public").contains("optional"), "{out}");
        assert!(line("ANY /me").contains("session"), "{out}");
        let admin = line("ANY /admin/{proxy+}");
        assert!(
            admin.contains("require") && admin.contains("st-role") && admin.contains("admin"),
            "{out}"
        );
        assert!(line("DELETE /items/{id}").ends_with("deny"), "{out}");
        let fallback = out.lines().find(|l| l.starts_with("fallback")).unwrap();
        assert!(fallback.ends_with("deny"), "{out}");
        assert!(out.contains("4 routes"), "{out}");
    }

    #[test]
    fn the_default_fallback_is_a_session() {
        let output = run_with_stdin(&["routes", "-"], r#"{"routes": {"GET /x": {"optional": true}}}"#);
        let fallback = stdout(&output)
            .lines()
            .find(|l| l.starts_with("fallback"))
            .unwrap()
            .to_owned();
        assert!(fallback.contains("session"), "{fallback}");
    }

    #[test]
    fn errors_name_the_bad_entry() {
        let bad_rule = json!({"routes": {"GET /ok": {}, "GET /bad": {"optional": true, "deny": true}}});
        assert_one_line_error(&run(&["routes", &file("both.json", &bad_rule.to_string())]), "GET /bad");
        let bad_key = json!({"routes": {"GET no-slash": {}}});
        assert_one_line_error(
            &run(&["routes", &file("key.json", &bad_key.to_string())]),
            "GET no-slash",
        );
        let bad_requirement = json!({"routes": {"POST /items": {"require": {"scope": 7}}}});
        assert_one_line_error(
            &run(&["routes", &file("req.json", &bad_requirement.to_string())]),
            "POST /items",
        );
        let unknown = json!({"routes": {}, "fallbak": {"deny": true}});
        assert_one_line_error(
            &run(&["routes", &file("unknown.json", &unknown.to_string())]),
            "fallbak",
        );
        assert_one_line_error(&run(&["routes", "/nonexistent/routes.json"]), "cannot read");
    }
}
