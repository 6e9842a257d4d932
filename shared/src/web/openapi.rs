//! Keeps `docs/openapi.yaml` honest: every routed public path must be documented there.

/// The paths under `paths:` in an OpenAPI document (keys indented by two spaces).
pub fn documented_paths(yaml: &str) -> Vec<String> {
    let mut in_paths = false;
    let mut found = Vec::new();
    for line in yaml.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if in_paths && let Some(key) = line.strip_prefix("  /").and_then(|rest| rest.strip_suffix(':')) {
            found.push(format!("/{key}"));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::routes::public_paths;

    const OPENAPI: &str = include_str!("../../../docs/openapi.yaml");

    #[test]
    fn every_routed_path_is_documented_in_openapi() {
        let documented = documented_paths(OPENAPI);
        let missing: Vec<String> = public_paths().into_iter().filter(|p| !documented.contains(p)).collect();
        assert!(missing.is_empty(), "docs/openapi.yaml lacks {missing:?}");
    }

    #[test]
    fn documented_paths_are_read_from_the_paths_section_only() {
        let yaml = "openapi: 3.1.0\npaths:\n  /a:\n    get: {}\n  /b/c:\n    post: {}\ncomponents:\n  /not-a-path:\n";
        assert_eq!(documented_paths(yaml), vec!["/a".to_owned(), "/b/c".to_owned()]);
    }
}
