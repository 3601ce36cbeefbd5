//! src/json's reader and writer against serde_json, which they replace in the .wasm: for
//! every text, both accept it or both refuse it, and what they accept writes back to the
//! same bytes (so number kinds, key order, duplicate keys and escapes agree too).

use agensight_wasm::json;

/// serde_json's reading of `text`, written back; `None` where it refuses.
fn oracle(text: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .map(|v| v.to_string())
}

fn ours(text: &str) -> Option<String> {
    json::parse(text).map(|v| v.to_string())
}

fn same(text: &str) {
    assert_eq!(ours(text), oracle(text), "on {text:?}");
    let as_string = serde_json::from_str::<String>(text).ok();
    assert_eq!(json::parse_string(text), as_string, "string of {text:?}");
}

/// xorshift64*: the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "-0.0",
    "1.0",
    "1e5",
    "1E+5",
    "1e-5",
    "2.5e-7",
    "123456789",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "9223372036854775807",
    "1844674407370955161.7",
    "18446744073709551615.5",
    "184467440737095516150.25",
    "0.1234567890123456789012",
    "1e308",
    "1.8e308",
    "1e309",
    "-1e309",
    "1e-324",
    "4.9e-324",
    "1e-400",
    "0e999999999999",
    "1e999999999999",
    "1e-999999999999",
    "-0e5",
    "1764050107.1234567",
    "3.141592653589793",
    "0.30000000000000004",
    "5e-324",
    "2.2250738585072014e-308",
    "123.456e78",
    "00",
    "01",
    "-",
    "1.",
    ".5",
    "1.e5",
    "1e",
    "1e+",
    "+1",
    "-a",
    "0x10",
    "1_000",
    "9.99999999999999999e22",
];

const STRINGS: &[&str] = &[
    r#""""#,
    r#""plain""#,
    r#""q\"b\\s\/""#,
    r#""\b\f\n\r\t""#,
    r#""\u0000\u001f\u007f""#,
    r#""\u00e9\u20AC""#,
    r#""\ud83d\ude00""#,
    r#""\ud83d""#,
    r#""\ude00""#,
    r#""\ud83d\u0041""#,
    r#""\ud83dx""#,
    r#""\ud83d\n""#,
    r#""\uD83D\uDE00""#,
    r#""\u12""#,
    r#""\uzzzz""#,
    r#""\x""#,
    "\"tab\there\"",
    "\"nl\nhere\"",
    "\"\u{1}\"",
    "\"ünï 😀\"",
    "\"\u{7f}\"",
    r#""unterminated"#,
    r#""a\""#,
    "\"\u{8}\u{c}\"",
];

const WORDS: &[&str] = &["null", "true", "false", "nul", "True", "nullx"];

fn value(r: &mut Rng, depth: usize, out: &mut String) {
    let ws = [" ", "", "", "\n", "\t", "\r\n "];
    out.push_str(r.pick(&ws));
    match if depth > 4 { r.below(3) } else { r.below(5) } {
        0 => out.push_str(r.pick(NUMBERS)),
        1 => out.push_str(r.pick(STRINGS)),
        2 => out.push_str(r.pick(WORDS)),
        3 => {
            out.push('[');
            for i in 0..r.below(4) {
                if i > 0 {
                    out.push(',');
                }
                value(r, depth + 1, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            let keys = [
                r#""a""#,
                r#""b""#,
                r#""a""#,
                r#""Z""#,
                r#""é""#,
                r#""a\u0062""#,
                r#""""#,
            ];
            for i in 0..r.below(5) {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r.pick(&ws));
                out.push_str(r.pick(&keys));
                out.push_str(r.pick(&ws));
                out.push(':');
                value(r, depth + 1, out);
            }
            out.push('}');
        }
    }
    out.push_str(r.pick(&ws));
}

#[test]
fn the_pieces_alone() {
    for t in NUMBERS.iter().chain(STRINGS).chain(WORDS) {
        same(t);
        same(&format!("[{t}]"));
        same(&format!(r#"{{"k":{t}}}"#));
        same(&format!(" {t} x"));
    }
    for t in [
        "",
        " ",
        "[",
        "]",
        "{",
        "}",
        "[1,]",
        "{,}",
        r#"{"a"}"#,
        r#"{"a":}"#,
        r#"{1:2}"#,
        "[1 2]",
        r#"{"a":1,}"#,
        "[]",
        "{}",
        " [ ] ",
        "[[],{}]",
        "\u{feff}1",
        "1 2",
    ] {
        same(t);
    }
}

#[test]
fn nesting_limit_is_serde_jsons() {
    for n in [126, 127, 128, 129, 300] {
        same(&format!("{}{}", "[".repeat(n), "]".repeat(n)));
        same(&format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n)));
    }
}

#[test]
fn generated_texts_and_their_mutations() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let noise = [
        "", "\"", "\\", ",", ":", "[", "]", "{", "}", "0", "-", ".", "e", "u", " ", "\u{1}",
    ];
    for _ in 0..20_000 {
        let mut t = String::new();
        value(&mut r, 0, &mut t);
        same(&t);
        // One byte-level edit: cut, insert, or replace at a char boundary.
        let mut cut = r.below(t.len() + 1);
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut m = t.clone();
        match r.below(3) {
            0 => m.truncate(cut),
            1 => m.insert_str(cut, r.pick(&noise)),
            _ => {
                let mut end = (cut + 1).min(m.len());
                while !m.is_char_boundary(end) {
                    end += 1;
                }
                m.replace_range(cut..end, r.pick(&noise));
            }
        }
        same(&m);
    }
}

#[test]
fn writing_built_values() {
    let v = json::object([
        ("z", "\u{8}\u{c}\u{1}\"\\/é".into()),
        (
            "a",
            json::Value::Array(vec![1u64.into(), true.into(), json::Value::Null]),
        ),
        ("m", Option::<String>::None.into()),
    ]);
    let expected = serde_json::json!({
        "z": "\u{8}\u{c}\u{1}\"\\/é", "a": [1, true, null], "m": null
    });
    assert_eq!(v.to_string(), expected.to_string());
}
