//! The redactor, category by category: what a secret scanner (secretlint's recommended preset,
//! gitleaks' default rules) flags is masked, and ordinary text is left alone. Fake secrets are
//! built from pieces here, so no real-looking key sits in the source.

use agensight_wasm::capture::redact::Redactor;

fn r() -> Redactor {
    Redactor::default()
}

/// `n` characters cycling through `alphabet`.
fn fill(alphabet: &str, n: usize) -> String {
    alphabet.chars().cycle().take(n).collect()
}

const MIX: &str = "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz";
const UP: &str = "AB3DE5FG7HJ9KL1MN2PQ4RS6TU8VW0XYZ";
const HEX: &str = "0a1b2c3d4e5f6789";

#[track_caller]
fn masked(input: &str, expected: &str) {
    assert_eq!(r().mask_raw(input), expected, "input: {input}");
    assert_eq!(r().mask_raw(expected), expected, "masking twice changes it");
}

#[track_caller]
fn kept(input: &str) {
    assert_eq!(r().mask_raw(input), input);
}

#[test]
fn vendor_keys_by_prefix() {
    let keys = [
        format!("ghp_{}", fill(MIX, 36)),
        format!("gho_{}", fill(MIX, 36)),
        format!("ghu_{}", fill(MIX, 36)),
        format!("ghs_{}", fill(MIX, 36)),
        format!("ghr_{}", fill(MIX, 36)),
        format!("github_pat_{}_{}", fill(MIX, 22), fill(MIX, 59)),
        format!("glpat-{}", fill(MIX, 20)),
        format!(
            "xoxb-{}-{}-{}",
            fill("1234567890", 12),
            fill("1234567890", 13),
            fill(MIX, 24)
        ),
        format!("xoxp-{}-{}", fill("1234567890", 12), fill(MIX, 32)),
        format!("xapp-1-{}-{}", fill(UP, 11), fill(MIX, 40)),
        format!("sk_live_{}", fill(MIX, 24)),
        format!("rk_live_{}", fill(MIX, 24)),
        format!("sk_test_{}", fill(MIX, 24)),
        format!("SG.{}.{}", fill(MIX, 22), fill(MIX, 43)),
        format!("npm_{}", fill(MIX, 36)),
        format!("pypi-AgEIcHlwaS5vcmc{}", fill(MIX, 50)),
        format!("AIza{}", fill(MIX, 35)),
        format!("sk-proj-{}T3BlbkFJ{}", fill(MIX, 74), fill(MIX, 74)),
        format!("sk-{}", fill(MIX, 48)),
        format!("sk-ant-api03-{}AA", fill(MIX, 93)),
        format!("hf_{}", fill("abcdefghijKLMNOP", 34)),
        format!("SK{}", fill(HEX, 32)),
        format!("shpat_{}", fill(HEX, 32)),
        format!("shpss_{}", fill(HEX, 32)),
        format!("AKIA{}", fill(UP, 16)),
        format!("ASIA{}", fill(UP, 16)),
        format!("gsk_{}", fill(MIX, 52)),
        format!("glsa_{}_{}", fill(MIX, 32), fill(HEX, 8)),
        format!("glc_{}", fill(MIX, 60)),
        format!("dckr_pat_{}", fill(MIX, 27)),
        format!("hvs.{}", fill(MIX, 95)),
        format!("dapi{}", fill(HEX, 32)),
        format!("lin_api_{}", fill(MIX, 40)),
        format!("figd_{}", fill(MIX, 40)),
        format!("tskey-auth-{}-{}", fill(MIX, 12), fill(MIX, 30)),
        format!("whsec_{}", fill(MIX, 32)),
        format!("dop_v1_{}", fill(HEX, 64)),
        format!("PMAK-{}-{}", fill(HEX, 24), fill(HEX, 34)),
    ];
    for k in &keys {
        masked(&format!("key {k} ok"), "key [REDACTED] ok");
        masked(&format!("x={k}&y=1"), "x=[REDACTED]&y=1");
        masked(&format!("({k})"), "([REDACTED])");
    }
    // Glued to a word: distinctive prefixes are found anyway.
    masked(&format!("mytoken{}", keys[0]), "mytoken[REDACTED]");
    masked(&format!("keyis{}", keys[6]), "keyis[REDACTED]");
    masked(&format!("value_{}", keys[18]), "value_[REDACTED]");
}

#[test]
fn jwts_with_or_without_bearer() {
    let jwt = format!(
        "eyJ{}.eyJ{}.{}",
        fill(MIX, 30),
        fill(MIX, 40),
        fill(MIX, 43)
    );
    masked(&format!("id_token {jwt} end"), "id_token [REDACTED] end");
    masked(&format!("\\n{jwt}"), "\\n[REDACTED]");
    masked(&format!("Bearer {jwt}"), "Bearer [REDACTED]");
}

#[test]
fn bearer_and_basic_with_any_blank() {
    let t = fill(MIX, 24);
    masked(&format!("Bearer  {t}"), "Bearer  [REDACTED]");
    masked(&format!("bearer\\t{t}"), "bearer\\t[REDACTED]");
    masked(&format!("Bearer%20{t}"), "Bearer%20[REDACTED]");
    masked(
        &format!("Authorization:Bearer {t}"),
        "Authorization:Bearer [REDACTED]",
    );
    masked(
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "Authorization: Basic [REDACTED]",
    );
    masked(
        "-H 'authorization: basic YWxhZGRpbjpvcGVuc2VzYW1l'",
        "-H 'authorization: basic [REDACTED]'",
    );
    masked("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Basic [REDACTED]");
    kept("the basic information about bearer bonds");
}

#[test]
fn credentials_in_urls() {
    masked(
        "https://alice:s3cr3t@example.com/x",
        "https://[REDACTED]@example.com/x",
    );
    masked(
        "mongodb+srv://app:hunter2@cluster0.example.net/db",
        "mongodb+srv://[REDACTED]@cluster0.example.net/db",
    );
    masked(
        "postgres://u:p@db:5432/x and redis://:pw@cache:6379",
        "postgres://[REDACTED]@db:5432/x and redis://[REDACTED]@cache:6379",
    );
    masked(
        "https%3A%2F%2Fbob%3Apw9%40host.example%2Fpath",
        "https%3A%2F%2F[REDACTED]%40host.example%2Fpath",
    );
    kept("https://example.com/a:b/@c and mailto:someone@example.com and https://user@example.com/");
}

#[test]
fn secret_names_before_a_value() {
    masked(
        "https://api.example.com/v1?api_key=abc123&q=1",
        "https://api.example.com/v1?api_key=[REDACTED]&q=1",
    );
    masked(
        "/cb?code=1&access_token=xyz&token_type=bearer",
        "/cb?code=1&access_token=[REDACTED]&token_type=bearer",
    );
    masked(
        "?X-Amz-Signature=0a1b2c&sig=QQ%2Bz&token=t1",
        "?X-Amz-Signature=[REDACTED]&sig=[REDACTED]&token=[REDACTED]",
    );
    masked(
        "a=1&client_secret=x&b=2",
        "a=1&client_secret=[REDACTED]&b=2",
    );
    masked(
        &format!("AWS_SECRET_ACCESS_KEY={}", fill(MIX, 40)),
        "AWS_SECRET_ACCESS_KEY=[REDACTED]",
    );
    masked(
        &format!("aws_secret_access_key = \\\"{}\\\"", fill(MIX, 40)),
        "aws_secret_access_key = \\\"[REDACTED]\\\"",
    );
    masked("password: hunter2", "password: [REDACTED]");
    masked("pwd=hunter", "pwd=[REDACTED]");
    masked("pass:\\tTr0ub4dor&3", "pass:\\t[REDACTED]&3");
    masked(
        "passphrase => 'correct horse'",
        "passphrase => '[REDACTED]'",
    );
    masked(
        "{\\\"credentials\\\":\\\"abc def\\\",\\\"n\\\":1}",
        "{\\\"credentials\\\":\\\"[REDACTED]\\\",\\\"n\\\":1}",
    );
    masked(
        "auth=abc;signature=00ff",
        "auth=[REDACTED];signature=[REDACTED]",
    );
    masked("DB_PASS := s3cret!", "DB_PASS := [REDACTED]");
    masked("\\npassword=x1", "\\npassword=[REDACTED]");
    masked("api_key%3Dabc123%26q%3D1", "api_key%3D[REDACTED]%26q%3D1");
    masked(
        "Authorization%3A%20Bearer%20abcdefghij12",
        "Authorization%3A%20Bearer%20[REDACTED]",
    );
    masked(
        "AccountName=x;AccountKey=YWJj+ZGVm==;EndpointSuffix=core",
        "AccountName=x;AccountKey=[REDACTED];EndpointSuffix=core",
    );
    // Not secrets: prose, code, counts.
    kept("Reset your password: follow the link");
    kept("const password = getPassword(); let token: string = null; if (token == other)");
    kept("max_tokens=100 total_tokens: 12 tokens=5");
    kept("author: Jane; passage: one");
}

#[test]
fn pem_private_keys_whole() {
    let body = fill("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 64);
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\\n{body}\\n{body}\\n-----END RSA PRIVATE KEY-----"
    );
    masked(&format!("key: {pem}\\nnext"), "key: [REDACTED]\\nnext");
    masked(
        &format!("-----BEGIN OPENSSH PRIVATE KEY-----\\n{body}"),
        "[REDACTED]",
    );
    kept("-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----");
}

#[test]
fn ordinary_text_is_left_alone() {
    for text in [
        "What's the weather in Paris? Sunny, 21 °C.",
        "The quick brown fox jumps over the lazy dog; task-management-system-v2 is ready.",
        "550e8400-e29b-41d4-a716-446655440000",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "commit 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "fn main() { let x: u32 = 5; println!(\\\"{x}\\\"); }",
        "{\\\"role\\\":\\\"user\\\",\\\"content\\\":\\\"hi\\\"}",
        "skip-navigation-menu-items-for-now and github_repo_name and AKIAshort",
        "Time: 12:30, ratio a=b, see https://example.com/docs?page=2&lang=en",
        "ghp_short ghost_of_the_machine sketch_book_v2",
        "the bearer of bad news; basic research",
        "a -- b ---- c -----BEGIN PUBLIC KEY-----",
    ] {
        kept(text);
    }
}

#[test]
fn secret_key_names_in_objects() {
    let r = r();
    for k in [
        "pwd",
        "pass",
        "passphrase",
        "credentials",
        "auth",
        "signature",
        "client_secret",
        "X-Amz-Security-Token",
        "ApiKey",
    ] {
        assert!(r.is_secret_key(k), "{k}");
    }
    for k in [
        "author",
        "authority",
        "passage",
        "bypass",
        "max_tokens",
        "signal",
        "keyboard",
        "session_id",
    ] {
        assert!(!r.is_secret_key(k), "{k}");
    }
}

#[test]
fn a_bearer_token_starting_with_plus_is_masked_whole_and_masking_twice_changes_nothing() {
    let r = Redactor::new(vec!["tok3nFuzz9x7q".into()]);
    // Found by the redact fuzzer: a `+` after the scheme was read as a blank, and the rest was
    // one byte short of a credential.
    let once = r.mask_raw("x bearer +====K==").into_owned();
    assert_eq!(once, "x bearer [REDACTED]");
    assert_eq!(r.mask_raw(&once), once);
    // Found by the redact fuzzer too: a token masked inside a value (`(` after it reads as code)
    // must leave the value's extent as it was.
    let text = "Authorization: Bear%GOciiyJhbGOciiJIUtok3nFuzz9x7qzI1iJ9.e3gsk_pi03(AAA";
    let once = r.mask_raw(text).into_owned();
    assert_eq!(r.mask_raw(&once), once);
}

#[test]
fn pluses_apart_from_a_masked_bearer_token_stay_as_they_are() {
    // Found by the redact fuzzer: `+`s and a blank between the scheme and a token.
    let r = Redactor::new(vec![]);
    let once = r.mask_raw("Bearer++++++++++ abcdefgh12").into_owned();
    assert_eq!(once, "Bearer++++++++++ [REDACTED]");
    assert_eq!(r.mask_raw(&once), once);
}

#[test]
fn pluses_glued_to_a_bearer_token_go_with_it() {
    // Found by the redact fuzzer (300 s run): `+`s (form blanks) between `bearer ` and a token
    // glued to them were left behind, and sixteen of them read as a credential of their own.
    let r = Redactor::new(vec![]);
    let text = "x bearer ++++++++++++++++0++++++h y";
    let once = r.mask_raw(text).into_owned();
    assert_eq!(once, "x bearer [REDACTED] y");
    assert_eq!(r.mask_raw(&once), once);
    // Form-encoded: the `+` before the token is masked with it.
    assert_eq!(
        r.mask_raw("q=Bearer+abcdefgh12345&x=1"),
        "q=Bearer[REDACTED]&x=1"
    );
}

#[test]
fn a_run_of_pluses_after_bearer_and_a_blank_is_masked_as_a_token() {
    // Found by the redact fuzzer (600 s run): eight or more `+`s after `bearer ` and apart from
    // the token (or with no token after them) read as a credential of their own (base64 may
    // start with `+`); they were left behind.
    let r = Redactor::new(vec![]);
    for (text, want) in [
        (
            "x bearer +++++++++ Bear-0.5e-3hr y",
            "x bearer [REDACTED] y",
        ),
        ("x bearer ++++++++ ab", "x bearer [REDACTED] ab"),
        (
            "x bearer ++++++++[REDACTED]",
            "x bearer [REDACTED][REDACTED]",
        ),
        // Fewer, or glued to the scheme (the first `+` is then its blank): as before.
        ("x bearer +++ Bear-0.5e-3hr", "x bearer +++ [REDACTED]"),
    ] {
        let once = r.mask_raw(text).into_owned();
        assert_eq!(once, want, "{text}");
        assert_eq!(r.mask_raw(&once), once, "{text}");
    }
}
