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

mod issuer {
    use super::*;

    use std::io::{BufRead, BufReader};
    use std::process::Child;

    use authorizer::credential::Credential;
    use authorizer::testing::TEST_AUDIENCE;
    use authorizer::{Error, Issuer, Source, Verifier};

    /// `serve-issuer` as a child process, killed when the test ends.
    pub(super) struct Served {
        child: Child,
        /// Kept open: the process may still be writing when the URLs are read.
        _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
        pub(super) issuer: String,
        pub(super) jwks: String,
    }

    impl Drop for Served {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    pub(super) fn serve_issuer() -> Served {
        let mut child = Command::new(BIN)
            .args(["serve-issuer", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut value = |name: &str| {
            let line = lines.next().expect("a line").unwrap();
            line.strip_prefix(&format!("{name}: "))
                .unwrap_or_else(|| panic!("`{name}: ` in {line}"))
                .to_owned()
        };
        let issuer = value("issuer");
        let jwks = value("jwks");
        Served {
            child,
            _stdout: lines,
            issuer,
            jwks,
        }
    }

    fn verifier(served: &Served) -> Verifier {
        Verifier::builder()
            .issuer(Issuer::jwks(&served.issuer, &served.jwks).audience(TEST_AUDIENCE))
            .build()
            .unwrap()
    }

    pub(super) fn mint(args: &[&str]) -> String {
        let output = run(&[&["mint"], args].concat());
        assert!(output.status.success(), "{}", stderr(&output));
        let token = stdout(&output).trim().to_owned();
        assert_eq!(token.split('.').count(), 3, "{token}");
        token
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn minted_tokens_verify_against_the_served_issuer() {
        let served = serve_issuer();
        assert!(served.issuer.starts_with("http://127.0.0.1:"), "{}", served.issuer);
        assert_eq!(served.jwks, format!("{}/jwks.json", served.issuer));
        let verifier = verifier(&served);

        let token = mint(&[
            "--issuer",
            &served.issuer,
            "--sub",
            "alice",
            "--claims",
            r#"{"scope": "read write", "tier": 1}"#,
            "--claim",
            "roles=[\"admin\"]",
            "--claim",
            "tier=2",
            "--claim",
            "team=blue",
        ]);
        let principal = verifier.verify(Credential::new(&token, Source::Bearer)).await.unwrap();
        assert_eq!(principal.id(), "alice");
        let claims = principal.claims();
        assert_eq!(claims.get("roles"), Some(&json!(["admin"])));
        assert_eq!(claims.get("tier"), Some(&json!(2)), "--claim wins over --claims");
        assert_eq!(claims.get("team"), Some(&json!("blue")));
        assert_eq!(claims.get("scope"), Some(&json!("read write")));

        for alg in ["ES256", "PS384", "EdDSA"] {
            let token = mint(&["--issuer", &served.issuer, "--alg", alg]);
            let verified = verifier.verify(Credential::new(&token, Source::Bearer)).await;
            assert_eq!(verified.unwrap().id(), "user-1", "{alg}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn minted_tokens_are_refused_when_expired_or_for_another_issuer() {
        let served = serve_issuer();
        let verifier = verifier(&served);
        let expired = mint(&["--issuer", &served.issuer, "--expires-in", "-600"]);
        let refused = verifier.verify(Credential::new(&expired, Source::Bearer)).await;
        assert!(matches!(refused, Err(Error::Expired)), "{refused:?}");
        let elsewhere = mint(&[]);
        assert!(
            verifier
                .verify(Credential::new(&elsewhere, Source::Bearer))
                .await
                .is_err()
        );
        let other_audience = mint(&["--issuer", &served.issuer, "--audience", "someone-else"]);
        assert!(
            verifier
                .verify(Credential::new(&other_audience, Source::Bearer))
                .await
                .is_err()
        );
    }

    #[test]
    fn bad_mint_flags_are_one_line_errors() {
        assert_one_line_error(&run(&["mint", "--claim", "no-equals"]), "not name=value");
        assert_one_line_error(&run(&["mint", "--claims", "[1]"]), "not a JSON object");
        assert_one_line_error(&run(&["mint", "--alg", "none"]), "unknown algorithm");
        assert_one_line_error(&run(&["mint", "--alg", "HS512"]), "HS256 only");
        assert_one_line_error(&run(&["mint", "--expires-in", "soon"]), "--expires-in");
    }

    #[test]
    fn the_help_says_the_keys_are_for_development_only() {
        for command in ["mint", "serve-issuer"] {
            let help = stdout(&run(&[command, "--help"]));
            assert!(
                help.contains("development only") && help.contains("fixed test keys"),
                "{help}"
            );
        }
    }

    #[test]
    fn a_port_in_use_is_a_one_line_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port().to_string();
        assert_one_line_error(&run(&["serve-issuer", "--port", &port]), "cannot listen on 127.0.0.1");
    }
}

mod explain {
    use super::issuer::{mint, serve_issuer};
    use super::*;

    fn table() -> String {
        let table = json!({
            "routes": {
                "GET /public": {"optional": true},
                "ANY /admin/{proxy+}": {"require": {"claim": "role", "eq": "admin"}}
            },
            "fallback": {"deny": true}
        });
        file("explain-table.json", &table.to_string())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_good_token_is_explained_step_by_step_and_allowed() {
        let served = serve_issuer();
        let token = mint(&["--issuer", &served.issuer, "--sub", "alice", "--claim", "role=admin"]);
        let routes = table();
        let output = run(&[
            "explain",
            &token,
            "--issuer",
            &served.issuer,
            "--jwks",
            &served.jwks,
            "--audience",
            "authorizer-test",
            "--routes",
            &routes,
            "--route",
            "GET /admin/users",
        ]);
        let out = stdout(&output);
        assert!(output.status.success(), "{out} {}", stderr(&output));
        for expected in [
            "header: alg \"RS256\", kid \"rs256\", typ \"JWT\"",
            "key: \"rs256\" (RSA)",
            "clock skew allowed 60 s",
            "audience: \"authorizer-test\" matches",
            "verified; principal \"alice\"",
            "decision: allowed",
            "lambda authorizer: Allow",
        ] {
            assert!(out.contains(expected), "`{expected}` in {out}");
        }
        assert!(!out.contains(&token), "the token is never printed whole: {out}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_requirement_is_a_403_and_an_iam_deny() {
        let served = serve_issuer();
        let token = mint(&["--issuer", &served.issuer, "--claim", "role=viewer"]);
        let output = run_with_stdin(
            &[
                "explain",
                "--issuer",
                &served.issuer,
                "--jwks",
                &served.jwks,
                "--routes",
                &table(),
                "--route",
                "DELETE /admin/x",
            ],
            &format!("Bearer {token}\n"),
        );
        let out = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{out} {}", stderr(&output));
        assert!(out.contains("requirement \"role\""), "{out}");
        assert!(out.contains("decision: refused with 403"), "{out}");
        assert!(
            out.contains("response (rfc6750): 403") && out.contains("response (supertokens): 403"),
            "{out}"
        );
        assert!(out.contains("lambda authorizer: Deny"), "{out}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_expired_token_is_refused_with_both_bodies() {
        let served = serve_issuer();
        let token = mint(&["--issuer", &served.issuer, "--expires-in", "-600"]);
        let output = run(&[
            "explain",
            &token,
            "--issuer",
            &served.issuer,
            "--jwks",
            &served.jwks,
            "--routes",
            &table(),
            "--route",
            "GET /public",
        ]);
        let out = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{out}");
        assert!(out.contains("time: exp ") && out.contains(" s ago, nbf"), "{out}");
        assert!(
            out.contains("refused: ") && out.contains("response (rfc6750): 401"),
            "{out}"
        );
        assert!(out.contains("WWW-Authenticate: Bearer"), "{out}");
        assert!(
            out.contains("refused before the route's rule"),
            "an optional route does not rescue a bad token: {out}"
        );
        assert!(out.contains("`Unauthorized`"), "{out}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_configuration_file_gives_the_issuer_keys_and_style() {
        let served = serve_issuer();
        let config = format!(
            "error_style = \"rfc6750\"\nleeway_secs = 5\n[[issuers]]\niss = \"{}\"\njwks_url = \"{}\"\naudiences = [\"authorizer-test\"]\n",
            served.issuer, served.jwks
        );
        let config = file("explain.toml", &config);
        let good = mint(&["--issuer", &served.issuer]);
        let output = run(&["explain", &good, "--config", &config]);
        let out = stdout(&output);
        assert!(output.status.success(), "{out} {}", stderr(&output));
        assert!(
            out.contains("clock skew allowed 5 s") && out.contains("key: \"rs256\""),
            "{out}"
        );
        let wrong_audience = mint(&["--issuer", &served.issuer, "--audience", "other"]);
        let output = run(&["explain", &wrong_audience, "--config", &config]);
        let out = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{out}");
        assert!(
            out.contains("does not match") && out.contains("response (rfc6750): 401"),
            "{out}"
        );
        assert!(!out.contains("supertokens"), "only the configured style: {out}");
    }

    #[test]
    fn malformed_tokens_and_inputs_are_one_line_errors() {
        let jwks = file("explain-empty.json", r#"{"keys": []}"#);
        let args = |token: &'static str| vec!["explain", token, "--issuer", "https://idp.example", "--jwks"];
        for (token, mentions) in [
            ("not-a-token", "not a JWS"),
            ("a.b.c", "not base64url"),
            ("e30.W10.c2ln", "payload is not a JSON object"),
        ] {
            let mut argv = args(token);
            argv.push(&jwks);
            let output = run(&argv);
            assert_one_line_error(&output, mentions);
        }
        let secret_looking = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtc3ViamVjdCJ9";
        let output = run(&[
            "explain",
            secret_looking,
            "--issuer",
            "https://idp.example",
            "--jwks",
            &jwks,
        ]);
        assert_one_line_error(&output, "2 part(s)");
        assert!(!stderr(&output).contains(secret_looking));
        assert_one_line_error(
            &run(&["explain", "x.y.z", "--config", "/nonexistent.toml"]),
            "not base64url",
        );
        assert_one_line_error(
            &run_with_stdin(&["explain", "--config", "/nonexistent.toml"], ""),
            "no token given",
        );
        let ok = "e30.e30.c2ln";
        assert_one_line_error(
            &run(&["explain", ok, "--config", "/nonexistent.toml"]),
            "cannot read /nonexistent.toml",
        );
        let bad_config = file(
            "explain-bad.json",
            r#"{"issuers": [{"iss": "https://a", "jwks_ur": "x"}]}"#,
        );
        assert_one_line_error(&run(&["explain", ok, "--config", &bad_config]), "issuers[0]");
        assert_one_line_error(
            &run(&[
                "explain",
                ok,
                "--issuer",
                "https://a",
                "--jwks",
                &jwks,
                "--routes",
                &jwks,
                "--route",
                "nope",
            ]),
            "not `METHOD /path`",
        );
    }
}
