//! `fhir-iq-kb site`: the generated part of `site/`, run by `make build` before the workers compile.
//! - `site/assets/`: a fingerprinted copy of every stylesheet, script, font and image
//!   (`shared::web::assets`), served with a year's caching;
//! - `shared/data/assets.json`: the manifest the workers compile in and the pages link through;
//! - the static pages (`site/*.html`) rendered with that manifest;
//! - `site/_headers`: the headers of static files, which Cloudflare serves without the site worker.
//!
//! Files are written only when they change, and the changed ones are named. With `--check` (CI), a
//! committed file that had to change is an error: the commit is missing a regenerated file.

use shared::web::{assets, headers, pages};
use std::path::Path;

pub fn run(args: &[String]) -> Result<(), String> {
    let check = args.iter().any(|a| a == "--check");
    let root = crate::root();
    let site = root.join("site");
    let sources = assets::read_sources(&site).map_err(|e| format!("reading site/: {e}"))?;
    let (manifest, copies) = assets::fingerprint(&sources)?;

    // The copies: the folder is rebuilt whole, so a file no page links to any more is gone.
    let dir = site.join(assets::DIR);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("clearing {}: {e}", dir.display()))?;
    }
    for (path, bytes) in &copies {
        write(&site.join(path.trim_start_matches('/')), bytes)?;
    }

    let json = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())? + "\n";
    assets::install(manifest).map_err(|_| "the asset manifest was read before it was installed".to_string())?;
    let mut changed = Vec::new();
    let mut committed = |path: &Path, contents: &[u8]| -> Result<(), String> {
        if std::fs::read(path).ok().as_deref() != Some(contents) {
            write(path, contents)?;
            changed.push(path.strip_prefix(&root).unwrap_or(path).display().to_string());
        }
        Ok(())
    };
    committed(&root.join("shared/data/assets.json"), json.as_bytes())?;
    for (file, html) in pages::static_pages().map_err(|e| e.to_string())? {
        committed(&site.join(file), html.as_bytes())?;
    }
    committed(&site.join("_headers"), headers::static_files_headers().as_bytes())?;

    println!("site: {} fingerprinted files in site/{}/", copies.len(), assets::DIR);
    if changed.is_empty() {
        return Ok(());
    }
    println!("site: regenerated {}", changed.join(", "));
    if check {
        return Err(format!(
            "{} were not up to date in this commit: run `make build` and commit them",
            changed.join(", ")
        ));
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}
