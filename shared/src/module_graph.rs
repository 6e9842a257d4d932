//! A check on the crate's shape: no two modules import each other, directly or in a loop. Each
//! module's non-test code is read from `src/`, and every `crate::a::b` and `super::x` path in it (not
//! in comments) is an edge to the deepest module it names. A module reaching into its own parent or
//! child is nesting, not an import between peers, and is not counted.

use regex_lite::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn module_name(relative: &Path) -> String {
    let mut parts: Vec<String> = relative.with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

fn sources(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("reads src/").filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("reads a module");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: Vec<&str> = code.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
            out.insert(module_name(path.strip_prefix(root).expect("under src/")), code.join("\n"));
        }
    }
}

fn related(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::")) || b.is_empty() || a.is_empty()
}

fn graph(modules: &BTreeMap<String, String>) -> Graph {
    let deepest = |path: &str| -> Option<String> {
        let segments: Vec<&str> = path.split("::").collect();
        (1..=segments.len()).rev().map(|n| segments[..n].join("::")).find(|name| modules.contains_key(name))
    };
    let crate_path = Regex::new(r"crate::((?:[a-z_0-9]+::)*[a-z_0-9]+)").expect("a valid pattern");
    // `crate::a::{b, c::{d}}` and `super::{x, y}`: the prefix with each item (a nested group's
    // first item is cut at its brace, which still names its module).
    let grouped = Regex::new(r"(crate|super)::((?:[a-z_0-9]+::)*)\{([^}]*)\}").expect("a valid pattern");
    let super_path = Regex::new(r"super::([a-z_0-9]+)").expect("a valid pattern");
    let mut edges = Graph::new();
    for (name, code) in modules {
        let parent = name.rsplit_once("::").map_or("", |(p, _)| p);
        let mut targets: Vec<String> = crate_path.captures_iter(code).map(|c| c[1].to_owned()).collect();
        for group in grouped.captures_iter(code) {
            let base = if &group[1] == "crate" { String::new() } else { format!("{parent}::") };
            for item in group[3].split(',') {
                let item = item.trim().trim_end_matches("::{self").replace('{', "");
                targets.push(format!("{base}{}{item}", &group[2]).trim_start_matches("::").to_owned());
            }
        }
        for child in super_path.captures_iter(code) {
            targets.push(if parent.is_empty() { child[1].to_owned() } else { format!("{parent}::{}", &child[1]) });
        }
        let out = edges.entry(name.clone()).or_default();
        for target in targets.iter().filter_map(|t| deepest(t)) {
            if !related(name, &target) {
                out.insert(target);
            }
        }
    }
    edges
}

/// A path that leaves `from` and comes back to it, if there is one.
fn cycle_through(edges: &Graph, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_owned(), vec![from.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in edges.get(&node).into_iter().flatten() {
            if next == from {
                return Some([path.clone(), vec![from.to_owned()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn no_two_modules_import_each_other_directly_or_in_a_loop() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    sources(&root, &root, &mut modules);
    assert!(modules.len() > 100, "read the crate's modules ({})", modules.len());
    let edges = graph(&modules);
    let cycles: Vec<String> =
        modules.keys().filter_map(|m| cycle_through(&edges, m)).map(|path| path.join(" -> ")).collect();
    assert!(cycles.is_empty(), "modules that import each other:\n{}", cycles.join("\n"));
}

#[test]
fn the_check_finds_a_loop_between_peers_and_ignores_nesting() {
    let modules: BTreeMap<String, String> = [
        ("billing::checkout", "use super::webhook::Ctx;"),
        ("billing::webhook", "crate::content::enroll::after(x)"),
        ("content::enroll", "use crate::billing::{checkout::{self}, webhook};"),
        ("billing", "pub mod checkout; use self::checkout::X;"),
        ("content", "// crate::billing::checkout in a comment is no import\n"),
    ]
    .into_iter()
    .map(|(n, c)| (n.to_owned(), c.to_owned()))
    .collect();
    let edges = graph(&modules);
    let cycle = cycle_through(&edges, "billing::checkout").expect("checkout -> webhook -> enroll -> checkout");
    assert_eq!(cycle, ["billing::checkout", "billing::webhook", "content::enroll", "billing::checkout"]);
    assert!(cycle_through(&edges, "content").is_none(), "a comment names no module");
}
