//! Secret masking for captured values, applied by [`crate::capture::limits::clamp_json`] before anything
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
/// use agensight_wasm::capture::redact::Redactor;
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
    /// Per byte: `KEY` (a key/word char), `START` (a secret can start with it), `ESCAPE`
    /// (`\\`). Most bytes of captured text are only `KEY` or nothing, and are passed over with
    /// one lookup (this scan runs on every captured string).
    class: [u8; 256],
}

const KEY: u8 = 1;
const START: u8 = 2;
const ESCAPE: u8 = 4;

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
        let mut class = [0u8; 256];
        for (c, k) in class.iter_mut().zip(KEY_CHARS) {
            *c = if k { KEY } else { 0 };
        }
        class[b'\\' as usize] |= ESCAPE;
        for first in literals
            .iter()
            .map(|l| l.as_bytes()[0])
            .chain(KEY_PREFIXES.iter().map(|p| p.as_bytes()[0]))
            .chain([b'b', b'B'])
        {
            class[first as usize] |= START;
        }
        Redactor {
            literals,
            patterns: true,
            class,
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
        let raw = raw_key.as_bytes();
        if raw.len() < 5 {
            return false; // shorter than any secret name
        }
        let lowered = raw
            .iter()
            .map(|&c| LOWER_ALNUM[c as usize])
            .filter(|&l| l != 0);
        if raw.len() > 64 {
            return is_secret_name(&lowered.collect::<Vec<u8>>());
        }
        let mut buf = [0u8; 64];
        let mut len = 0;
        for l in lowered {
            buf[len] = l;
            len += 1;
        }
        is_secret_name(&buf[..len])
    }

    /// Whether [`Redactor::mask_raw`] would change `raw` (no allocation either way).
    pub fn has_secret(&self, raw: &str) -> bool {
        matches!(self.mask_raw(raw), Cow::Owned(_))
    }

    /// Masks secrets inside raw (escaped) string content; borrows when there is nothing to mask.
    pub fn mask_raw<'a>(&self, raw: &'a str) -> Cow<'a, str> {
        let b = raw.as_bytes();
        let mut out: Option<String> = None;
        let mut copied = 0; // bytes of `raw` already accounted for in `out`
        let mut i = 0;
        // Where a word starts even though a key char may precede it: after an escape sequence
        // (`\n`, `\u0001`: one character, never a key char in JSON.stringify's output) and
        // right after a mask.
        let mut fresh = 0;
        // Only bytes a secret can start with, and escapes, need a look; the scan between them
        // is one table lookup per byte (this runs on every captured string).
        let class = &self.class;
        while i < b.len() {
            if class[b[i] as usize] & (START | ESCAPE) == 0 {
                i += 1;
                continue;
            }
            if b[i] == b'\\' {
                // An escape sequence is skipped whole: no secret starts or ends inside one (a
                // mask there would leave an invalid escape behind).
                i += if b.get(i + 1) == Some(&b'u') { 6 } else { 2 };
                fresh = i;
                continue;
            }
            let boundary = i == fresh || class[b[i - 1] as usize] & KEY == 0;
            match self.secret_at(raw, i, boundary) {
                Some(end) => {
                    let o = out.get_or_insert_with(|| String::with_capacity(raw.len()));
                    o.push_str(&raw[copied..i]);
                    if starts_with_ci(&b[i..], b"bearer") {
                        o.push_str(&raw[i..i + 7]);
                    }
                    o.push_str(MASK);
                    copied = end;
                    i = end;
                    fresh = end;
                }
                None => i += 1,
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
    /// use agensight_wasm::capture::redact::Redactor;
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
        if !boundary && self.literals.is_empty() {
            return None;
        }
        for lit in &self.literals {
            if b[i..].starts_with(lit.as_bytes()) {
                return Some(i + lit.len());
            }
        }
        if !self.patterns || !boundary {
            return None;
        }
        if matches!(b[i], b'b' | b'B') {
            if starts_with_ci(&b[i..], b"bearer") && b.get(i + 6) == Some(&b' ') {
                let end = run_end(b, i + 7, |c| {
                    c.is_ascii_alphanumeric() || b"._~+/=-".contains(&c)
                });
                return (end - (i + 7) >= MIN_BEARER).then_some(end);
            }
            return None;
        }
        let second = b.get(i + 1).copied();
        for p in KEY_PREFIXES {
            // Most word starts share no two bytes with any prefix: check those first.
            let p2 = p.as_bytes();
            if p2[0] == b[i] && Some(p2[1]) == second && b[i..].starts_with(p2) {
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
    // The shortest secret name is `token`.
    if n.len() < 5 {
        return false;
    }
    if n.ends_with(b"token") // but not `max_tokens`, `total_tokens`
        || n.ends_with(b"authorization")
        || n == b"cookie"
        || n == b"setcookie"
    {
        return true;
    }
    // Contains password, passwd, secret, apikey or privatekey: only positions holding a
    // needle's first letter are compared (this runs for every captured key).
    (0..n.len()).any(|j| {
        let rest = &n[j..];
        match n[j] {
            b'p' => {
                rest.starts_with(b"passw")
                    && (rest.starts_with(b"password") || rest.starts_with(b"passwd"))
                    || rest.starts_with(b"privatekey")
            }
            b's' => rest.starts_with(b"secret"),
            b'a' => rest.starts_with(b"apikey"),
            _ => false,
        }
    })
}

/// ASCII letters and digits lowercased, 0 for every other byte: key names compare this way.
static LOWER_ALNUM: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() {
            t[c] = b.to_ascii_lowercase();
        }
        c += 1;
    }
    t
};

/// ASCII letters, digits, `_` and `-`: the characters of an API key, and of a word.
static KEY_CHARS: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        c += 1;
    }
    t
};

fn is_key_char(c: u8) -> bool {
    KEY_CHARS[c as usize]
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
