use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::*;
use crate::principal::Source;

fn principal(claims: Value) -> Principal {
    Principal::new("u1", Source::Bearer).with_claims(claims.as_object().expect("an object").clone())
}

fn with_scopes(claims: Value, scopes: &[&str]) -> Principal {
    principal(claims).with_scopes(scopes.iter().map(|s| s.to_string()).collect())
}

/// The single failure of `r` on `claims`, as JSON.
fn failure(r: &Requirement, claims: Value) -> Value {
    let denied = r.evaluate(&principal(claims)).expect_err("should fail");
    assert_eq!(denied.errors.len(), 1, "{denied:?}");
    serde_json::to_value(&denied.errors[0]).unwrap()
}

fn passes(r: &Requirement, claims: Value) -> bool {
    let p = principal(claims);
    let result = r.evaluate(&p);
    assert_eq!(result.is_ok(), r.is_met(&p));
    result.is_ok()
}

fn reason(id: &str, message: &str, expected: Option<Value>, actual: Option<Value>) -> Value {
    let mut reason = json!({ "message": message });
    if let Some(expected) = expected {
        reason["expectedValue"] = expected;
    }
    if let Some(actual) = actual {
        reason["actualValue"] = actual;
    }
    json!({ "id": id, "reason": reason })
}

#[test]
fn eq_passes_and_fails_like_supertokens() {
    let r = claim("st-ev").at("v").eq(true);
    assert!(passes(&r, json!({"st-ev": {"v": true, "t": 1}})));
    assert_eq!(
        failure(&r, json!({"st-ev": {"v": false}})),
        reason("st-ev", "wrong value", Some(json!(true)), Some(json!(false)))
    );
    assert_eq!(
        failure(&r, json!({})),
        reason("st-ev", "value does not exist", Some(json!(true)), None)
    );
    assert_eq!(
        failure(&r, json!({"st-ev": {}})),
        reason("st-ev", "value does not exist", Some(json!(true)), None)
    );
}

#[test]
fn eq_compares_numbers_by_value_and_structures_deeply() {
    assert!(passes(&claim("n").eq(1), json!({"n": 1.0})));
    assert!(passes(&claim("n").eq(u64::MAX), json!({"n": u64::MAX})));
    assert!(!passes(&claim("n").eq(u64::MAX - 1), json!({"n": u64::MAX})));
    assert!(!passes(&claim("n").eq(-1), json!({"n": u64::MAX})));
    assert!(passes(
        &claim("o").eq(json!({"a": [1, {"b": 2.0}]})),
        json!({"o": {"a": [1.0, {"b": 2}]}})
    ));
    assert!(!passes(
        &claim("o").eq(json!({"a": [1]})),
        json!({"o": {"a": [1], "x": 0}})
    ));
    assert!(!passes(&claim("s").eq(true), json!({"s": "true"})));
    assert!(!passes(&claim("s").eq(1), json!({"s": "1"})));
}

#[test]
fn ne_needs_a_present_different_value() {
    let r = claim("tier").ne("free");
    assert!(passes(&r, json!({"tier": "gold"})));
    assert!(passes(&r, json!({"tier": 3})));
    assert_eq!(
        failure(&r, json!({"tier": "free"})),
        reason("tier", "wrong value", Some(json!({"ne": "free"})), Some(json!("free")))
    );
    assert_eq!(
        failure(&r, json!({})),
        reason("tier", "value does not exist", Some(json!({"ne": "free"})), None)
    );
}

#[test]
fn exists_rejects_missing_and_null() {
    let r = claim("org").at("id").exists();
    assert!(passes(&r, json!({"org": {"id": 0}})));
    assert!(passes(&r, json!({"org": {"id": false}})));
    assert_eq!(
        failure(&r, json!({"org": {"id": null}})),
        reason(
            "org",
            "value does not exist",
            Some(json!({"exists": true})),
            Some(Value::Null)
        )
    );
    assert_eq!(
        failure(&r, json!({"org": null})),
        reason("org", "wrong value", Some(json!({"exists": true})), Some(Value::Null))
    );
    assert!(!passes(&r, json!({})));
}

#[test]
fn contains_arrays_and_space_separated_strings() {
    let r = claim("st-role").at("v").contains("admin");
    assert!(passes(&r, json!({"st-role": {"v": ["user", "admin"]}})));
    assert_eq!(
        failure(&r, json!({"st-role": {"v": ["user"]}})),
        reason("st-role", "wrong value", Some(json!("admin")), Some(json!(["user"])))
    );
    let words = claim("scope").contains("write");
    assert!(passes(&words, json!({"scope": "read  write"})));
    assert!(!passes(&words, json!({"scope": "read writer"})));
    assert!(!passes(&claim("scope").contains(""), json!({"scope": "a b"})));
    assert!(!passes(&claim("n").contains(1), json!({"n": "1"})));
    assert!(passes(&claim("n").contains(1), json!({"n": [1.0]})));
    assert!(!passes(&r, json!({"st-role": {"v": {"admin": true}}})));
    assert!(
        passes(&r, json!({"st-role": {"v": "admin"}})),
        "a one-word string holds its word"
    );
}

#[test]
fn contains_all_and_any() {
    let all_of = claim("perms").contains_all(["read", "write"]);
    assert!(passes(&all_of, json!({"perms": ["write", "x", "read"]})));
    assert_eq!(
        failure(&all_of, json!({"perms": ["read"]})),
        reason(
            "perms",
            "wrong value",
            Some(json!(["read", "write"])),
            Some(json!(["read"]))
        )
    );
    assert!(passes(&all_of, json!({"perms": "read write"})));
    let empty_all = claim("perms").contains_all(Vec::<String>::new());
    assert!(passes(&empty_all, json!({"perms": []})));
    assert!(!passes(&empty_all, json!({"perms": 7})), "wrong type never passes");
    assert!(!passes(&empty_all, json!({"perms": null})));

    let any_of = claim("perms").contains_any(["admin", "write"]);
    assert!(passes(&any_of, json!({"perms": ["write"]})));
    assert_eq!(
        failure(&any_of, json!({"perms": ["read"]})),
        reason(
            "perms",
            "wrong value",
            Some(json!({"contains_any": ["admin", "write"]})),
            Some(json!(["read"]))
        )
    );
    assert!(!passes(
        &claim("perms").contains_any(Vec::<String>::new()),
        json!({"perms": ["a"]})
    ));
}

#[test]
fn one_of() {
    let r = claim("org").at("tier").one_of(["gold", "platinum"]);
    assert!(passes(&r, json!({"org": {"tier": "gold"}})));
    assert_eq!(
        failure(&r, json!({"org": {"tier": "free"}})),
        reason(
            "org",
            "wrong value",
            Some(json!({"one_of": ["gold", "platinum"]})),
            Some(json!("free"))
        )
    );
    assert!(!passes(&r, json!({"org": {"tier": ["gold"]}})));
}

#[test]
fn numeric_comparisons() {
    let claims = |n: Value| json!({ "level": n });
    assert!(passes(&claim("level").gt(2), claims(json!(3))));
    assert!(!passes(&claim("level").gt(3), claims(json!(3))));
    assert!(passes(&claim("level").ge(3), claims(json!(3.0))));
    assert!(passes(&claim("level").lt(3.5), claims(json!(3))));
    assert!(!passes(&claim("level").lt(3), claims(json!(3))));
    assert!(passes(&claim("level").le(3u64), claims(json!(3))));
    assert!(passes(&claim("level").gt(-1i64), claims(json!(u64::MAX))));
    assert!(passes(&claim("level").gt(i64::MAX as u64 + 1), claims(json!(u64::MAX))));
    assert!(
        !passes(&claim("level").gt(f64::NAN), claims(json!(1))),
        "NaN never passes"
    );
    assert!(!passes(&claim("level").le(f64::NAN), claims(json!(1))));
    for wrong in [json!("3"), Value::Null, json!([3]), json!({"v": 3}), json!(true)] {
        assert!(!passes(&claim("level").ge(0), claims(wrong.clone())), "{wrong}");
        assert!(!passes(&claim("level").le(10), claims(wrong)));
    }
    assert_eq!(
        failure(&claim("level").ge(5), claims(json!(2))),
        reason("level", "wrong value", Some(json!({"ge": 5})), Some(json!(2)))
    );
    assert_eq!(
        failure(&claim("level").lt(0.5), claims(json!(2))),
        reason("level", "wrong value", Some(json!({"lt": 0.5})), Some(json!(2)))
    );
}

#[test]
fn matches_whole_strings() {
    let r = claim("email").matches(r"[^@]+@example\.com").unwrap();
    assert!(passes(&r, json!({"email": "a@example.com"})));
    assert!(
        !passes(&r, json!({"email": "a@example.com.evil"})),
        "anchored at the end"
    );
    assert!(!passes(
        &claim("id").matches("admin").unwrap(),
        json!({"id": "notadmin"})
    ));
    assert!(passes(&claim("id").matches("a|b").unwrap(), json!({"id": "b"})));
    assert!(!passes(&claim("id").matches("a|b").unwrap(), json!({"id": "ab"})));
    assert!(!passes(&r, json!({"email": 5})));
    assert_eq!(
        failure(&r, json!({"email": "a@b.c"})),
        reason(
            "email",
            "wrong value",
            Some(json!({"matches": r"[^@]+@example\.com"})),
            Some(json!("a@b.c"))
        )
    );
    assert!(claim("x").matches("(").is_err());
}

#[test]
fn max_age_in_seconds_and_milliseconds() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let p = |claims: Value| principal(claims);
    let iat = claim("iat").max_age(Duration::from_secs(300));
    assert!(iat.evaluate_at(&p(json!({"iat": 1_700_000_000 - 300})), now).is_ok());
    assert!(
        iat.evaluate_at(&p(json!({"iat": 1_700_000_000 + 50})), now).is_ok(),
        "future passes"
    );
    let denied = iat
        .evaluate_at(&p(json!({"iat": 1_700_000_000 - 412})), now)
        .unwrap_err();
    assert_eq!(
        serde_json::to_value(&denied.errors[0]).unwrap(),
        reason(
            "iat",
            "expired",
            Some(json!({"maxAgeInSeconds": 300})),
            Some(json!({"ageInSeconds": 412}))
        )
    );
    let wrong = iat.evaluate_at(&p(json!({"iat": "1700000000"})), now).unwrap_err();
    assert_eq!(wrong.errors[0].reason.message, "wrong value");
    let missing = iat.evaluate_at(&p(json!({})), now).unwrap_err();
    assert_eq!(missing.errors[0].reason.message, "value does not exist");

    let t = claim("st-ev")
        .at("t")
        .max_age_in(Duration::from_secs(60), TimeUnit::Milliseconds);
    assert!(
        t.evaluate_at(&p(json!({"st-ev": {"t": 1_699_999_950_000u64}})), now)
            .is_ok()
    );
    assert!(
        t.evaluate_at(&p(json!({"st-ev": {"t": 1_699_999_900_000u64}})), now)
            .is_err()
    );
    // Seconds read as milliseconds are ancient: fails, never passes.
    assert!(t.evaluate_at(&p(json!({"st-ev": {"t": 1_699_999_990}})), now).is_err());

    // The system clock, for the plain evaluate.
    let fresh = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(iat.evaluate(&p(json!({ "iat": fresh }))).is_ok());
    assert!(iat.evaluate(&p(json!({ "iat": fresh - 3600 }))).is_err());
}

#[test]
fn wrong_types_on_the_path_fail_with_a_reason() {
    let r = claim("st-ev").at("v").eq(true);
    for claims in [
        json!({"st-ev": "true"}),
        json!({"st-ev": null}),
        json!({"st-ev": true}),
        json!({"st-ev": [true]}),
        json!({"st-ev": 1}),
    ] {
        let actual = claims["st-ev"].clone();
        assert_eq!(
            failure(&r, claims),
            reason("st-ev", "wrong value", Some(json!(true)), Some(actual))
        );
    }
    let indexed = claim("roles").at(0).eq("admin");
    assert!(passes(&indexed, json!({"roles": ["admin"]})));
    assert!(!passes(&indexed, json!({"roles": []})));
    assert!(!passes(&indexed, json!({"roles": {"0": "admin"}})));
}

#[test]
fn deeply_nested_input_is_safe() {
    let mut deep = json!(true);
    for _ in 0..1_000 {
        deep = json!({ "v": deep });
    }
    let claims = json!({ "deep": deep });
    let mut path = claim("deep");
    for _ in 0..1_000 {
        path = path.at("v");
    }
    assert!(passes(&path.clone().eq(true), claims.clone()));
    assert!(!passes(&claim("deep").at("v").eq(true), claims.clone()));
    assert!(!passes(&path.clone().gt(0), claims.clone()));
    assert!(!passes(&claim("deep").contains(true), claims.clone()));
    assert!(!passes(&claim("deep").at("x").exists(), claims.clone()));
    assert!(!passes(&path.at("v").eq(true), claims));
}

#[test]
fn scopes() {
    let p = with_scopes(json!({}), &["read", "write"]);
    assert!(scope("read").evaluate(&p).is_ok());
    assert!(all_scopes(["read", "write"]).evaluate(&p).is_ok());
    assert!(any_scope(["admin", "write"]).evaluate(&p).is_ok());
    assert!(oauth::scope("write").is_met(&p));

    let denied = all_scopes(["read", "admin", "delete"]).evaluate(&p).unwrap_err();
    assert_eq!(denied.missing_scopes, ["admin", "delete"]);
    assert_eq!(
        serde_json::to_value(&denied.errors).unwrap(),
        json!([reason(
            "scope",
            "wrong value",
            Some(json!(["read", "admin", "delete"])),
            Some(json!(["read", "write"]))
        )])
    );
    let denied = any_scope(["admin", "root"]).evaluate(&p).unwrap_err();
    assert_eq!(denied.missing_scopes, ["admin", "root"]);
    assert_eq!(
        denied.errors[0].reason.expected_value,
        Some(json!({"any_scope": ["admin", "root"]}))
    );
    let denied = all([scope("admin"), scope("admin"), scope("read")])
        .evaluate(&p)
        .unwrap_err();
    assert_eq!(denied.missing_scopes, ["admin"], "no duplicates");
    assert_eq!(denied.errors.len(), 2);
    assert!(!any_scope(Vec::<String>::new()).is_met(&p));
}

#[test]
fn composition() {
    let p = with_scopes(json!({"st-ev": {"v": true}, "st-role": {"v": ["user"]}}), &["read"]);
    let verified = supertokens::email_verified();
    let admin = supertokens::has_role("admin");
    assert!(all([verified.clone(), scope("read")]).evaluate(&p).is_ok());
    assert!(all([]).evaluate(&p).is_ok());
    assert!(any([admin.clone(), verified.clone()]).evaluate(&p).is_ok());

    let denied = all([verified.clone(), admin.clone(), scope("write")])
        .evaluate(&p)
        .unwrap_err();
    let ids: Vec<&str> = denied.errors.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["st-role", "scope"]);
    assert_eq!(denied.missing_scopes, ["write"]);

    let denied = any([admin.clone(), scope("write")]).evaluate(&p).unwrap_err();
    assert_eq!(denied.errors.len(), 2, "every alternative is explained");
    assert_eq!(denied.missing_scopes, ["write"]);

    let denied = any([]).evaluate(&p).unwrap_err();
    assert_eq!(denied.errors[0].id, "any");

    assert!(not(admin.clone()).evaluate(&p).is_ok());
    let denied = not(verified.clone()).evaluate(&p).unwrap_err();
    assert_eq!(
        serde_json::to_value(&denied.errors).unwrap(),
        json!([reason(
            "st-ev",
            "wrong value",
            Some(json!({"not": {"claim": "st-ev", "at": ["v"], "eq": true}})),
            Some(json!(true))
        )])
    );
    let denied = not(all([verified.clone(), scope("read")])).evaluate(&p).unwrap_err();
    assert_eq!(denied.errors[0].id, "not");
    assert!(denied.missing_scopes.is_empty());
    assert!(not(not(verified.clone())).evaluate(&p).is_ok());
}

#[test]
fn ids_given_by_the_user() {
    let p = principal(json!({"st-role": {"v": []}}));
    let r = supertokens::has_role("admin").with_id("admin-only");
    assert_eq!(r.evaluate(&p).unwrap_err().errors[0].id, "admin-only");
    let both = all([scope("x"), claim("a").exists()]).with_id("bundle");
    let denied = both.evaluate(&p).unwrap_err();
    assert!(denied.errors.iter().all(|e| e.id == "bundle"));
    assert_eq!(denied.errors.len(), 2);
    let negated = not(claim("st-role").exists().with_id("has-roles"));
    assert_eq!(negated.evaluate(&p).unwrap_err().errors[0].id, "has-roles");
}

#[test]
fn custom_checks() {
    let staff = custom("staff", |p: &Principal| {
        if p.id().starts_with("staff-") {
            Ok(())
        } else {
            Err(ClaimError::new("", "not a staff account").actual(p.id()))
        }
    });
    assert!(staff.is_met(&Principal::new("staff-1", Source::Bearer)));
    let denied = staff.evaluate(&Principal::new("u", Source::Bearer)).unwrap_err();
    assert_eq!(
        serde_json::to_value(&denied.errors).unwrap(),
        json!([{"id": "staff", "reason": {"message": "not a staff account", "actualValue": "u"}}])
    );
    let own_id = custom("c", |_| Err(ClaimError::new("st-ev", "mine")));
    assert_eq!(
        own_id
            .evaluate(&Principal::new("u", Source::Bearer))
            .unwrap_err()
            .errors[0]
            .id,
        "st-ev"
    );
    assert_eq!(staff, staff.clone());
    assert_ne!(staff, custom("staff", |_| Ok(())));
    let denied = not(custom("always", |_| Ok(())))
        .evaluate(&Principal::new("u", Source::Bearer))
        .unwrap_err();
    assert_eq!(denied.errors[0].id, "always");
    assert_eq!(
        denied.errors[0].reason.expected_value,
        Some(json!({"not": {"custom": "always"}}))
    );
    assert!(format!("{staff:?}").contains("staff"));
}

#[test]
fn authorize_maps_to_http_errors() {
    let r = supertokens::email_verified();
    assert!(matches!(r.authorize(None), Err(Error::MissingCredential)));
    let p = principal(json!({"st-ev": {"v": false}}));
    assert!(matches!(r.authorize(Some(&p)), Err(Error::Forbidden(d)) if d.errors.len() == 1));
    assert!(r.authorize(Some(&principal(json!({"st-ev": {"v": true}})))).is_ok());
}

#[test]
fn supertokens_presets_use_supertokens_ids() {
    let p = principal(json!({
        "st-ev": {"v": true, "t": 1},
        "st-role": {"v": ["admin"], "t": 1},
        "st-perm": {"v": ["items:read"], "t": 1},
        "st-mfa": {"c": {"emailpassword": 1}, "v": true},
    }));
    for r in [
        supertokens::email_verified(),
        supertokens::has_role("admin"),
        supertokens::has_permission("items:read"),
        supertokens::mfa_completed(),
    ] {
        assert!(r.evaluate(&p).is_ok(), "{r:?}");
    }
    let none = principal(json!({}));
    let ids: Vec<String> = [
        supertokens::email_verified(),
        supertokens::has_role("admin"),
        supertokens::has_permission("items:read"),
        supertokens::mfa_completed(),
    ]
    .iter()
    .map(|r| r.evaluate(&none).unwrap_err().errors[0].id.clone())
    .collect();
    assert_eq!(ids, ["st-ev", "st-role", "st-perm", "st-mfa"]);

    let now = UNIX_EPOCH + Duration::from_secs(1_000);
    let fresh = supertokens::email_verified_within(Duration::from_secs(60));
    assert!(
        fresh
            .evaluate_at(&principal(json!({"st-ev": {"v": true, "t": 950_000}})), now)
            .is_ok()
    );
    let denied = fresh
        .evaluate_at(&principal(json!({"st-ev": {"v": true, "t": 900_000}})), now)
        .unwrap_err();
    assert_eq!(denied.errors[0].id, "st-ev");
    assert_eq!(denied.errors[0].reason.message, "expired");
}

#[test]
fn requirements_are_shareable() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Requirement>();
}

// ---------------------------------------------------------------------------
// The data form.

fn every_kind() -> Requirement {
    all([
        claim("st-ev").at("v").eq(true),
        claim("tier").ne("free").with_id("paid"),
        claim("org").at("id").exists(),
        claim("st-role").at("v").at(0).contains("admin"),
        claim("perms").contains_all(["a", "b"]),
        claim("perms").contains_any([json!(1), json!({"x": [true]})]),
        claim("level").one_of([1, 2]),
        claim("level").gt(1),
        claim("level").ge(-2),
        claim("level").lt(2.5),
        claim("level").le(10),
        claim("email").matches(r".+@example\.com").unwrap(),
        claim("iat").max_age(Duration::from_secs(300)),
        claim("st-ev")
            .at("t")
            .max_age_in(Duration::from_millis(1500), TimeUnit::Milliseconds),
        scope("read"),
        all_scopes(["a", "b"]),
        any_scope(["c"]),
        any([not(scope("x")), all([])]),
    ])
}

#[test]
fn json_round_trip() {
    let r = every_kind();
    let text = serde_json::to_string_pretty(&r).unwrap();
    let back = Requirement::from_json(&text).unwrap();
    assert_eq!(back, r);
    assert_eq!(serde_json::from_str::<Requirement>(&text).unwrap(), r);
    let big = all([
        claim("n").le(u64::MAX),
        claim("n").ge(i64::MIN),
        claim("x").eq(Value::Null),
    ]);
    assert_eq!(
        Requirement::from_json(&serde_json::to_string(&big).unwrap()).unwrap(),
        big
    );
    let value = serde_json::to_value(&r).unwrap();
    assert_eq!(value["all"][0], json!({"claim": "st-ev", "at": ["v"], "eq": true}));
    assert_eq!(value["all"][1], json!({"id": "paid", "claim": "tier", "ne": "free"}));
    assert_eq!(value["all"][3]["at"], json!(["v", 0]));
    assert_eq!(
        value["all"][13],
        json!({"claim": "st-ev", "at": ["t"], "max_age": 1.5, "unit": "ms"})
    );
    assert_eq!(value["all"][17], json!({"any": [{"not": {"scope": "x"}}, {"all": []}]}));
}

#[test]
fn toml_round_trip() {
    let r = every_kind();
    let text = toml::to_string(&r).unwrap();
    let back: Requirement = toml::from_str(&text).unwrap();
    assert_eq!(back, r, "{text}");

    #[derive(serde::Deserialize)]
    struct Config {
        routes: std::collections::BTreeMap<String, Requirement>,
    }
    let config: Config = toml::from_str(
        r#"
        [routes."/verified"]
        claim = "st-ev"
        at = "v"
        eq = true

        [routes."/admin"]
        all = [
          { claim = "st-ev", at = ["v"], eq = true },
          { id = "admin", claim = "st-role", at = ["v"], contains = "admin" },
        ]

        [routes."/fresh"]
        claim = "st-ev"
        at = ["t"]
        max_age = 300
        unit = "ms"
        "#,
    )
    .unwrap();
    assert_eq!(config.routes["/verified"], supertokens::email_verified());
    assert_eq!(
        config.routes["/admin"],
        all([
            supertokens::email_verified(),
            supertokens::has_role("admin").with_id("admin")
        ])
    );
    assert_eq!(
        config.routes["/fresh"],
        claim("st-ev")
            .at("t")
            .max_age_in(Duration::from_secs(300), TimeUnit::Milliseconds)
    );
}

#[test]
fn presets_round_trip() {
    for r in [
        supertokens::email_verified(),
        supertokens::email_verified_within(Duration::from_secs(30)),
        supertokens::has_role("admin"),
        supertokens::has_permission("p"),
        supertokens::mfa_completed(),
        oauth::all_scopes(["a"]),
        oauth::any_scope(["b"]),
    ] {
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(Requirement::from_json(&json).unwrap(), r);
    }
}

#[test]
fn custom_requirements_do_not_serialize() {
    let r = all([scope("a"), not(custom("mine", |_| Ok(())))]);
    let err = serde_json::to_string(&r).unwrap_err();
    assert!(err.to_string().contains("`mine` is a custom check"), "{err}");
    assert!(toml::to_string(&r).is_err());
}

fn json_error(document: &str) -> DocumentError {
    Requirement::from_json(document).expect_err(document)
}

#[test]
fn bad_json_documents_name_the_place() {
    let err = json_error(
        r#"{"all": [
            {"scope": "read"},
            {"claim": "st-ev", "eqq": true}
        ]}"#,
    );
    assert_eq!(err.path(), "all[1].eqq");
    assert!(err.message().contains("unknown field `eqq`"), "{err}");
    assert!(err.message().contains("line 3"), "{err}");
    assert!(
        err.to_string().starts_with("invalid requirement at `all[1].eqq`: "),
        "{err}"
    );

    let cases: &[(&str, &str, &str)] = &[
        (r#"{"claim": "a"}"#, ".", "claim `a` needs a check"),
        (r#"{"eq": 1}"#, ".", "`eq` needs `claim`"),
        (r#"{}"#, ".", "empty requirement"),
        (
            r#"{"claim": "a", "eq": 1, "contains": 2}"#,
            ".",
            "`eq` and `contains` cannot be combined",
        ),
        (
            r#"{"scope": "a", "claim": "b"}"#,
            ".",
            "`scope` cannot be combined with `claim`",
        ),
        (r#"{"all": [], "at": ["x"]}"#, ".", "`all` cannot be combined with `at`"),
        (
            r#"{"claim": "a", "eq": 1, "unit": "ms"}"#,
            ".",
            "`unit` applies only to `max_age`",
        ),
        (
            r#"{"claim": "a", "max_age": 1, "unit": "h"}"#,
            "unit",
            "unknown variant `h`",
        ),
        (r#"{"claim": "a", "max_age": -1}"#, "max_age", "non-negative"),
        (r#"{"claim": "a", "gt": "5"}"#, "gt", "expected a number"),
        (r#"{"claim": "a", "exists": false}"#, "exists", "must be `true`"),
        (r#"{"claim": "a", "matches": "("}"#, "matches", "invalid regex"),
        (r#"{"claim": "a", "at": [-1], "eq": 1}"#, "at[0]", "array index"),
        (r#"{"claim": "a", "at": [true], "eq": 1}"#, "at[0]", "object key"),
        (
            r#"{"claim": "a", "contains_all": "x"}"#,
            "contains_all",
            "expected a sequence",
        ),
        (r#"{"not": [{"scope": "a"}]}"#, "not", "a requirement"),
        (r#"{"any": [{"scope": "a"}, "b"]}"#, "any[1]", "a requirement"),
        (r#"{"custom": "mine"}"#, "custom", "written in Rust"),
        (r#"{"scope": "a", "scope": "b"}"#, ".", "duplicate key `scope`"),
        (r#"{"claim": 5, "eq": 1}"#, "claim", "expected a string"),
        (r#""st-ev""#, ".", "a requirement"),
        (r#"{"scope": "a"} trailing"#, ".", "trailing characters"),
    ];
    for (document, path, message) in cases {
        let err = json_error(document);
        assert_eq!(err.path(), *path, "{document}: {err}");
        assert!(err.message().contains(message), "{document}: {err}");
        assert!(err.message().contains("line 1"), "{document}: {err}");
    }
}

#[test]
fn bad_toml_documents_name_the_place() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Config {
        routes: std::collections::BTreeMap<String, Requirement>,
    }
    let err = toml::from_str::<Config>(
        r#"
[routes."/ok"]
scope = "read"

[routes."/admin"]
all = [
  { claim = "st-ev", at = ["v"], eq = true },
  { claim = "st-role", at = ["v"], includes = "admin" },
]
"#,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("unknown field `includes`"), "{text}");
    assert!(text.contains("line 8"), "{text}");

    let deserializer = toml::Deserializer::parse("all = [{ scope = \"a\" }, { claim = \"x\", gt = \"1\" }]").unwrap();
    let err = Requirement::from_deserializer(deserializer).unwrap_err();
    assert_eq!(err.path(), "all[1].gt");
    assert!(err.message().contains("expected a number"), "{err}");
}

#[test]
fn documents_accept_the_lenient_forms() {
    assert_eq!(
        Requirement::from_json(r#"{"claim": "st-ev", "at": "v", "eq": true}"#).unwrap(),
        supertokens::email_verified()
    );
    assert_eq!(
        Requirement::from_json(r#"{"claim": "r", "at": 2, "eq": 1}"#).unwrap(),
        claim("r").at(2).eq(1)
    );
    assert_eq!(
        Requirement::from_json(r#"{"claim": "iat", "max_age": 1.5, "unit": "s"}"#).unwrap(),
        claim("iat").max_age(Duration::from_millis(1500))
    );
}

// ---------------------------------------------------------------------------
// Properties.

mod properties {
    use proptest::prelude::{Just, Strategy, prop_assert_eq, prop_oneof, proptest};

    use super::*;

    const KEYS: [&str; 4] = ["a", "b", "v", "st-ev"];
    const WORDS: [&str; 4] = ["admin", "user", "read", "read write"];

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            proptest::bool::ANY.prop_map(Value::from),
            (-3i64..4).prop_map(Value::from),
            (-3i64..4).prop_map(|n| Value::from(n as f64 + 0.5)),
            proptest::sample::select(&WORDS[..]).prop_map(Value::from),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(proptest::sample::select(&KEYS[..]), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    fn claims() -> impl Strategy<Value = Principal> {
        (
            proptest::collection::btree_map(proptest::sample::select(&KEYS[..]), json_value(), 0..4),
            proptest::collection::vec(proptest::sample::select(&WORDS[..3]), 0..3),
        )
            .prop_map(|(claims, scopes)| {
                Principal::new("u", Source::Bearer)
                    .with_claims(claims.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                    .with_scopes(scopes.into_iter().map(str::to_owned).collect())
            })
    }

    fn path() -> impl Strategy<Value = ClaimPath> {
        (
            proptest::sample::select(&KEYS[..]),
            proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(&KEYS[..]).prop_map(PathSegment::from),
                    (0usize..3).prop_map(PathSegment::from),
                ],
                0..3,
            ),
        )
            .prop_map(|(name, segments)| segments.into_iter().fold(claim(name), ClaimPath::at))
    }

    fn leaf() -> impl Strategy<Value = Requirement> {
        let values = || proptest::collection::vec(scalar(), 0..3);
        prop_oneof![
            (path(), json_value()).prop_map(|(p, v)| p.eq(v)),
            (path(), scalar()).prop_map(|(p, v)| p.ne(v)),
            path().prop_map(ClaimPath::exists),
            (path(), scalar()).prop_map(|(p, v)| p.contains(v)),
            (path(), values()).prop_map(|(p, v)| p.contains_all(v)),
            (path(), values()).prop_map(|(p, v)| p.contains_any(v)),
            (path(), values()).prop_map(|(p, v)| p.one_of(v)),
            (path(), -3i64..4).prop_map(|(p, n)| p.gt(n)),
            (path(), -3i64..4).prop_map(|(p, n)| p.le(n as f64 + 0.5)),
            path().prop_map(|p| p.matches("read.*|admin").unwrap()),
            (path(), 0u64..10).prop_map(|(p, s)| p.max_age(Duration::from_secs(s))),
            proptest::sample::select(&WORDS[..3]).prop_map(scope),
            proptest::collection::vec(proptest::sample::select(&WORDS[..3]), 0..3).prop_map(all_scopes),
            proptest::collection::vec(proptest::sample::select(&WORDS[..3]), 0..3).prop_map(any_scope),
        ]
    }

    fn requirement() -> impl Strategy<Value = Requirement> {
        leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(all),
                proptest::collection::vec(inner.clone(), 0..4).prop_map(any),
                inner.clone().prop_map(not),
                inner.prop_map(|r| r.with_id("named")),
            ]
        })
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(3)
    }

    fn holds(r: &Requirement, p: &Principal) -> bool {
        let result = r.evaluate_at(p, now());
        if let Err(denied) = &result {
            assert!(!denied.errors.is_empty(), "a failure explains itself");
        }
        result.is_ok()
    }

    proptest! {
        #[test]
        fn not_fails_exactly_when_the_requirement_passes(r in requirement(), p in claims()) {
            prop_assert_eq!(holds(&not(r.clone()), &p), !holds(&r, &p));
        }

        #[test]
        fn all_and_any_agree_with_their_parts(parts in proptest::collection::vec(requirement(), 0..4), p in claims()) {
            let each: Vec<bool> = parts.iter().map(|r| holds(r, &p)).collect();
            prop_assert_eq!(holds(&all(parts.clone()), &p), each.iter().all(|ok| *ok));
            prop_assert_eq!(holds(&any(parts.clone()), &p), each.iter().any(|ok| *ok));
            if let Err(denied) = all(parts.clone()).evaluate_at(&p, now()) {
                let expected: usize = parts
                    .iter()
                    .filter_map(|r| r.evaluate_at(&p, now()).err())
                    .map(|d| d.errors.len())
                    .sum();
                prop_assert_eq!(denied.errors.len(), expected);
            }
        }

        #[test]
        fn the_data_form_round_trips(r in requirement()) {
            let json = serde_json::to_string(&r).unwrap();
            prop_assert_eq!(&Requirement::from_json(&json).unwrap(), &r);
        }

        #[test]
        fn evaluation_is_consistent(r in requirement(), p in claims()) {
            let ok = holds(&r, &p);
            prop_assert_eq!(ok, r.passes(&Ctx { principal: &p, now: Cell::new(Some(now())) }));
        }
    }
}

mod step_ups {
    use super::*;
    use crate::error::{Error, ErrorStyle};

    const MFA_ACR: &str = "urn:example:mfa";

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    fn acr_mfa() -> Requirement {
        step_up::acr_one_of([MFA_ACR, "urn:example:hwk"]).unwrap()
    }

    #[test]
    fn step_up_checks_pass_and_fail() {
        assert!(passes(&acr_mfa(), json!({"acr": MFA_ACR})));
        assert!(!passes(&acr_mfa(), json!({"acr": "urn:example:pwd"})));
        assert!(!passes(&acr_mfa(), json!({})));
        let fresh = step_up::authenticated_within(Duration::from_secs(300));
        assert!(passes(&fresh, json!({"auth_time": now() - 10})));
        assert!(!passes(&fresh, json!({"auth_time": now() - 301})));
        assert!(!passes(&fresh, json!({"auth_time": "yesterday"})));
        let otp = step_up::amr_contains(["pwd", "otp"]);
        assert!(passes(&otp, json!({"amr": ["otp", "pwd"]})));
        assert!(!passes(&otp, json!({"amr": ["pwd"]})));
        assert!(passes(&supertokens::mfa_completed(), json!({"st-mfa": {"v": true}})));
        assert!(!passes(&supertokens::mfa_completed(), json!({"st-mfa": {"v": false}})));
    }

    #[test]
    fn a_step_up_failure_names_the_claim_without_its_value() {
        assert_eq!(
            failure(&acr_mfa(), json!({"acr": "urn:example:secret-pwd"})),
            reason(
                "acr",
                "wrong value",
                Some(json!({"one_of": [MFA_ACR, "urn:example:hwk"]})),
                None
            )
        );
        let denied = acr_mfa().evaluate(&principal(json!({"acr": "pwd"}))).unwrap_err();
        let step_up = denied.step_up.expect("a step-up");
        assert_eq!(step_up.acr_values(), [MFA_ACR, "urn:example:hwk"]);
        assert_eq!(step_up.max_age(), None);
    }

    #[test]
    fn only_step_up_and_scope_failures_make_a_step_up() {
        let p = with_scopes(json!({"acr": "pwd", "auth_time": now() - 900}), &[]);
        let both = all([
            acr_mfa(),
            step_up::authenticated_within(Duration::from_secs(300)),
            scope("read"),
        ]);
        let denied = both.evaluate(&p).unwrap_err();
        assert_eq!(denied.missing_scopes, ["read"]);
        let step_up = denied.step_up.expect("a step-up");
        assert_eq!(step_up.max_age(), Some(Duration::from_secs(300)));
        assert!(!step_up.acr_values().is_empty());

        let with_role = all([acr_mfa(), supertokens::has_role("admin")]);
        let denied = with_role.evaluate(&p).unwrap_err();
        assert_eq!(denied.errors.len(), 2);
        assert!(denied.step_up.is_none(), "signing in again cannot grant a role");

        let inverted = not(acr_mfa());
        let denied = inverted.evaluate(&principal(json!({"acr": MFA_ACR}))).unwrap_err();
        assert!(denied.step_up.is_none(), "a negated step-up is an ordinary check");

        let either = any([acr_mfa(), scope("admin")]);
        let denied = either.evaluate(&p).unwrap_err();
        assert!(denied.step_up.is_some());
        assert_eq!(denied.missing_scopes, ["admin"]);
    }

    #[test]
    fn rendered_as_401_challenge_or_supertokens_403() {
        let denied = all([acr_mfa(), step_up::authenticated_within(Duration::from_secs(300))])
            .evaluate(&principal(json!({"acr": "pwd", "auth_time": now() - 900})))
            .unwrap_err();
        let error = Error::Forbidden(denied);
        let rfc = error.to_response(ErrorStyle::Rfc6750);
        assert_eq!(rfc.status, 401);
        assert_eq!(
            rfc.www_authenticate[0].clone(),
            "Bearer error=\"insufficient_user_authentication\", error_description=\"a stronger and more recent authentication is required\", acr_values=\"urn:example:mfa urn:example:hwk\", max_age=\"300\""
        );
        let body: Value = serde_json::from_str(&rfc.body).unwrap();
        assert_eq!(body["error"], "insufficient_user_authentication");
        assert_eq!(body["max_age"], 300);
        let st = error.to_response(ErrorStyle::SuperTokens);
        assert_eq!(st.status, 403);
        assert!(st.www_authenticate.is_empty());
        let body: Value = serde_json::from_str(&st.body).unwrap();
        assert_eq!(body["message"], "invalid claim");
        assert_eq!(body["claimValidationErrors"][1]["id"], "auth_time");
        assert_eq!(error.grpc_code(), 16);
        assert!(error.grpc_message().contains("step-up"));
    }

    #[test]
    fn step_ups_round_trip_through_the_data_form() {
        for r in [
            acr_mfa(),
            step_up::amr_contains(["otp"]),
            step_up::authenticated_within(Duration::from_secs(300)),
            supertokens::mfa_completed(),
        ] {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(Requirement::from_json(&json).unwrap(), r, "{json}");
        }
        assert_eq!(
            Requirement::from_json(r#"{"authenticated_within": 300}"#).unwrap(),
            step_up::authenticated_within(Duration::from_secs(300))
        );
        let toml: Requirement = toml::from_str("acr_one_of = [\"urn:example:mfa\", \"urn:example:hwk\"]").unwrap();
        assert_eq!(toml, acr_mfa());
        let err = Requirement::from_json(r#"{"all": [{"acr_one_of": ["two words"]}]}"#).unwrap_err();
        assert_eq!(err.path(), "all[0].acr_one_of");
        assert!(Requirement::from_json(r#"{"acr_one_of": []}"#).is_err());
        assert!(Requirement::from_json(r#"{"mfa_completed": false}"#).is_err());
        assert!(Requirement::from_json(r#"{"authenticated_within": -1}"#).is_err());
    }
}
