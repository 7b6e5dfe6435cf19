//! End to end: the example binaries `lambda_authorizer`, `lambda_api` and
//! `lambda_websocket` run against a Lambda Runtime API served by this test on
//! 127.0.0.1, with a test issuer on 127.0.0.1, and are fed events in the shapes
//! API Gateway sends. The authorizer's answers are carried into the API's
//! events as the gateway would.
//! Nothing but 127.0.0.1 is contacted.

#![cfg(all(feature = "lambda", feature = "testing", feature = "axum"))]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authorizer::testing::{TEST_AUDIENCE, TestIssuer};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, oneshot};

use crate::support;

use crate::events;
use events::{BASE, fixture, http_at, rest_at, token_event, with_token};

/// What the function answered: `/response` or `/error`.
#[derive(Debug)]
enum Outcome {
    Response(Value),
    Error(Value),
}

impl Outcome {
    fn response(self) -> Value {
        match self {
            Outcome::Response(value) => value,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    /// The error document: API Gateway reads `errorMessage` (`Unauthorized`).
    fn error(self) -> Value {
        match self {
            Outcome::Error(body) => body,
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

struct Shared {
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    waiters: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_errors: Mutex<Vec<String>>,
}

/// The Lambda Runtime API, as far as a function uses it.
struct RuntimeApi {
    addr: String,
    events: mpsc::UnboundedSender<(String, Value)>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let Some((id, event)) = shared.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 300_000;
    (
        [
            ("lambda-runtime-aws-request-id", id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:e2e".to_owned(),
            ),
            (
                "lambda-runtime-trace-id",
                "Root=1-65540f10-2c4e1b0f6d9b2b3a1c0d9e8f;Sampled=0".to_owned(),
            ),
            ("content-type", "application/json".to_owned()),
        ],
        event.to_string(),
    )
        .into_response()
}

fn json_of(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn respond(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&shared, &id, Outcome::Response(json_of(&body)))
}

async fn fail(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&shared, &id, Outcome::Error(json_of(&body)))
}

fn finish(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match shared.waiters.lock().unwrap().remove(id) {
        Some(waiter) => {
            let _ = waiter.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    shared
        .init_errors
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    async fn start() -> RuntimeApi {
        let (events, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: tokio::sync::Mutex::new(receiver),
            waiters: Mutex::new(HashMap::new()),
            init_errors: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        RuntimeApi {
            addr,
            events,
            shared,
            next_id: AtomicU64::new(1),
        }
    }

    async fn invoke(&self, function: &Function, event: Value) -> Outcome {
        let id = format!("e2e-{}", self.next_id.fetch_add(1, Ordering::SeqCst));
        let (sender, receiver) = oneshot::channel();
        self.shared.waiters.lock().unwrap().insert(id.clone(), sender);
        self.events.send((id, event.clone())).unwrap();
        match tokio::time::timeout(Duration::from_secs(60), receiver).await {
            Ok(Ok(outcome)) => outcome,
            _ => panic!(
                "no answer from {} to {event}\ninit errors: {:?}\nstderr:\n{}",
                function.name,
                self.shared.init_errors.lock().unwrap(),
                function.stderr.lock().unwrap()
            ),
        }
    }
}

/// Builds (if needed) and finds an example binary next to this test's own.
fn example(name: &str, features: &str) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf();
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if is_fresh(&binary) {
        return binary;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = std::process::Command::new(cargo);
    build
        .args(["build", "--quiet", "--example", name, "--features", features])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(target_dir) = profile_dir.parent() {
        build.arg("--target-dir").arg(target_dir);
    }
    if profile_dir.file_name().is_some_and(|p| p == "release") {
        build.arg("--release");
    }
    let built = build.status().map(|s| s.success()).unwrap_or(false);
    assert!(
        built,
        "could not build example {name}: run `cargo build --example {name} --features {features}`"
    );
    binary
}

/// Whether `binary` is newer than every source it is built from (as after
/// `cargo test --all-features`, which builds the examples).
fn is_fresh(binary: &std::path::Path) -> bool {
    fn newest(path: &std::path::Path) -> Option<SystemTime> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_dir() {
            return meta.modified().ok();
        }
        std::fs::read_dir(path)
            .ok()?
            .filter_map(|entry| newest(&entry.ok()?.path()))
            .max()
    }
    let Some(built) = std::fs::metadata(binary).and_then(|m| m.modified()).ok() else {
        return false;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    ["src", "examples", "Cargo.toml", "Cargo.lock"]
        .iter()
        .filter_map(|part| newest(&root.join(part)))
        .all(|source| source <= built)
}

/// A running example binary, killed on drop.
struct Function {
    name: &'static str,
    _child: tokio::process::Child,
    stderr: Arc<Mutex<String>>,
}

async fn start(name: &'static str, features: &str, api: &RuntimeApi, issuer: &TestIssuer) -> Function {
    let binary = example(name, features);
    let mut command = tokio::process::Command::new(binary);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    command
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "e2e")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/e2e")
        .env("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true")
        .env("AUTHORIZER_ISSUER", issuer.issuer())
        .env("AUTHORIZER_JWKS_URL", issuer.jwks_url())
        .env("AUTHORIZER_AUDIENCE", TEST_AUDIENCE)
        .env("AUTHORIZER_ERROR_STYLE", "supertokens")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
    let stderr = Arc::new(Mutex::new(String::new()));
    if let Some(mut pipe) = child.stderr.take() {
        let stderr = stderr.clone();
        tokio::spawn(async move {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                stderr.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
    }
    Function {
        name,
        _child: child,
        stderr,
    }
}

fn statements(answer: &Value) -> Vec<(String, Vec<String>)> {
    answer["policyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["Action"], "execute-api:Invoke");
            let resources = s["Resource"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect();
            (s["Effect"].as_str().unwrap().to_owned(), resources)
        })
        .collect()
}

/// API Gateway's REST proxy event for a route, behind the Lambda authorizer
/// whose answer was `answer`: `principalId` and the context, values as text.
fn rest_behind(answer: &Value, method: &str, path: &str) -> Value {
    let mut event = rest_at(fixture("rest_no_authorizer.json"), method, path);
    event["headers"].as_object_mut().unwrap().remove("Authorization");
    event["multiValueHeaders"]
        .as_object_mut()
        .unwrap()
        .remove("Authorization");
    let mut authorizer: serde_json::Map<String, Value> = answer["context"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect();
    authorizer.insert("principalId".into(), answer["principalId"].clone());
    authorizer.insert("integrationLatency".into(), json!(21));
    event["requestContext"]["authorizer"] = Value::Object(authorizer);
    event
}

/// Status and JSON body of an API Gateway proxy response.
fn http_answer(response: &Value) -> (u64, Value) {
    let status = response["statusCode"].as_u64().unwrap();
    let body = response["body"].as_str().unwrap_or("null");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_authorizer_binary() {
    let issuer = TestIssuer::start().await;
    let t = support::demo_tokens(&issuer);
    let api = RuntimeApi::start().await;
    let f = start("lambda_authorizer", "lambda,testing", &api, &issuer).await;

    // TOKEN, a plain session on /me: Allow on the whole API, Deny on the routes it fails.
    let answer = api.invoke(&f, token_event(&t.user, "GET", "/me")).await.response();
    assert_eq!(answer["principalId"], "user-1");
    assert_eq!(
        statements(&answer),
        [
            ("Allow".to_owned(), vec![format!("{BASE}/*/*")]),
            (
                "Deny".to_owned(),
                vec![
                    format!("{BASE}/GET/verified"),
                    format!("{BASE}/GET/admin"),
                    format!("{BASE}/GET/scoped")
                ]
            ),
        ]
    );
    let claims: Value = serde_json::from_str(answer["context"]["claims"].as_str().unwrap()).unwrap();
    assert_eq!(claims["st-role"], json!({"v": ["user"], "t": 0}));
    assert_eq!(answer["context"]["email"], "user-1@example.com");

    // The admin passes every route: one Allow.
    let answer = api.invoke(&f, token_event(&t.admin, "GET", "/admin")).await.response();
    assert_eq!(statements(&answer), [("Allow".to_owned(), vec![format!("{BASE}/*/*")])]);

    // A failed requirement: Deny with the error body for the gateway response template.
    let answer = api
        .invoke(&f, token_event(&t.user, "GET", "/verified"))
        .await
        .response();
    let body: Value = serde_json::from_str(answer["context"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"message": "invalid claim", "claimValidationErrors": [
            {"id": "st-ev", "reason": {"message": "wrong value", "expectedValue": true, "actualValue": false}}
        ]})
    );

    // Missing, invalid and expired credentials: the error `Unauthorized`, exactly.
    for token in ["", "garbage", t.expired.as_str()] {
        let body = api.invoke(&f, token_event(token, "GET", "/me")).await.error();
        assert_eq!(
            body,
            json!({"errorType": "Unauthorized", "errorMessage": "Unauthorized"}),
            "{token:?}"
        );
    }

    // REQUEST with the session cookie; anonymous on the optional route.
    let request = with_token(&fixture("authorizer_request.json"), &t.user);
    let answer = api.invoke(&f, request).await.response();
    assert_eq!(answer["principalId"], "user-1");
    let answer = api
        .invoke(&f, fixture("authorizer_request_null_maps.json"))
        .await
        .response();
    assert_eq!(answer["principalId"], "");
    assert_eq!(answer["context"], json!({}));
    let anonymous = statements(&answer);
    assert_eq!(anonymous[0], ("Allow".to_owned(), vec![format!("{BASE}/GET/public")]));
    assert_eq!(anonymous[1].0, "Deny");
    // `ANY /me` is denied method by method (a `*` method would span into other paths).
    for method in ["GET", "POST", "DELETE"] {
        assert!(anonymous[1].1.contains(&format!("{BASE}/{method}/me")), "{method}");
    }
    assert!(!anonymous[1].1.contains(&format!("{BASE}/*/me")));

    // HTTP API payload 2.0 with the cookies array: simple answers.
    let v2 = with_token(&fixture("authorizer_http_v2.json"), &t.user);
    let answer = api.invoke(&f, v2.clone()).await.response();
    assert_eq!(answer["isAuthorized"], true);
    assert_eq!(answer["context"]["principalId"], "user-1");
    let mut admin_route = v2;
    admin_route["routeArn"] = json!("arn:aws:execute-api:us-east-1:123456789012:abc123defg/$default/GET/admin");
    let answer = api.invoke(&f, admin_route).await.response();
    assert_eq!(answer["isAuthorized"], false);
    assert!(answer["context"]["body"].as_str().unwrap().contains("st-role"));

    // An event API Gateway would not send: an error, not a decision.
    let body = api
        .invoke(&f, json!({"type": "TOKEN", "authorizationToken": "Bearer x"}))
        .await
        .error();
    assert_eq!(body["errorType"], "InvalidEvent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_api_binary_behind_each_authorizer() {
    let issuer = TestIssuer::start().await;
    let t = support::demo_tokens(&issuer);
    let authorizer_api = RuntimeApi::start().await;
    let authorizer = start("lambda_authorizer", "lambda,testing", &authorizer_api, &issuer).await;
    let api = RuntimeApi::start().await;
    let f = start("lambda_api", "lambda,testing,axum", &api, &issuer).await;

    // Behind the Lambda authorizer (REST): its answer, carried by the gateway, read back whole.
    let answer = authorizer_api
        .invoke(&authorizer, token_event(&t.user, "GET", "/me"))
        .await
        .response();
    let (status, body) = http_answer(&api.invoke(&f, rest_behind(&answer, "GET", "/me")).await.response());
    assert_eq!(status, 200);
    assert_eq!(body["id"], "user-1");
    assert_eq!(body["source"], "gateway_lambda");
    let token_claims: Value = serde_json::from_str(answer["context"]["claims"].as_str().unwrap()).unwrap();
    assert_eq!(body["claims"], token_claims);
    assert_eq!(body["context"]["exp"], token_claims["exp"]);
    let (status, body) = http_answer(&api.invoke(&f, rest_behind(&answer, "POST", "/me")).await.response());
    assert_eq!((status, &body["id"]), (200, &json!("user-1")));
    // The gateway let it through (a cached Allow, say), but the backend checks the requirement.
    let (status, body) = http_answer(
        &api.invoke(&f, rest_behind(&answer, "GET", "/verified"))
            .await
            .response(),
    );
    assert_eq!(status, 403);
    assert_eq!(body["message"], "invalid claim");
    let (status, body) = http_answer(&api.invoke(&f, rest_behind(&answer, "GET", "/public")).await.response());
    assert_eq!((status, body), (200, json!({"authenticated": true, "id": "user-1"})));

    // Behind the Lambda authorizer (HTTP API): `authorizer.lambda`.
    let v2 = with_token(&fixture("authorizer_http_v2.json"), &t.admin);
    let answer = authorizer_api.invoke(&authorizer, v2).await.response();
    let mut event = http_at(fixture("http_lambda.json"), "GET", "/admin");
    event["requestContext"]["authorizer"] = json!({"lambda": answer["context"]});
    let (status, body) = http_answer(&api.invoke(&f, event).await.response());
    assert_eq!(
        (status, &body["id"], &body["source"]),
        (200, &json!("admin-1"), &json!("gateway_lambda"))
    );

    // Behind the JWT authorizer: flattened claims parsed back, requirements checked here.
    let jwt = fixture("http_jwt.json");
    for (method, path) in [
        ("GET", "/me"),
        ("POST", "/me"),
        ("GET", "/verified"),
        ("GET", "/admin"),
        ("GET", "/scoped"),
    ] {
        let (status, body) = http_answer(&api.invoke(&f, http_at(jwt.clone(), method, path)).await.response());
        assert_eq!(
            (status, &body["source"]),
            (200, &json!("gateway_jwt")),
            "{method} {path}"
        );
    }
    let mut user_jwt = http_at(jwt, "GET", "/admin");
    user_jwt["requestContext"]["authorizer"]["jwt"]["claims"]["st-role"] = json!("map[t:0 v:[user]]");
    let (status, body) = http_answer(&api.invoke(&f, user_jwt).await.response());
    assert_eq!(status, 403);
    assert_eq!(
        body["claimValidationErrors"][0],
        json!({"id": "st-role", "reason": {"message": "wrong value", "expectedValue": "admin", "actualValue": ["user"]}})
    );

    // Behind Cognito and IAM.
    let (status, body) = http_answer(&api.invoke(&f, fixture("rest_cognito.json")).await.response());
    assert_eq!((status, &body["source"]), (200, &json!("gateway_cognito")));
    let (status, body) = http_answer(&api.invoke(&f, fixture("http_iam.json")).await.response());
    assert_eq!((status, &body["source"]), (200, &json!("gateway_iam")));

    // No authorizer: the credential is verified by the function itself.
    let rest = with_token(&fixture("rest_no_authorizer.json"), &t.admin);
    let (status, body) = http_answer(&api.invoke(&f, rest).await.response());
    assert_eq!(
        (status, &body["id"], &body["source"]),
        (200, &json!("admin-1"), &json!("bearer"))
    );
    let mut anonymous = http_at(fixture("http_no_authorizer.json"), "GET", "/public");
    anonymous["headers"].as_object_mut().unwrap().remove("authorization");
    let (status, body) = http_answer(&api.invoke(&f, anonymous.clone()).await.response());
    assert_eq!((status, body), (200, json!({"authenticated": false, "id": null})));
    let (status, body) = http_answer(&api.invoke(&f, http_at(anonymous, "GET", "/me")).await.response());
    assert_eq!((status, body), (401, json!({"message": "unauthorised"})));
    let expired = with_token(&fixture("http_no_authorizer.json"), &t.expired);
    let (status, body) = http_answer(&api.invoke(&f, expired).await.response());
    assert_eq!((status, body), (401, json!({"message": "try refresh token"})));
}

/// A WebSocket route's event behind the Lambda authorizer whose `$connect`
/// answer was `answer`: `principalId` and the context, values as text, on
/// every route of the connection.
fn websocket_behind(answer: &Value, fixture_name: &str) -> Value {
    let mut event = fixture(fixture_name);
    let mut authorizer: serde_json::Map<String, Value> = answer["context"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect();
    authorizer.insert("principalId".into(), answer["principalId"].clone());
    authorizer.insert("integrationLatency".into(), json!(17));
    event["requestContext"]["authorizer"] = Value::Object(authorizer);
    event
}

/// A `$connect` authorizer event with one more header.
fn connect_with(name: &str, value: &str) -> Value {
    let mut event = fixture("authorizer_websocket_connect.json");
    for map in ["queryStringParameters", "multiValueQueryStringParameters"] {
        event[map].as_object_mut().unwrap().remove("token");
    }
    event["headers"][name] = json!(value);
    event["multiValueHeaders"][name] = json!([value]);
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_api_behind_the_lambda_authorizer() {
    let connect = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/default/$connect";
    let issuer = TestIssuer::start().await;
    let t = support::demo_tokens(&issuer);
    let authorizer_api = RuntimeApi::start().await;
    let authorizer = start("lambda_authorizer", "lambda,testing", &authorizer_api, &issuer).await;
    let api = RuntimeApi::start().await;
    let f = start("lambda_websocket", "lambda", &api, &issuer).await;

    // `$connect` with a bearer header: an Allow for that `$connect` alone.
    let user = authorizer_api
        .invoke(
            &authorizer,
            connect_with("Authorization", &format!("Bearer {}", t.user)),
        )
        .await
        .response();
    assert_eq!(user["principalId"], "user-1");
    assert_eq!(statements(&user), [("Allow".to_owned(), vec![connect.to_owned()])]);
    // A cookie session: the handshake needs anti-CSRF proof (`rid`; no origin is allowed here).
    let cookie = connect_with("Cookie", &format!("sAccessToken={}", t.user));
    let refused = authorizer_api.invoke(&authorizer, cookie.clone()).await.response();
    assert_eq!(statements(&refused), [("Deny".to_owned(), vec![connect.to_owned()])]);
    let mut with_rid = cookie;
    with_rid["multiValueHeaders"]["rid"] = json!(["session"]);
    let answer = authorizer_api.invoke(&authorizer, with_rid).await.response();
    assert_eq!(answer["principalId"], "user-1");
    // No credential: `Unauthorized`, the gateway's 401, and no connection.
    let mut anonymous = fixture("authorizer_websocket_connect.json");
    anonymous["queryStringParameters"] = Value::Null;
    anonymous["multiValueQueryStringParameters"] = Value::Null;
    let body = authorizer_api.invoke(&authorizer, anonymous).await.error();
    assert_eq!(body["errorMessage"], "Unauthorized");

    // The answer, carried to every route of the connection, names the caller.
    for (name, route) in [
        ("websocket_connect.json", "$connect"),
        ("websocket_default.json", "$default"),
        ("websocket_disconnect.json", "$disconnect"),
    ] {
        let (status, body) = http_answer(&api.invoke(&f, websocket_behind(&user, name)).await.response());
        assert_eq!(
            (status, body),
            (200, json!({"route": route, "id": "user-1", "source": "gateway_lambda"}))
        );
    }
    // A browser that offered its token as a protocol gets the marker chosen, never the token.
    let mut offered = websocket_behind(&user, "websocket_connect.json");
    let protocols = format!("access_token, {}", t.user);
    offered["headers"]["Sec-WebSocket-Protocol"] = json!(protocols);
    offered["multiValueHeaders"]["Sec-WebSocket-Protocol"] = json!([protocols]);
    let response = api.invoke(&f, offered).await.response();
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["headers"]["sec-websocket-protocol"], "access_token");
    assert!(!response.to_string().contains(&t.user));
    let plain = api
        .invoke(&f, websocket_behind(&user, "websocket_connect.json"))
        .await
        .response();
    assert!(plain["headers"].get("sec-websocket-protocol").is_none());

    // A route's own requirement, checked by the function on the carried claims.
    let mut admin_route = websocket_behind(&user, "websocket_default.json");
    admin_route["requestContext"]["routeKey"] = json!("admin");
    let (status, body) = http_answer(&api.invoke(&f, admin_route).await.response());
    assert_eq!(status, 403);
    assert_eq!(body["claimValidationErrors"][0]["id"], "st-role");
    let admin = authorizer_api
        .invoke(
            &authorizer,
            connect_with("Authorization", &format!("Bearer {}", t.admin)),
        )
        .await
        .response();
    let mut admin_route = websocket_behind(&admin, "websocket_default.json");
    admin_route["requestContext"]["routeKey"] = json!("admin");
    let (status, body) = http_answer(&api.invoke(&f, admin_route).await.response());
    assert_eq!((status, &body["id"]), (200, &json!("admin-1")));

    // No authorizer context, or one that cannot be read: 401, never a caller.
    let mut none = fixture("websocket_default.json");
    none["requestContext"].as_object_mut().unwrap().remove("authorizer");
    let mut malformed = websocket_behind(&user, "websocket_default.json");
    malformed["requestContext"]["authorizer"]["claims"] = json!("{not json");
    for event in [none, malformed] {
        let (status, body) = http_answer(&api.invoke(&f, event).await.response());
        assert_eq!((status, body), (401, json!({"message": "unauthorised"})));
    }
}
