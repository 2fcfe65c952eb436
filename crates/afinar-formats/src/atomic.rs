//! Atomic file writes and the temporary paths behind them.
//!
//! A writer writes into a temp path beside its target (a `.afinar-*.tmp` file, or a
//! `.afinar-run-*` staging directory for a whole pipeline run) and renames it into place.
//! Every temp path is registered in a process-wide registry while it exists, and renames
//! that publish outputs run inside a [`publishing`] critical section. On SIGINT or
//! SIGTERM the binary calls [`interrupt`], which waits for a publish in progress to finish,
//! removes every registered temp path and keeps anyone from starting another: an
//! interrupted command leaves no half-written output and no litter, and keeps the
//! previous outputs.
//!
//! A command that writes several files writes each with [`prepare`] and puts them all in
//! place with one [`commit`], which puts the previous files back if a rename fails:
//!
//! ```no_run
//! use std::io::Write;
//! use afinar_formats::atomic::{commit, prepare};
//!
//! let train = prepare("out/train.jsonl".as_ref(), |w| w.write_all(b"{}\n"))?;
//! let validation = prepare("out/validation.jsonl".as_ref(), |w| w.write_all(b"{}\n"))?;
//! commit(vec![train, validation])?;
//! # Ok::<(), afinar_formats::FormatError>(())
//! ```

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::FormatError;

/// Temp paths that exist now (files and directories), removed by [`interrupt`].
static REGISTRY: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
/// Held while outputs are renamed into place, so an interrupt never splits a publish.
static PUBLISH: Mutex<()> = Mutex::new(());
/// Whether any publish completed in this process (an interrupt after it changed outputs).
static PUBLISHED: AtomicBool = AtomicBool::new(false);

fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    // A panic elsewhere must not stop the cleanup; the data (a set of paths) stays valid.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A registered temp file or directory: removed (if still there) and deregistered on drop,
/// unless [`TempPath::persist`] renamed it into place.
#[derive(Debug)]
pub struct TempPath {
    path: PathBuf,
    dir: bool,
    done: bool,
}

impl TempPath {
    /// Creates a new file or directory named `{prefix}{pid}-{random}{suffix}` in `dir`.
    /// The name is registered before the path is created, so an interrupt can never miss it.
    fn create(
        dir: &Path,
        prefix: &str,
        suffix: &str,
        is_dir: bool,
    ) -> io::Result<(Self, Option<File>)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        loop {
            let mut h = std::hash::RandomState::new().build_hasher();
            h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            let name = format!(
                "{prefix}{}-{:012x}{suffix}",
                std::process::id(),
                h.finish() & 0xFFFF_FFFF_FFFF
            );
            let path = dir.join(name);
            lock(&REGISTRY).insert(path.clone());
            let guard = TempPath {
                path,
                dir: is_dir,
                done: false,
            };
            let created = if is_dir {
                fs::create_dir(&guard.path).map(|()| None)
            } else {
                File::options()
                    .write(true)
                    .create_new(true)
                    .open(&guard.path)
                    .map(Some)
            };
            match created {
                Ok(file) => return Ok((guard, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    // Not ours: forget the name without removing what is there.
                    let mut guard = guard;
                    guard.done = true;
                    lock(&REGISTRY).remove(&guard.path);
                }
                Err(e) => {
                    let mut guard = guard;
                    guard.done = true;
                    lock(&REGISTRY).remove(&guard.path);
                    return Err(e);
                }
            }
        }
    }

    /// A new registered staging directory `{prefix}{pid}-{random}` inside `dir`, removed
    /// with everything in it when dropped.
    pub fn new_dir(dir: &Path, prefix: &str) -> io::Result<Self> {
        Self::create(dir, prefix, "", true).map(|(g, _)| g)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the temp file into `target` inside a [`publishing`] section.
    fn persist(mut self, target: &Path) -> io::Result<()> {
        publishing(|| {
            fs::rename(&self.path, target)?;
            self.done = true;
            lock(&REGISTRY).remove(&self.path);
            Ok(())
        })
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Best effort: the path may already be gone (an interrupt removed it).
        let _ = if self.dir {
            fs::remove_dir_all(&self.path)
        } else {
            fs::remove_file(&self.path)
        };
        lock(&REGISTRY).remove(&self.path);
    }
}

thread_local! {
    /// Whether this thread is inside [`publishing`] (it may nest: [`commit`] inside it).
    static PUBLISHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `publish` (renames of finished outputs into place) so that an interrupt waits for
/// it to finish instead of landing halfway through. Nests on one thread.
pub fn publishing<R>(publish: impl FnOnce() -> R) -> R {
    if PUBLISHING.get() {
        return publish();
    }
    let _guard = lock(&PUBLISH);
    PUBLISHING.set(true);
    // Reset even if `publish` panics, so a caught panic does not leave a stale flag.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            PUBLISHING.set(false);
        }
    }
    let _reset = Reset;
    let out = publish();
    PUBLISHED.store(true, Ordering::SeqCst);
    out
}

/// For a signal handler: waits for a publish in progress to finish, removes every
/// registered temp path, and blocks any further publish or temp path for the rest of the
/// process (the caller exits next). Returns whether outputs were already published by
/// this process (so the caller can say whether anything changed).
pub fn interrupt() -> bool {
    let publish = lock(&PUBLISH);
    let mut registry = lock(&REGISTRY);
    for path in std::mem::take(&mut *registry) {
        let _ = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
    }
    // Keep both locks until the process exits: a writer still running can then neither
    // create a temp path nor publish.
    std::mem::forget(registry);
    std::mem::forget(publish);
    PUBLISHED.load(Ordering::SeqCst)
}

/// Removes `{prefix}{pid}-*` entries in `dir` left by a process that no longer exists.
/// Only on Linux, where `/proc/{pid}` tells safely whether it does; elsewhere, and for any
/// name that does not carry a pid, nothing is removed. Returns the paths removed.
pub fn remove_stale(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    if !cfg!(target_os = "linux") || !Path::new("/proc/self").exists() {
        return removed;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let Some(pid) = rest
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let path = entry.path();
        let gone = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        if gone.is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Writes `path` through `fill`; the file appears whole or not at all. Missing parent
/// directories are created.
pub fn write_atomic<F>(path: &Path, fill: F) -> Result<(), FormatError>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    commit(vec![prepare(path, fill)?])
}

/// A finished temp file waiting to be renamed onto its target by [`commit`]; dropped
/// without a commit, it is removed.
#[derive(Debug)]
pub struct Pending {
    tmp: TempPath,
    target: PathBuf,
}

/// Writes `fill` into a registered temp file beside `path` (parent directories created),
/// flushed to disk, for [`commit`] to put in place.
pub fn prepare<F>(path: &Path, fill: F) -> Result<Pending, FormatError>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let wrap = |source| FormatError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(wrap)?;
    // Temp files of a command that was killed (SIGKILL, power cut) before it could clean up,
    // and staging directories of pipeline runs from before runs wrote through `prepare`.
    remove_stale(dir, ".afinar-");
    remove_stale(dir, ".afinar-run-");
    let (tmp, file) = TempPath::create(dir, ".afinar-", ".tmp", false).map_err(wrap)?;
    let Some(mut file) = file else {
        return Err(wrap(io::Error::other("no temp file was created")));
    };
    {
        let mut w = BufWriter::new(&mut file);
        fill(&mut w).map_err(wrap)?;
        w.flush().map_err(wrap)?;
    }
    file.sync_all().map_err(wrap)?;
    Ok(Pending {
        tmp,
        target: path.to_owned(),
    })
}

/// Renames every pending file onto its target in one [`publishing`] section. If one rename
/// fails, the targets already replaced get their previous contents back: a command that
/// writes several files (an output and its rejects, train and validation) leaves all old
/// or all new.
pub fn commit(pending: Vec<Pending>) -> Result<(), FormatError> {
    publishing(|| {
        // (target, backup of its previous file)
        let mut done: Vec<(PathBuf, Option<TempPath>)> = Vec::with_capacity(pending.len());
        for p in pending {
            match replace(p.tmp, &p.target) {
                Ok(backup) => done.push((p.target, backup)),
                Err(source) => {
                    for (target, backup) in done.into_iter().rev() {
                        let _ = match backup {
                            Some(backup) => backup.persist(&target),
                            None => fs::remove_file(&target),
                        };
                    }
                    return Err(FormatError::Write {
                        path: p.target,
                        source,
                    });
                }
            }
        }
        Ok(())
    })
}

/// Renames `tmp` onto `target`, first linking (or copying) a previous file at `target` to a
/// registered backup beside it, so `target` is never missing; returns the backup.
fn replace(tmp: TempPath, target: &Path) -> io::Result<Option<TempPath>> {
    let backup = if fs::symlink_metadata(target).is_ok_and(|m| m.is_file()) {
        let dir = tmp.path.parent().unwrap_or(Path::new("."));
        let (backup, file) = TempPath::create(dir, ".afinar-", ".tmp", false)?;
        drop(file);
        // The placeholder is replaced by the link; a copy when links are not supported.
        fs::remove_file(&backup.path)?;
        if fs::hard_link(target, &backup.path).is_err() {
            fs::copy(target, &backup.path)?;
        }
        Some(backup)
    } else {
        None
    };
    tmp.persist(target)?;
    Ok(backup)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn failed_write_keeps_previous_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        write_atomic(&path, |w| w.write_all(b"first\n")).unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("stage failed"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "first\n");
        assert_eq!(names(dir.path()), vec!["out.jsonl"]);
        assert!(!lock(&REGISTRY).iter().any(|p| p.starts_with(dir.path())));
    }

    #[test]
    fn a_failed_commit_puts_every_previous_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a.jsonl"),
            dir.path().join("b.jsonl"),
            dir.path().join("c.jsonl"),
        );
        write_atomic(&a, |w| w.write_all(b"old a")).unwrap();
        // `b` is new; a non-empty directory stands where `c` goes, so its rename fails.
        fs::create_dir(&c).unwrap();
        fs::write(c.join("x"), "x").unwrap();
        let pending = vec![
            prepare(&a, |w| w.write_all(b"new a")).unwrap(),
            prepare(&b, |w| w.write_all(b"new b")).unwrap(),
            prepare(&c, |w| w.write_all(b"new c")).unwrap(),
        ];
        let err = commit(pending).unwrap_err();
        assert!(err.to_string().contains("c.jsonl"), "{err}");
        assert_eq!(fs::read_to_string(&a).unwrap(), "old a");
        assert!(!b.exists());
        assert_eq!(names(dir.path()), vec!["a.jsonl", "c.jsonl"]);

        fs::remove_dir_all(&c).unwrap();
        let pending = vec![
            prepare(&a, |w| w.write_all(b"new a")).unwrap(),
            prepare(&c, |w| w.write_all(b"new c")).unwrap(),
        ];
        commit(pending).unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "new a");
        assert_eq!(names(dir.path()), vec!["a.jsonl", "c.jsonl"]);
        assert!(!lock(&REGISTRY).iter().any(|p| p.starts_with(dir.path())));
    }

    #[test]
    fn publishing_nests_on_one_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        publishing(|| write_atomic(&path, |w| w.write_all(b"x"))).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn creates_missing_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/out.jsonl");
        write_atomic(&path, |w| w.write_all(b"x")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn temp_paths_are_registered_while_they_exist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        write_atomic(&path, |w| {
            let registered: Vec<PathBuf> = lock(&REGISTRY)
                .iter()
                .filter(|p| p.starts_with(dir.path()))
                .cloned()
                .collect();
            assert_eq!(registered.len(), 1);
            assert!(registered[0].is_file());
            w.write_all(b"x")
        })
        .unwrap();
        assert!(!lock(&REGISTRY).iter().any(|p| p.starts_with(dir.path())));
        let staging = TempPath::new_dir(dir.path(), ".afinar-run-").unwrap();
        fs::write(staging.path().join("train.jsonl"), "x").unwrap();
        assert!(lock(&REGISTRY).contains(staging.path()));
        let kept = staging.path().to_owned();
        drop(staging);
        assert!(!kept.exists());
        assert!(!lock(&REGISTRY).contains(&kept));
    }

    #[test]
    fn stale_paths_of_dead_processes_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        // No Linux pid reaches u32::MAX - 1 (pid_max is at most 2^22).
        let dead = dir.path().join(format!(".afinar-run-{}-abc", u32::MAX - 1));
        let alive = dir
            .path()
            .join(format!(".afinar-run-{}-abc", std::process::id()));
        let foreign = dir.path().join(".afinar-run-xyz");
        for d in [&dead, &alive, &foreign] {
            fs::create_dir(d).unwrap();
            fs::write(d.join("f"), "x").unwrap();
        }
        let removed = remove_stale(dir.path(), ".afinar-run-");
        if cfg!(target_os = "linux") {
            assert_eq!(removed, vec![dead.clone()]);
            assert!(!dead.exists());
        }
        assert!(alive.exists() && foreign.exists());
    }

    #[test]
    fn a_killed_writers_temp_file_is_removed_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(format!(".afinar-{}-abc.tmp", u32::MAX - 1));
        fs::write(&dead, "half").unwrap();
        write_atomic(&dir.path().join("out.jsonl"), |w| w.write_all(b"x\n")).unwrap();
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        if cfg!(target_os = "linux") {
            assert_eq!(names, vec!["out.jsonl"]);
        }
    }
}
