//! The fuzz targets' checks under `cargo test`: every seed input in
//! `fuzz/corpus/<target>/` and every crash input kept in
//! `fuzz/regressions/<target>/` goes through the same function the fuzz
//! target calls (`fuzz/src/lib.rs`, included here), with the same properties.
//!
//! When `cargo fuzz` finds a crash, copy the input from
//! `fuzz/artifacts/<target>/` to `fuzz/regressions/<target>/` with a name that
//! says what it was, fix the bug, and add a named test below if the input
//! deserves a description.

use crate::checks;

use std::path::Path;

type Check = fn(&[u8]);

/// The targets and their checks (`gateway` only with the `lambda` feature).
fn targets() -> Vec<(&'static str, Check)> {
    #[cfg_attr(not(feature = "lambda"), allow(unused_mut))]
    let mut targets: Vec<(&'static str, Check)> = vec![
        ("credentials", checks::credentials),
        ("token", checks::token),
        ("signed", checks::signed),
        ("requirement", checks::requirement),
    ];
    #[cfg(feature = "lambda")]
    targets.push(("gateway", checks::gateway));
    targets
}

/// Runs `check` on every file in `dir`; returns how many there were, and
/// every file that failed.
fn replay(dir: &Path, check: Check) -> (usize, Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, Vec::new());
    };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    let failed = files
        .iter()
        .filter(|file| {
            let data = std::fs::read(file).unwrap();
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    (files.len(), failed)
}

#[test]
fn seed_corpora_pass_the_fuzz_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut failed = Vec::new();
    for (target, check) in targets() {
        let (n, failures) = replay(&root.join(target), check);
        assert!(n > 0, "no seeds for the {target} target");
        failed.extend(failures);
    }
    assert!(
        failed.is_empty(),
        "seeds failing their fuzz target's checks: {failed:#?}"
    );
}

#[test]
fn kept_crash_inputs_pass_the_fuzz_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut failed = Vec::new();
    let mut kept = 0;
    for (target, check) in targets() {
        let (n, failures) = replay(&root.join(target), check);
        kept += n;
        failed.extend(failures);
    }
    assert!(kept > 0, "no kept crash inputs found under {}", root.display());
    assert!(
        failed.is_empty(),
        "kept crash inputs failing their fuzz target's checks: {failed:#?}"
    );
}

/// The seeds exercise both sides of each property: some tokens verify, some
/// requirements pass and fail (a corpus that only ever fails checks little).
#[test]
fn seeds_reach_acceptance() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let issuer = authorizer::testing::TestIssuer::new(); // installs the crypto backend
    let verifier = issuer.verifier();
    for seed in [
        "token/hs256",
        "token/rs256",
        "signed/valid",
        "signed/aud-array",
        "signed/scopes",
    ] {
        let data = std::fs::read(root.join(seed)).unwrap();
        let token = match seed.split_once('/').unwrap().0 {
            "token" => String::from_utf8(data).unwrap(),
            _ => {
                use base64::Engine;
                let (header, claims) = data.split_at(data.iter().position(|b| *b == 0xff).unwrap());
                let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                let input = format!("{}.{}", b64.encode(header), b64.encode(&claims[1..]));
                let key = jsonwebtoken::EncodingKey::from_secret(authorizer::testing::HS256_SECRET);
                let signature =
                    jsonwebtoken::crypto::sign(input.as_bytes(), &key, authorizer::Algorithm::HS256).unwrap();
                format!("{input}.{signature}")
            }
        };
        let outcome = block_on(verifier.verify(authorizer::credential::Credential::new(
            &token,
            authorizer::Source::Bearer,
        )));
        assert!(outcome.is_ok(), "{seed}: {outcome:?}");
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// Found by the `signed` target: a header whose unknown member holds invalid
/// UTF-8 was accepted (the member is skipped unparsed). RFC 8725 §3.7: the
/// header is UTF-8 JSON; `tests/attacks.rs` has the same case over HTTP.
#[test]
fn signed_header_with_invalid_utf8_in_an_unknown_member() {
    checks::signed(
        b"{\"alg\":\"HS256\",\"kid\":\"hs256\",\"x\":\"\x80\"}\xff\
          {\"iss\":\"https://issuer.test.invalid\",\"aud\":\"authorizer-test\",\"sub\":\"u\",\"exp\":4102444800}",
    );
}

/// Found by the `requirement` target: a bound too large for an integer is a
/// float, and serde_json's default float parsing is not exact, so writing the
/// requirement and reading it back moved the bound by one ULP.
#[test]
fn requirement_float_bound_survives_a_round_trip() {
    checks::requirement(b"{\"claim\":\"n\",\"gt\":18888888888888800001145294251}\xff{\"n\":1}");
}

/// Found by the `gateway` target, same cause: a float claim written into a
/// Lambda authorizer context (as JSON text) and read back came back one ULP
/// off, so the documented lossless round trip was not.
#[cfg(feature = "lambda")]
#[test]
fn gateway_float_claim_survives_the_authorizer_context() {
    checks::gateway(br#"{"principalId":"u","claims":"{\"n\":18888888888888800001145294251}"}"#);
}

/// Found by the `signed` target: a header naming an unknown member twice was
/// accepted (only the members the verifier reads were checked for duplicates).
#[test]
fn signed_header_with_a_duplicate_unknown_member() {
    checks::signed(
        b"{\"alg\":\"HS256\",\"kid\":\"hs256\",\"x\":1,\"x\":2}\xff\
          {\"iss\":\"https://issuer.test.invalid\",\"aud\":\"authorizer-test\",\"sub\":\"u\",\"exp\":4102444800}",
    );
}
