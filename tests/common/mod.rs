//! Helpers shared by the Rust integration tests that read the local-store records back.

use agensight_wasm::core::Core;
use serde_json::Value;

/// The local-store records waiting in `c` as `(type, data)`, span attributes parsed.
pub fn records(c: &mut Core) -> Vec<(String, Value)> {
    c.take_local()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let mut data = v["data"].clone();
            if let Some(Value::String(s)) = data.get("attributes") {
                data["attributes"] = serde_json::from_str(s).unwrap();
            }
            (v["type"].as_str().unwrap().to_string(), data)
        })
        .collect()
}

/// The records of one type.
pub fn of<'a>(r: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    r.iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, v)| v)
        .collect()
}
