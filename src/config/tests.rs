use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::principal::Source;
use crate::testing::{TEST_AUDIENCE, TestIssuer};

fn toml(text: &str) -> Result<Config, ConfigFileError> {
    Config::from_deserializer(::toml::Deserializer::parse(text).expect("TOML syntax"))
}

fn built(text: &str) -> Result<Authenticator, ConfigFileError> {
    toml(text)?.build()
}

fn error_path(result: Result<impl fmt::Debug, ConfigFileError>) -> String {
    result.expect_err("refused").path().to_owned()
}

/// A configuration for `issuer`, its keys fetched from its JWKS URL.
fn for_issuer(issuer: &TestIssuer, extra_issuer: &str, rest: &str) -> String {
    format!(
        "{rest}\n[[issuers]]\niss = \"{}\"\njwks_url = \"{}\"\n{extra_issuer}\n",
        issuer.issuer(),
        issuer.jwks_url()
    )
}

async fn accepts(auth: &Authenticator, token: &str) -> bool {
    auth.authenticate_token(token, Source::Bearer)
        .await
        .principal()
        .is_some()
}

#[tokio::test]
async fn a_file_builds_the_authenticator_it_describes() {
    let issuer = TestIssuer::start().await;
    let text = for_issuer(
        &issuer,
        &format!("audiences = [\"{TEST_AUDIENCE}\"]\nfetch = {{ cooldown_secs = 1, timeout_secs = 2 }}"),
        "error_style = \"rfc6750\"\nleeway_secs = 0\nid_claim = \"email\"\n[credentials]\norder = [\"bearer\", \"query:access_token\"]\nmax_len = 4096",
    );
    let auth = built(&text).unwrap();
    assert_eq!(auth.renderer().style(), Some(ErrorStyle::Rfc6750));
    let token = issuer.token().claim("email", json!("a@example.com")).sign();
    let outcome = auth.authenticate_token(&token, Source::Bearer).await;
    assert_eq!(
        outcome.principal().map(|p| p.id()),
        Some("a@example.com"),
        "id_claim applies"
    );
    let elsewhere = issuer.token().claim("aud", json!("another-api")).sign();
    assert!(!accepts(&auth, &elsewhere).await, "the audience is enforced");
    let late = issuer.token().expires_in(-5).sign();
    assert!(!accepts(&auth, &late).await, "leeway 0 applies");

    let headers = http::HeaderMap::new();
    let target = format!("/ws?access_token={token}");
    let parts = crate::pipeline::RequestParts::new("GET", &target, &headers);
    let outcome = auth.authenticate(&parts, crate::pipeline::Mode::Required).await;
    assert_eq!(
        outcome.principal().map(|p| p.source()),
        Some(Source::Query),
        "the credential order applies"
    );
}

#[tokio::test]
async fn json_reads_the_same_schema() {
    let issuer = TestIssuer::start().await;
    let text = json!({
        "issuers": [{"iss": issuer.issuer(), "jwks_url": issuer.jwks_url(), "audiences": [TEST_AUDIENCE]}],
        "algorithms": ["RS256"],
    })
    .to_string();
    let config = Config::from_deserializer(&mut serde_json::Deserializer::from_str(&text)).unwrap();
    let auth = config.build().unwrap();
    assert!(accepts(&auth, &issuer.token().sign()).await);
    let es256 = issuer.token().alg(jsonwebtoken::Algorithm::ES256).sign();
    assert!(!accepts(&auth, &es256).await, "the algorithm list applies");
}

#[test]
fn errors_name_the_entry() {
    let issuer = "[[issuers]]\niss = \"https://auth.example.com\"\n";
    let cases = [
        (format!("{issuer}audience = [\"api\"]"), "issuers[0].audience"),
        (format!("leeway_secs = \"soon\"\n{issuer}"), "leeway_secs"),
        (
            format!("{issuer}[issuers.fetch]\ncooldown = 5"),
            "issuers[0].fetch.cooldown",
        ),
        (
            format!("{issuer}[credentials]\norder = [\"bearer\", \"cookie\"]"),
            "credentials.order[1]",
        ),
        (
            format!("{issuer}[credentials]\norder = [\"header:bad name\"]"),
            "credentials.order[0]",
        ),
        (
            format!("{issuer}[credentials]\norder = [\"carrier-pigeon\"]"),
            "credentials.order[0]",
        ),
        (format!("{issuer}[credentials]\nordr = []"), "credentials.ordr"),
        (format!("{issuer}error_style = \"xml\""), "issuers[0].error_style"),
        ("error_style = \"xml\"\nissuers = []".to_owned(), "error_style"),
        ("issuers = []".to_owned(), "issuers"),
        (
            format!("{issuer}jwks_url = \"https://a/jwks\"\ndiscover = true"),
            "issuers[0]",
        ),
        (
            format!("{issuer}jwks_file = \"/nonexistent/jwks.json\""),
            "issuers[0].jwks_file",
        ),
        (format!("algorithms = []\n{issuer}"), "algorithms"),
        (format!("{issuer}discover = false"), "issuers[0].discover"),
    ];
    for (text, path) in cases {
        let result = toml(&text).and_then(|config| config.build());
        let error = result.expect_err(&text);
        assert_eq!(error.path(), path, "{text}: {error}");
        assert!(error.to_string().starts_with(path), "{error}");
    }
}

#[test]
fn insecure_combinations_are_refused() {
    for iss in [
        "https://login.microsoftonline.com/common/v2.0",
        "https://login.microsoftonline.com/organizations/v2.0",
        "https://login.microsoftonline.com/{tenantid}/v2.0",
    ] {
        let text = format!("[[issuers]]\niss = \"{iss}\"");
        assert_eq!(error_path(built(&text)), "issuers[0].audiences", "{iss}");
        let with_audience = format!("{text}\naudiences = [\"api\"]");
        assert!(built(&with_audience).is_ok(), "{iss} with an audience");
    }
    let plain = "[[issuers]]\niss = \"https://a.example.com\"\njwks_url = \"http://keys.example.com/jwks\"";
    assert_eq!(error_path(built(plain)), "issuers[0]", "http outside loopback");
    let allowed = format!("{plain}\nfetch = {{ allow_plain_http = true }}");
    assert!(built(&allowed).is_ok(), "unless allowed in so many words");
    let profile = "[[issuers]]\niss = \"https://a.example.com\"\naccess_token_profile = true";
    assert_eq!(error_path(built(profile)), "issuers[0].access_token_profile");
    let twice = "[[issuers]]\niss = \"https://a.example.com\"\n[[issuers]]\niss = \"https://a.example.com\"";
    assert_eq!(error_path(built(twice)), "issuers[0]");
}

#[tokio::test]
async fn a_key_file_is_read_with_the_hygiene_rules() {
    let issuer = TestIssuer::start().await;
    let document = reqwest::get(issuer.jwks_url()).await.unwrap().text().await.unwrap();
    let file = std::env::temp_dir().join(format!("authorizer-config-{}.json", std::process::id()));
    std::fs::write(&file, document).unwrap();
    let text = format!(
        "[[issuers]]\niss = \"{}\"\njwks_file = \"{}\"\naudiences = [\"{TEST_AUDIENCE}\"]",
        issuer.issuer(),
        file.display()
    );
    let auth = built(&text).unwrap();
    assert!(accepts(&auth, &issuer.token().sign()).await);
    let with_fetch = format!("{text}\nfetch = {{ cooldown_secs = 1 }}");
    assert_eq!(error_path(built(&with_fetch)), "issuers[0].fetch");
    std::fs::write(&file, "{\"keys\": 7}").unwrap();
    assert_eq!(error_path(built(&text)), "issuers[0].jwks_file");
    std::fs::remove_file(&file).unwrap();
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn the_environment_overrides_the_file() {
    let file = toml(
        "error_style = \"supertokens\"\n[[issuers]]\niss = \"https://a.example.com\"\naudiences = [\"a\"]\n[[issuers]]\niss = \"https://b.example.com\"",
    )
    .unwrap();
    let same = file.clone().with_vars(&vars(&[("AUTHORIZER_ISSUER", "  ")])).unwrap();
    assert_eq!(same.issuers.len(), 2, "an empty variable changes nothing");

    let audience = file
        .clone()
        .with_vars(&vars(&[("AUTHORIZER_AUDIENCE", "x, y")]))
        .unwrap();
    for issuer in &audience.issuers {
        assert_eq!(issuer.audiences, ["x", "y"]);
    }
    let replaced = file
        .clone()
        .with_vars(&vars(&[
            ("AUTHORIZER_ISSUER", "https://c.example.com"),
            ("AUTHORIZER_JWKS_URL", "https://c.example.com/keys"),
            ("AUTHORIZER_AUDIENCE", "api"),
            ("AUTHORIZER_ERROR_STYLE", "rfc6750"),
        ]))
        .unwrap();
    assert_eq!(replaced.issuers.len(), 1);
    assert_eq!(replaced.issuers[0].iss, "https://c.example.com");
    assert_eq!(
        replaced.issuers[0].jwks_url.as_deref(),
        Some("https://c.example.com/keys")
    );
    assert_eq!(replaced.issuers[0].audiences, ["api"]);
    assert_eq!(replaced.build().unwrap().renderer().style(), Some(ErrorStyle::Rfc6750));

    let several = file
        .clone()
        .with_vars(&vars(&[("AUTHORIZER_ISSUER", "https://c.example.com")]));
    assert_eq!(
        error_path(several),
        "AUTHORIZER_ISSUER",
        "several issuers with audiences: the audience must be said again"
    );
    let one = toml("[[issuers]]\niss = \"https://a.example.com\"\naudiences = [\"a\"]\naccess_token_profile = true")
        .unwrap()
        .with_vars(&vars(&[("AUTHORIZER_ISSUER", "https://staging.example.com")]))
        .unwrap();
    assert_eq!(one.issuers[0].iss, "https://staging.example.com");
    assert_eq!(one.issuers[0].audiences, ["a"], "the only issuer keeps its audience");
    assert!(one.issuers[0].access_token_profile, "and its profile");

    let bad_style = file.clone().with_vars(&vars(&[("AUTHORIZER_ERROR_STYLE", "xml")]));
    assert_eq!(error_path(bad_style), "AUTHORIZER_ERROR_STYLE");
    let orphan_url = file.with_vars(&vars(&[("AUTHORIZER_JWKS_URL", "https://k")]));
    assert_eq!(error_path(orphan_url), "AUTHORIZER_JWKS_URL");
}

#[tokio::test]
async fn a_resource_section_sets_the_audience_metadata_and_challenges() {
    let issuer = TestIssuer::start().await;
    let text = for_issuer(
        &issuer,
        "",
        "error_style = \"rfc6750\"\n[resource]\nidentifier = \"https://api.example.com/mcp\"\nscopes_supported = [\"mcp:tools\"]\nname = \"Tools\"",
    );
    let auth = built(&text).unwrap();
    let for_us = issuer.token().claim("aud", json!("https://api.example.com/mcp")).sign();
    assert!(accepts(&auth, &for_us).await);
    assert!(
        !accepts(&auth, &issuer.token().sign()).await,
        "the resource is the audience of an issuer that names none"
    );
    let metadata = auth.resource_metadata().unwrap();
    assert_eq!(metadata.path(), "/.well-known/oauth-protected-resource/mcp");
    let document: serde_json::Value = serde_json::from_str(metadata.body()).unwrap();
    assert_eq!(document["scopes_supported"], json!(["mcp:tools"]));
    assert_eq!(document["resource_name"], "Tools");
    assert_eq!(document["authorization_servers"], json!([issuer.issuer()]));
    let challenge = auth
        .renderer()
        .render(&crate::Error::MissingCredential)
        .www_authenticate;
    assert_eq!(
        challenge,
        [r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp""#]
    );

    let moved = toml(&text)
        .unwrap()
        .with_vars(&vars(&[("AUTHORIZER_RESOURCE", "https://tools.example.com")]))
        .unwrap()
        .build()
        .unwrap();
    let document: serde_json::Value = serde_json::from_str(moved.resource_metadata().unwrap().body()).unwrap();
    assert_eq!(
        (&document["resource"], &document["resource_name"]),
        (&json!("https://tools.example.com"), &json!("Tools"))
    );

    let bad = for_issuer(&issuer, "", "[resource]\nidentifier = \"http://api.example.com/mcp\"");
    assert_eq!(error_path(built(&bad)), "resource.identifier");
    let bad = for_issuer(
        &issuer,
        "",
        "[resource]\nidentifier = \"https://api.example.com\"\ndocumentation = \"docs\"",
    );
    assert_eq!(error_path(built(&bad)), "resource.documentation");
}

#[tokio::test]
async fn introspection_from_the_file_and_the_environment() {
    use crate::testing::{TEST_CLIENT_ID, TEST_CLIENT_SECRET};
    let issuer = TestIssuer::start().await;
    let opaque = issuer.token().subject("user-1").opaque();
    let text = for_issuer(
        &issuer,
        &format!(
            "introspection = {{ client_id = \"{TEST_CLIENT_ID}\", client_secret = \"{TEST_CLIENT_SECRET}\", max_cache_secs = 5 }}"
        ),
        "",
    );
    assert!(
        accepts(&built(&text).unwrap(), &opaque).await,
        "endpoint from discovery"
    );
    let debug = format!("{:?}", toml(&text).unwrap());
    assert!(!debug.contains(TEST_CLIENT_SECRET), "the secret never shows in Debug");

    let plain = for_issuer(&issuer, "", "");
    let from_env = toml(&plain)
        .unwrap()
        .with_vars(&vars(&[
            ("AUTHORIZER_CLIENT_ID", TEST_CLIENT_ID),
            ("AUTHORIZER_CLIENT_SECRET", TEST_CLIENT_SECRET),
            (
                "AUTHORIZER_INTROSPECTION_URL",
                &format!("{}/introspect", issuer.issuer()),
            ),
        ]))
        .unwrap()
        .build()
        .unwrap();
    assert!(accepts(&from_env, &opaque).await);
    assert!(
        !accepts(&built(&plain).unwrap(), &opaque).await,
        "no introspection, no opaque tokens"
    );

    let half = toml(&plain)
        .unwrap()
        .with_vars(&vars(&[("AUTHORIZER_CLIENT_ID", TEST_CLIENT_ID)]));
    assert_eq!(error_path(half), "AUTHORIZER_CLIENT_ID");
    let no_secret = for_issuer(&issuer, "introspection = { client_id = \"x\" }", "");
    assert_eq!(error_path(toml(&no_secret)), "issuers[0].introspection");
}
