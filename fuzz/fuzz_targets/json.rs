//! `engine::json::Json::parse`, the reader of engine API answers and state
//! files (docker, LXD, runc's state.json, podman's containers.json, OCI
//! specs), which carry container-controlled names and labels.
//!
//! Checks, against serde_json (numbers kept as text) as a second reader:
//! whatever cntr accepts is JSON and reads the same (strings, numbers,
//! nesting; for a repeated key serde_json keeps the last value, so that is
//! what is compared); whatever is JSON nested at most 64 deep, cntr
//! accepts. And a value cntr read, written back, reads the same; an array
//! read element by element (`Json::each_element`) reads the same as whole.
#![no_main]

use cntr::engine::json::Json;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A number as serde_json writes the text it kept: `e`, and a sign after it.
fn normal(n: &str) -> String {
    let n = n.replace('E', "e");
    match n.split_once('e') {
        Some((m, e)) if !e.starts_with(['+', '-']) => format!("{m}e+{e}"),
        _ => n,
    }
}

fn same(j: &Json, v: &Value) -> bool {
    match (j, v) {
        (Json::Null, Value::Null) => true,
        (Json::Bool(a), Value::Bool(b)) => a == b,
        (Json::Num(a), Value::Number(b)) => normal(a) == b.to_string(),
        (Json::Str(a), Value::String(b)) => a == b,
        (Json::Arr(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Json::Obj(a), Value::Object(b)) => {
            let mut keys: Vec<&str> = a.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.len() == b.len()
                && keys.iter().all(|k| {
                    let last = a.iter().rev().find(|(x, _)| x == k).map(|(_, v)| v);
                    matches!((last, b.get(*k)), (Some(x), Some(y)) if same(x, y))
                })
        }
        _ => false,
    }
}

/// How many arrays and objects deep `v` nests.
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn write(j: &Json, o: &mut String) {
    match j {
        Json::Null => o.push_str("null"),
        Json::Bool(b) => o.push_str(if *b { "true" } else { "false" }),
        Json::Num(n) => o.push_str(n),
        Json::Str(s) => quote(s, o),
        Json::Arr(a) => {
            o.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                write(x, o);
            }
            o.push(']');
        }
        Json::Obj(m) => {
            o.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                quote(k, o);
                o.push(':');
                write(x, o);
            }
            o.push('}');
        }
    }
}

fn quote(s: &str, o: &mut String) {
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
}

fuzz_target!(|data: &[u8]| {
    let ours = Json::parse(data);
    let theirs: Option<Value> = serde_json::from_slice(data).ok();
    let shown = || String::from_utf8_lossy(data).into_owned();
    match (&ours, &theirs) {
        (Some(j), Some(v)) => assert!(
            same(j, v),
            "read differently: {:?}\ncntr: {j:?}\nserde_json: {v:?}",
            shown()
        ),
        (Some(j), None) => panic!("accepted what is not JSON: {:?} as {j:?}", shown()),
        (None, Some(v)) => assert!(depth(v) > 64, "refused JSON: {:?}", shown()),
        (None, None) => {}
    }
    // Element by element, an array reads the same as whole, and anything
    // else is refused.
    let mut parts = Vec::new();
    let each = Json::each_element(data, usize::MAX, |e| parts.push(Json::parse(e)));
    match &ours {
        Some(Json::Arr(a)) => {
            assert!(each.is_some(), "elements of {:?} refused", shown());
            assert_eq!(parts.len(), a.len(), "{:?}", shown());
            for (p, x) in parts.iter().zip(a) {
                assert_eq!(p.as_ref(), Some(x), "{:?}", shown());
            }
        }
        _ => assert!(each.is_none(), "elements of a non-array {:?}", shown()),
    }
    if let Some(j) = ours {
        let mut text = String::new();
        write(&j, &mut text);
        assert_eq!(
            Json::parse(text.as_bytes()).as_ref(),
            Some(&j),
            "written back as {text:?}"
        );
    }
});
