//! Secret masking for captured values, applied by [`crate::limits::clamp_json`] before anything
//! leaves the wasm (both wire formats and the local store see only masked text).
//!
//! Two rules: values under secret-named keys (`authorization`, `api-key`, `x-api-key`,
//! `password`, `secret`, `*token`, `cookie`, ...) are replaced whole; and inside any string,
//! provider API keys, `Bearer` credentials and the configured token itself are replaced. Both
//! work on the raw, still-escaped JSON string content, so nothing is decoded and re-encoded.

use std::borrow::Cow;

/// The text secrets are replaced with.
pub const MASK: &str = "[REDACTED]";

/// Prefixes of well-known API keys; each must be followed by at least `MIN_KEY_TAIL` key chars.
pub const KEY_PREFIXES: &[&str] = &[
    "sk-",
    "sk_live_",
    "sk_test_",
    "ghp_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
    "AIza",
    "AKIA",
];
pub const MIN_KEY_TAIL: usize = 16;
/// Shortest credential after `Bearer ` that is masked (shorter ones are prose, not tokens).
const MIN_BEARER: usize = 8;

/// What to mask. `Default` masks the built-in patterns only.
///
/// ```
/// use agensight_wasm::redact::Redactor;
/// let r = Redactor::new(vec!["tok-123456789".into()]);
/// assert_eq!(r.mask_raw("key sk-proj-abcdefghijklmnopqrstuv ok"), "key [REDACTED] ok");
/// assert_eq!(r.mask_raw("uses tok-123456789"), "uses [REDACTED]");
/// assert!(r.is_secret_key("X-Api-Key"));
/// assert!(!r.is_secret_key("max_tokens"));
/// ```
#[derive(Clone, Debug)]
pub struct Redactor {
    /// Exact strings that must never appear (the configured token).
    literals: Vec<String>,
    /// The built-in patterns and secret key names (off with `redact: false` or a redact
    /// function; the literals stay on).
    patterns: bool,
    /// Bytes a secret can start with: most bytes of captured text are none of them, and are
    /// passed over without trying every pattern (this scan runs on every captured string).
    starts: [bool; 256],
}

impl Default for Redactor {
    fn default() -> Redactor {
        Redactor::new(Vec::new())
    }
}

impl Redactor {
    /// A redactor that also masks each of `literals` (those shorter than 6 bytes are ignored:
    /// masking them would shred ordinary text).
    pub fn new(literals: Vec<String>) -> Redactor {
        let literals: Vec<String> = literals.into_iter().filter(|l| l.len() >= 6).collect();
        let mut starts = [false; 256];
        for first in literals
            .iter()
            .map(|l| l.as_bytes()[0])
            .chain(KEY_PREFIXES.iter().map(|p| p.as_bytes()[0]))
            .chain([b'b', b'B'])
        {
            starts[first as usize] = true;
        }
        Redactor {
            literals,
            patterns: true,
            starts,
        }
    }

    /// Masks only `literals` (the configured token, which must never appear anywhere).
    pub fn literals_only(literals: Vec<String>) -> Redactor {
        Redactor {
            patterns: false,
            ..Redactor::new(literals)
        }
    }

    /// Whether a value under this object key is a secret. `raw_key` is the key's escaped
    /// content; separators and case are ignored (`X-API-Key` = `x_api_key` = `xApiKey`).
    pub fn is_secret_key(&self, raw_key: &str) -> bool {
        if !self.patterns {
            return false;
        }
        // Lowercased letters and digits only, in a stack buffer (this runs for every key).
        let mut buf = [0u8; 64];
        let mut len = 0;
        for c in raw_key.bytes().filter(u8::is_ascii_alphanumeric) {
            if len == buf.len() {
                return is_secret_name(
                    &raw_key
                        .bytes()
                        .filter(u8::is_ascii_alphanumeric)
                        .map(|c| c.to_ascii_lowercase())
                        .collect::<Vec<u8>>(),
                );
            }
            buf[len] = c.to_ascii_lowercase();
            len += 1;
        }
        is_secret_name(&buf[..len])
    }

    /// Masks secrets inside raw (escaped) string content; borrows when there is nothing to mask.
    pub fn mask_raw<'a>(&self, raw: &'a str) -> Cow<'a, str> {
        let b = raw.as_bytes();
        let mut out: Option<String> = None;
        let mut copied = 0; // bytes of `raw` already accounted for in `out`
        let mut i = 0;
        // Whether a word starts at `i`: at the start, after a non-key char, after an escape
        // sequence (`\n`, `\u0001`: one character, never a key char in JSON.stringify's
        // output), or right after a mask.
        let mut boundary = true;
        while i < b.len() {
            if b[i] == b'\\' {
                // An escape sequence is skipped whole: no secret starts or ends inside one (a
                // mask there would leave an invalid escape behind).
                i += if b.get(i + 1) == Some(&b'u') { 6 } else { 2 };
                boundary = true;
            } else if let Some(end) = self.starts[b[i] as usize]
                .then(|| self.secret_at(raw, i, boundary))
                .flatten()
            {
                let o = out.get_or_insert_with(|| String::with_capacity(raw.len()));
                o.push_str(&raw[copied..i]);
                if starts_with_ci(&b[i..], b"bearer") {
                    o.push_str(&raw[i..i + 7]);
                }
                o.push_str(MASK);
                copied = end;
                i = end;
                boundary = true;
            } else {
                boundary = !is_key_char(b[i]);
                i += 1;
            }
        }
        match out {
            None => Cow::Borrowed(raw),
            Some(mut o) => {
                o.push_str(&raw[copied..]);
                Cow::Owned(o)
            }
        }
    }

    /// Masks secrets in plain (unescaped) text, such as an error message or a receiver's
    /// response quoted in a warning.
    ///
    /// ```
    /// use agensight_wasm::redact::Redactor;
    /// let r = Redactor::new(vec!["tok-123456789".into()]);
    /// assert_eq!(r.mask_text("bad \"tok-123456789\"\n"), "bad \"[REDACTED]\"\n");
    /// ```
    pub fn mask_text(&self, text: &str) -> String {
        // Masking works on JSON string content: escape, mask, decode.
        let quoted = serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into());
        match self.mask_raw(&quoted[1..quoted.len() - 1]) {
            Cow::Borrowed(_) => text.to_string(),
            Cow::Owned(m) => {
                serde_json::from_str(&format!("\"{m}\"")).unwrap_or_else(|_| MASK.into())
            }
        }
    }

    /// If a secret starts at byte `i` (outside any escape sequence), the byte where it ends.
    /// The built-in patterns match only at a word start (`boundary`); literals anywhere.
    fn secret_at(&self, raw: &str, i: usize, boundary: bool) -> Option<usize> {
        let b = raw.as_bytes();
        for lit in &self.literals {
            if b[i..].starts_with(lit.as_bytes()) {
                return Some(i + lit.len());
            }
        }
        if !self.patterns || !boundary {
            return None;
        }
        if starts_with_ci(&b[i..], b"bearer") && matches!(b.get(i + 6), Some(b' ')) {
            let end = run_end(b, i + 7, |c| {
                c.is_ascii_alphanumeric() || b"._~+/=-".contains(&c)
            });
            return (end - (i + 7) >= MIN_BEARER).then_some(end);
        }
        for p in KEY_PREFIXES {
            if b[i..].starts_with(p.as_bytes()) {
                let end = run_end(b, i + p.len(), is_key_char);
                if end - (i + p.len()) >= MIN_KEY_TAIL {
                    return Some(end);
                }
            }
        }
        None
    }
}

/// The secret-name rule on a normalized key (lowercase letters and digits).
fn is_secret_name(n: &[u8]) -> bool {
    let has = |needle: &[u8]| n.windows(needle.len()).any(|w| w == needle);
    has(b"password")
        || has(b"passwd")
        || has(b"secret")
        || has(b"apikey")
        || has(b"privatekey")
        || n.ends_with(b"authorization")
        || n.ends_with(b"token") // but not `max_tokens`, `total_tokens`
        || n == b"cookie"
        || n == b"setcookie"
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn run_end(b: &[u8], from: usize, ok: impl Fn(u8) -> bool) -> usize {
    let mut j = from;
    while j < b.len() && ok(b[j]) {
        j += 1;
    }
    j
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_provider_keys_and_bearer_tokens() {
        let r = Redactor::default();
        assert_eq!(
            r.mask_raw("OPENAI_API_KEY=sk-abcdefghijklmnopqrstuvwxyz0123"),
            "OPENAI_API_KEY=[REDACTED]"
        );
        assert_eq!(
            r.mask_raw("sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAA-BBBB done"),
            "[REDACTED] done"
        );
        assert_eq!(
            r.mask_raw("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc"),
            "Authorization: Bearer [REDACTED]"
        );
        assert_eq!(
            r.mask_raw("line\\nsk-abcdefghijklmnopqrstuvwxyz"),
            "line\\n[REDACTED]"
        );
        // Not secrets: short tails, words that merely contain the prefix, prose after "bearer".
        assert_eq!(
            r.mask_raw("task-abcdefghijklmnopqrstuvwxyz"),
            "task-abcdefghijklmnopqrstuvwxyz"
        );
        assert_eq!(r.mask_raw("sk-short"), "sk-short");
        assert_eq!(
            r.mask_raw("the bearer of bad news"),
            "the bearer of bad news"
        );
        assert!(matches!(r.mask_raw("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn masks_the_configured_token_anywhere() {
        let r = Redactor::new(vec!["abc12345".into(), "ab".into()]);
        assert_eq!(r.mask_raw("x=abc12345;y=ab"), "x=[REDACTED];y=ab");
        let only = Redactor::literals_only(vec!["abc12345".into()]);
        assert_eq!(
            only.mask_raw("abc12345 sk-abcdefghijklmnopqrstuvwxyz"),
            "[REDACTED] sk-abcdefghijklmnopqrstuvwxyz"
        );
        assert!(!only.is_secret_key("password"));
    }

    #[test]
    fn secret_key_names() {
        let r = Redactor::default();
        for k in [
            "authorization",
            "Authorization",
            "api-key",
            "api_key",
            "x-api-key",
            "apiKey",
            "password",
            "db_password",
            "client_secret",
            "token",
            "access_token",
            "refreshToken",
            "cookie",
            "Proxy-Authorization",
        ] {
            assert!(r.is_secret_key(k), "{k}");
        }
        for k in [
            "max_tokens",
            "total_tokens",
            "prompt_tokens",
            "tokenizer",
            "role",
            "content",
            "model",
            "keys",
        ] {
            assert!(!r.is_secret_key(k), "{k}");
        }
    }
}
