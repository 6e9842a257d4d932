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

fn related(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::")) || b.is_empty() || a.is_empty()
}

/// The paths a `use` tree names: `a::{b, c::{d, e as f}, self}` gives `a::b`, `a::c::d`, `a::c::e`, `a`.
fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let leaf = tree.split(" as ").next().unwrap_or_default().trim();
        let path = if leaf == "self" || leaf.is_empty() {
            prefix.trim_end_matches("::").to_owned()
        } else {
            format!("{prefix}{leaf}")
        };
        out.push(path);
        return;
    };
    let head = format!("{prefix}{}", &tree[..open]);
    let close = tree.rfind('}').filter(|&close| close > open).unwrap_or(tree.len());
    let inner = &tree[open + 1..close];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                expand(&head, &inner[start..i], out);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner[start..].trim().is_empty() {
        expand(&head, &inner[start..], out);
    }
}

/// Every path `code` names, as written: its `use` trees expanded, and `crate::` paths in the code.
fn paths(code: &str) -> (Vec<String>, Vec<(bool, String)>) {
    let uses = Regex::new(r"(?m)^\s*(pub(?:\([a-z]+\))? )?use ([^;]+);").expect("a valid pattern");
    let inline = Regex::new(r"crate::((?:[a-z_0-9]+::)*[a-z_0-9]+)").expect("a valid pattern");
    let mut named = Vec::new();
    let mut reexports = Vec::new();
    for statement in uses.captures_iter(code) {
        let mut leaves = Vec::new();
        expand("", &statement[2], &mut leaves);
        for leaf in leaves {
            reexports.push((statement.get(1).is_some(), leaf.clone()));
            named.push(leaf);
        }
    }
    let without_uses = uses.replace_all(code, "");
    named.extend(inline.captures_iter(&without_uses).map(|c| format!("crate::{}", &c[1])));
    (named, reexports)
}

fn graph(modules: &BTreeMap<String, String>) -> Graph {
    // A path as written in `module` to the module it means: `crate::`, `super::`, `self::` or a child.
    let absolute = |module: &str, path: &str| -> Option<String> {
        let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
        let join = |base: &str, rest: &str| if base.is_empty() { rest.to_owned() } else { format!("{base}::{rest}") };
        if let Some(rest) = path.strip_prefix("crate::") {
            Some(rest.to_owned())
        } else if let Some(rest) = path.strip_prefix("super::") {
            Some(join(parent, rest))
        } else if let Some(rest) = path.strip_prefix("self::") {
            Some(join(module, rest))
        } else {
            let first = path.split("::").next().unwrap_or_default();
            modules.contains_key(&join(module, first)).then(|| join(module, path))
        }
    };
    let parsed: BTreeMap<&String, _> = modules.iter().map(|(name, code)| (name, paths(code))).collect();
    // What each module re-exports from its children: `pub use roles::{Caller, Role}` in `auth`.
    let mut reexported: BTreeMap<String, String> = BTreeMap::new();
    for (name, (_, uses)) in &parsed {
        for (public, leaf) in uses.iter().cloned() {
            let Some(full) = absolute(name, &leaf).filter(|_| public) else { continue };
            if let Some((owner, item)) = full.rsplit_once("::") {
                reexported.insert(format!("{name}::{item}"), owner.to_owned());
            }
        }
    }
    let deepest = |path: &str| -> Option<String> {
        let segments: Vec<&str> = path.split("::").collect();
        let depth = (1..=segments.len()).rev().find(|&n| modules.contains_key(&segments[..n].join("::")))?;
        let module = segments[..depth].join("::");
        // An item the module only re-exports belongs to the module that defines it.
        let through = segments.get(depth).and_then(|item| reexported.get(&format!("{module}::{item}")));
        Some(through.cloned().unwrap_or(module))
    };
    let mut edges = Graph::new();
    for (name, (named, _)) in &parsed {
        let out = edges.entry((*name).clone()).or_default();
        for path in named {
            if let Some(target) = absolute(name, path).and_then(|p| deepest(&p))
                && !related(name, &target)
            {
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
    let modules: BTreeMap<String, String> = crate::testing::rust_code(&root)
        .into_iter()
        .map(|(path, code)| (module_name(path.strip_prefix(&root).expect("under src/")), code))
        .collect();
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
        ("content::enroll", "use crate::billing::{checkout::{self, X}, webhook};"),
        ("billing", "pub mod checkout; use self::checkout::X;"),
        ("content", "// crate::billing::checkout in a comment is no import\n"),
        // A loop through a re-export: `auth::Caller` is `auth::roles`'s, which imports `auth::verify`.
        ("auth", "pub mod roles;\npub mod verify;\npub use roles::{Caller, Role};"),
        ("auth::roles", "use super::verify::REFUSAL;"),
        ("auth::verify", "use crate::auth::{Caller, Permission};"),
    ]
    .into_iter()
    .map(|(n, c)| (n.to_owned(), c.to_owned()))
    .collect();
    let edges = graph(&modules);
    let cycle = cycle_through(&edges, "billing::checkout").expect("checkout -> webhook -> enroll -> checkout");
    assert_eq!(cycle, ["billing::checkout", "billing::webhook", "content::enroll", "billing::checkout"]);
    assert!(cycle_through(&edges, "content").is_none(), "a comment names no module");
    let through = cycle_through(&edges, "auth::roles").expect("roles -> verify -> (auth::Caller is roles's)");
    assert_eq!(through, ["auth::roles", "auth::verify", "auth::roles"]);
}
