//! migration-core is a stack: each layer folder uses only the layers below
//! it, and no two source files import each other, directly or round a
//! circle. Read from the source itself: every `crate::…` path outside
//! comments and `#[cfg(test)]` modules is an import of the file it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first; a file may use its own layer and those before.
const LAYERS: [&[&str]; 7] = [
    &["model"],
    &["pure"],
    &["backend"],
    &["ops"],
    &["embed", "target", "lock_safe"],
    &["tooling"],
    &["cli"],
];

fn rank(module: &str) -> Option<usize> {
    let top = module.split('/').next().unwrap_or_default();
    LAYERS.iter().position(|layer| layer.contains(&top))
}

/// Module path (`ops/step`, `backend`) → source without comments and tests.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("reading src") {
            let path = entry.expect("reading src").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).expect("under src");
                let module = rel.with_extension("").to_string_lossy().replace('\\', "/");
                let module = module.strip_suffix("/mod").unwrap_or(&module).to_owned();
                let module = if module == "lib" {
                    String::new()
                } else {
                    module
                };
                let text = std::fs::read_to_string(&path).expect("reading a source file");
                let text = match text.find("#[cfg(test)]\nmod tests") {
                    Some(at) => text[..at].to_owned(),
                    None => text,
                };
                let code: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect();
                out.insert(module, code.join("\n"));
            }
        }
    }
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The `a::b::c` paths after each `crate::` in `code`, braces expanded one level.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with('$') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let item: String = item
                    .trim()
                    .chars()
                    .take_while(|&c| ident_char(c) || c == ':')
                    .collect();
                if !item.is_empty() {
                    paths.push(item);
                }
            }
        } else {
            let path: String = rest
                .chars()
                .take_while(|&c| ident_char(c) || c == ':')
                .collect();
            paths.push(path.trim_end_matches(':').to_owned());
        }
    }
    paths
}

/// Names the crate root re-exports, and the module each comes from.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for line in lib.lines().map(str::trim) {
        let Some(used) = line
            .strip_prefix("pub use ")
            .and_then(|l| l.strip_suffix(';'))
        else {
            continue;
        };
        let (base, items) = match used.split_once("::{") {
            Some((base, items)) => (base.to_owned(), items.trim_end_matches('}').to_owned()),
            None => match used.rsplit_once("::") {
                Some((base, item)) => (base.to_owned(), item.to_owned()),
                None => continue,
            },
        };
        for item in items.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (path, name) = match item.rsplit_once("::") {
                Some((sub, name)) => (format!("{base}::{sub}"), name),
                None => (base.clone(), item),
            };
            let name = name.split(" as ").last().unwrap_or(name).trim();
            names.insert(
                name.to_owned(),
                format!("{path}::{name}").replace("::", "/"),
            );
        }
    }
    names
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let sources = sources();
    let modules: BTreeSet<&str> = sources.keys().map(String::as_str).collect();
    let roots = reexports(&sources[""]);
    let resolve = |path: &str| -> Option<String> {
        let mut parts: Vec<&str> = path.split("::").collect();
        let mut joined = parts.join("/");
        if let Some(via) = roots.get(parts[0])
            && !modules.contains(parts[0])
        {
            joined = via.clone();
        }
        parts = joined.split('/').collect();
        (1..=parts.len())
            .rev()
            .map(|n| parts[..n].join("/"))
            .find(|m| modules.contains(m.as_str()))
    };
    let mut graph = BTreeMap::new();
    for (module, code) in &sources {
        let targets: BTreeSet<String> = crate_paths(code)
            .iter()
            .filter_map(|p| resolve(p))
            .filter(|t| t != module && !module.starts_with(&format!("{t}/")) && !t.is_empty())
            .collect();
        graph.insert(module.clone(), targets);
    }
    graph
}

#[test]
fn each_layer_uses_only_the_layers_below_it() {
    let mut upward = Vec::new();
    for (module, targets) in graph() {
        let Some(own) = rank(&module) else { continue };
        for target in targets {
            if rank(&target).is_none_or(|r| r > own) {
                upward.push(format!("{module} uses {target}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the layers:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_source_file_imports_round_a_circle() {
    let graph = graph();
    // Depth-first search; a back edge closes a circle.
    fn visit<'g>(
        node: &'g str,
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'g str, bool>,
        stack: &mut Vec<&'g str>,
        circles: &mut Vec<String>,
    ) {
        state.insert(node, false);
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                None => visit(next, graph, state, stack, circles),
                Some(false) => {
                    let from = stack.iter().position(|m| *m == next).unwrap_or(0);
                    circles.push(format!("{} -> {next}", stack[from..].join(" -> ")));
                }
                Some(true) => {}
            }
        }
        stack.pop();
        state.insert(node, true);
    }
    let mut state = BTreeMap::new();
    let mut circles = Vec::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str()) {
            visit(node, &graph, &mut state, &mut Vec::new(), &mut circles);
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_checks_see_imports() {
    let graph = graph();
    assert!(
        graph["ops/step"].contains("model/run"),
        "{:?}",
        graph["ops/step"]
    );
    assert!(graph["cli"].contains("ops/runner"), "{:?}", graph["cli"]);
    assert_eq!(rank("backend/postgres/lock"), Some(2));
}
