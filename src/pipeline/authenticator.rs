//! [`Authenticator`]: the configured pipeline.

use std::fmt;
use std::sync::Arc;

use super::Upstream;
use super::outcome::{Attempt, Mode, Outcome, Verification};
use super::parts::RequestParts;
use crate::binding::{Binding, Checked as Bound, Evidence};
use crate::credential::Headers;
use crate::credential::{Credential, Credentials};
use crate::error::{Error, ErrorFormat, ErrorRenderer, ErrorStyle, InvalidToken};
use crate::principal::{Principal, PrincipalMapping, Source};
use crate::resource::ResourceMetadata;
use crate::session::{Checked, SessionCheck};
use crate::telemetry;
use crate::verify::Verifier;

/// The pipeline, configured: where a principal comes from (an [`Upstream`]
/// source, a credential verified by a [`Verifier`]), the rules for reading
/// credentials, and the error style. Every adapter runs it; cheap to clone.
///
/// ```
/// # use authorizer::{Authenticator, ErrorStyle, Issuer, Verifier};
/// # use authorizer::credential::Credentials;
/// # let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let auth = Authenticator::new(verifier)
///     .credentials(Credentials::default().allowed_origins(["https://app.example.com"]))
///     .error_style(ErrorStyle::Rfc6750);
/// # Ok::<(), authorizer::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Authenticator {
    verifier: Option<Verifier>,
    upstream: Option<Arc<dyn Upstream>>,
    credentials: Arc<Credentials>,
    binding: Arc<Binding>,
    renderer: ErrorRenderer,
    session: Option<SessionCheck>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("verifier", &self.verifier)
            .field("upstream", &self.upstream.is_some())
            .field("credentials", &self.credentials)
            .field("binding", &self.binding)
            .field("renderer", &self.renderer)
            .field("session", &self.session)
            .finish()
    }
}

impl From<Verifier> for Authenticator {
    fn from(verifier: Verifier) -> Self {
        Authenticator::new(verifier)
    }
}

impl Authenticator {
    /// Verifies credentials with `verifier`; default credential rules and
    /// SuperTokens-style errors. When the verifier guards a
    /// [protected resource](crate::resource), every challenge points to its
    /// metadata.
    pub fn new(verifier: Verifier) -> Self {
        let renderer = match verifier.protected_resource() {
            // A resource's URL was checked when it was built: it always quotes.
            Some(resource) => ErrorRenderer::default()
                .resource_metadata(&resource.metadata_url())
                .unwrap_or_default(),
            None => ErrorRenderer::default(),
        };
        Authenticator {
            verifier: Some(verifier),
            upstream: None,
            credentials: Arc::new(Credentials::default()),
            binding: Arc::new(Binding::default()),
            renderer: renderer.with_schemes(&Binding::default()),
            session: None,
        }
    }

    /// Takes principals only from `upstream` and verifies nothing: for a
    /// service that only ever runs behind a component that authenticates
    /// every request (API Gateway with an authorizer on every route).
    pub fn upstream_only(upstream: impl Upstream) -> Self {
        Authenticator {
            verifier: None,
            upstream: Some(Arc::new(upstream)),
            credentials: Arc::new(Credentials::default()),
            binding: Arc::new(Binding::default()),
            renderer: ErrorRenderer::default().with_schemes(&Binding::default()),
            session: None,
        }
    }

    /// Takes the principal `upstream` established when there is one, and reads
    /// and verifies the credential only when there is none.
    pub fn upstream(mut self, upstream: impl Upstream) -> Self {
        self.upstream = Some(Arc::new(upstream));
        self
    }

    /// Where credentials are read from (and the CSRF rule for cookies).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Arc::new(credentials);
        self
    }

    /// How sender-constrained tokens are checked: the DPoP mode, proof
    /// rules, replay store, nonces, public URL, certificate sources (see
    /// [`binding`](crate::binding)). Default: [`Binding::default`]. The
    /// challenges of refusals follow: `Bearer` unless DPoP is required,
    /// `DPoP algs="..."` unless it is off.
    pub fn binding(mut self, binding: Binding) -> Self {
        self.renderer = self.renderer.with_schemes(&binding);
        self.binding = Arc::new(binding);
        self
    }

    /// The sender-constraint rules.
    pub fn binding_rules(&self) -> &Binding {
        &self.binding
    }

    /// Writes refusal bodies in a built-in style.
    pub fn error_style(mut self, style: ErrorStyle) -> Self {
        self.renderer = self.renderer.with_style(style);
        self
    }

    /// Writes refusal bodies with an API's own [`ErrorFormat`]; the status and
    /// `WWW-Authenticate` challenges stay the protocol's.
    pub fn error_format(mut self, format: impl ErrorFormat) -> Self {
        self.renderer = self.renderer.with_format(format);
        self
    }

    /// Adds the session stage: after verification (and on cache hits, and
    /// for principals an [`Upstream`] established), a revoked token or
    /// session is refused (see [`crate::session`]).
    ///
    /// ```
    /// use authorizer::pipeline::{Mode, RequestParts};
    /// use authorizer::session::{MemoryStore, SessionCheck};
    /// use authorizer::testing::TestIssuer;
    /// use authorizer::Authenticator;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = TestIssuer::new();
    /// let check = SessionCheck::new(MemoryStore::new());
    /// let revoker = check.revoker();
    /// let auth = Authenticator::new(issuer.verifier()).session_check(check);
    ///
    /// let token = issuer.token().subject("user-1").claim("sessionHandle", "s-1".into()).sign();
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("authorization", format!("Bearer {token}").parse()?);
    /// let parts = RequestParts::new("GET", "/me", &headers);
    /// let signed_in = auth.authenticate(&parts, Mode::Required).await;
    ///
    /// revoker.revoke_principal(signed_in.principal().unwrap()).await?; // logout
    /// let refused = auth.authenticate(&parts, Mode::Required).await;
    /// assert_eq!(refused.error().unwrap().status(), 401);
    /// # Ok(())
    /// # }
    /// ```
    pub fn session_check(mut self, check: SessionCheck) -> Self {
        self.session = Some(check);
        self
    }

    /// The session stage, if configured.
    pub fn session(&self) -> Option<&SessionCheck> {
        self.session.as_ref()
    }

    /// How refusals are written: the style or format, and the challenges.
    pub fn renderer(&self) -> &ErrorRenderer {
        &self.renderer
    }

    /// Whether an [`Upstream`] source is configured.
    #[cfg_attr(not(feature = "actix-web"), allow(dead_code))]
    pub(crate) fn has_upstream(&self) -> bool {
        self.upstream.is_some()
    }

    /// The RFC 9728 metadata document of the verifier's
    /// [protected resource](crate::resource), with the defaults filled in:
    /// `authorization_servers` (the configured issuers) and
    /// `bearer_methods_supported` (where credentials are read). `None` when
    /// no resource is configured.
    pub fn resource_metadata(&self) -> Option<ResourceMetadata> {
        let verifier = self.verifier.as_ref()?;
        let resource = verifier.protected_resource()?;
        let issuers: Vec<&str> = verifier.issuer_ids().collect();
        let document = resource.document(&issuers, &self.credentials.bearer_methods(), self.binding.metadata());
        Some(ResourceMetadata::new(resource, &document))
    }

    /// The verifier, unless this authenticator only reads upstream principals.
    pub fn verifier(&self) -> Option<&Verifier> {
        self.verifier.as_ref()
    }

    /// Runs the pipeline on a request. What needs no waiting (no credential, a
    /// cached token, an early refusal) is decided before this returns; await
    /// the [`Attempt`] for the [`Outcome`] either way.
    ///
    /// ```
    /// use authorizer::pipeline::{Attempt, Mode, RequestParts};
    /// use authorizer::testing::TestIssuer;
    /// use authorizer::Authenticator;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let issuer = TestIssuer::new();
    /// let auth = Authenticator::new(issuer.verifier());
    /// let mut headers = http::HeaderMap::new();
    /// let token = issuer.token().subject("user-1").sign();
    /// headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    /// let outcome = auth.authenticate(&RequestParts::new("GET", "/me", &headers), Mode::Required).await;
    /// assert_eq!(outcome.principal().map(|p| p.id()), Some("user-1"));
    /// # }
    /// ```
    pub fn authenticate<H: Headers>(&self, parts: &RequestParts<'_, H>, mode: Mode) -> Attempt {
        in_decide_span(|| self.run(parts, mode))
    }

    fn run<H: Headers>(&self, parts: &RequestParts<'_, H>, mode: Mode) -> Attempt {
        let session = self.session.as_ref().filter(|check| check.applies(|| parts.route()));
        if let Some(established) = self.established(parts) {
            return match established.and_then(|principal| self.bound_upstream(parts, principal)) {
                Ok(principal) => self.checked(principal, None, session, mode),
                Err(error) => self.decided(Err(error), mode),
            };
        }
        if self.verifier.is_none() {
            return self.decided(Ok(None), mode);
        }
        match self
            .credentials
            .extract_from(parts.method(), parts.target(), parts.headers())
        {
            Ok(Some(credential)) => match self.evidence(parts, credential.source()) {
                Ok(evidence) => self.verify(credential, evidence, session, mode),
                Err(error) => self.decided(Err(error), mode),
            },
            Ok(None) => self.decided(Ok(None), mode),
            Err(error) => self.decided(Err(error), mode),
        }
    }

    /// The binding stage on a principal a gateway authorizer established from
    /// a bearer presentation (its JWT and Cognito authorizers know nothing of
    /// DPoP): the mode must take bearer tokens, a `cnf.jkt` token is refused
    /// as it would be as `Bearer` here, and `cnf.x5t#S256` is compared with
    /// the certificate the gateway saw. A Lambda authorizer's context (this
    /// crate's authorizer binds the token itself) and IAM carry no token.
    fn bound_upstream<H: Headers>(
        &self,
        parts: &RequestParts<'_, H>,
        principal: Principal,
    ) -> Result<Principal, Error> {
        if matches!(principal.source(), Source::GatewayLambda | Source::GatewayIam) {
            return Ok(principal);
        }
        let evidence = self.evidence(parts, Source::Bearer)?;
        match self.binding.check(&evidence, "", &principal) {
            Bound::Done(result) => result.map(|_| principal),
            // A shared replay check only ever follows a proof, and a bearer
            // presentation has none.
            Bound::Shared(_) => Err(InvalidToken::Binding.into()),
        }
    }

    /// The binding stage's evidence: the request's, with the client
    /// certificate an upstream component saw when the connection had none.
    fn evidence<H: Headers>(&self, parts: &RequestParts<'_, H>, source: Source) -> Result<Evidence, Error> {
        let upstream_certificate = match (&self.upstream, parts.client_certificate(), parts.extensions()) {
            (Some(upstream), None, Some(extensions)) => upstream.client_certificate(extensions),
            _ => None,
        };
        match &upstream_certificate {
            Some(der) => self.binding.evidence(&parts.with_client_certificate(der), source),
            None => self.binding.evidence(parts, source),
        }
    }

    /// The `Sec-WebSocket-Protocol` value the handler should see: the
    /// request's without a token offered there. Adapters replace the header
    /// with it, so that a handler echoing the client's protocols cannot echo
    /// a token. `None`: leave the header as it is.
    pub(crate) fn protocols_for_handler<H: Headers>(&self, headers: &H) -> Option<String> {
        self.credentials.protocols_for_handler(headers)
    }

    /// Runs the pipeline's stages from verification on, for a token read by
    /// other means (a Lambda authorizer's `TOKEN` event, say), under the same
    /// size limit as credentials read from requests. With no route to judge,
    /// a [session check](Authenticator::session_check) always applies.
    pub fn authenticate_token(&self, token: &str, source: Source) -> Attempt {
        in_decide_span(|| {
            if token.len() > self.credentials.max_len_bytes() {
                return self.decided(Err(InvalidToken::TooLarge.into()), Mode::Required);
            }
            match self.binding.evidence_of_token(source) {
                Ok(evidence) => self.verify(
                    Credential::new(token, source),
                    evidence,
                    self.session.as_ref(),
                    Mode::Required,
                ),
                Err(error) => self.decided(Err(error), Mode::Required),
            }
        })
    }

    fn decided(&self, result: Result<Option<Principal>, Error>, mode: Mode) -> Attempt {
        Attempt::Ready(Outcome::new(result, mode, self.renderer.clone()))
    }

    /// A cached principal after a binding stage decided at once.
    fn bound(&self, bound: Result<Option<String>, Error>, principal: Principal, mode: Mode) -> Attempt {
        Attempt::Ready(bind_outcome(bound, principal, mode, self.renderer.clone()))
    }

    /// The principal an upstream source established, if configured and present.
    fn established<H: Headers>(&self, parts: &RequestParts<'_, H>) -> Option<Result<Principal, Error>> {
        let upstream = self.upstream.as_ref()?;
        let mapping = self
            .verifier
            .as_ref()
            .map_or(PrincipalMapping::shared_default(), Verifier::mapping);
        upstream.principal(parts.extensions()?, mapping)
    }

    /// The session stage on a verified principal: decided at once from a
    /// cached answer, else a [`Verification`] that awaits the store.
    /// A DPoP nonce to offer on success rides along (`offer`).
    fn checked(
        &self,
        principal: Principal,
        offer: Option<String>,
        session: Option<&SessionCheck>,
        mode: Mode,
    ) -> Attempt {
        let Some(session) = session else {
            return self.bound(Ok(offer), principal, mode);
        };
        match session.check(&principal) {
            Checked::Done(result) => match result {
                Ok(()) => self.bound(Ok(offer), principal, mode),
                Err(error) => self.decided(Err(error), mode),
            },
            Checked::Pending(lookup) => {
                let renderer = self.renderer.clone();
                let checking = async move {
                    let outcome = bind_outcome(lookup.await.map(|()| offer), principal, mode, renderer);
                    telemetry::record_outcome(&tracing::Span::current(), outcome.result());
                    outcome
                };
                let span = tracing::Span::current();
                Attempt::Pending(Verification::new(tracing::Instrument::instrument(checking, span)))
            }
        }
    }

    /// The verification stage, then the binding stage and the session
    /// stage: a cache hit is decided at once (unless a shared store must be
    /// asked); a miss runs in a [`Verification`] that owns a copy of the token.
    fn verify(
        &self,
        credential: Credential<'_>,
        evidence: Evidence,
        session: Option<&SessionCheck>,
        mode: Mode,
    ) -> Attempt {
        let Some(verifier) = &self.verifier else {
            return self.decided(Ok(None), mode);
        };
        // One look at the current span (the decide span, never a caller's);
        // with no subscriber, nothing more: not even the `iss` lookup below.
        let span = if telemetry::spans_on() {
            tracing::Span::current()
        } else {
            tracing::Span::none()
        };
        let traced = span
            .metadata()
            .is_some_and(|meta| meta.name() == telemetry::DECIDE_SPAN);
        if traced {
            span.record("source", tracing::field::debug(credential.source()));
        }
        if let Some(principal) = verifier.cached(&credential) {
            // Only tokens whose `iss` matched a configured issuer are cached.
            if let Some(iss) = principal
                .claims()
                .get("iss")
                .and_then(serde_json::Value::as_str)
                .filter(|_| traced)
            {
                span.record("issuer", iss);
            }
            return match self.binding.check(&evidence, credential.token(), &principal) {
                Bound::Done(Ok(offer)) => self.checked(principal, offer, session, mode),
                Bound::Done(Err(error)) => self.decided(Err(error), mode),
                Bound::Shared(question) => {
                    let renderer = self.renderer.clone();
                    let session = session.cloned();
                    let answer = async move {
                        let bound = question.run().await;
                        let outcome = bind_outcome(
                            then_session(bound, &principal, session.as_ref()).await,
                            principal,
                            mode,
                            renderer,
                        );
                        telemetry::record_outcome(&tracing::Span::current(), outcome.result());
                        outcome
                    };
                    Attempt::Pending(Verification::new(tracing::Instrument::instrument(answer, span)))
                }
            };
        }
        let verifier = verifier.clone();
        let binding = self.binding.clone();
        let session = session.cloned();
        let token = credential.token().to_owned();
        let source = credential.source();
        let renderer = self.renderer.clone();
        let verification = async move {
            #[cfg(feature = "metrics")]
            let started = std::time::Instant::now();
            let outcome = match verifier.verify_missed(Credential::new(&token, source)).await {
                Ok(principal) => {
                    let bound = match binding.check(&evidence, &token, &principal) {
                        Bound::Done(bound) => bound,
                        Bound::Shared(question) => question.run().await,
                    };
                    let bound = then_session(bound, &principal, session.as_ref()).await;
                    bind_outcome(bound, principal, mode, renderer)
                }
                Err(error) => Outcome::new(Err(error), mode, renderer),
            };
            #[cfg(feature = "metrics")]
            telemetry::verification_time(outcome.result(), started.elapsed());
            telemetry::record_outcome(&tracing::Span::current(), outcome.result());
            outcome
        };
        Attempt::Pending(Verification::new(tracing::Instrument::instrument(verification, span)))
    }
}

/// The outcome of a verified principal after the binding stage: the
/// principal (with a nonce to offer), or the binding's refusal.
fn bind_outcome(
    bound: Result<Option<String>, Error>,
    principal: Principal,
    mode: Mode,
    renderer: ErrorRenderer,
) -> Outcome {
    match bound {
        Ok(offer) => Outcome::new(Ok(Some(principal)), mode, renderer).offering(offer),
        Err(error) => Outcome::new(Err(error), mode, renderer),
    }
}

/// The session stage after the binding stage passed (with `bound`, the
/// nonce to offer); its refusal, or the binding's, otherwise.
async fn then_session(
    bound: Result<Option<String>, Error>,
    principal: &Principal,
    session: Option<&SessionCheck>,
) -> Result<Option<String>, Error> {
    let offer = bound?;
    match session.map(|session| session.check(principal)) {
        None => Ok(offer),
        Some(Checked::Done(result)) => result.map(|()| offer),
        Some(Checked::Pending(lookup)) => lookup.await.map(|()| offer),
    }
}

/// Runs one decision in its span; a pending verification carries the span
/// along and records its outcome there when it ends.
fn in_decide_span(run: impl FnOnce() -> Attempt) -> Attempt {
    // No subscriber takes info spans: no span at all. Making a disabled one
    // is not free when a dependency turned on tracing's `log` feature.
    if !telemetry::spans_on() {
        return run();
    }
    let span = telemetry::decide_span();
    if span.is_disabled() {
        return run();
    }
    let attempt = span.in_scope(run);
    if let Attempt::Ready(outcome) = &attempt {
        telemetry::record_outcome(&span, outcome.result());
    }
    attempt
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;
    use crate::testing::TestIssuer;

    /// An upstream that answers what a test put in the extensions.
    struct Sidecar;

    #[derive(Clone)]
    struct Established(Result<Principal, Error>);

    impl Upstream for Sidecar {
        fn principal(&self, extensions: &http::Extensions, _: &PrincipalMapping) -> Option<Result<Principal, Error>> {
            extensions.get::<Established>().map(|established| established.0.clone())
        }
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        headers
    }

    async fn run(auth: &Authenticator, parts: &RequestParts<'_>, mode: Mode) -> Outcome {
        auth.authenticate(parts, mode).await
    }

    #[tokio::test]
    async fn an_upstream_principal_comes_first_and_its_errors_are_refused() {
        let auth = Authenticator::new(TestIssuer::new().verifier()).upstream(Sidecar);
        let junk = bearer("junk");
        let mut extensions = http::Extensions::new();
        extensions.insert(Established(Ok(Principal::new("from-gateway", Source::GatewayIam))));
        let parts = RequestParts::new("GET", "/", &junk).with_extensions(&extensions);
        let outcome = run(&auth, &parts, Mode::Required).await;
        assert_eq!(
            outcome.principal().map(Principal::id),
            Some("from-gateway"),
            "the bad bearer is never read"
        );

        extensions.insert(Established(Err(InvalidToken::Malformed.into())));
        let parts = RequestParts::new("GET", "/", &junk).with_extensions(&extensions);
        assert!(
            run(&auth, &parts, Mode::Optional).await.error().is_some(),
            "an unreadable context is refused even where optional"
        );
    }

    #[tokio::test]
    async fn without_an_upstream_answer_the_credential_decides() {
        let auth = Authenticator::new(TestIssuer::new().verifier()).upstream(Sidecar);
        let junk = bearer("junk");
        let empty = http::Extensions::new();
        for parts in [
            RequestParts::new("GET", "/", &junk).with_extensions(&empty),
            RequestParts::new("GET", "/", &junk),
        ] {
            let outcome = run(&auth, &parts, Mode::Optional).await;
            assert!(matches!(
                outcome.error(),
                Some(Error::InvalidToken(InvalidToken::Malformed))
            ));
        }
    }

    #[tokio::test]
    async fn upstream_only_verifies_nothing() {
        let auth = Authenticator::upstream_only(Sidecar);
        assert!(auth.verifier().is_none());
        let token = TestIssuer::new().token().sign();
        let headers = bearer(&token);
        let parts = RequestParts::new("GET", "/", &headers);
        assert!(matches!(
            run(&auth, &parts, Mode::Required).await.error(),
            Some(Error::MissingCredential)
        ));
        let anonymous = run(&auth, &parts, Mode::Optional).await;
        assert!(anonymous.error().is_none() && anonymous.principal().is_none());
    }

    /// What a span recorded after it was made, by span name.
    #[derive(Clone, Default)]
    struct Recorded(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>> tracing_subscriber::Layer<S>
        for Recorded
    {
        fn on_record(
            &self,
            id: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            ctx: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let name = ctx.span(id).map_or("?", |span| span.name());
            let mut fields = Vec::new();
            values.record(&mut |field: &tracing::field::Field, _: &dyn std::fmt::Debug| {
                fields.push(field.name());
            });
            self.0.lock().unwrap().push(format!("{name}: {}", fields.join(",")));
        }
    }

    #[tokio::test]
    async fn a_filtered_out_decide_span_leaves_the_applications_span_alone() {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt;
        let recorded = Recorded::default();
        // Info for the application, warnings only for this crate: no decide span.
        let filter = tracing_subscriber::filter::Targets::new()
            .with_default(tracing::Level::INFO)
            .with_target("authorizer", tracing::Level::WARN);
        let subscriber = tracing_subscriber::registry().with(recorded.clone().with_filter(filter));
        let _guard = tracing::subscriber::set_default(subscriber);

        let issuer = TestIssuer::new();
        let auth = Authenticator::new(issuer.verifier());
        let headers = bearer(&issuer.token().sign());
        let app =
            tracing::info_span!(target: "app", "app", outcome = tracing::field::Empty, reason = tracing::field::Empty);
        // A cache miss: the verification runs in a future, in the application's span.
        let outcome = tracing::Instrument::instrument(
            async { run(&auth, &RequestParts::new("GET", "/", &headers), Mode::Required).await },
            app.clone(),
        )
        .await;
        assert!(outcome.principal().is_some());
        let recorded = recorded.0.lock().unwrap();
        assert!(
            !recorded.iter().any(|line| line.starts_with("app:")),
            "the application's span was written: {recorded:?}"
        );
    }
}
