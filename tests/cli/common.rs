//! Helpers shared by the CLI tests.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The repository root, where `fixtures/` lives.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("fixtures").join(name)
}

/// The day every CLI test judges the training lifecycle on (`AFINAR_TODAY`).
pub const TODAY: &str = "2026-12-01";

/// `afinar` run from the repository root, so fixture paths print as `fixtures/x.csv`.
pub fn afinar() -> Command {
    #[allow(deprecated)]
    let mut cmd = Command::cargo_bin("afinar").expect("the afinar binary is built");
    // The training lifecycle is judged on a fixed day, never the wall clock.
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env("AFINAR_TODAY", TODAY)
        .env_remove("RUST_LOG");
    cmd
}

/// Runs and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("afinar runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8(stdout).expect("stdout is UTF-8"),
        String::from_utf8(stderr).expect("stderr is UTF-8"),
    )
}

/// Replaces a temp directory's path with `[TMP]` so snapshots are stable.
pub fn filter(text: &str, tmp: &Path) -> String {
    text.replace(&tmp.display().to_string(), "[TMP]")
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A headless Chromium on PATH, or `None` (which fails the test where CI requires it:
/// `AFINAR_REQUIRE_CHROMIUM=1`, set by `.ci/run`, which installs it).
pub fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            std::process::Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("AFINAR_REQUIRE_CHROMIUM").is_none(),
            "Chromium is required but missing"
        );
        eprintln!("skipped: no chromium on PATH");
    }
    found
}

/// The DOM Chromium builds from `page` (scripts run), with a fresh profile in `profile`.
pub fn rendered_dom(chromium: &str, page: &Path, profile: &Path) -> String {
    let dom = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    String::from_utf8(dom.stdout).expect("the DOM is UTF-8")
}
