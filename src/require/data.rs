//! The data form of a [`Requirement`]: serde, for JSON, TOML and any other format.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::step_up::{self, Preset, StepUpCheck};
use super::{
    Bound, ClaimCheck, Comparison, Custom, Kind, Num, Op, PathSegment, Pattern, Requirement, ScopeCheck, TimeUnit,
    seconds_json,
};

/// A requirement document that could not be read, with the place it went wrong.
///
/// Its [`Display`](fmt::Display) names the path in the document (`all[1].contains`)
/// and the format's own message, which for JSON and TOML carries the line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid requirement at `{path}`: {message}")]
pub struct DocumentError {
    path: String,
    message: String,
}

impl DocumentError {
    /// Where in the document: `.` for the top, then keys and indexes (`all[1].not`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was wrong, as the format reported it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Requirement {
    /// Reads a requirement from a JSON document; see the [data form](super#data-form).
    ///
    /// ```
    /// use authorizer::require::{Requirement, claim};
    ///
    /// let r = Requirement::from_json(r#"{"claim": "st-ev", "at": ["v"], "eq": true}"#)?;
    /// assert_eq!(r, claim("st-ev").at("v").eq(true));
    ///
    /// let err = Requirement::from_json(r#"{"all": [{"scope": "read"}, {"claim": "x", "eqq": 1}]}"#).unwrap_err();
    /// assert_eq!(err.path(), "all[1].eqq");
    /// # Ok::<(), authorizer::require::DocumentError>(())
    /// ```
    pub fn from_json(document: &str) -> Result<Self, DocumentError> {
        let mut deserializer = serde_json::Deserializer::from_str(document);
        let requirement = Self::from_deserializer(&mut deserializer)?;
        deserializer.end().map_err(|error| DocumentError {
            path: ".".to_owned(),
            message: error.to_string(),
        })?;
        Ok(requirement)
    }

    /// Reads a requirement from any serde deserializer (a TOML document, a value
    /// inside a larger configuration), reporting the path of a failure.
    pub fn from_deserializer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, DocumentError> {
        serde_path_to_error::deserialize(deserializer).map_err(|error| DocumentError {
            path: error.path().to_string(),
            message: error.inner().to_string(),
        })
    }
}

/// The data form, with custom checks shown as `{"custom": id}` instead of failing.
pub(super) fn describe(requirement: &Requirement) -> Value {
    serde_json::to_value(Doc {
        requirement,
        lenient: true,
    })
    .unwrap_or(Value::Null)
}

struct Doc<'a> {
    requirement: &'a Requirement,
    lenient: bool,
}

struct Docs<'a> {
    requirements: &'a [Requirement],
    lenient: bool,
}

impl Serialize for Requirement {
    /// Fails for a requirement that holds a [`custom`](super::custom) check.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Doc {
            requirement: self,
            lenient: false,
        }
        .serialize(serializer)
    }
}

impl Serialize for Docs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.requirements.iter().map(|requirement| Doc {
            requirement,
            lenient: self.lenient,
        }))
    }
}

impl Serialize for Doc<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let requirement = self.requirement;
        if let (Kind::Custom(Custom { id, .. }), false) = (&requirement.kind, self.lenient) {
            return Err(ser::Error::custom(format_args!(
                "requirement `{id}` is a custom check written in Rust and has no data form"
            )));
        }
        let mut map = serializer.serialize_map(None)?;
        if let Some(id) = &requirement.id {
            map.serialize_entry("id", &**id)?;
        }
        let docs = |requirements| Docs {
            requirements,
            lenient: self.lenient,
        };
        match &requirement.kind {
            Kind::Claim(check) => serialize_claim(check, &mut map)?,
            Kind::Scopes(ScopeCheck::One(scope)) => map.serialize_entry("scope", &**scope)?,
            Kind::Scopes(ScopeCheck::All(scopes)) => map.serialize_entry("all_scopes", scopes)?,
            Kind::Scopes(ScopeCheck::Any(scopes)) => map.serialize_entry("any_scope", scopes)?,
            Kind::All(parts) => map.serialize_entry("all", &docs(parts))?,
            Kind::Any(parts) => map.serialize_entry("any", &docs(parts))?,
            Kind::Not(inner) => map.serialize_entry(
                "not",
                &Doc {
                    requirement: inner,
                    lenient: self.lenient,
                },
            )?,
            Kind::Custom(Custom { id, .. }) => map.serialize_entry("custom", &**id)?,
            Kind::StepUp(StepUpCheck { preset, .. }) => match preset {
                Preset::Acr(values) => map.serialize_entry("acr_one_of", values)?,
                Preset::Amr(methods) => map.serialize_entry("amr_contains", methods)?,
                Preset::AuthTime(max) => map.serialize_entry("authenticated_within", &seconds_json(*max))?,
                Preset::Mfa => map.serialize_entry("mfa_completed", &true)?,
            },
        }
        map.end()
    }
}

fn serialize_claim<M: SerializeMap>(check: &ClaimCheck, map: &mut M) -> Result<(), M::Error> {
    map.serialize_entry("claim", &*check.claim)?;
    if !check.path.is_empty() {
        map.serialize_entry("at", &check.path)?;
    }
    match &check.op {
        Op::Eq(value) => map.serialize_entry("eq", value),
        Op::Ne(value) => map.serialize_entry("ne", value),
        Op::Exists => map.serialize_entry("exists", &true),
        Op::Contains(value) => map.serialize_entry("contains", value),
        Op::ContainsAll(items) => map.serialize_entry("contains_all", items),
        Op::ContainsAny(items) => map.serialize_entry("contains_any", items),
        Op::OneOf(values) => map.serialize_entry("one_of", values),
        Op::Compare(comparison, bound) => map.serialize_entry(comparison.key(), bound),
        Op::Matches(pattern) => map.serialize_entry("matches", &*pattern.source),
        Op::MaxAge { max, unit } => {
            map.serialize_entry("max_age", &seconds_json(*max))?;
            match unit {
                TimeUnit::Seconds => Ok(()),
                TimeUnit::Milliseconds => map.serialize_entry("unit", "ms"),
            }
        }
    }
}

impl Serialize for PathSegment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PathSegment::Key(key) => serializer.serialize_str(key),
            PathSegment::Index(index) => serializer.serialize_u64(*index as u64),
        }
    }
}

impl Serialize for Bound {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Num::Int(i) => match i64::try_from(i) {
                Ok(i) => serializer.serialize_i64(i),
                Err(_) => serializer.serialize_u64(u64::try_from(i).map_err(ser::Error::custom)?),
            },
            Num::Float(f) => serializer.serialize_f64(f),
        }
    }
}

// ---------------------------------------------------------------------------
// Reading.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Id,
    Claim,
    At,
    Unit,
    Eq,
    Ne,
    Exists,
    Contains,
    ContainsAll,
    ContainsAny,
    OneOf,
    Gt,
    Ge,
    Lt,
    Le,
    Matches,
    MaxAge,
    Scope,
    AllScopes,
    AnyScope,
    All,
    Any,
    Not,
    AcrOneOf,
    AmrContains,
    AuthenticatedWithin,
    MfaCompleted,
}

const FIELDS: &[&str] = &[
    "id",
    "claim",
    "at",
    "unit",
    "eq",
    "ne",
    "exists",
    "contains",
    "contains_all",
    "contains_any",
    "one_of",
    "gt",
    "ge",
    "lt",
    "le",
    "matches",
    "max_age",
    "scope",
    "all_scopes",
    "any_scope",
    "all",
    "any",
    "not",
    "acr_one_of",
    "amr_contains",
    "authenticated_within",
    "mfa_completed",
];

const FIELD_VALUES: [Field; 27] = [
    Field::Id,
    Field::Claim,
    Field::At,
    Field::Unit,
    Field::Eq,
    Field::Ne,
    Field::Exists,
    Field::Contains,
    Field::ContainsAll,
    Field::ContainsAny,
    Field::OneOf,
    Field::Gt,
    Field::Ge,
    Field::Lt,
    Field::Le,
    Field::Matches,
    Field::MaxAge,
    Field::Scope,
    Field::AllScopes,
    Field::AnyScope,
    Field::All,
    Field::Any,
    Field::Not,
    Field::AcrOneOf,
    Field::AmrContains,
    Field::AuthenticatedWithin,
    Field::MfaCompleted,
];

const CHECKS: &str = "`eq`, `ne`, `exists`, `contains`, `contains_all`, `contains_any`, `one_of`, `gt`, `ge`, `lt`, `le`, `matches` or `max_age`";

impl Field {
    fn name(self) -> &'static str {
        FIELDS[self as usize]
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a requirement key")
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Field, E> {
                if let Some(i) = FIELDS.iter().position(|name| *name == key) {
                    return Ok(FIELD_VALUES[i]);
                }
                if key == "custom" {
                    return Err(E::custom(
                        "`custom` requirements are written in Rust and cannot be read from a document",
                    ));
                }
                Err(E::unknown_field(key, FIELDS))
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

/// What one key contributed: a check on a claim, or a whole requirement kind.
enum Part {
    Op(Op),
    Kind(Kind),
}

impl<'de> Deserialize<'de> for Requirement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RequirementVisitor)
    }
}

struct RequirementVisitor;

impl<'de> Visitor<'de> for RequirementVisitor {
    type Value = Requirement;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a requirement: an object with `claim` and a check, `scope`, `all_scopes`, `any_scope`, `all`, `any`, `not`, or a step-up check (`acr_one_of`, `amr_contains`, `authenticated_within`, `mfa_completed`)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Requirement, A::Error> {
        let mut seen = 0u32;
        let mut id: Option<String> = None;
        let mut claim: Option<String> = None;
        let mut at: Option<Vec<PathSegment>> = None;
        let mut unit: Option<TimeUnit> = None;
        let mut part: Option<(Field, Part)> = None;

        while let Some(field) = map.next_key::<Field>()? {
            let bit = 1u32 << field as u32;
            if seen & bit != 0 {
                return Err(de::Error::custom(format_args!("duplicate key `{}`", field.name())));
            }
            seen |= bit;
            let new = match field {
                Field::Id => {
                    id = Some(map.next_value()?);
                    continue;
                }
                Field::Claim => {
                    claim = Some(map.next_value()?);
                    continue;
                }
                Field::At => {
                    at = Some(map.next_value::<PathList>()?.0);
                    continue;
                }
                Field::Unit => {
                    unit = Some(map.next_value::<UnitName>()?.0);
                    continue;
                }
                Field::Eq => Part::Op(Op::Eq(map.next_value()?)),
                Field::Ne => Part::Op(Op::Ne(map.next_value()?)),
                Field::Exists => {
                    map.next_value::<ExistsTrue>()?;
                    Part::Op(Op::Exists)
                }
                Field::Contains => Part::Op(Op::Contains(map.next_value()?)),
                Field::ContainsAll => Part::Op(Op::ContainsAll(map.next_value()?)),
                Field::ContainsAny => Part::Op(Op::ContainsAny(map.next_value()?)),
                Field::OneOf => Part::Op(Op::OneOf(map.next_value()?)),
                Field::Gt => Part::Op(Op::Compare(Comparison::Gt, map.next_value()?)),
                Field::Ge => Part::Op(Op::Compare(Comparison::Ge, map.next_value()?)),
                Field::Lt => Part::Op(Op::Compare(Comparison::Lt, map.next_value()?)),
                Field::Le => Part::Op(Op::Compare(Comparison::Le, map.next_value()?)),
                Field::Matches => Part::Op(Op::Matches(map.next_value()?)),
                Field::MaxAge => {
                    let max = map.next_value::<Seconds>()?.0;
                    Part::Op(Op::MaxAge {
                        max,
                        unit: TimeUnit::Seconds,
                    })
                }
                Field::Scope => Part::Kind(Kind::Scopes(ScopeCheck::One(map.next_value()?))),
                Field::AllScopes => Part::Kind(Kind::Scopes(ScopeCheck::All(map.next_value()?))),
                Field::AnyScope => Part::Kind(Kind::Scopes(ScopeCheck::Any(map.next_value()?))),
                Field::All => Part::Kind(Kind::All(map.next_value()?)),
                Field::Any => Part::Kind(Kind::Any(map.next_value()?)),
                Field::Not => Part::Kind(Kind::Not(Box::new(map.next_value()?))),
                Field::AcrOneOf => Part::Kind(step_up::step_up(Preset::Acr(map.next_value::<AcrValues>()?.0)).kind),
                Field::AmrContains => Part::Kind(step_up::step_up(Preset::Amr(map.next_value()?)).kind),
                Field::AuthenticatedWithin => {
                    let max = map.next_value::<Seconds>()?.0;
                    Part::Kind(step_up::step_up(Preset::AuthTime(max)).kind)
                }
                Field::MfaCompleted => {
                    map.next_value::<MfaTrue>()?;
                    Part::Kind(step_up::step_up(Preset::Mfa).kind)
                }
            };
            if let Some((previous, _)) = &part {
                return Err(de::Error::custom(format_args!(
                    "`{}` and `{}` cannot be combined in one requirement; put each in its own requirement inside `all`",
                    previous.name(),
                    field.name()
                )));
            }
            part = Some((field, new));
        }

        let id = id.map(String::into_boxed_str);
        match part {
            None => Err(de::Error::custom(match claim {
                Some(claim) => format!("claim `{claim}` needs a check: {CHECKS}"),
                None => format!(
                    "empty requirement: expected `claim` with a check ({CHECKS}), `scope`, `all_scopes`, `any_scope`, `all`, `any` or `not`"
                ),
            })),
            Some((field, Part::Op(mut op))) => {
                let Some(claim) = claim else {
                    return Err(de::Error::custom(format_args!(
                        "`{}` needs `claim`: the name of the claim to check",
                        field.name()
                    )));
                };
                if let Some(new_unit) = unit {
                    match &mut op {
                        Op::MaxAge { unit, .. } => *unit = new_unit,
                        _ => return Err(de::Error::custom("`unit` applies only to `max_age`")),
                    }
                }
                Ok(Requirement {
                    id,
                    kind: Kind::Claim(ClaimCheck {
                        claim: claim.into_boxed_str(),
                        path: at.unwrap_or_default(),
                        op,
                    }),
                })
            }
            Some((field, Part::Kind(kind))) => {
                let extra = [
                    (claim.is_some(), "claim"),
                    (at.is_some(), "at"),
                    (unit.is_some(), "unit"),
                ];
                if let Some((_, key)) = extra.iter().find(|(present, _)| *present) {
                    return Err(de::Error::custom(format_args!(
                        "`{}` cannot be combined with `{key}`; put the claim check in its own requirement inside `all`",
                        field.name()
                    )));
                }
                Ok(Requirement { id, kind })
            }
        }
    }
}

/// `at`: a list of keys and indexes, or a single one.
struct PathList(Vec<PathSegment>);

impl<'de> Deserialize<'de> for PathList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PathVisitor;
        impl<'de> Visitor<'de> for PathVisitor {
            type Value = PathList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path: a list of object keys (strings) and array indexes (numbers)")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PathList, A::Error> {
                let mut path = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
                while let Some(segment) = seq.next_element()? {
                    path.push(segment);
                }
                Ok(PathList(path))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<PathList, E> {
                Ok(PathList(vec![PathSegment::from(key)]))
            }

            fn visit_u64<E: de::Error>(self, index: u64) -> Result<PathList, E> {
                SegmentVisitor.visit_u64(index).map(|s| PathList(vec![s]))
            }

            fn visit_i64<E: de::Error>(self, index: i64) -> Result<PathList, E> {
                SegmentVisitor.visit_i64(index).map(|s| PathList(vec![s]))
            }
        }
        deserializer.deserialize_any(PathVisitor)
    }
}

struct SegmentVisitor;

impl Visitor<'_> for SegmentVisitor {
    type Value = PathSegment;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key (a string) or an array index (a number from 0)")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<PathSegment, E> {
        Ok(PathSegment::from(key))
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<PathSegment, E> {
        usize::try_from(index)
            .map(PathSegment::Index)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(index), &self))
    }

    fn visit_i64<E: de::Error>(self, index: i64) -> Result<PathSegment, E> {
        u64::try_from(index)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(index), &self))
            .and_then(|index| self.visit_u64(index))
    }
}

impl<'de> Deserialize<'de> for PathSegment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SegmentVisitor)
    }
}

struct NumberVisitor;

impl Visitor<'_> for NumberVisitor {
    type Value = Num;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Num, E> {
        Ok(Num::Int(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Num, E> {
        Ok(Num::Int(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Num, E> {
        if n.is_finite() {
            Ok(Num::Float(n))
        } else {
            Err(E::invalid_value(de::Unexpected::Float(n), &"a finite number"))
        }
    }
}

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberVisitor).map(Bound)
    }
}

/// `max_age`: a non-negative number of seconds.
struct Seconds(Duration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let invalid = || de::Error::custom("must be a non-negative number of seconds");
        match deserializer.deserialize_any(NumberVisitor)? {
            Num::Int(n) => u64::try_from(n).map(Duration::from_secs).map_err(|_| invalid()),
            Num::Float(f) => Duration::try_from_secs_f64(f).map_err(|_| invalid()),
        }
        .map(Seconds)
    }
}

/// `unit`: `s` or `ms`.
struct UnitName(TimeUnit);

impl<'de> Deserialize<'de> for UnitName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const UNITS: &[&str] = &["s", "ms"];
        let name = String::deserialize(deserializer)?;
        match name.as_str() {
            "s" => Ok(UnitName(TimeUnit::Seconds)),
            "ms" => Ok(UnitName(TimeUnit::Milliseconds)),
            other => Err(de::Error::unknown_variant(other, UNITS)),
        }
    }
}

/// `exists`: only `true` (checked while reading it, so errors name the key).
struct ExistsTrue;

impl<'de> Deserialize<'de> for ExistsTrue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if bool::deserialize(deserializer)? {
            Ok(ExistsTrue)
        } else {
            Err(de::Error::custom(
                "`exists` must be `true`; to require that a claim is absent, wrap the check in `not`",
            ))
        }
    }
}

/// `acr_one_of`: checked while reading it, so errors name the key.
struct AcrValues(Vec<String>);

impl<'de> Deserialize<'de> for AcrValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let values = Vec::<String>::deserialize(deserializer)?;
        step_up::check_acr_values(&values).map_err(de::Error::custom)?;
        Ok(AcrValues(values))
    }
}

/// `mfa_completed`: only `true`, like `exists`.
struct MfaTrue;

impl<'de> Deserialize<'de> for MfaTrue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if bool::deserialize(deserializer)? {
            Ok(MfaTrue)
        } else {
            Err(de::Error::custom(
                "`mfa_completed` must be `true`; to require that it is not, wrap the check in `not`",
            ))
        }
    }
}

/// `matches`: compiled while reading it, so a bad regex is an error at load time.
impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Pattern::new(&source).map_err(|error| de::Error::custom(format_args!("invalid regex in `matches`: {error}")))
    }
}
