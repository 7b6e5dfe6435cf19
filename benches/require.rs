//! Requirement evaluation: three checks on a principal with ten claims.
//!
//! `cargo bench --all-features --bench require`

use authorizer::require::{all, scope, supertokens};
use authorizer::{Principal, Source};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn principal(verified: bool) -> Principal {
    let claims = json!({
        "sub": "user-1", "iss": "https://auth.example.com", "aud": "api", "iat": 1_700_000_000u64,
        "exp": 1_900_000_000u64, "sessionHandle": "b1c2", "tId": "public",
        "st-ev": {"v": verified, "t": 1_700_000_000_000u64},
        "st-role": {"v": ["user", "admin"], "t": 1_700_000_000_000u64},
        "scope": "read:items write:items",
    });
    Principal::new("user-1", Source::Bearer)
        .with_claims(claims.as_object().unwrap().clone())
        .with_scopes(vec!["read:items".into(), "write:items".into()])
}

fn evaluation(c: &mut Criterion) {
    let requirement = all([
        supertokens::email_verified(),
        supertokens::has_role("admin"),
        scope("read:items"),
    ]);
    let passing = principal(true);
    let failing = principal(false);
    assert!(requirement.evaluate(&passing).is_ok());
    assert!(requirement.evaluate(&failing).is_err());
    let mut group = c.benchmark_group("require");
    group.bench_function("three_checks/pass", |b| b.iter(|| requirement.evaluate(&passing)));
    group.bench_function("three_checks/fail", |b| b.iter(|| requirement.evaluate(&failing)));
    group.finish();
}

criterion_group!(benches, evaluation);
criterion_main!(benches);
