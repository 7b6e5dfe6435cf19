//! Bad input over real gRPC, against the demo (`examples/grpc.rs`) on
//! 127.0.0.1: malformed `grpc-timeout`, metadata over the credential and the
//! transport limits, a token in binary metadata. Each is refused with a clear
//! status, never served, and the server keeps serving.

#![cfg(all(feature = "tonic", feature = "testing"))]

use authorizer::Authenticator;
use authorizer::testing::TestIssuer;
use tonic::metadata::{AsciiMetadataValue, BinaryMetadataValue, MetadataMap};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

use crate::grpc_demo::{Method, call, start_demo};
use crate::grpc_example::pb::demo_client::DemoClient;
use crate::grpc_example::pb::{WhoAmIReply, WhoAmIRequest};
use crate::support;

/// Writes a call's metadata.
type Fill<'a> = Box<dyn Fn(&mut MetadataMap) + 'a>;

const INVALID: &str = "the access token is invalid";
const MISSING: &str = "authentication required";

struct Demo {
    issuer: TestIssuer,
    channel: Channel,
}

impl Demo {
    async fn start() -> Demo {
        let issuer = TestIssuer::start().await;
        let channel = start_demo(Authenticator::new(issuer.verifier())).await;
        Demo { issuer, channel }
    }

    fn user(&self) -> String {
        support::demo_tokens(&self.issuer).user
    }

    /// `WhoAmI` with the metadata `fill` writes.
    async fn who_am_i(&self, fill: impl FnOnce(&mut MetadataMap)) -> Result<WhoAmIReply, Status> {
        let mut request = Request::new(WhoAmIRequest {});
        fill(request.metadata_mut());
        DemoClient::new(self.channel.clone())
            .who_am_i(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// The server still answers a good call, on the same channel.
    async fn still_serves(&self) {
        let answer = call(&self.channel, Method::WhoAmI, Some(&self.user())).await;
        assert_eq!(answer.expect("still serving").id, "user-1");
    }
}

fn ascii(value: &str) -> AsciiMetadataValue {
    value.parse().unwrap()
}

fn refused(answer: Result<WhoAmIReply, Status>) -> (Code, String) {
    let status = answer.expect_err("refused, never served");
    (status.code(), status.message().to_owned())
}

/// tonic ignores a `grpc-timeout` it cannot read; authentication is decided
/// as without it.
#[tokio::test]
async fn a_malformed_grpc_timeout_changes_no_decision() {
    let demo = Demo::start().await;
    let user = demo.user();
    for timeout in [
        "garbage",
        "",
        "S",
        "1",
        "-1S",
        "1.5S",
        "123456789S",
        "99999999H",
        "10Q",
        "0x10m",
    ] {
        let missing = demo.who_am_i(|m| drop(m.insert("grpc-timeout", ascii(timeout)))).await;
        assert_eq!(refused(missing), (Code::Unauthenticated, MISSING.into()), "{timeout:?}");
        let invalid = demo
            .who_am_i(|m| {
                m.insert("grpc-timeout", ascii(timeout));
                m.insert("authorization", ascii("Bearer not.a.token"));
            })
            .await;
        assert_eq!(refused(invalid), (Code::Unauthenticated, INVALID.into()), "{timeout:?}");
        let served = demo
            .who_am_i(|m| {
                m.insert("grpc-timeout", ascii(timeout));
                m.insert("authorization", ascii(&format!("Bearer {user}")));
            })
            .await;
        assert_eq!(served.expect("a valid token is served").id, "user-1", "{timeout:?}");
    }
    demo.still_serves().await;
}

/// A credential over the 8 KiB limit is refused before any parsing; metadata
/// over the transport's limit (16 KiB of headers by default) is refused by
/// the transport itself, before any layer runs.
#[tokio::test]
async fn oversized_metadata_is_refused() {
    let demo = Demo::start().await;
    let user = demo.user();

    let over_credential_limit = format!("Bearer {}", "a".repeat(9 * 1024));
    let answer = demo
        .who_am_i(|m| drop(m.insert("authorization", ascii(&over_credential_limit))))
        .await;
    assert_eq!(refused(answer), (Code::Unauthenticated, INVALID.into()));
    let cookie = format!("sAccessToken={}", "a".repeat(9 * 1024));
    let answer = demo.who_am_i(|m| drop(m.insert("cookie", ascii(&cookie)))).await;
    assert_eq!(refused(answer), (Code::Unauthenticated, INVALID.into()));

    // Over the limit, h2 refuses the call (431 Request Header Fields Too
    // Large); over four times the limit, it closes the connection
    // (ENHANCE_YOUR_CALM), which tonic reports as RESOURCE_EXHAUSTED.
    for (size, over_abuse_limit) in [(24 * 1024, false), (128 * 1024, true)] {
        let filler = "a".repeat(size);
        // h2 counts 32 bytes per header beside its name and value.
        let header_count = size / 40;
        let cases: [(&str, Fill); 3] = [
            (
                "a huge token",
                Box::new(|m| drop(m.insert("authorization", ascii(&format!("Bearer {filler}"))))),
            ),
            (
                "a huge header beside a valid token",
                Box::new(|m| {
                    m.insert("authorization", ascii(&format!("Bearer {user}")));
                    m.insert("x-filler", ascii(&filler));
                }),
            ),
            (
                "thousands of headers beside a valid token",
                Box::new(|m| {
                    m.insert("authorization", ascii(&format!("Bearer {user}")));
                    for i in 0..header_count {
                        m.append("x-filler", ascii(&i.to_string()));
                    }
                }),
            ),
        ];
        for (name, fill) in cases {
            let status = demo.who_am_i(fill).await.expect_err("refused, never served");
            if over_abuse_limit {
                assert_eq!(status.code(), Code::ResourceExhausted, "{name}, {size}: {status:?}");
            } else {
                assert!(status.message().contains("431"), "{name}, {size}: {status:?}");
            }
            demo.still_serves().await;
        }
    }
    demo.still_serves().await;
}

/// `-bin` metadata is binary and never a credential, whatever its name.
#[tokio::test]
async fn a_token_in_binary_metadata_is_never_a_credential() {
    let demo = Demo::start().await;
    let user = demo.user();
    let bearer = format!("Bearer {user}");
    for (name, value) in [
        ("authorization-bin", bearer.as_str()),
        ("st-access-token-bin", user.as_str()),
        ("cookie-bin", &format!("sAccessToken={user}")),
    ] {
        let answer = demo
            .who_am_i(|m| drop(m.insert_bin(name, BinaryMetadataValue::from_bytes(value.as_bytes()))))
            .await;
        assert_eq!(refused(answer), (Code::Unauthenticated, MISSING.into()), "{name}");
    }
    // Beside a valid text credential, binary metadata is ignored, not ambiguous.
    let served = demo
        .who_am_i(|m| {
            m.insert("authorization", ascii(&bearer));
            m.insert_bin(
                "authorization-bin",
                BinaryMetadataValue::from_bytes(b"Bearer not.a.token"),
            );
        })
        .await;
    assert_eq!(served.expect("the text credential counts").id, "user-1");
    demo.still_serves().await;
}
