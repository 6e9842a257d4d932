//! Fingerprinted static files. Every stylesheet, script, font and image in `site/` is also served
//! under `/assets/<dir>/<stem>.<hash>.<ext>`, where the hash is the first 10 hex digits of the
//! SHA-256 of the file as served. Those URLs never change meaning, so they are cached for a year
//! (`Cache-Control: immutable`, from `site/_headers`); a changed file gets a new URL. Pages link only
//! to the fingerprinted URLs ([`url`]).
//!
//! `shared/data/assets.json` maps each source path to its fingerprinted one. `make build`
//! (`fhir-iq-kb site`) computes it ([`fingerprint`]), writes the copies into `site/assets/` (not
//! committed), and renders the static pages with it; the workers compile it in. Stylesheets and
//! scripts are rewritten before they are hashed, so a stylesheet's font URLs and a script's vendor
//! URLs are fingerprinted too, and a changed font changes the stylesheet's hash.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Source path (`/css/main.css`) to fingerprinted path (`/assets/css/main.<hash>.css`).
pub type Manifest = BTreeMap<String, String>;

/// The manifest the workers were built with.
pub const EMBEDDED: &str = include_str!("../../data/assets.json");

/// The folder fingerprinted copies live in, under `site/`.
pub const DIR: &str = "assets";

/// The folders of `site/` whose files are fingerprinted, and the one file at its top.
pub const SOURCES: [&str; 5] = ["css", "js", "fonts", "img", "vendor"];
pub const TOP_LEVEL: [&str; 1] = ["favicon.svg"];

static MANIFEST: OnceLock<Manifest> = OnceLock::new();

/// The manifest in use: the embedded one, unless the page generator installed a fresh one first.
fn manifest() -> &'static Manifest {
    MANIFEST.get_or_init(|| serde_json::from_str(EMBEDDED).unwrap_or_default())
}

/// The version of the static files this build links to: 10 hex digits of the manifest's SHA-256.
/// Anything stored that embeds their URLs (the KV page cache) carries it in its key.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(EMBEDDED.as_bytes()))[..10].to_owned()
    })
}

/// Makes `manifest` the one [`url`] reads (the page generator, before it renders). Refused once
/// [`url`] has been called.
pub fn install(manifest: Manifest) -> Result<(), Manifest> {
    MANIFEST.set(manifest)
}

/// The URL a page links to for the static file at `path`: its fingerprinted URL, or `path` itself
/// when the file is not in the manifest (then it is served with revalidation, never stale).
pub fn url(path: &str) -> &str {
    manifest().get(path).map(String::as_str).unwrap_or(path)
}

/// The fingerprinted name of `source` (`/css/main.css`) with contents `bytes`.
pub fn fingerprinted(source: &str, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hash = hex::encode(Sha256::digest(bytes));
    let (dir, file) = source.rsplit_once('/').unwrap_or(("", source));
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    let dot = if ext.is_empty() { "" } else { "." };
    format!("/{DIR}{dir}/{stem}.{}{dot}{ext}", &hash[..10])
}

/// Whether a file's references to other files are rewritten (text), or it is copied as is.
fn is_text(path: &str) -> bool {
    path.ends_with(".css") || path.ends_with(".js")
}

/// `text` with every quoted or `url(...)` reference to a source path in `manifest` replaced by its
/// fingerprinted path. Only whole references: `"/js/app.js"`, `'/js/app.js'`, `(/fonts/x.woff2)`.
pub fn rewrite(text: &str, manifest: &Manifest) -> String {
    let mut out = text.to_owned();
    for (source, target) in manifest {
        for (open, close) in QUOTES {
            out = out.replace(&format!("{open}{source}{close}"), &format!("{open}{target}{close}"));
        }
    }
    out
}

/// The files to fingerprint: `(source path, bytes)`, from a reader of `site/`. Text files are
/// rewritten against the manifest of every file they reference first, so the result does not depend
/// on the order files are read in (a reference cycle between text files is an error).
pub fn fingerprint(files: &BTreeMap<String, Vec<u8>>) -> Result<(Manifest, BTreeMap<String, Vec<u8>>), String> {
    let mut manifest = Manifest::new();
    let mut output = BTreeMap::new();
    // Binary files have no references: their hashes come first.
    for (source, bytes) in files.iter().filter(|(p, _)| !is_text(p)) {
        let target = fingerprinted(source, bytes);
        output.insert(target.clone(), bytes.clone());
        manifest.insert(source.clone(), target);
    }
    // Text files in rounds: each round takes those whose references are all hashed already.
    let mut pending: Vec<&String> = files.keys().filter(|p| is_text(p)).collect();
    while !pending.is_empty() {
        let ready: Vec<&String> = pending
            .iter()
            .copied()
            .filter(|p| {
                let text = String::from_utf8_lossy(&files[*p]);
                pending.iter().all(|other| other == p || !references(&text, other))
            })
            .collect();
        if ready.is_empty() {
            return Err(format!("these files reference each other in a cycle: {pending:?}"));
        }
        for source in &ready {
            let text = std::str::from_utf8(&files[*source]).map_err(|e| format!("{source} is not UTF-8: {e}"))?;
            let bytes = rewrite(text, &manifest).into_bytes();
            let target = fingerprinted(source, &bytes);
            output.insert(target.clone(), bytes);
            manifest.insert((*source).clone(), target);
        }
        pending.retain(|p| !ready.contains(p));
    }
    Ok((manifest, output))
}

fn references(text: &str, source: &str) -> bool {
    QUOTES.iter().any(|(open, close)| text.contains(&format!("{open}{source}{close}")))
}

/// How a reference is delimited in a stylesheet or script.
const QUOTES: [(&str, &str); 3] = [("\"", "\""), ("'", "'"), ("(", ")")];

/// Reads the fingerprinted folders of `site` as `(source path, bytes)`.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_sources(site: &std::path::Path) -> std::io::Result<BTreeMap<String, Vec<u8>>> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let relative = path.strip_prefix(root).map_err(std::io::Error::other)?;
                out.insert(format!("/{}", relative.to_string_lossy().replace('\\', "/")), std::fs::read(&path)?);
            }
        }
        Ok(())
    }
    let mut files = BTreeMap::new();
    for dir in SOURCES {
        let path = site.join(dir);
        if path.is_dir() {
            walk(site, &path, &mut files)?;
        }
    }
    for file in TOP_LEVEL {
        files.insert(format!("/{file}"), std::fs::read(site.join(file))?);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        list.iter().map(|(p, b)| (p.to_string(), b.as_bytes().to_vec())).collect()
    }

    #[test]
    fn a_name_carries_the_hash_of_the_contents() {
        let a = fingerprinted("/css/main.css", b"body{}");
        assert!(a.starts_with("/assets/css/main.") && a.ends_with(".css"), "{a}");
        assert_eq!(a.len(), "/assets/css/main..css".len() + 10);
        assert_ne!(a, fingerprinted("/css/main.css", b"body{ }"));
        assert_eq!(fingerprinted("/favicon.svg", b"x").matches('.').count(), 2);
    }

    #[test]
    fn a_changed_font_changes_the_stylesheet_that_uses_it() {
        let css = r#"@font-face { src: url("/fonts/a.woff2") } .x { background: url(/img/b.svg) }"#;
        let (one, out) = fingerprint(&files(&[("/css/main.css", css), ("/fonts/a.woff2", "A"), ("/img/b.svg", "B")]))
            .expect("fingerprints");
        let served = String::from_utf8(out[&one["/css/main.css"]].clone()).expect("text");
        assert!(served.contains(&format!("url(\"{}\")", one["/fonts/a.woff2"])), "{served}");
        assert!(served.contains(&format!("url({})", one["/img/b.svg"])), "{served}");
        let (two, _) = fingerprint(&files(&[("/css/main.css", css), ("/fonts/a.woff2", "A2"), ("/img/b.svg", "B")]))
            .expect("fingerprints");
        assert_ne!(one["/css/main.css"], two["/css/main.css"]);
        assert_eq!(one["/img/b.svg"], two["/img/b.svg"]);
    }

    #[test]
    fn scripts_are_rewritten_after_the_scripts_they_load() {
        let (manifest, out) = fingerprint(&files(&[
            ("/js/chat.js", "loadScript('/vendor/marked.js'); loadScript('/js/z.js')"),
            ("/js/z.js", "const path = '/js/zz.js';"),
            ("/vendor/marked.js", "marked"),
        ]))
        .expect("fingerprints");
        let chat = String::from_utf8(out[&manifest["/js/chat.js"]].clone()).expect("text");
        assert!(chat.contains(&manifest["/vendor/marked.js"]) && chat.contains(&manifest["/js/z.js"]), "{chat}");
        // A path that only starts like a known one is left alone.
        assert!(String::from_utf8(out[&manifest["/js/z.js"]].clone()).expect("text").contains("'/js/zz.js'"));
        let cycle = fingerprint(&files(&[("/js/a.js", "'/js/b.js'"), ("/js/b.js", "'/js/a.js'")]));
        assert!(cycle.is_err());
    }

    #[test]
    fn the_version_names_this_builds_files() {
        assert_eq!(version().len(), 10);
        assert!(version().bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(crate::content::cache::key(3, "/blog").contains(version()), "the page cache is keyed by it");
    }

    #[test]
    fn pages_link_to_the_fingerprinted_url_and_fall_back_to_the_source() {
        let embedded: Manifest = serde_json::from_str(EMBEDDED).expect("shared/data/assets.json is a manifest");
        assert!(embedded.contains_key("/css/main.css") && embedded.contains_key("/js/app.js"));
        assert_eq!(url("/css/main.css"), embedded["/css/main.css"]);
        assert_eq!(url("/no/such.file"), "/no/such.file");
    }

    /// The committed manifest is what the files in `site/` hash to (fonts and vendor scripts are
    /// copied from npm by `make build`; until then, only the committed files are checked).
    #[test]
    fn the_committed_manifest_matches_site() {
        let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../site");
        let copied = site.join("fonts").is_dir() && site.join("vendor").is_dir();
        let files = read_sources(&site).expect("site/ is readable");
        let (fresh, _) = fingerprint(&files).expect("fingerprints");
        let embedded: Manifest = serde_json::from_str(EMBEDDED).expect("a manifest");
        if copied {
            assert_eq!(fresh, embedded, "run `make build` (fhir-iq-kb site) and commit shared/data/assets.json");
        } else {
            for (source, target) in &fresh {
                if !is_text(source) {
                    assert_eq!(Some(target), embedded.get(source), "run `make build` and commit the manifest");
                }
            }
        }
    }
}
