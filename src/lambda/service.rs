//! The authorizer as a `tower::Service` of Lambda events, for a
//! `lambda_runtime` user's own stack of layers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use lambda_runtime::LambdaEvent;
use serde_json::{Map, Value};
use tower_service::Service;

use super::answer::{AuthorizerAnswer, HttpApiAnswer};
use super::authorizer::{AuthorizerError, LambdaAuthorizer};

/// The future of a [`LambdaAuthorizer`] called as a [`Service`]: its answer, `R`.
pub type AuthorizerFuture<R> = Pin<Box<dyn Future<Output = Result<R, AuthorizerError>> + Send + 'static>>;

/// One `Service` impl per event type: always ready, each call answered by the
/// entry point for that type on a clone of the authorizer (its parts are shared).
macro_rules! event_service {
    ($(#[$doc:meta])* $event:ty => $answer:ty, $entry:ident) => {
        $(#[$doc])*
        impl Service<LambdaEvent<$event>> for LambdaAuthorizer {
            type Response = $answer;
            type Error = AuthorizerError;
            type Future = AuthorizerFuture<$answer>;

            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), AuthorizerError>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, event: LambdaEvent<$event>) -> Self::Future {
                let this = self.clone();
                Box::pin(async move { this.$entry(event.payload).await })
            }
        }
    };
}

event_service!(
    /// REST `TOKEN` events, answered by [`LambdaAuthorizer::token`].
    ApiGatewayCustomAuthorizerRequest => ApiGatewayCustomAuthorizerResponse<Map<String, Value>>, token
);
event_service!(
    /// REST `REQUEST` events, answered by [`LambdaAuthorizer::request`].
    ApiGatewayCustomAuthorizerRequestTypeRequest => ApiGatewayCustomAuthorizerResponse<Map<String, Value>>, request
);
event_service!(
    /// HTTP API payload 2.0 events, answered by [`LambdaAuthorizer::http_api`].
    ApiGatewayV2CustomAuthorizerV2Request => HttpApiAnswer, http_api
);
event_service!(
    /// Events of any kind as JSON, answered by [`LambdaAuthorizer::handle`].
    Value => AuthorizerAnswer, handle
);
