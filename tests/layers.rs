//! The layering of src/: who imports whom among the top-level modules, read from the source
//! (`crate::x` paths outside comments, `use crate::{x, y}` lists included). Two rules:
//! no import cycle between top-level modules (the cycle is printed), and each module imports
//! only modules of lower layers ([`LAYERS`], drawn in HACKING.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom-up; a module may import only modules of a lower layer.
const LAYERS: &[&[&str]] = &[
    &["error", "ids", "json", "slab"],
    &["model", "capture"],
    &["config", "llm"],
    &["encode"],
    &["export", "tracer"],
    &["core"],
    &["wasm"],
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to (`src/encode/genai.rs` -> `encode`); `None` for
/// lib.rs, the crate root that only declares the modules.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib").then_some(name)
}

/// Source text without comments (line comments, doc comments and block comments): a path in
/// a doc link is no import.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let (mut i, mut in_str) = (0, false);
    while i < b.len() {
        if in_str {
            if b[i] == b'\\' {
                i += 2;
                continue;
            }
            in_str = b[i] != b'"';
            i += 1;
            continue;
        }
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            i = end;
        } else {
            if b[i] == b'"' {
                in_str = true;
            }
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// The top-level modules named by `crate::` paths in `code`.
fn imports(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // `agensight_wasm_crate::`, not ours
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(list) = rest.strip_prefix('{') {
            // `crate::{a::X, b}`: the first name of each top-level item of the list.
            let (mut depth, mut item_start) = (0, true);
            for (i, c) in list.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        out.insert(ident(&list[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// Top-level module -> the top-level modules it imports.
fn graph_of(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let Some(m) = module_of(src, &f) else {
            continue;
        };
        let code = code_only(&std::fs::read_to_string(&f).unwrap());
        let deps = graph.entry(m.clone()).or_default();
        deps.extend(imports(&code).into_iter().filter(|d| *d != m));
    }
    graph
}

/// One import cycle, as the modules along it (`a -> b -> a`), if there is any.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = graph_of(&src());
    assert!(graph.len() > 5, "read too few modules: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle in src/: {}", cycle.join(" -> "));
    }
}

#[test]
fn each_module_imports_only_lower_layers() {
    let layer = |m: &str| LAYERS.iter().position(|l| l.contains(&m));
    let mut wrong = Vec::new();
    for (m, deps) in graph_of(&src()) {
        let Some(own) = layer(&m) else {
            wrong.push(format!(
                "{m}: in no layer (add it to LAYERS and HACKING.md)"
            ));
            continue;
        };
        for d in deps {
            match layer(&d) {
                Some(l) if l < own => {}
                _ => wrong.push(format!("{m} (layer {own}) imports {d} ({:?})", layer(&d))),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that look up or sideways:\n{}",
        wrong.join("\n")
    );
}

/// The reader itself, on text written for it: grouped uses, comments, strings.
#[test]
fn the_import_reader_reads_what_the_compiler_would() {
    let code = code_only(
        r#"
        use crate::{a::X, b::{c, d}, e};
        use crate::f::G; // crate::h in a comment
        /// [`crate::i`] in a doc link
        /* crate::j */ let s = "crate::k"; crate::l::m();
        "#,
    );
    let got: Vec<String> = imports(&code).into_iter().collect();
    assert_eq!(got, ["a", "b", "e", "f", "l"]);
    let mut g = BTreeMap::new();
    for (m, d) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(m.to_string())
            .or_insert_with(BTreeSet::new)
            .insert(d.to_string());
    }
    assert_eq!(find_cycle(&g).unwrap().join(" -> "), "a -> b -> c -> a");
    g.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&g), None);
}
