//! `clamp_json`: always valid JSON within the budget, unchanged when it fits, for generated
//! values and the hard cases (deep nesting, huge strings, escapes, invalid input).

use agensight_wasm::capture::limits::{clamp_json, MAX_DEPTH};
use agensight_wasm::capture::redact::Redactor;
use serde_json::{json, Value};

/// A small deterministic generator of JSON values (no external crates).
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn string(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a", "é", "😀", "\"", "\\", "\n", "\u{1}", " ", "ab", "中文", "\u{2028}",
        ];
        (0..self.below(12))
            .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
            .collect()
    }
    fn value(&mut self, depth: u32) -> Value {
        match if depth > 4 {
            self.below(4)
        } else {
            self.below(6)
        } {
            0 => Value::Null,
            1 => json!(self.below(2) == 0),
            2 => json!((self.next() % 100_000) as f64 / 7.0 - 5000.0),
            3 => json!(self.string()),
            4 => Value::Array((0..self.below(5)).map(|_| self.value(depth + 1)).collect()),
            _ => Value::Object(
                (0..self.below(5))
                    .map(|_| (self.string(), self.value(depth + 1)))
                    .collect(),
            ),
        }
    }
}

fn check(input: &str, max: usize, r: Option<&Redactor>) -> String {
    let c = clamp_json(input, max, r);
    assert!(c.json.len() <= max, "{} > {max}: {}", c.json.len(), c.json);
    serde_json::from_str::<Value>(&c.json)
        .unwrap_or_else(|e| panic!("invalid output {e}: {} (input {input})", c.json));
    c.json
}

#[test]
fn generated_values_stay_valid_and_within_budget() {
    let mut g = Gen(0x9e3779b97f4a7c15);
    for i in 0..20_000 {
        let v = g.value(0);
        let text = v.to_string();
        let max = 16 + (i % 200);
        let out = check(&text, max, None);
        if text.len() <= max {
            assert_eq!(out, text, "a value that fits is kept as it is");
        }
        // Pretty-printed input (whitespace) is accepted and compacted.
        check(
            &serde_json::to_string_pretty(&v).unwrap(),
            max,
            Some(&Redactor::default()),
        );
    }
}

#[test]
fn cut_strings_keep_characters_and_escapes_whole() {
    for max in 16..80 {
        for s in [
            "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
            "\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n\\n",
            "\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00",
        ] {
            let input = format!("\"{s}\"");
            let out = check(&input, max, None);
            let decoded: String = serde_json::from_str(&out).unwrap();
            assert_eq!(decoded.ends_with('…'), input.len() > max, "{out}");
        }
    }
}

#[test]
fn object_members_that_do_not_fit_are_dropped() {
    let c = clamp_json(r#"{"a":1,"bbbbbbbbbbbbbbbbbbbb":2}"#, 16, None);
    assert_eq!(c.json, r#"{"a":1}"#);
    assert!(c.truncated);
    let c = clamp_json(r#"{"key":[1,2,3,4,5,6,7,8,9]}"#, 16, None);
    assert_eq!(c.json, r#"{"key":[1,2,3]}"#);
    let c = clamp_json(r#"{"key":12345678901234567890}"#, 16, None);
    assert_eq!(c.json, r#"{}"#);
}

#[test]
fn deep_nesting_is_cut_at_the_depth_limit() {
    let depth = 10_000;
    let input = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let c = clamp_json(&input, 1 << 20, None);
    assert_eq!(
        c.json,
        format!(
            "{}\"[depth limit]\"{}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        )
    );
    assert!(c.truncated);
}

#[test]
fn huge_strings_are_cut_to_the_budget() {
    // How long this takes is the benchmarks' business (a timed assertion here failed on a
    // loaded machine); the result is exact.
    let input = format!("[\"{}\"]", "x".repeat(10 << 20));
    let out = check(&input, 65536, Some(&Redactor::default()));
    assert_eq!(out.len(), 65536);
}

#[test]
fn invalid_json_is_kept_as_a_string() {
    for bad in [
        "",
        "{",
        "[1,]",
        "{\"a\" 1}",
        "nul",
        "01",
        "1 2",
        "\"\u{1}\"",
        "{\"a\":1}}",
        "[\"\\x\"]",
    ] {
        let c = clamp_json(bad, 100, None);
        assert_eq!(
            serde_json::from_str::<String>(&c.json).unwrap(),
            bad,
            "{bad}"
        );
    }
}

#[test]
fn secrets_are_masked_in_place() {
    let r = Redactor::default();
    let input = r#"{"messages":[{"role":"user","content":"my key is sk-proj-abcdefghijklmnopqrstuvwxyz"}],"api_key":"sk-x","password":{"nested":true},"max_tokens":100,"headers":{"Authorization":"Bearer abc.def.ghi.jkl"}}"#;
    let out: Value = serde_json::from_str(&check(input, 1000, Some(&r))).unwrap();
    assert_eq!(
        out,
        json!({"messages":[{"role":"user","content":"my key is [REDACTED]"}],"api_key":"[REDACTED]","password":"[REDACTED]","max_tokens":100,"headers":{"Authorization":"[REDACTED]"}})
    );
}

#[test]
fn header_pairs_are_masked_by_name() {
    let r = Redactor::default();
    let input = r#"{"headers":[["x-api-key","plainkey123"],["Authorization",{"v":"Basic abc"}],["accept","json"]],"list":["token"]}"#;
    let out: Value = serde_json::from_str(&check(input, 1000, Some(&r))).unwrap();
    assert_eq!(
        out,
        json!({"headers":[["x-api-key","[REDACTED]"],["Authorization","[REDACTED]"],["accept","json"]],"list":["token"]})
    );
}

#[test]
fn a_lone_secret_name_in_an_array_is_a_plain_value() {
    // Only a pair's first element masks what follows it; a one-element array's string is a
    // plain value (kept whole by the verbatim shortcut, which debug builds hold to the full
    // pass in `clamp_json`).
    let r = Redactor::default();
    for input in [
        r#"["password"]"#,
        r#"[["api_key"],{"a":["token"]}]"#,
        r#"["What's the weather in Paris today, please?"]"#,
    ] {
        assert_eq!(check(input, 1000, Some(&r)), input);
    }
    assert_eq!(
        check(r#"[["api_key","v"],["password"]]"#, 1000, Some(&r)),
        r#"[["api_key","[REDACTED]"],["password"]]"#
    );
}
