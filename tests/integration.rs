//! The integration suite, one binary with a module per topic (the library,
//! axum, actix-web and the test issuer are linked once). `tests/logging.rs`
//! is a binary of its own: it installs a process-wide tracing subscriber.
//!
//! Every server a test talks to runs on 127.0.0.1 inside the test.

// Shared helpers.
// The actix example, compiled whole for the parity test, brings its own copy
// of `support`.
#[cfg(all(feature = "actix-web", feature = "axum", feature = "testing"))]
#[path = "../examples/actix.rs"]
#[allow(clippy::duplicate_mod)]
mod actix_example;
mod adversary;
#[path = "../fuzz/src/lib.rs"]
mod checks;
mod common;
#[cfg(feature = "lambda")]
mod events;
// The gRPC demo, compiled whole: its tests call every method it serves (its
// `main` and printing are the binary's alone).
#[cfg(all(feature = "tonic", feature = "testing"))]
#[path = "../examples/grpc.rs"]
#[allow(clippy::duplicate_mod, dead_code)]
mod grpc_example;
// The MCP demo, compiled whole: its tests open real MCP client sessions.
#[cfg(all(feature = "axum", feature = "testing"))]
#[path = "../examples/mcp.rs"]
#[allow(clippy::duplicate_mod, dead_code)]
mod mcp_example;
// The quickstart, compiled whole: its `/metrics` is served in a test.
#[cfg(all(feature = "metrics", feature = "axum", feature = "testing"))]
#[path = "../examples/quickstart.rs"]
#[allow(clippy::duplicate_mod, dead_code)]
mod quickstart_example;
#[cfg(feature = "testing")]
#[path = "../examples/support/mod.rs"]
mod support;

// Topics.
mod access_token_profile;
mod actix;
mod attacks;
mod cli;
mod dpop;
mod fuzz_regressions;
mod grpc;
mod grpc_bad_input;
mod grpc_demo;
mod http;
mod introspection;
mod jwks;
mod keysets;
mod lambda_authorizer;
mod lambda_e2e;
mod lambda_gateway;
mod lambda_roundtrip;
mod lambda_websocket;
mod mcp;
#[cfg(all(feature = "metrics", feature = "axum", feature = "testing"))]
mod metrics;
mod parity;
mod requirements;
mod resource_metadata;
mod route_tables;
mod session;
mod step_up;
mod websocket;
