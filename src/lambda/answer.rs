//! The authorizer's answers as one value for each kind of API, and the JSON
//! API Gateway reads from them.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::IamPolicyStatement;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use super::policy::policy_allows;

/// The answer to an HTTP API (payload 2.0) event, in the format the authorizer
/// is configured for ([`HttpApiResponse`](super::HttpApiResponse)).
///
/// Serialized as the JSON API Gateway documents for it, exactly as the
/// authorizer has always written it: see [`AuthorizerAnswer`].
#[derive(Debug, Clone, PartialEq)]
pub enum HttpApiAnswer {
    /// `{"isAuthorized": bool, "context": {...}}`.
    Simple(ApiGatewayV2CustomAuthorizerSimpleResponse<Map<String, Value>>),
    /// An IAM policy, with `principalId` and `context`.
    IamPolicy(ApiGatewayV2CustomAuthorizerIamPolicyResponse<Map<String, Value>>),
}

/// The answer to an authorizer event of any kind, from
/// [`LambdaAuthorizer::handle`](super::LambdaAuthorizer::handle).
///
/// Serialized as API Gateway's documentation writes an authorizer's answer:
/// each statement's `Action` is the string `"execute-api:Invoke"`, and
/// `usageIdentifierKey` appears only when set. (`aws_lambda_events` writes the
/// same answer with `"Action": ["execute-api:Invoke"]` and
/// `"usageIdentifierKey": null`, which API Gateway reads alike.)
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizerAnswer {
    /// An IAM policy, for a REST `TOKEN` or `REQUEST` event.
    Rest(ApiGatewayCustomAuthorizerResponse<Map<String, Value>>),
    /// The answer to an HTTP API payload 2.0 event.
    HttpApi(HttpApiAnswer),
}

impl HttpApiAnswer {
    /// The context handed to the backend.
    pub fn context(&self) -> &Map<String, Value> {
        match self {
            HttpApiAnswer::Simple(simple) => &simple.context,
            HttpApiAnswer::IamPolicy(policy) => &policy.context,
        }
    }

    /// Whether API Gateway lets a request for `route_arn` through with this
    /// answer: see [`policy_allows`]. A simple answer applies to every ARN.
    pub fn allows(&self, route_arn: &str) -> bool {
        match self {
            HttpApiAnswer::Simple(simple) => simple.is_authorized,
            HttpApiAnswer::IamPolicy(policy) => policy_allows(&policy.policy_document, route_arn),
        }
    }
}

impl AuthorizerAnswer {
    /// The context handed to the backend.
    pub fn context(&self) -> &Map<String, Value> {
        match self {
            AuthorizerAnswer::Rest(policy) => &policy.context,
            AuthorizerAnswer::HttpApi(answer) => answer.context(),
        }
    }

    /// Whether API Gateway lets a request for `method_arn` through with this
    /// answer: see [`policy_allows`]. A simple answer applies to every ARN.
    pub fn allows(&self, method_arn: &str) -> bool {
        match self {
            AuthorizerAnswer::Rest(policy) => policy_allows(&policy.policy_document, method_arn),
            AuthorizerAnswer::HttpApi(answer) => answer.allows(method_arn),
        }
    }
}

impl Serialize for AuthorizerAnswer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AuthorizerAnswer::Rest(answer) => PolicyAnswer {
                principal_id: answer.principal_id.as_deref(),
                policy: &answer.policy_document,
                context: &answer.context,
                usage_identifier_key: answer.usage_identifier_key.as_deref(),
            }
            .serialize(serializer),
            AuthorizerAnswer::HttpApi(answer) => answer.serialize(serializer),
        }
    }
}

impl Serialize for HttpApiAnswer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            HttpApiAnswer::Simple(answer) => answer.serialize(serializer),
            HttpApiAnswer::IamPolicy(answer) => PolicyAnswer {
                principal_id: answer.principal_id.as_deref(),
                policy: &answer.policy_document,
                context: &answer.context,
                usage_identifier_key: None,
            }
            .serialize(serializer),
        }
    }
}

/// An IAM-policy answer, written as API Gateway documents it.
struct PolicyAnswer<'a> {
    principal_id: Option<&'a str>,
    policy: &'a ApiGatewayCustomAuthorizerPolicy,
    context: &'a Map<String, Value>,
    usage_identifier_key: Option<&'a str>,
}

impl Serialize for PolicyAnswer<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("principalId", &self.principal_id)?;
        map.serialize_entry("policyDocument", &PolicyDocument(self.policy))?;
        map.serialize_entry("context", self.context)?;
        if let Some(key) = self.usage_identifier_key {
            map.serialize_entry("usageIdentifierKey", key)?;
        }
        map.end()
    }
}

struct PolicyDocument<'a>(&'a ApiGatewayCustomAuthorizerPolicy);

impl Serialize for PolicyDocument<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Statements<'a>(&'a [IamPolicyStatement]);
        impl Serialize for Statements<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
                for statement in self.0 {
                    seq.serialize_element(&Statement(statement))?;
                }
                seq.end()
            }
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("Version", &self.0.version)?;
        map.serialize_entry("Statement", &Statements(&self.0.statement))?;
        map.end()
    }
}

/// One statement, its one action as a string.
struct Statement<'a>(&'a IamPolicyStatement);

impl Serialize for Statement<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let statement = self.0;
        let mut map = serializer.serialize_map(None)?;
        match statement.action.as_slice() {
            [action] => map.serialize_entry("Action", action)?,
            actions => map.serialize_entry("Action", actions)?,
        }
        map.serialize_entry("Effect", &statement.effect)?;
        map.serialize_entry("Resource", &statement.resource)?;
        if let Some(condition) = &statement.condition {
            map.serialize_entry("Condition", condition)?;
        }
        map.end()
    }
}
