//! Replays every input kept in fuzz/regressions/<target>/ (crashes and hard cases the fuzzers
//! found) and every seed in fuzz/seeds/<target>/ through the same invariant checks the
//! cargo-fuzz targets run (fuzz/src/checks.rs), so `cargo test` keeps them fixed without the
//! nightly toolchain. scripts/fuzz copies each new crash input there; run one target's inputs
//! with `cargo test --test fuzz_regressions clamp`. A missing folder fails (a renamed target
//! would otherwise replay nothing in silence); dotfiles (`.keep`) are not inputs.

#[path = "../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::Path;

/// The inputs in `fuzz/<kind>/<target>/`, sorted; panics when the folder is missing.
fn inputs(kind: &str, target: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (every fuzz target keeps this folder)",
            dir.display()
        )
    });
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    let seeds = inputs("seeds", target);
    assert!(!seeds.is_empty(), "fuzz/seeds/{target}/ has no seed");
    let files: Vec<_> = inputs("regressions", target)
        .into_iter()
        .chain(seeds)
        .collect();
    let mut failed = Vec::new();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(f.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs fail: {failed:#?}",
        failed.len(),
        files.len()
    );
}

#[test]
fn clamp_json_inputs() {
    replay("clamp_json", checks::clamp_json_target);
}

#[test]
fn redact_inputs() {
    replay("redact", checks::redact_target);
}

#[test]
fn llm_parse_call_inputs() {
    replay("llm_parse_call", checks::llm_parse_call);
}

#[test]
fn llm_stream_inputs() {
    replay("llm_stream", checks::llm_stream);
}

#[test]
fn agensight_encoder_inputs() {
    replay("agensight_encoder", checks::agensight_encoder);
}

#[test]
fn tracer_ops_inputs() {
    replay("tracer_ops", checks::tracer_ops);
}

#[test]
fn json_value_inputs() {
    replay("json_value", checks::json_value);
}

/// Hand-written cases for the same checks: the bugs found while writing the fuzzers, kept
/// readable here.
#[test]
fn api_key_right_after_a_control_character_escape() {
    checks::clamp_case(r#"{"a":"\u0001sk-abcdefghijklmnopqrstuvwxyz"}"#, 1000, 1);
}

#[test]
fn token_as_an_object_key() {
    checks::clamp_case(&format!(r#"{{"{}":1}}"#, checks::TOKEN), 1000, 2);
    checks::clamp_case(
        &format!(
            r#"{{"a {} b":{{"sk-abcdefghijklmnopqrstuvwxyz":1}}}}"#,
            checks::TOKEN
        ),
        1000,
        1,
    );
}

#[test]
fn token_starting_inside_an_escape_keeps_the_json_valid() {
    // "\t" followed by the token's tail: the token itself is not in the text, and masking must
    // not split the escape.
    checks::clamp_case(&format!(r#"["x\{}"]"#, checks::TOKEN), 1000, 2);
}

#[test]
fn token_right_before_an_api_key() {
    checks::clamp_case(
        &format!(r#"["{}sk-abcdefghijklmnopqrstuvwxyz"]"#, checks::TOKEN),
        1000,
        1,
    );
}

/// Found by reading the fuzz target's code paths: a response with absurd token counts and no
/// total made `input + output` overflow (a panic in debug builds, a wrong total in release).
/// The totals saturate now.
#[test]
fn absurd_token_counts_do_not_overflow() {
    let mut data = vec![0u8, 0, 0]; // no input; split at 0
    data.extend_from_slice(
        br#"{"choices":[],"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":1}}"#,
    );
    checks::llm_parse_call(&data);
    let mut data = vec![0u8, 0, 0];
    data.extend_from_slice(br#"{"type":"message","content":[],"usage":{"input_tokens":18446744073709551615,"output_tokens":1}}"#);
    checks::llm_parse_call(&data);
}

#[test]
fn otlp_proto_inputs() {
    replay("otlp_proto", checks::otlp_proto);
}
