//! Crash safety and determinism.
//!
//! An interrupted command (SIGINT, SIGTERM, a stage failing late) leaves no half-written
//! output and no temp litter, and keeps the previous outputs; outputs are byte-identical
//! across runs and thread counts. Signals are sent with the `kill` command (no extra
//! dependency); Unix only.
//!
//! A run failing early (a missing source) is `pipeline::a_failed_run_keeps_the_previous_outputs`.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{afinar, fixture, root, run};

const OUTPUTS: [&str; 6] = [
    "train.jsonl",
    "validation.jsonl",
    "rejects.jsonl",
    "duplicates.json",
    "manifest.json",
    "report.html",
];

/// Only to stop a hung child; never an assertion on speed.
const HANG: Duration = Duration::from_secs(300);

/// The binary as a plain process, so a test can signal it while it runs.
fn spawn(args: &[&std::ffi::OsStr]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_afinar"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("afinar starts")
}

fn signal(child: &Child, name: &str) {
    // The child may have finished already (kill then fails); its exit status tells.
    Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .stderr(Stdio::null())
        .status()
        .expect("kill runs");
}

/// Waits for the child (killing it if it hangs) and returns its status and stderr.
fn finish(mut child: Child) -> (ExitStatus, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return (status, stderr);
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            panic!("afinar hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every file under `dir`, by relative path, with its bytes.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Temp files and staging directories left in `dir`.
fn litter(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".afinar"))
        .collect()
}

/// `n` distinct Portuguese-looking Q&A lines (varied words, so curation has real work).
fn big_jsonl(path: &Path, n: usize) {
    const WORDS: [&str; 24] = [
        "alíquota",
        "DAS",
        "MEI",
        "faturamento",
        "anexo",
        "ICMS",
        "ISS",
        "receita",
        "prazo",
        "declaração",
        "PGDAS",
        "sublimite",
        "folha",
        "fator",
        "retenção",
        "parcelamento",
        "exclusão",
        "opção",
        "CNAE",
        "nota",
        "certidão",
        "multa",
        "juros",
        "restituição",
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut word = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        WORDS[(x % WORDS.len() as u64) as usize]
    };
    let mut text = String::new();
    for i in 0..n {
        let q: Vec<&str> = (0..8).map(|_| word()).collect();
        let a: Vec<&str> = (0..24).map(|_| word()).collect();
        let line = serde_json::json!({"messages": [
            {"role": "user", "content": format!("Pergunta {i}: como fica {}?", q.join(" "))},
            {"role": "assistant", "content": format!("Resposta {i}: {} (R$ {i},00).", a.join(" "))},
        ]});
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// When the signal goes: at once, after a moment, or once the run is writing outputs.
#[derive(Debug, Clone, Copy)]
enum When {
    AtOnce,
    After(Duration),
    /// As soon as an entry starting with `.afinar` appears in the output directory.
    Writing,
}

const WHENS: [When; 4] = [
    When::AtOnce,
    When::After(Duration::from_millis(300)),
    When::After(Duration::from_millis(1500)),
    When::Writing,
];

fn wait_for(when: When, child: &mut Child, dir: &Path) {
    match when {
        When::AtOnce => {}
        When::After(d) => std::thread::sleep(d),
        When::Writing => {
            let start = Instant::now();
            loop {
                if dir.is_dir() && !litter(dir).is_empty() {
                    return;
                }
                // Finishing before any temp path showed would make this case test nothing.
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "finished before a temp path was seen"
                );
                assert!(start.elapsed() < HANG, "no temp path appeared");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// The exit status of an interrupted command: 130 from the handler; 0 if it finished
/// first. Killed by the signal itself only when sent at once (before the handler is set).
fn assert_interrupted(when: When, status: ExitStatus, stderr: &str) {
    use std::os::unix::process::ExitStatusExt;
    assert!(!stderr.contains("panicked"), "{stderr}");
    match status.code() {
        Some(130) => assert!(stderr.contains("Interrupted"), "{stderr}"),
        Some(0) => {}
        None => assert!(
            matches!(when, When::AtOnce) && status.signal().is_some(),
            "{when:?}: {status:?}\n{stderr}"
        ),
        Some(code) => panic!("{when:?}: exit {code}\n{stderr}"),
    }
}

/// Starts `afinar ARGS`, sends `sig` at `when` (watching `dir` for temp paths), and
/// asserts it ended as an interrupted command should; returns its status and stderr.
fn interrupt(args: &[&std::ffi::OsStr], when: When, sig: &str, dir: &Path) -> (ExitStatus, String) {
    let mut child = spawn(args);
    wait_for(when, &mut child, dir);
    signal(&child, sig);
    let (status, stderr) = finish(child);
    assert_interrupted(when, status, &stderr);
    (status, stderr)
}

fn interrupted_run_keeps_previous_outputs(sig: &str) {
    for when in WHENS {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join("faq.jsonl");
        let pipeline = tmp.path().join("p.toml");
        std::fs::write(
            &pipeline,
            format!(
                "[[sources]]\npath = \"{}\"\n[split]\nvalidation = 0.1\n",
                source.display()
            ),
        )
        .unwrap();
        let out = tmp.path().join("out");
        big_jsonl(&source, 60);
        let (code, _, stderr) = run(afinar()
            .arg("run")
            .arg(&pipeline)
            .arg("--out-dir")
            .arg(&out));
        assert_eq!(code, 0, "{stderr}");
        let before = contents(&out);
        assert_eq!(before.len(), OUTPUTS.len());

        big_jsonl(&source, 3000);
        let (status, stderr) = interrupt(
            &[
                "run".as_ref(),
                pipeline.as_os_str(),
                "--out-dir".as_ref(),
                out.as_os_str(),
            ],
            when,
            sig,
            &out,
        );

        assert!(litter(&out).is_empty(), "{when:?}: left {:?}", litter(&out));
        let after = contents(&out);
        if after != before {
            // Only a run that published before the signal may change outputs, and then
            // every output is the new one: the manifest describes the files beside it.
            assert!(
                status.code() == Some(0) || stderr.contains("after the outputs were written"),
                "{when:?}: outputs changed by an interrupted run\n{stderr}"
            );
            let m: Value = serde_json::from_slice(&after["manifest.json"]).unwrap();
            assert_eq!(m["accounting"]["rows_read"], 3000);
            for o in m["outputs"].as_array().unwrap() {
                let name = o["path"].as_str().unwrap();
                let lines = after[name].iter().filter(|b| **b == b'\n').count();
                assert_eq!(o["examples"].as_u64().unwrap() as usize, lines, "{name}");
            }
        }
    }
}

#[test]
fn sigint_during_run_keeps_the_previous_outputs_and_no_staging() {
    interrupted_run_keeps_previous_outputs("INT");
}

#[test]
fn sigterm_during_run_keeps_the_previous_outputs_and_no_staging() {
    interrupted_run_keeps_previous_outputs("TERM");
}

#[test]
fn interrupted_convert_keeps_the_previous_file_and_no_temp() {
    let mut big = String::from("Pergunta;Resposta;Tema\n");
    for i in 0..200_000 {
        big.push_str(&format!(
            "Qual é o prazo {i} do DAS?;Até o dia {} do mês seguinte, R$ {i},00;DAS\n",
            i % 28 + 1
        ));
    }
    for sig in ["INT", "TERM"] {
        for when in WHENS {
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join("saida");
            let target = out.join("out.jsonl");
            let (code, _, stderr) = run(afinar()
                .arg("convert")
                .arg(fixture("simples-nacional.csv"))
                .arg("-o")
                .arg(&target));
            assert!(code <= 1, "{stderr}");
            let before = std::fs::read(&target).unwrap();
            let input = tmp.path().join("big.csv");
            std::fs::write(&input, &big).unwrap();
            let (status, stderr) = interrupt(
                &[
                    "convert".as_ref(),
                    input.as_os_str(),
                    "-o".as_ref(),
                    target.as_os_str(),
                ],
                when,
                sig,
                &out,
            );
            assert!(
                litter(&out).is_empty(),
                "{sig} {when:?}: left {:?}",
                litter(&out)
            );
            let after = std::fs::read(&target).unwrap();
            if after != before {
                assert_eq!(status.code(), Some(0), "{sig} {when:?}: changed\n{stderr}");
                assert_eq!(after.iter().filter(|b| **b == b'\n').count(), 200_000);
            }
        }
    }
}

/// A run that fails while publishing (a directory stands where `axolotl.yml` goes, so
/// that rename fails after train.jsonl and others were moved): the moved files are put
/// back and the previous outputs stay.
#[test]
fn a_run_failing_while_publishing_puts_the_previous_outputs_back() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("p.toml");
    let base = "[[sources]]\npath = \"fixtures/simples-nacional.csv\"\n[split]\nvalidation = 5\n";
    std::fs::write(&pipeline, base).unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let blocker = out.join("axolotl.yml");
    std::fs::create_dir(&blocker).unwrap();
    std::fs::write(blocker.join("keep"), "x").unwrap();
    let before = contents(&out);

    // Different outputs this time (another system message), so a mix would show.
    std::fs::write(
        &pipeline,
        format!("system = \"Seja breve.\"\n{base}[export]\naxolotl = true\n"),
    )
    .unwrap();
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(&out));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("axolotl.yml"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(contents(&out) == before, "outputs changed by a failed run");
    assert!(litter(&out).is_empty(), "left {:?}", litter(&out));
}

/// A staging directory left by a process that died (SIGKILL: no handler runs) is removed
/// by the next run; one whose process is alive is left alone. Linux only: elsewhere afinar
/// cannot tell safely whether a process is gone, and leaves them.
#[cfg(target_os = "linux")]
#[test]
fn a_dead_runs_staging_directory_is_removed_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // Linux pids stop at 2^22; this one never exists.
    let dead = out.join(".afinar-run-4294967294-0123456789ab");
    let alive = out.join(format!(".afinar-run-{}-0123456789ab", std::process::id()));
    for d in [&dead, &alive] {
        std::fs::create_dir(d).unwrap();
        std::fs::write(d.join("train.jsonl"), "{}\n").unwrap();
    }
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg("pipelines/simples-nacional.toml")
        .arg("--out-dir")
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert!(!dead.exists(), "the dead run's staging is still there");
    assert!(alive.exists(), "a live process's staging was removed");
}

/// Every output of convert, check, dedupe, split and run, byte for byte.
fn outputs_with_threads(threads: &str, work: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::create_dir_all(work).unwrap();
    let cmd = |args: &[&std::ffi::OsStr]| {
        let (code, stdout, stderr) = run(afinar().env("RAYON_NUM_THREADS", threads).args(args));
        assert!(code <= 1, "{args:?}: exit {code}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stdout
    };
    let w = |name: &str| work.join(name).into_os_string();
    let f = |name: &str| fixture(name).into_os_string();
    cmd(&[
        "convert".as_ref(),
        &f("simples-nacional.csv"),
        &f("simples-nacional.jsonl"),
        &f("sources/faq-cp1252.csv"),
        &f("sources/faq.ods"),
        &f("sources/artigo.md"),
        &f("sources/sharegpt.json"),
        &f("check/rules.jsonl"),
        "-o".as_ref(),
        &w("convert.jsonl"),
        "--rejects".as_ref(),
        &w("convert-rejects.jsonl"),
    ]);
    let check = cmd(&[
        "check".as_ref(),
        &f("check/rules.jsonl"),
        &f("redact/planted.jsonl"),
        "--format".as_ref(),
        "json".as_ref(),
        "--per-example".as_ref(),
        &w("per-example.jsonl"),
    ]);
    std::fs::write(work.join("check.stdout.json"), check).unwrap();
    cmd(&[
        "dedupe".as_ref(),
        &f("curate/faq-duplicados.csv"),
        "-o".as_ref(),
        &w("dedupe.jsonl"),
        "--report".as_ref(),
        &w("dedupe-report.json"),
    ]);
    cmd(&[
        "split".as_ref(),
        &f("curate/reformulacoes.jsonl"),
        &f("simples-nacional.jsonl"),
        "--seed".as_ref(),
        "7".as_ref(),
        "--out-dir".as_ref(),
        &w("split"),
    ]);
    cmd(&[
        "run".as_ref(),
        "pipelines/simples-nacional.toml".as_ref(),
        "--out-dir".as_ref(),
        &w("run"),
    ]);
    let out = contents(work);
    std::fs::remove_dir_all(work).unwrap();
    out
}

#[test]
fn outputs_are_identical_across_runs_and_thread_counts() {
    let tmp = tempfile::tempdir().unwrap();
    // The same paths every time, so a path written into an output cannot differ.
    let work = tmp.path().join("work");
    let reference = outputs_with_threads("1", &work);
    assert!(reference.len() >= 12, "{:?}", reference.keys());
    for threads in ["2", "8", "8"] {
        let other = outputs_with_threads(threads, &work);
        assert_eq!(
            reference.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &reference {
            assert!(
                *bytes == other[name],
                "{name} differs between RAYON_NUM_THREADS=1 and {threads}"
            );
        }
    }
}
