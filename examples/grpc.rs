//! The demo API over gRPC (tonic), with an in-process test issuer.
//!
//! ```sh
//! cargo run --example grpc
//! ```
//!
//! Serves `authorizer.demo.v1.Demo` (`examples/grpc/demo.proto`) and the
//! standard health service `grpc.health.v1.Health` on 127.0.0.1:50051:
//!
//! | method | needs |
//! | --- | --- |
//! | `authorizer.demo.v1.Demo/WhoAmI` | a valid session |
//! | `authorizer.demo.v1.Demo/Admin` | the `admin` role (`st-role` contains it) |
//! | `authorizer.demo.v1.Demo/Items` | the `read:items` scope |
//! | `grpc.health.v1.Health/*` | nothing |
//!
//! The demo methods answer the caller's `id` and `scopes`. Refusals are gRPC
//! statuses: 16 `UNAUTHENTICATED` (no, an invalid or an expired token; the
//! message says `the access token expired` or `the access token is
//! invalid`), 7 `PERMISSION_DENIED` (a requirement not met), 14 `UNAVAILABLE`
//! (the issuer's keys cannot be fetched). Any other method is refused (7).
//!
//! Environment: as the quickstart's (`examples/support/mod.rs`: `PORT`,
//! `AUTHORIZER_ISSUER`, `AUTHORIZER_JWKS_URL`, `AUTHORIZER_AUDIENCE`,
//! `AUTHORIZER_ERROR_STYLE`), with port 50051 when `PORT` is not set. Without
//! `AUTHORIZER_ISSUER` it prints `grpcurl` lines with ready-made tokens.
//!
//! `examples/grpc/authorizer.demo.v1.rs` is generated from the proto by
//! `examples/grpc/generate.sh` (no `protoc` needed) and committed, so building
//! the example generates nothing.

#[path = "support/mod.rs"]
mod support;

/// The messages, client and server generated from `examples/grpc/demo.proto`.
pub mod pb {
    include!("grpc/authorizer.demo.v1.rs");
}

use authorizer::Authenticator;
use authorizer::require::{scope, supertokens};
use authorizer::routes::{RouteError, RouteRule, RouteTable};
use authorizer::testing::TestIssuer;
use authorizer::tower::{AuthLayer, RequireLayer};
use pb::demo_server::{Demo, DemoServer};
use pb::{WhoAmIReply, WhoAmIRequest};
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// The port without `PORT`: gRPC's customary one.
pub const DEFAULT_PORT: u16 = 50051;

/// Each method's rule. A gRPC call is a `POST` to `/package.Service/Method`;
/// anything the table does not name is refused.
pub fn routes() -> Result<RouteTable, RouteError> {
    Ok(RouteTable::new()
        .route("POST /authorizer.demo.v1.Demo/WhoAmI", RouteRule::session())?
        .route(
            "POST /authorizer.demo.v1.Demo/Admin",
            RouteRule::require(supertokens::has_role("admin")),
        )?
        .route(
            "POST /authorizer.demo.v1.Demo/Items",
            RouteRule::require(scope("read:items")),
        )?
        .route("ANY /grpc.health.v1.Health/{method}", RouteRule::optional())?
        .fallback(RouteRule::deny()))
}

/// The demo service: every method answers who is calling. The route table
/// has already checked the method's rule when a handler runs.
#[derive(Debug, Default)]
pub struct DemoService;

#[tonic::async_trait]
impl Demo for DemoService {
    async fn who_am_i(&self, request: Request<WhoAmIRequest>) -> Result<Response<WhoAmIReply>, Status> {
        caller(&request)
    }

    async fn admin(&self, request: Request<WhoAmIRequest>) -> Result<Response<WhoAmIReply>, Status> {
        caller(&request)
    }

    async fn items(&self, request: Request<WhoAmIRequest>) -> Result<Response<WhoAmIReply>, Status> {
        caller(&request)
    }
}

fn caller(request: &Request<WhoAmIRequest>) -> Result<Response<WhoAmIReply>, Status> {
    let principal = authorizer::tonic::principal(request)?;
    Ok(Response::new(WhoAmIReply {
        id: principal.id().to_owned(),
        scopes: principal.scopes().to_vec(),
    }))
}

/// Serves the demo and the health service on `listener`, authenticated by
/// `auth`: optionally (the health service needs no token), then each
/// method's rule from [`routes`].
pub async fn serve(auth: Authenticator, listener: TcpListener) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let routes = routes()?;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<DemoServer<DemoService>>().await;
    Server::builder()
        .layer(AuthLayer::optional(auth))
        .layer(RequireLayer::routes(routes))
        .add_service(health)
        .add_service(DemoServer::new(DemoService))
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;
    Ok(())
}

/// Prints ready-to-paste `grpcurl` lines against `address`.
pub fn print_grpcurl_lines(address: &str, issuer: &TestIssuer) {
    let t = support::demo_tokens(issuer);
    let call = |token: Option<&str>, method: &str| {
        let header = token.map_or(String::new(), |token| format!("-H 'authorization: Bearer {token}' "));
        format!("grpcurl -plaintext -proto examples/grpc/demo.proto {header}{address} authorizer.demo.v1.Demo/{method}")
    };
    println!("test issuer: {} (JWKS {})", issuer.issuer(), issuer.jwks_url());
    println!();
    println!(
        "# a session is required (Unauthenticated without, the caller with, 'the access token expired' when expired)"
    );
    println!("{}", call(None, "WhoAmI"));
    println!("{}", call(Some(&t.user), "WhoAmI"));
    println!("{}", call(Some(&t.expired), "WhoAmI"));
    println!();
    println!("# the admin role, the read:items scope (PermissionDenied, then the caller)");
    for method in ["Admin", "Items"] {
        println!("{}", call(Some(&t.user), method));
        println!("{}", call(Some(&t.admin), method));
    }
    println!();
    println!("# the health service needs no token (grpc.health.v1.Health/Check and Watch)");
}

#[tokio::main]
async fn main() {
    let demo = support::from_env_on_or_exit(DEFAULT_PORT).await;
    let listener = match TcpListener::bind(("127.0.0.1", demo.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {error}", demo.port);
            std::process::exit(1);
        }
    };
    let address = listener.local_addr().expect("bound address").to_string();
    println!("authorizer gRPC demo listening on {address}");
    if let Some(issuer) = &demo.test_issuer {
        print_grpcurl_lines(&address, issuer);
    }
    if let Err(error) = serve(demo.authenticator, listener).await {
        eprintln!("server stopped: {error}");
        std::process::exit(1);
    }
}
