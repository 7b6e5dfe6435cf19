//! Claims that API Gateway flattened to strings, parsed back where that is certain.
//!
//! The HTTP API JWT authorizer (`requestContext.authorizer.jwt.claims`) and the
//! REST Cognito authorizer (`requestContext.authorizer.claims`) hand every claim
//! on as a string: `"1700000000"`, `"true"`, `"[admin user]"`, and objects as the
//! gateway prints them (JSON text, or Go's `map[k:v k2:v2]`). A string claim
//! `"42"` and a number claim `42` arrive the same, so a value is only turned back
//! into a number, boolean, array or object when the claim's type is known (see
//! [`parse_flattened_claims`](super::parse_flattened_claims) for the table).

use serde_json::{Map, Number, Value};

/// What a known claim holds.
#[derive(Debug, Clone, Copy)]
enum Hint {
    Str,
    Num,
    Bool,
    /// A string, or an array of strings written `[a b]`.
    StrOrArray,
    Array(&'static Hint),
    /// An object with these keys (any other key is a string), and a hint for the rest.
    Object(&'static [(&'static str, Hint)], Option<&'static Hint>),
}

const STRINGS: Hint = Hint::Array(&Hint::Str);
/// SuperTokens' `{"v": bool, "t": ms}` (`st-ev`).
const ST_FLAG: Hint = Hint::Object(&[("v", Hint::Bool), ("t", Hint::Num)], None);
/// SuperTokens' `{"v": [string], "t": ms}` (`st-role`, `st-perm`).
const ST_LIST: Hint = Hint::Object(&[("v", STRINGS), ("t", Hint::Num)], None);
/// SuperTokens' `{"v": bool, "c": {factor: seconds}, "t": ms}` (`st-mfa`).
const ST_MFA: Hint = Hint::Object(
    &[
        ("v", Hint::Bool),
        ("t", Hint::Num),
        ("c", Hint::Object(&[], Some(&Hint::Num))),
    ],
    None,
);

/// The claims whose type is known, so their text can be parsed back.
fn hint_of(name: &str) -> Option<Hint> {
    Some(match name {
        "exp" | "iat" | "nbf" | "auth_time" | "updated_at" => Hint::Num,
        "email_verified" | "phone_number_verified" => Hint::Bool,
        "aud" | "amr" | "scp" | "groups" | "roles" | "cognito:groups" | "cognito:roles" => Hint::StrOrArray,
        "st-ev" => ST_FLAG,
        "st-role" | "st-perm" => ST_LIST,
        "st-mfa" => ST_MFA,
        _ => return None,
    })
}

/// The claim names whose flattened text is parsed back, for the documentation and tests.
#[cfg(test)]
pub(crate) const KNOWN: &[&str] = &[
    "exp",
    "iat",
    "nbf",
    "auth_time",
    "updated_at",
    "email_verified",
    "phone_number_verified",
    "aud",
    "amr",
    "scp",
    "groups",
    "roles",
    "cognito:groups",
    "cognito:roles",
    "st-ev",
    "st-role",
    "st-perm",
    "st-mfa",
];

/// Parses one flattened claim; anything that does not parse exactly stays as it came.
pub(crate) fn parse_claim(name: &str, value: &Value) -> Value {
    match value {
        Value::String(text) => parse_text(name, text),
        other => other.clone(),
    }
}

/// [`parse_claim`] of a claim the gateway delivered as text.
pub(crate) fn parse_text(name: &str, text: &str) -> Value {
    let parsed = match hint_of(name) {
        Some(hint) => parse_top(text, hint),
        None => json_object(text),
    };
    parsed.unwrap_or_else(|| Value::String(text.to_owned()))
}

/// Every claim of a flattened map, parsed with [`parse_claim`].
pub(crate) fn parse_claims<'a>(claims: impl IntoIterator<Item = (&'a String, &'a Value)>) -> Map<String, Value> {
    claims
        .into_iter()
        .map(|(name, value)| (name.clone(), parse_claim(name, value)))
        .collect()
}

/// JSON object text (how the gateway may write an object claim).
fn json_object(text: &str) -> Option<Value> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(object @ Value::Object(_)) => Some(object),
        _ => None,
    }
}

fn parse_top(text: &str, hint: Hint) -> Option<Value> {
    match hint {
        Hint::Str => None,
        Hint::Num => number(text).or_else(|| cognito_date(text)),
        Hint::Bool => boolean(text),
        Hint::StrOrArray => {
            if text.starts_with('[') && text.ends_with(']') {
                json_array_of_strings(text).or_else(|| typed(&GoValue::parse(text)?, STRINGS))
            } else {
                None
            }
        }
        Hint::Array(_) => json_typed(text, hint).or_else(|| typed(&GoValue::parse(text)?, hint)),
        Hint::Object(..) => json_typed(text, hint).or_else(|| typed(&GoValue::parse(text)?, hint)),
    }
}

fn json_array_of_strings(text: &str) -> Option<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) if items.iter().all(Value::is_string) => Some(Value::Array(items)),
        _ => None,
    }
}

/// JSON text whose shape fits the hint (leaves are taken as JSON typed them).
fn json_typed(text: &str, hint: Hint) -> Option<Value> {
    let value: Value = serde_json::from_str(text).ok()?;
    fits(&value, hint).then_some(value)
}

fn fits(value: &Value, hint: Hint) -> bool {
    match (hint, value) {
        (Hint::Str, Value::String(_)) | (Hint::Num, Value::Number(_)) | (Hint::Bool, Value::Bool(_)) => true,
        (Hint::StrOrArray, Value::String(_)) => true,
        (Hint::StrOrArray, Value::Array(items)) => items.iter().all(Value::is_string),
        (Hint::Array(item), Value::Array(items)) => items.iter().all(|v| fits(v, *item)),
        (Hint::Object(..), Value::Object(map)) => map.iter().all(|(k, v)| fits(v, member_hint(hint, k))),
        _ => false,
    }
}

fn member_hint(hint: Hint, key: &str) -> Hint {
    match hint {
        Hint::Object(members, rest) => members
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, hint)| *hint)
            .or(rest.copied())
            .unwrap_or(Hint::Str),
        _ => Hint::Str,
    }
}

/// A JSON number written as text: integers exactly, other numbers as `f64`
/// (and as integers when whole and in range).
fn number(text: &str) -> Option<Value> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || text.len() > 40 {
        return None;
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') {
            return None;
        }
        if let Ok(i) = text.parse::<i64>() {
            return Some(Value::from(i));
        }
        return text.parse::<u64>().ok().map(Value::from);
    }
    let Ok(Value::Number(n)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    let f = n.as_f64()?;
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Some(Value::from(f as i64));
    }
    Number::from_f64(f).map(Value::Number)
}

fn boolean(text: &str) -> Option<Value> {
    match text {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// Java's `Date.toString()` in UTC, as the REST Cognito authorizer writes
/// `exp`, `iat` and `auth_time` (`Fri Jul 29 18:52:53 UTC 2016`), as seconds.
fn cognito_date(text: &str) -> Option<Value> {
    let parts: Vec<&str> = text.split_ascii_whitespace().collect();
    let [_weekday, month, day, time, zone, year] = parts.as_slice() else {
        return None;
    };
    if *zone != "UTC" && *zone != "GMT" {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let year: i64 = year.parse().ok().filter(|y| (1970..=9999).contains(y))?;
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..61).contains(&s) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(Value::from(days * 86_400 + h * 3600 + m * 60 + s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A value as Go's `fmt` prints it: `[a b]`, `map[k:v]`, or a bare word.
#[derive(Debug, PartialEq)]
enum GoValue<'a> {
    Atom(&'a str),
    List(Vec<GoValue<'a>>),
    Map(Vec<(&'a str, GoValue<'a>)>),
}

impl<'a> GoValue<'a> {
    /// The whole text as one value; `None` unless it parses with nothing left over.
    fn parse(text: &'a str) -> Option<GoValue<'a>> {
        let mut parser = GoParser { text, pos: 0, depth: 0 };
        let value = parser.value()?;
        (parser.pos == text.len()).then_some(value)
    }
}

struct GoParser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> GoParser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn value(&mut self) -> Option<GoValue<'a>> {
        if self.depth > 16 {
            return None;
        }
        if self.rest().starts_with("map[") {
            self.pos += 4;
            self.depth += 1;
            let mut entries = Vec::new();
            loop {
                if self.eat(']') {
                    break;
                }
                if !entries.is_empty() && !self.eat(' ') {
                    return None;
                }
                let key_len = self.rest().find([':', ' ', '[', ']'])?;
                let key = &self.rest()[..key_len];
                self.pos += key_len;
                if key.is_empty() || !self.eat(':') {
                    return None;
                }
                let value = self.value()?;
                entries.push((key, value));
            }
            self.depth -= 1;
            Some(GoValue::Map(entries))
        } else if self.eat('[') {
            self.depth += 1;
            let mut items = Vec::new();
            loop {
                if self.eat(']') {
                    break;
                }
                if !items.is_empty() && !self.eat(' ') {
                    return None;
                }
                let item = self.value()?;
                if item == GoValue::Atom("") {
                    return None;
                }
                items.push(item);
            }
            self.depth -= 1;
            Some(GoValue::List(items))
        } else {
            let len = self.rest().find([' ', '[', ']']).unwrap_or(self.rest().len());
            let atom = &self.rest()[..len];
            self.pos += len;
            Some(GoValue::Atom(atom))
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
}

/// A parsed Go value typed by the hint; `None` when any part does not fit.
fn typed(value: &GoValue<'_>, hint: Hint) -> Option<Value> {
    match (hint, value) {
        (Hint::Str, GoValue::Atom(s)) => Some(Value::String((*s).to_owned())),
        (Hint::Num, GoValue::Atom(s)) => number(s),
        (Hint::Bool, GoValue::Atom(s)) => boolean(s),
        (Hint::StrOrArray, GoValue::Atom(s)) => Some(Value::String((*s).to_owned())),
        (Hint::StrOrArray, GoValue::List(_)) => typed(value, STRINGS),
        (Hint::Array(item), GoValue::List(items)) => items
            .iter()
            .map(|v| typed(v, *item))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        (Hint::Object(..), GoValue::Map(entries)) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let value = typed(value, member_hint(hint, key))?;
                if map.insert((*key).to_owned(), value).is_some() {
                    return None;
                }
            }
            Some(Value::Object(map))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(name: &str, text: &str) -> Value {
        parse_claim(name, &Value::String(text.to_owned()))
    }

    #[test]
    fn registered_numbers_and_booleans() {
        assert_eq!(p("exp", "1700000000"), json!(1700000000));
        assert_eq!(p("iat", "1.7e+09"), json!(1700000000));
        assert_eq!(p("nbf", "1.5"), json!(1.5));
        assert_eq!(p("exp", "soon"), json!("soon"));
        assert_eq!(p("exp", "0017"), json!("0017"));
        assert_eq!(p("email_verified", "true"), json!(true));
        assert_eq!(p("email_verified", "True"), json!("True"));
        assert_eq!(p("exp", "Fri Jul 29 18:52:53 UTC 2016"), json!(1469818373));
        assert_eq!(
            p("exp", "Fri Jul 29 18:52:53 PST 2016"),
            json!("Fri Jul 29 18:52:53 PST 2016")
        );
    }

    #[test]
    fn unknown_claims_stay_strings_except_json_objects() {
        assert_eq!(p("tier", "42"), json!("42"));
        assert_eq!(p("flag", "true"), json!("true"));
        assert_eq!(p("list", "[a b]"), json!("[a b]"));
        assert_eq!(p("obj", "map[a:1]"), json!("map[a:1]"));
        assert_eq!(p("obj", r#"{"a":1}"#), json!({"a": 1}));
        assert_eq!(p("obj", "{not json"), json!("{not json"));
        assert_eq!(parse_claim("n", &json!(5)), json!(5));
    }

    #[test]
    fn arrays_of_strings() {
        assert_eq!(p("aud", "[api-a api-b]"), json!(["api-a", "api-b"]));
        assert_eq!(p("aud", "api-a"), json!("api-a"));
        assert_eq!(p("cognito:groups", "[]"), json!([]));
        assert_eq!(p("groups", r#"["a b","c"]"#), json!(["a b", "c"]));
        assert_eq!(p("groups", "[a [b]]"), json!("[a [b]]"));
    }

    #[test]
    fn supertokens_claims_in_go_and_json_form() {
        assert_eq!(
            p("st-ev", "map[t:1700000000000 v:true]"),
            json!({"t": 1700000000000i64, "v": true})
        );
        assert_eq!(
            p("st-role", "map[t:1.7e+12 v:[admin user]]"),
            json!({"t": 1700000000000i64, "v": ["admin", "user"]})
        );
        assert_eq!(
            p("st-mfa", "map[c:map[emailpassword:1700000000 totp:1700000100] v:false]"),
            json!({"c": {"emailpassword": 1700000000, "totp": 1700000100}, "v": false})
        );
        assert_eq!(p("st-ev", r#"{"v":true,"t":1}"#), json!({"v": true, "t": 1}));
        assert_eq!(p("st-ev", r#"{"v":"yes","t":1}"#), json!(r#"{"v":"yes","t":1}"#));
        assert_eq!(p("st-ev", "map[v:maybe]"), json!("map[v:maybe]"));
        assert_eq!(p("st-role", "map[v:[a b] v:[c]]"), json!("map[v:[a b] v:[c]]"));
        assert_eq!(p("st-ev", "map[v:true"), json!("map[v:true"));
        assert_eq!(p("st-ev", "map[v:true] "), json!("map[v:true] "));
    }

    #[test]
    fn go_parser_is_bounded_and_total() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(GoValue::parse(&deep), None);
        for text in ["", "[", "]", "map[", "map[:]", "map[a]", "[ ]", "[a  b]", "map[a:b c]"] {
            let _ = GoValue::parse(text);
            let _ = p("st-role", text);
        }
        assert_eq!(
            GoValue::parse("map[a:[x y] b:]"),
            Some(GoValue::Map(vec![
                ("a", GoValue::List(vec![GoValue::Atom("x"), GoValue::Atom("y")])),
                ("b", GoValue::Atom(""))
            ]))
        );
    }

    #[test]
    fn known_table_matches_hints() {
        for name in KNOWN {
            assert!(hint_of(name).is_some(), "{name}");
        }
    }
}
