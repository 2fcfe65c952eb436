//! Finding a model's tokenizer files on this machine (never downloading them): in
//! `AFINAR_TOKENIZERS`, then in the Hugging Face cache (`HF_HUB_CACHE`, else
//! `HF_HOME/hub`, else `XDG_CACHE_HOME/huggingface/hub`, else
//! `~/.cache/huggingface/hub`), where `hf download ORG/NAME` puts them:
//! `models--ORG--NAME/snapshots/REVISION/`.

use std::path::{Path, PathBuf};

use super::LoadError;

/// The places searched for `repo`, in order.
pub fn candidates(repo: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let (org, name) = repo.split_once('/').unwrap_or(("", repo));
    if let Some(dir) = std::env::var_os("AFINAR_TOKENIZERS").filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        if !org.is_empty() {
            out.push(dir.join(org).join(name));
            out.push(dir.join(format!("{org}--{name}")));
        }
        out.push(dir.join(name));
    }
    if let Some(cache) = hub_cache() {
        out.push(cache.join(format!("models--{}", repo.replace('/', "--"))));
    }
    out
}

fn hub_cache() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = var("HF_HUB_CACHE") {
        return Some(p);
    }
    if let Some(p) = var("HF_HOME") {
        return Some(p.join("hub"));
    }
    if let Some(p) = var("XDG_CACHE_HOME") {
        return Some(p.join("huggingface").join("hub"));
    }
    var("HOME").map(|h| h.join(".cache").join("huggingface").join("hub"))
}

/// The directory holding `repo`'s tokenizer.json.
pub fn find(repo: &str) -> Result<PathBuf, LoadError> {
    let searched = candidates(repo);
    for place in &searched {
        if place.join("tokenizer.json").is_file() {
            return Ok(place.clone());
        }
        if let Some(snap) = snapshot(place) {
            return Ok(snap);
        }
    }
    Err(LoadError::NotFound {
        repo: repo.to_owned(),
        searched,
    })
}

/// In a hub cache entry: the snapshot `refs/main` names, else the first snapshot (by
/// name, for determinism) that has a tokenizer.json.
fn snapshot(entry: &Path) -> Option<PathBuf> {
    let snaps = entry.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(entry.join("refs").join("main")) {
        let dir = snaps.join(rev.trim());
        if dir.join("tokenizer.json").is_file() {
            return Some(dir);
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&snaps)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("tokenizer.json").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter().next()
}
