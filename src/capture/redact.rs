//! Secret masking for captured values, applied by [`crate::capture::limits::clamp_json`] before anything
//! leaves the wasm (both wire formats and the local store see only masked text), and to span
//! names, session ids and names.
//!
//! Two rules: values under secret-named keys (`authorization`, `api-key`, `password`, `pwd`,
//! `secret`, `*token`, `cookie`, `signature`, ...) are replaced whole; and inside any string,
//! these are replaced: the configured token; vendors' keys by their prefix (`sk-`, `ghp_`,
//! `xoxb-`, `AKIA`, ... see [`KEY_PREFIXES`] and `SHAPED`), glued to a word or not; JWTs;
//! `Bearer`/`Basic` credentials; PEM private key blocks; the `user:password` of a URL; and the
//! value after a secret name in text (`password=x`, `?api_key=x&`, `"token": "x"`,
//! `client_secret%3Dx`). Everything works on the raw, still-escaped JSON string content, so
//! nothing is decoded and re-encoded.
//!
//! The scan is one pass with one table lookup per byte: a bit per byte pair (the first two
//! bytes of every pattern, an escape, a separator) says where a closer look is needed.

use std::borrow::Cow;
use std::cell::RefCell;

/// The text secrets are replaced with.
pub const MASK: &str = "[REDACTED]";

/// Prefixes of well-known API keys; each must be followed by at least `MIN_KEY_TAIL` key chars
/// (letters, digits, `_`, `-`). Kept grouped by first byte (see `ranges`). A prefix of 4+ bytes
/// holding `_`, `-` or `.` is distinctive enough to be found glued to a word (`myghp_...`);
/// shorter ones only where no letter or digit precedes them (`task-...` is not `sk-...`).
pub const KEY_PREFIXES: &[&str] = &[
    "AIza",
    "ATATT3",
    "ATCTT3",
    "PMAK-",
    "cfat_",
    "cfk_",
    "cfut_",
    "dckr_pat_",
    "dop_v1_",
    "doo_v1_",
    "dor_v1_",
    "dp.pt.",
    "figd_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "glrt-",
    "gldt-",
    "glptt-",
    "glft-",
    "glsa_",
    "gsk_",
    "hf_",
    "hvs.",
    "hvb.",
    "hvr.",
    "lin_api_",
    "npm_",
    "ntn_",
    "nvapi-",
    "pypi-",
    "pscale_tkn_",
    "pscale_pw_",
    "pul-",
    "pplx-",
    "rk_live_",
    "rk_test_",
    "r8_",
    "sk-",
    "sk_live_",
    "sk_test_",
    "shpat_",
    "shpca_",
    "shppa_",
    "shpss_",
    "sntrys_",
    "sntryu_",
    "sq0atp-",
    "sq0csp-",
    "tskey-",
    "tvly-",
    "vcp_",
    "vci_",
    "vca_",
    "vcr_",
    "vck_",
    "whsec_",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxo-",
    "xoxs-",
    "xoxe.",
    "xapp-",
    "xkeysib-",
    "ya29.",
];
pub const MIN_KEY_TAIL: usize = 16;
/// Shortest credential after `Bearer ` that is masked (shorter ones are prose, not tokens).
const MIN_BEARER: usize = 8;

/// Credentials whose tail is not "16+ key characters": AWS key ids, Twilio and Databricks hex
/// keys, SendGrid's dotted keys, Grafana's base64 ones, webhook URLs. Grouped by first byte.
const SHAPED: &[Shaped] = &[
    shaped("A3T", UPPER, 17),
    shaped("AKIA", UPPER, 16),
    shaped("AGPA", UPPER, 16),
    shaped("AIDA", UPPER, 16),
    shaped("AROA", UPPER, 16),
    shaped("AIPA", UPPER, 16),
    shaped("ANPA", UPPER, 16),
    shaped("ANVA", UPPER, 16),
    shaped("ASIA", UPPER, 16),
    shaped("AGE-SECRET-KEY-1", UPPER, 32),
    shaped("LTAI", ALNUM, 12),
    shaped("SG.", DOTTED, 16),
    shaped("SK", HEX, 32),
    shaped("dapi", HEX, 32),
    shaped("discord.com/api/webhooks/", PATH, 8),
    shaped("discordapp.com/api/webhooks/", PATH, 8),
    shaped("glc_", BASE64, 16),
    shaped("hooks.slack.com/services/", PATH, 8),
    shaped("ops_ey", BASE64, 16),
];

#[derive(Clone, Copy)]
struct Shaped {
    prefix: &'static str,
    /// The class (a bit of `TAIL`) every tail byte must have.
    tail: u8,
    min: usize,
}

const fn shaped(prefix: &'static str, tail: u8, min: usize) -> Shaped {
    Shaped { prefix, tail, min }
}

// Tail classes (bits of `TAIL`).
const KEYC: u8 = 1; // [A-Za-z0-9_-]
const ALNUM: u8 = 2;
const UPPER: u8 = 4; // [A-Z0-9]
const HEX: u8 = 8;
const BASE64: u8 = 16; // [A-Za-z0-9+/=_-]
const DOTTED: u8 = 32; // key characters and `.`
const PATH: u8 = 64; // key characters and `/`
const BEARER: u8 = 128; // [A-Za-z0-9._~+/=-]

static TAIL: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alnum = b.is_ascii_alphanumeric();
        let key = alnum || b == b'_' || b == b'-';
        let mut v = 0;
        if key {
            v |= KEYC | DOTTED | PATH;
        }
        if alnum {
            v |= ALNUM;
        }
        if b.is_ascii_uppercase() || b.is_ascii_digit() {
            v |= UPPER;
        }
        if b.is_ascii_hexdigit() {
            v |= HEX;
        }
        if key || b == b'+' || b == b'/' || b == b'=' {
            v |= BASE64;
        }
        if key || matches!(b, b'.' | b'~' | b'+' | b'/' | b'=') {
            v |= BEARER;
        }
        if b == b'.' {
            v |= DOTTED;
        }
        if b == b'/' {
            v |= PATH;
        }
        t[c] = v;
        c += 1;
    }
    t
};

/// For each first byte, where its prefixes start in `list` and how many there are.
const fn ranges(list: &[&str]) -> [(u8, u8); 256] {
    let mut r = [(0u8, 0u8); 256];
    let mut k = 0;
    while k < list.len() {
        let c = list[k].as_bytes()[0] as usize;
        if r[c].1 == 0 {
            r[c].0 = k as u8;
        }
        r[c].1 += 1;
        k += 1;
    }
    r
}

const fn shaped_prefixes() -> [&'static str; SHAPED.len()] {
    let mut p = [""; SHAPED.len()];
    let mut k = 0;
    while k < SHAPED.len() {
        p[k] = SHAPED[k].prefix;
        k += 1;
    }
    p
}

static KEY_RANGES: [(u8, u8); 256] = ranges(KEY_PREFIXES);
static SHAPED_RANGES: [(u8, u8); 256] = ranges(&shaped_prefixes());

/// What to mask. `Default` masks the built-in patterns only.
///
/// ```
/// use agensight_wasm::capture::redact::Redactor;
/// let r = Redactor::new(vec!["tok-123456789".into()]);
/// assert_eq!(r.mask_raw("key sk-proj-abcdefghijklmnopqrstuv ok"), "key [REDACTED] ok");
/// assert_eq!(r.mask_raw("uses tok-123456789"), "uses [REDACTED]");
/// assert_eq!(r.mask_raw("db: postgres://app:hunter2@db/x"), "db: postgres://[REDACTED]@db/x");
/// assert_eq!(r.mask_raw("a=1&client_secret=x9&b=2"), "a=1&client_secret=[REDACTED]&b=2");
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
    /// Per byte: what a closer look is needed for (`TRIGGER`, `ESCAPE`, `SEPARATOR`, `GLUE`,
    /// `LITERAL`); 0 for ASCII letters that start no literal, passed over with this one lookup
    /// (this scan runs on every captured string).
    class: [u8; 256],
    /// The first two bytes of every pattern that starts a word (after a non-letter).
    words: Pairs,
    /// Their second and third bytes: most pairs that pass `words` (`th` of `the` for `tho_`)
    /// fail here, before any pattern is compared.
    seconds: Pairs,
    /// The two bytes before the first `_`/`-`/`.` of each prefix found glued to a word, and
    /// where that separator can sit in a prefix.
    glue: Pairs,
    glue_offsets: Vec<usize>,
    /// Short keys found clean (see [`Redactor::is_clean_key`]), one per slot.
    clean_keys: RefCell<Box<[CleanKey; CLEAN_KEY_SLOTS]>>,
}

/// Slots of the clean-key memory, and the longest key it keeps. Captured objects repeat their
/// keys (`role`, `content`, `model`): the two checks a key needs were a tenth of a span.
const CLEAN_KEY_SLOTS: usize = 64;
const CLEAN_KEY_BYTES: usize = 24;
type CleanKey = (u8, [u8; CLEAN_KEY_BYTES]);

/// A word may start after this byte (it is not an ASCII letter or digit: `2fa-...` is one word).
const TRIGGER: u8 = 1;
const ESCAPE: u8 = 2;
/// `=`, `:`, `%`: a name's value, or a URL's credentials, may follow.
const SEPARATOR: u8 = 4;
/// `_`, `-`, `.`: a distinctive prefix may end here.
const GLUE: u8 = 8;
/// The first byte of a literal.
const LITERAL: u8 = 16;
/// `"` and control bytes: never in raw string content, where `mask_raw` works (so no scan
/// stops at one), but where [`Redactor::clean_string_end`]'s token ends or needs a closer look.
const END: u8 = 32;

/// A set of byte pairs: one bit each.
#[derive(Clone, Debug)]
struct Pairs(Box<[u64; 1024]>);

impl Pairs {
    fn new() -> Pairs {
        Pairs(Box::new([0; 1024]))
    }
    /// Adds (a, b), or (a, any byte) when `b` is None.
    fn set(&mut self, a: u8, b: Option<u8>) {
        for second in b.map_or(0..=255, |b| b..=b) {
            let k = (a as usize) << 8 | second as usize;
            self.0[k >> 6] |= 1 << (k & 63);
        }
    }
    #[inline(always)]
    fn has(&self, a: u8, b: u8) -> bool {
        let k = (a as usize) << 8 | b as usize;
        self.0[k >> 6] >> (k & 63) & 1 == 1
    }
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
        Redactor::with(literals, true)
    }

    /// Masks only `literals` (the configured token, which must never appear anywhere).
    pub fn literals_only(literals: Vec<String>) -> Redactor {
        Redactor::with(literals, false)
    }

    fn with(literals: Vec<String>, patterns: bool) -> Redactor {
        let literals: Vec<String> = literals.into_iter().filter(|l| l.len() >= 6).collect();
        let mut class = [0u8; 256];
        class[b'\\' as usize] = ESCAPE;
        class[b'"' as usize] = END;
        class[..0x20].fill(END);
        for l in &literals {
            class[l.as_bytes()[0] as usize] |= LITERAL;
        }
        let (mut words, mut seconds, mut glue) = (Pairs::new(), Pairs::new(), Pairs::new());
        let mut glue_offsets = Vec::new();
        if patterns {
            for (c, k) in class.iter_mut().enumerate() {
                if !(c as u8).is_ascii_alphanumeric() {
                    *k |= TRIGGER;
                }
            }
            for sep in [b'=', b':', b'%'] {
                class[sep as usize] |= SEPARATOR;
            }
            for g in [b'_', b'-', b'.'] {
                class[g as usize] |= GLUE;
            }
            let shaped = SHAPED.iter().map(|s| s.prefix);
            for p in KEY_PREFIXES.iter().copied().chain(shaped) {
                let b = p.as_bytes();
                words.set(b[0], Some(b[1]));
                seconds.set(b[1], b.get(2).copied());
                if glued(p) {
                    let k = b
                        .iter()
                        .position(|c| matches!(c, b'_' | b'-' | b'.'))
                        .unwrap();
                    glue.set(b[k - 2], Some(b[k - 1]));
                    if !glue_offsets.contains(&k) {
                        glue_offsets.push(k);
                    }
                }
            }
            // Bearer, Basic (any case), eyJ (a JWT), ----- (PEM).
            for w in [&b"bea"[..], b"bas", b"eyJ", b"---"] {
                for a in [w[0], w[0].to_ascii_uppercase()] {
                    for b in [w[1], w[1].to_ascii_uppercase()] {
                        words.set(a, Some(b));
                        for c in [w[2], w[2].to_ascii_uppercase()] {
                            seconds.set(b, Some(c));
                        }
                    }
                }
            }
        }
        Redactor {
            literals,
            patterns,
            class,
            words,
            seconds,
            glue,
            glue_offsets,
            clean_keys: RefCell::new(Box::new([(0, [0; CLEAN_KEY_BYTES]); CLEAN_KEY_SLOTS])),
        }
    }

    /// Whether a key (or a pair's first element; raw string content) is clean: nothing in it
    /// to mask ([`Redactor::has_secret`]) and not a secret's name ([`Redactor::is_secret_key`]).
    /// Short clean keys are remembered (the answer never changes for one redactor).
    pub fn is_clean_key(&self, raw: &str) -> bool {
        let b = raw.as_bytes();
        let n = b.len();
        if n == 0 || n > CLEAN_KEY_BYTES {
            return !self.has_secret(raw) && !self.is_secret_key(raw);
        }
        let slot = (n * 31 + b[0] as usize * 7 + b[n / 2] as usize * 3 + b[n - 1] as usize * 13)
            % CLEAN_KEY_SLOTS;
        {
            let keys = self.clean_keys.borrow();
            let (len, bytes) = &keys[slot];
            if *len as usize == n && &bytes[..n] == b {
                return true;
            }
        }
        let clean = !self.has_secret(raw) && !self.is_secret_key(raw);
        if clean {
            let mut keys = self.clean_keys.borrow_mut();
            keys[slot].0 = n as u8;
            keys[slot].1[..n].copy_from_slice(b);
        }
        clean
    }

    /// Whether a value under this object key is a secret. `raw_key` is the key's escaped
    /// content; separators and case are ignored (`X-API-Key` = `x_api_key` = `xApiKey`).
    pub fn is_secret_key(&self, raw_key: &str) -> bool {
        self.patterns && is_secret_word(raw_key.as_bytes())
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
        // A word may start at `i` although a letter may precede it: at the start, after an
        // escape sequence (`\n`, `\u0001`: one character, never a letter in JSON.stringify's
        // output) and right after a mask.
        let mut word = true;
        // Where the last escape sequence ended: a prefix glued to a word is not read back
        // across it (a mask starting inside `\n` would break the escape).
        let mut escape_end = 0;
        // No secret starts at the last byte: every pattern is longer.
        while i + 1 < b.len() {
            if word {
                word = false;
                if let Some((start, end)) = self.word_at(b, i) {
                    let o = out.get_or_insert_with(|| String::with_capacity(raw.len()));
                    o.push_str(&raw[copied..start]);
                    o.push_str(MASK);
                    (copied, i, word) = (end, end, true);
                    continue;
                }
            }
            i = self.skip(b, i);
            if i + 1 >= b.len() {
                break;
            }
            let class = self.class[b[i] as usize];
            if class & ESCAPE != 0 {
                // Skipped whole: no secret starts or ends inside one (a mask there would leave
                // an invalid escape behind).
                i += if b[i + 1] == b'u' { 6 } else { 2 };
                escape_end = i;
                word = true;
                continue;
            }
            let found = self.secret_after(b, i, class, copied, copied.max(escape_end));
            match found {
                Some((start, end)) => {
                    let o = out.get_or_insert_with(|| String::with_capacity(raw.len()));
                    o.push_str(&raw[copied..start]);
                    o.push_str(MASK);
                    copied = end;
                    i = end;
                    word = true;
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

    /// The end (one past the closing quote) of the JSON string token at `src[at]` (a `"`)
    /// when it has no escape sequence and [`Redactor::mask_raw`] would give its content back
    /// unchanged; `None` when in doubt (an escape, a control byte, a byte where a secret could
    /// start): then ask [`Redactor::has_secret`]. One pass over the bytes, for the captured
    /// values' strings (`verbatim`), where the token's end and the scan were two.
    pub fn clean_string_end(&self, src: &[u8], at: usize) -> Option<usize> {
        let byte = |k: usize| src.get(k).copied();
        // `mask_raw`'s look at the first word (two content bytes: its first pair test).
        let first = |k: usize| byte(k).unwrap_or(0);
        if self.patterns && self.words.has(first(at + 1), first(at + 2)) {
            return None;
        }
        let mut i = at + 1;
        loop {
            let class = self.class[byte(i)? as usize];
            if class != 0 {
                if src[i] == b'"' {
                    return Some(i + 1);
                }
                if class & (END | ESCAPE) != 0 {
                    return None;
                }
                // Where `skip` would stop (it stops nowhere in a clean string): at a literal's
                // start (read on past the content: a match there is only a doubt), any other
                // class, or a TRIGGER before a word's first pair (the byte past the content
                // reads as 0); never at the content's last byte.
                let second = byte(i + 1)?;
                if class & LITERAL != 0
                    && self
                        .literals
                        .iter()
                        .any(|l| src[i..].starts_with(l.as_bytes()))
                {
                    return None;
                }
                let class = class & !LITERAL;
                if class != 0 && second != b'"' {
                    let third = byte(i + 2).filter(|&c| c != b'"').unwrap_or(0);
                    if class != TRIGGER || self.words.has(second, third) {
                        return None;
                    }
                }
            }
            i += 1;
        }
    }

    /// Masks secrets in plain (unescaped) text, such as an error message, a span name or a
    /// receiver's response quoted in a warning.
    ///
    /// ```
    /// use agensight_wasm::capture::redact::Redactor;
    /// let r = Redactor::new(vec!["tok-123456789".into()]);
    /// assert_eq!(r.mask_text("bad \"tok-123456789\"\n"), "bad \"[REDACTED]\"\n");
    /// ```
    pub fn mask_text(&self, text: &str) -> String {
        // Masking works on JSON string content. Text that JSON does not escape is its own
        // content (the mask needs no escaping either); other text is escaped, masked, decoded.
        if !text.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\') {
            return self.mask_raw(text).into_owned();
        }
        let mut quoted = String::with_capacity(text.len() + 2);
        crate::json::push_quoted(&mut quoted, text);
        match self.mask_raw(&quoted[1..quoted.len() - 1]) {
            Cow::Borrowed(_) => text.to_string(),
            Cow::Owned(m) => {
                crate::json::parse_string(&format!("\"{m}\"")).unwrap_or_else(|| MASK.into())
            }
        }
    }

    /// The first byte from `i` on that needs a closer look. Letters, and blanks or digits that
    /// no pattern's word follows, are the common case: one lookup per byte (two for blanks),
    /// in a loop of its own so that it keeps everything in registers.
    #[inline(never)]
    fn skip(&self, b: &[u8], from: usize) -> usize {
        let Some(body) = b.get(from..b.len().saturating_sub(1)) else {
            return b.len();
        };
        for (k, &c) in body.iter().enumerate() {
            let class = self.class[c as usize];
            if class == 0 {
                continue;
            }
            let i = from + k;
            if class != TRIGGER || self.words.has(b[i + 1], next(b, i + 2)) {
                return i;
            }
        }
        b.len()
    }

    /// A secret found from byte `i` (of class `class`, outside any escape sequence), as the
    /// bytes to mask: a literal at `i`; a value after the name that ends at `i`; a prefix that
    /// `i` ends glued to a word; a word starting after `i`. `floor`: where the last mask ended
    /// (nothing is read back across it); `glue_floor`: the same or where the last escape
    /// sequence ended, whichever is later (a glued prefix is not read back across either).
    fn secret_after(
        &self,
        b: &[u8],
        i: usize,
        class: u8,
        floor: usize,
        glue_floor: usize,
    ) -> Option<(usize, usize)> {
        if class & LITERAL != 0 {
            for lit in &self.literals {
                if b[i + 1] == lit.as_bytes()[1] && b[i..].starts_with(lit.as_bytes()) {
                    return Some((i, i + lit.len()));
                }
            }
        }
        if class & SEPARATOR != 0 {
            if let Some(found) = value_after_name(b, i, floor) {
                return Some(found);
            }
        }
        if class & GLUE != 0 && i >= glue_floor + 2 && self.glue.has(b[i - 2], b[i - 1]) {
            for &k in &self.glue_offsets {
                if i >= glue_floor + k {
                    if let Some(end) = prefixed(b, i - k, false) {
                        return Some((i - k, end));
                    }
                }
            }
        }
        if class & TRIGGER != 0 {
            return self.word_at(b, i + 1);
        }
        None
    }

    /// A secret starting a word at byte `j`: a prefixed key, a JWT, a scheme's credential, a
    /// PEM block.
    fn word_at(&self, b: &[u8], j: usize) -> Option<(usize, usize)> {
        if !self.patterns
            || !self.words.has(next(b, j), next(b, j + 1))
            || !self.seconds.has(next(b, j + 1), next(b, j + 2))
        {
            return None;
        }
        match b[j] {
            b'b' | b'B' => scheme_credential(b, j),
            b'e' if b[j..].starts_with(b"eyJ") => jwt(b, j),
            b'-' if b[j..].starts_with(b"-----BEGIN") => pem_block(b, j),
            _ => prefixed(b, j, true).map(|end| (j, end)),
        }
    }
}

/// A vendor key starting at `i`: its end.
fn prefixed(b: &[u8], i: usize, word: bool) -> Option<usize> {
    let rest = &b[i..];
    let (from, n) = KEY_RANGES[b[i] as usize];
    for p in &KEY_PREFIXES[from as usize..from as usize + n as usize] {
        if rest.starts_with(p.as_bytes()) && (word || glued(p)) {
            let end = run_end(b, i + p.len(), KEYC);
            if end - (i + p.len()) >= MIN_KEY_TAIL {
                return Some(end);
            }
        }
    }
    let (from, n) = SHAPED_RANGES[b[i] as usize];
    for s in &SHAPED[from as usize..from as usize + n as usize] {
        if rest.starts_with(s.prefix.as_bytes()) && (word || glued(s.prefix)) {
            let end = run_end(b, i + s.prefix.len(), s.tail);
            if end - (i + s.prefix.len()) >= s.min {
                return Some(end);
            }
        }
    }
    None
}

/// Whether a prefix is distinctive enough to be found inside a word.
fn glued(p: &str) -> bool {
    p.len() >= 4 && p.bytes().any(|c| matches!(c, b'_' | b'-' | b'.'))
}

/// `Bearer <token>` or `Basic <base64>` (any case, any blank between): the credential's bytes.
fn scheme_credential(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let (basic, len) = if starts_with_ci(&b[i..], b"bearer") {
        (false, 6)
    } else if starts_with_ci(&b[i..], b"basic") {
        (true, 5)
    } else {
        return None;
    };
    let start = blanks_end(b, i + len);
    if start == i + len {
        return None;
    }
    let end = run_end(b, start, if basic { BASE64 } else { BEARER });
    let token = &b[start..end];
    let ok = if basic {
        token.len() >= 8 && looks_like_credential(token) && TAIL[next(b, end) as usize] & KEYC == 0
    } else {
        token.len() >= MIN_BEARER
    };
    if !basic {
        // `+`s read as form-encoded blanks may be a base64 token's own first bytes.
        if let Some(p) = (i + len..start).find(|&k| b[k] == b'+') {
            let run = run_end(b, p, BEARER);
            // Glued to the token, with no other blank between: they go with it. Not when a
            // mask ends the run: masking twice must change nothing.
            let masked = b[run..].starts_with(MASK.as_bytes());
            if b[p..start].iter().all(|&c| c == b'+') && run - p >= MIN_BEARER && !masked {
                return Some((p, run));
            }
            // After a real blank, a run of them long enough for a token reads as one: masked,
            // with the token after it if there is one.
            if p > i + len && run - p >= MIN_BEARER {
                return Some((p, if ok { end } else { run }));
            }
        }
    }
    ok.then_some((start, end))
}

/// A JWT (`eyJ<header>.<payload>[.<signature>]`, base64url): its end.
fn jwt(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let header = run_end(b, i, KEYC);
    if header - i < 10 || b.get(header) != Some(&b'.') {
        return None;
    }
    let payload = run_end(b, header + 1, KEYC);
    if payload - header - 1 < 2 {
        return None;
    }
    let end = if b.get(payload) == Some(&b'.') {
        run_end(b, payload + 1, BASE64)
    } else {
        payload
    };
    Some((i, end))
}

/// A PEM private key (`-----BEGIN ... PRIVATE KEY-----` to its `-----END ...-----`, or to the
/// end of the text when cut): the whole block.
fn pem_block(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let header_end = find(b, i + 10, b"-----", 80)?;
    find(&b[..header_end], i + 10, b"PRIVATE KEY", 80)?;
    let Some(end) = find(b, header_end + 5, b"-----END", usize::MAX) else {
        return Some((i, b.len()));
    };
    let close = find(b, end + 8, b"-----", 80).map_or(b.len(), |c| c + 5);
    Some((i, close))
}

/// At a separator (`=`, `:`, `%3D`, `%3A`; `://` starts a URL): the value to mask when the name
/// before it is a secret's, or the `user:password` of a URL.
fn value_after_name(b: &[u8], i: usize, floor: usize) -> Option<(usize, usize)> {
    let sep = match b[i] {
        b':' if b[i + 1..].starts_with(b"//") => return userinfo(b, i + 3, false),
        b'%' if starts_with_ci(&b[i..], b"%3A%2F%2F") => return userinfo(b, i + 9, true),
        b'%' if starts_with_ci(&b[i..], b"%3D") || starts_with_ci(&b[i..], b"%3A") => 3,
        b'=' if matches!(next(b, i + 1), b'=' | b'~') => return None, // `==`, `=~`
        b'=' if i > 0 && matches!(b[i - 1], b'!' | b'<' | b'>' | b'=') => return None,
        b'=' if next(b, i + 1) == b'>' => 2,
        b':' if next(b, i + 1) == b'=' => 2,
        b':' if next(b, i + 1) == b':' || i > 0 && b[i - 1] == b':' => return None,
        b'=' | b':' => 1,
        _ => return None,
    };
    if !is_secret_word(name_before(b, i, floor)) {
        return None;
    }
    let from = blanks_end(b, i + sep);
    let spaced = from > i + sep;
    let (start, end, quoted) = value_span(b, from)?;
    let v = &b[start..end];
    if v.is_empty() || v.starts_with(MASK.as_bytes()) {
        return None;
    }
    if !quoted {
        // Code, not a secret: `password = getPassword()`, `token: string`, `pwd=None`.
        if next(b, end) == b'(' || is_placeholder(v) {
            return None;
        }
        // Prose: "password: then click" names no secret; `password: hunter2` does.
        if spaced && (v.len() < 6 || !looks_like_credential(v)) {
            return None;
        }
    }
    Some((start, end))
}

/// The name (word characters, a closing quote and blanks skipped) that ends at separator `i`.
fn name_before(b: &[u8], i: usize, floor: usize) -> &[u8] {
    let mut j = i;
    while j > floor && matches!(b[j - 1], b' ' | b'\'') {
        j -= 1;
    }
    if j >= floor + 2 && &b[j - 2..j] == b"\\\"" {
        j -= 2;
    } else if j >= floor + 3 && starts_with_ci(&b[j - 3..j], b"%22") {
        j -= 3;
    }
    let end = j;
    while j > floor && end - j < 64 && TAIL[b[j - 1] as usize] & DOTTED != 0 {
        j -= 1;
    }
    // A letter that ends an escape sequence (`\npassword`) is not part of the name.
    if j > floor && escapes_next(b, j) {
        j += if b[j] == b'u' { 5 } else { 1 };
    }
    &b[j.min(end)..end]
}

/// Whether the byte at `j` is the character of an escape (an odd run of `\` before it).
fn escapes_next(b: &[u8], j: usize) -> bool {
    b[..j].iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// The value starting at `from`: quoted (`"..."` escaped as `\"`, `'...'`, `%22...%22`) up to
/// its closing quote, or a run of value characters; an auth scheme word (`Bearer`, `Basic`,
/// `Token`, `Digest`) before it is left out. Returns (start, end, quoted).
fn value_span(b: &[u8], from: usize) -> Option<(usize, usize, bool)> {
    if b[from..].starts_with(b"\\\"") {
        let mut k = from + 2;
        while k < b.len() && !b[k..].starts_with(b"\\\"") {
            k += if b[k] == b'\\' { escape_len(b, k) } else { 1 };
        }
        return Some((from + 2, k.min(b.len()), true));
    }
    if next(b, from) == b'\'' {
        let end = b[from + 1..]
            .iter()
            .position(|&c| c == b'\'' || c == b'\\')
            .map_or(b.len(), |p| from + 1 + p);
        return Some((from + 1, end, true));
    }
    if starts_with_ci(&b[from..], b"%22") || starts_with_ci(&b[from..], b"%27") {
        let end = value_end(b, from + 3);
        return Some((from + 3, end, true));
    }
    let mut start = from;
    for scheme in [&b"bearer"[..], b"basic", b"token", b"digest"] {
        if starts_with_ci(&b[from..], scheme) {
            let after = blanks_end(b, from + scheme.len());
            if after > from + scheme.len() {
                start = after;
            }
        }
    }
    Some((start, value_end(b, start), false))
}

fn escape_len(b: &[u8], k: usize) -> usize {
    if b.get(k + 1) == Some(&b'u') {
        6
    } else {
        2
    }
}

/// Where an unquoted value ends: at a blank, quote, escape, delimiter or URL-encoded one. A
/// mask inside it (a token masked there before) is part of the value, so that a value has the
/// same extent before and after masking and masking twice changes nothing.
fn value_end(b: &[u8], from: usize) -> usize {
    let mut k = from;
    while k < b.len() {
        match b[k] {
            b'[' if b[k..].starts_with(MASK.as_bytes()) => k += MASK.len(),
            b' ' | b'\\' | b'"' | b'\'' | b'`' | b'&' | b',' | b';' | b'<' | b'>' | b'(' | b')'
            | b'[' | b']' | b'{' | b'}' | b'|' => break,
            b'%' if ENCODED_STOPS.iter().any(|s| starts_with_ci(&b[k..], s)) => break,
            _ => k += 1,
        }
    }
    k
}

const ENCODED_STOPS: &[&[u8]] = &[
    b"%20", b"%22", b"%26", b"%27", b"%2C", b"%3B", b"%0A", b"%0D", b"%09", b"%5C", b"%7D",
];

/// The `user:password` (or `user%3Apassword`) of a URL authority starting at `from`.
fn userinfo(b: &[u8], from: usize, encoded: bool) -> Option<(usize, usize)> {
    let mut colon = false;
    let mut k = from;
    while k < b.len() && k - from < 512 {
        match b[k] {
            b'@' => return (colon && k > from).then_some((from, k)),
            b':' => colon = true,
            b'/' | b'?' | b'#' | b' ' | b'\\' | b'"' | b'\'' | b'<' | b'>' | b'[' => return None,
            b'%' if encoded => {
                if starts_with_ci(&b[k..], b"%40") {
                    return (colon && k > from).then_some((from, k));
                }
                if starts_with_ci(&b[k..], b"%3A") {
                    colon = true;
                } else if [&b"%2F"[..], b"%3F", b"%23", b"%20"]
                    .iter()
                    .any(|s| starts_with_ci(&b[k..], s))
                {
                    return None;
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// Blanks between a name or scheme and its value: spaces, escaped tabs, `%20`, `+`.
fn blanks_end(b: &[u8], mut k: usize) -> usize {
    loop {
        if matches!(next(b, k), b' ' | b'+') {
            k += 1;
        } else if b[k.min(b.len())..].starts_with(b"\\t")
            || starts_with_ci(&b[k.min(b.len())..], b"%20")
        {
            k += if b[k] == b'\\' { 2 } else { 3 };
        } else {
            return k;
        }
    }
}

/// Not a plain word: holds a digit, a symbol, or a capital after the first letter.
fn looks_like_credential(v: &[u8]) -> bool {
    v.iter()
        .enumerate()
        .any(|(k, &c)| !c.is_ascii_alphabetic() || (k > 0 && c.is_ascii_uppercase()))
}

/// Values in code that stand for no secret.
fn is_placeholder(v: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"null",
        b"none",
        b"nil",
        b"undefined",
        b"true",
        b"false",
        b"string",
        b"str",
        b"number",
        b"int",
        b"bool",
        b"boolean",
        b"any",
        b"object",
        b"bytes",
        b"optional",
        b"required",
    ];
    WORDS.iter().any(|w| v.eq_ignore_ascii_case(w))
}

/// Whether a key or a name before `=` names a secret (case and `_`/`-`/`.` ignored).
fn is_secret_word(raw: &[u8]) -> bool {
    if raw.len() < 5 {
        // Shorter than every secret name but these few (`role`, `text`, `id` are common keys).
        return raw.len() >= 3
            && [&b"pwd"[..], b"pass", b"auth", b"sig"]
                .iter()
                .any(|n| raw.eq_ignore_ascii_case(n));
    }
    // Lowercased letters and digits only, in a stack buffer (this runs for every key).
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

/// The secret-name rule on a normalized key (lowercase letters and digits). This runs for
/// every captured key: the suffixes are chosen by the last byte, and only the positions
/// holding a needle's first letter are compared for the rest.
fn is_secret_name(n: &[u8]) -> bool {
    let Some(&last) = n.last() else {
        return false;
    };
    let ends = |s: &[&[u8]]| s.iter().any(|s| n.ends_with(s));
    let suffix = match last {
        b'n' => ends(&[b"token", b"authorization"]), // not max_tokens, total_tokens
        b'e' => ends(&[b"cookie", b"signature", b"passphrase"]),
        b'd' => ends(&[b"pwd"]),
        b'h' => ends(&[b"auth"]), // oauth, basic_auth; not author
        b'g' => n == b"sig",
        b's' => {
            n == b"creds"
                || n.ends_with(b"pass")
                    && ![
                        &b"bypass"[..],
                        b"compass",
                        b"surpass",
                        b"trespass",
                        b"overpass",
                        b"underpass",
                    ]
                    .iter()
                    .any(|w| n.ends_with(w)) // db_pass, smtpPass
        }
        b'y' => ends(&[
            b"accesskey",
            b"accountkey",
            b"masterkey",
            b"signingkey",
            b"encryptionkey",
            b"sessionkey",
        ]),
        _ => false,
    };
    suffix
        || (0..n.len()).any(|j| {
            let rest = &n[j..];
            match n[j] {
                b'p' => {
                    rest.starts_with(b"passw")
                        && (rest.starts_with(b"password") || rest.starts_with(b"passwd"))
                        || rest.starts_with(b"passphrase")
                        || rest.starts_with(b"privatekey")
                }
                b's' => rest.starts_with(b"secret"),
                b'a' => rest.starts_with(b"apikey"),
                b'c' => rest.starts_with(b"credential"),
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

fn next(b: &[u8], k: usize) -> u8 {
    b.get(k).copied().unwrap_or(0)
}

fn run_end(b: &[u8], from: usize, class: u8) -> usize {
    let mut j = from;
    while j < b.len() && TAIL[b[j] as usize] & class != 0 {
        j += 1;
    }
    j
}

/// The first `needle` in `b` at or after `from`, starting within `within` bytes.
fn find(b: &[u8], from: usize, needle: &[u8], within: usize) -> Option<usize> {
    let hay = b.get(from..)?;
    hay.windows(needle.len())
        .take(within)
        .position(|w| w == needle)
        .map(|p| from + p)
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
            only.mask_raw("abc12345 sk-abcdefghijklmnopqrstuvwxyz password=x"),
            "[REDACTED] sk-abcdefghijklmnopqrstuvwxyz password=x"
        );
        assert!(!only.is_secret_key("password"));
    }

    #[test]
    fn a_clean_string_end_is_the_token_end_of_unmasked_content() {
        let redactors = [
            Redactor::default(),
            Redactor::new(vec!["tok-123456789".into()]),
            Redactor::literals_only(vec!["tok-123456789".into()]),
        ];
        let pieces: &[&str] = &[
            "a",
            "Paris",
            " ",
            "the ",
            "?",
            "'",
            ".",
            "-",
            "_",
            "=",
            ":",
            "%40",
            "°",
            "\\",
            "\\n",
            "\"",
            "\u{1}",
            "sk-",
            "sk-abcdefghijklmnopqrstuvwxyz0123",
            "Bearer abcdefgh12345678",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefgh",
            "password=hunter2",
            "api_key:",
            "postgres://app:hunter2@db/x",
            "ghp_",
            "AKIA",
            "tok-123456789",
            "xoxb-",
            "21",
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rnd = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut fast = 0;
        for _ in 0..60_000 {
            let mut src = String::from("\"");
            for _ in 0..rnd(8) {
                src.push_str(pieces[rnd(pieces.len())]);
            }
            src.push_str(["\"", "\",\"x\"]", "", "\\\"\"", "a"][rnd(5)]);
            let b = src.as_bytes();
            for r in &redactors {
                let Some(end) = r.clean_string_end(b, 0) else {
                    continue;
                };
                fast += 1;
                let close = 1 + b[1..].iter().position(|&c| c == b'"').unwrap();
                let content = &src[1..close];
                assert_eq!(end, close + 1, "{src:?}");
                assert!(!content.bytes().any(|c| c == b'\\' || c < 0x20), "{src:?}");
                assert!(!r.has_secret(content), "{src:?}");
            }
        }
        assert!(
            fast > 10_000,
            "the one pass takes most plain strings ({fast})"
        );
        let r = &redactors[1];
        for plain in [
            "\"What's the weather in Paris?\"",
            "\"Sunny, 21 °C in Paris.\"",
            "\"\"",
        ] {
            assert_eq!(
                r.clean_string_end(plain.as_bytes(), 0),
                Some(plain.len()),
                "{plain}"
            );
        }
    }

    #[test]
    fn prefix_tables_are_grouped_by_first_byte() {
        for list in [KEY_PREFIXES.to_vec(), shaped_prefixes().to_vec()] {
            let firsts: Vec<u8> = list.iter().map(|p| p.as_bytes()[0]).collect();
            for (k, c) in firsts.iter().enumerate() {
                let last = firsts.iter().rposition(|x| x == c).unwrap();
                assert!(firsts[k..=last].iter().all(|x| x == c), "{:?}", list[k]);
            }
        }
    }

    #[test]
    fn clean_keys_are_remembered_with_the_same_answer() {
        // Asked twice each, interleaved (the second answer may come from the memory), over
        // more keys than slots: the answer is the two checks' every time.
        let keys: Vec<String> = [
            "role",
            "content",
            "password",
            "api_key",
            "X-Api-Key",
            "token",
            "max_tokens",
            "",
            "a",
            "sk-proj-abcdefghijklmnopqrstuv",
            "tok-123456789",
            "authorization",
            "author",
            "a_very_long_key_name_past_the_slots",
            "ünï",
            "Bearer abcdefghijklmnop",
        ]
        .iter()
        .map(|k| k.to_string())
        .chain((0..200).map(|i| format!("key{i}")))
        .chain((0..50).map(|i| format!("secret{i}")))
        .collect();
        for r in [
            Redactor::new(vec!["tok-123456789".into()]),
            Redactor::literals_only(vec!["tok-123456789".into()]),
        ] {
            for round in 0..3 {
                for k in &keys {
                    let want = !r.has_secret(k) && !r.is_secret_key(k);
                    assert_eq!(r.is_clean_key(k), want, "{k:?}, round {round}");
                }
            }
        }
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
            "pwd",
            "pass",
            "db_pass",
            "passphrase",
            "credentials",
            "auth",
            "oauth",
            "signature",
            "x-amz-signature",
            "sig",
            "private_key",
            "AWS_SECRET_ACCESS_KEY",
            "AccountKey",
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
            "author",
            "bypass",
            "compass",
            "id",
            "passage",
            "authority",
        ] {
            assert!(!r.is_secret_key(k), "{k}");
        }
    }
}
