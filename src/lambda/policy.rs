//! Policy writing: the statements of an IAM-policy answer, and the answers as
//! `aws_lambda_events` values.

use std::ptr;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde_json::{Map, Value};

use super::context::{BODY_KEY, PRINCIPAL_ID_KEY, authorizer_context};
use super::event::Arn;
use crate::principal::{Principal, Source};
use crate::routes::{Route, RouteTable};

/// The only IAM policy language version.
const POLICY_VERSION: &str = "2012-10-17";

/// The action API Gateway checks an authorizer's policy for.
const INVOKE: &str = "execute-api:Invoke";

/// Whether API Gateway lets a request for `method_arn` through under `policy`,
/// as IAM evaluates it: a statement whose `Resource` matches and whose
/// `Effect` is `Deny` wins, then one whose `Effect` is `Allow`; anything else
/// is refused. `*` in a resource matches any run of characters (`/` included),
/// `?` any one character.
///
/// Statements are read for their effect and resources only, as statements
/// about `execute-api:Invoke` without conditions (the only ones
/// [`LambdaAuthorizer`](super::LambdaAuthorizer) writes).
///
/// ```
/// use authorizer::lambda::policy_allows;
/// use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerPolicy;
///
/// let policy: ApiGatewayCustomAuthorizerPolicy = serde_json::from_value(serde_json::json!({
///     "Version": "2012-10-17",
///     "Statement": [
///         {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["arn:aws:execute-api:us-east-1:1:api/prod/*/*"]},
///         {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ["arn:aws:execute-api:us-east-1:1:api/prod/GET/admin"]}
///     ]
/// }))?;
/// assert!(policy_allows(&policy, "arn:aws:execute-api:us-east-1:1:api/prod/GET/me"));
/// assert!(!policy_allows(&policy, "arn:aws:execute-api:us-east-1:1:api/prod/GET/admin"));
/// assert!(!policy_allows(&policy, "arn:aws:execute-api:us-east-1:1:api/test/GET/me"));
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn policy_allows(policy: &ApiGatewayCustomAuthorizerPolicy, method_arn: &str) -> bool {
    let matching = |effect: IamPolicyEffect| {
        policy
            .statement
            .iter()
            .any(|s| s.effect == effect && s.resource.iter().any(|pattern| glob_matches(pattern, method_arn)))
    };
    !matching(IamPolicyEffect::Deny) && matching(IamPolicyEffect::Allow)
}

/// IAM's resource matching: `*` matches any run of characters (`/` included),
/// `?` any one character. ARNs are ASCII but for what a path may hold, so
/// bytes are compared unless either side is not.
fn glob_matches(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        return glob(pattern.as_bytes(), text.as_bytes(), b'*', b'?');
    }
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    glob(&p, &t, '*', '?')
}

fn glob<T: PartialEq + Copy>(p: &[T], t: &[T], many: T, one: T) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == many {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == many {
        pi += 1;
    }
    pi == p.len()
}

/// What an IAM policy may cover beyond the event's own ARN.
pub(super) enum Reach<'r> {
    /// The event's ARN only.
    ThisArn,
    /// Every route of the table, judged for the caller (see the module docs on
    /// caching). `matched` is the route whose rule was judged for this request
    /// (`None`: the table's fallback), whose verdict is already known.
    Api {
        routes: &'r RouteTable,
        matched: Option<&'r Route>,
    },
}

/// The statements of an IAM-policy answer for a request to `arn` by `caller`
/// that was allowed (or not).
pub(super) fn statements(
    arn: &Arn,
    caller: Option<&Principal>,
    allowed: bool,
    reach: &Reach<'_>,
) -> Vec<IamPolicyStatement> {
    let effect = if allowed {
        IamPolicyEffect::Allow
    } else {
        IamPolicyEffect::Deny
    };
    // A cookie's anti-CSRF proof belongs to one request: an answer cached by
    // the cookie must not carry a safe method's Allow to a cross-site POST.
    let cookie = caller.is_some_and(|p| p.source() == Source::Cookie);
    match reach {
        Reach::Api { routes, matched } if !cookie => api_statements(arn, caller, allowed, routes, *matched),
        _ => vec![statement(effect, vec![arn.full.clone()])],
    }
}

/// Statements right for every route of the table, whichever one a cached
/// answer is replayed for.
fn api_statements(
    arn: &Arn,
    caller: Option<&Principal>,
    allowed: bool,
    routes: &RouteTable,
    matched: Option<&Route>,
) -> Vec<IamPolicyStatement> {
    // The rule judged for this request is not judged again.
    let admits = |route: &Route| match matched {
        Some(matched) if ptr::eq(matched, route) => allowed,
        _ => route.rule.admits(caller),
    };
    let fallback_admits = match matched {
        None => allowed,
        Some(_) => routes.fallback_rule().admits(caller),
    };
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    if fallback_admits {
        allow.push(format!("{}/*/*", arn.base));
    }
    for route in routes.routes() {
        let resources = route.resource_globs().iter().map(|glob| format!("{}/{glob}", arn.base));
        if !admits(route) {
            deny.extend(resources);
        } else if !fallback_admits && route.glob_is_exact() {
            allow.extend(resources);
        }
    }
    let covered = |patterns: &[String]| patterns.iter().any(|pattern| glob_matches(pattern, &arn.full));
    if allowed {
        if covered(&deny) {
            // Another route's Deny would also cover this one: answer for this route only.
            return vec![statement(IamPolicyEffect::Allow, vec![arn.full.clone()])];
        }
        if !covered(&allow) {
            allow.push(arn.full.clone());
        }
    } else if !covered(&deny) {
        deny.push(arn.full.clone());
    }
    let mut statements = Vec::new();
    if !allow.is_empty() {
        statements.push(statement(IamPolicyEffect::Allow, allow));
    }
    if !deny.is_empty() {
        statements.push(statement(IamPolicyEffect::Deny, deny));
    }
    statements
}

fn statement(effect: IamPolicyEffect, resource: Vec<String>) -> IamPolicyStatement {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec![INVOKE.to_owned()];
    statement.effect = effect;
    statement.resource = resource;
    statement
}

fn policy(statements: Vec<IamPolicyStatement>) -> ApiGatewayCustomAuthorizerPolicy {
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some(POLICY_VERSION.to_owned());
    policy.statement = statements;
    policy
}

/// The `context` of an answer: the caller's [authorizer context](authorizer_context),
/// and a refusal's JSON error body under [`BODY_KEY`].
pub(super) fn context(caller: Option<&Principal>, refusal: Option<&str>) -> Map<String, Value> {
    let mut context = caller.map(authorizer_context).unwrap_or_default();
    if let Some(body) = refusal {
        context.insert(BODY_KEY.to_owned(), Value::String(body.to_owned()));
    }
    context
}

/// An HTTP API answer's `context`: HTTP API answers have no `principalId` of
/// their own, so the context carries it under [`PRINCIPAL_ID_KEY`].
pub(super) fn http_api_context(caller: Option<&Principal>, refusal: Option<&str>) -> Map<String, Value> {
    let mut context = context(caller, refusal);
    if let Some(caller) = caller {
        context.insert(PRINCIPAL_ID_KEY.to_owned(), Value::String(caller.id().to_owned()));
    }
    context
}

/// `principalId`: empty for an anonymous caller.
fn principal_id(caller: Option<&Principal>) -> String {
    caller.map_or_else(String::new, |p| p.id().to_owned())
}

/// A REST answer.
pub(super) fn rest_answer(
    caller: Option<&Principal>,
    statements: Vec<IamPolicyStatement>,
    context: Map<String, Value>,
) -> ApiGatewayCustomAuthorizerResponse<Map<String, Value>> {
    let mut answer = ApiGatewayCustomAuthorizerResponse::default();
    answer.principal_id = Some(principal_id(caller));
    answer.policy_document = policy(statements);
    answer.context = context;
    answer
}

/// An HTTP API IAM-policy answer.
pub(super) fn http_api_policy_answer(
    caller: Option<&Principal>,
    statements: Vec<IamPolicyStatement>,
    context: Map<String, Value>,
) -> ApiGatewayV2CustomAuthorizerIamPolicyResponse<Map<String, Value>> {
    let mut answer = ApiGatewayV2CustomAuthorizerIamPolicyResponse::default();
    answer.principal_id = Some(principal_id(caller));
    answer.policy_document = policy(statements);
    answer.context = context;
    answer
}

/// An HTTP API simple answer.
pub(super) fn http_api_simple_answer(
    is_authorized: bool,
    context: Map<String, Value>,
) -> ApiGatewayV2CustomAuthorizerSimpleResponse<Map<String, Value>> {
    let mut answer = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    answer.is_authorized = is_authorized;
    answer.context = context;
    answer
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn globs_match_as_iam_does() {
        assert!(glob_matches("arn:x/s/*/items/*", "arn:x/s/GET/items/1/2"));
        assert!(glob_matches("arn:x/s/GET/", "arn:x/s/GET/"));
        assert!(!glob_matches("arn:x/s/GET/", "arn:x/s/GET/a"));
        assert!(glob_matches("a?c*", "abcdef"));
        assert!(!glob_matches("a*z", "abc"));
        assert!(glob_matches("*", ""));
        assert!(
            glob_matches("arn:x/s/GET/caf?", "arn:x/s/GET/café"),
            "? is one character, not one byte"
        );
        assert!(!glob_matches("arn:x/s/GET/caf??", "arn:x/s/GET/café"));
    }
}
