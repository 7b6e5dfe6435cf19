//! The tower layer through an axum `Router`, beside the same router without it.
//!
//! `cargo bench --all-features --bench layer`

#[path = "support/paths.rs"]
// Each target uses part of it.
#[allow(dead_code)]
mod paths;

use authorizer::testing::TestIssuer;
use criterion::{Criterion, criterion_group, criterion_main};
use paths::{Routers, request};
use tower::ServiceExt;

fn layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = TestIssuer::new();
    let Routers {
        bare,
        optional,
        required,
        bearer,
        cookie,
    } = Routers::new(&runtime, &issuer);

    // Each scenario sends the same request to the bare router and to the
    // layered one, so the difference is the layer's cost alone.
    let scenarios = [
        ("no_credential_optional", None, &optional),
        ("cached_bearer", Some(("authorization", bearer.as_str())), &required),
        ("cached_cookie", Some(("cookie", cookie.as_str())), &required),
    ];
    let mut group = c.benchmark_group("layer");
    for (name, header, layered) in scenarios {
        group.bench_function(format!("{name}/bare"), |b| {
            b.to_async(&runtime).iter(|| bare.clone().oneshot(request(header)))
        });
        group.bench_function(format!("{name}/layer"), |b| {
            b.to_async(&runtime).iter(|| layered.clone().oneshot(request(header)))
        });
    }
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
