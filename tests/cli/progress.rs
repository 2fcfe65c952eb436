//! Progress bars: never on a pipe, never in stdout or files, `--quiet` everywhere; and
//! the streaming convert's guarantees seen from the command line.

use crate::common::{afinar, fixture, read, run};

/// The long-running commands, each writing into `dir`.
fn long_commands(dir: &std::path::Path) -> Vec<Vec<String>> {
    let d = |name: &str| dir.join(name).display().to_string();
    let f = |name: &str| fixture(name).display().to_string();
    vec![
        vec![
            "convert".into(),
            f("simples-nacional.csv"),
            "-o".into(),
            d("c.jsonl"),
        ],
        vec!["check".into(), f("simples-nacional.jsonl")],
        vec![
            "dedupe".into(),
            f("curate/treino.jsonl"),
            "-o".into(),
            d("d.jsonl"),
        ],
        vec![
            "split".into(),
            f("simples-nacional.jsonl"),
            "--out-dir".into(),
            d("split"),
        ],
        vec![
            "run".into(),
            "pipelines/simples-nacional.toml".into(),
            "--out-dir".into(),
            d("run"),
        ],
    ]
}

#[test]
fn no_progress_is_drawn_on_a_pipe_even_outside_ci() {
    let dir = tempfile::tempdir().unwrap();
    for args in long_commands(dir.path()) {
        // Standard error is a pipe here; without CI set, only the terminal test is left.
        let (code, stdout, stderr) = run(afinar().args(&args).env_remove("CI"));
        assert!(code == 0 || code == 1, "{args:?}: {code} {stderr}");
        for (what, text) in [("stderr", &stderr), ("stdout", &stdout)] {
            assert!(
                !text.contains('\x1b') && !text.contains('\r'),
                "{args:?} drew progress on {what}: {text:?}"
            );
        }
    }
}

#[test]
fn quiet_is_taken_by_every_long_command_and_changes_no_output() {
    let loud = tempfile::tempdir().unwrap();
    let quiet = tempfile::tempdir().unwrap();
    for (a, b) in long_commands(loud.path())
        .into_iter()
        .zip(long_commands(quiet.path()))
    {
        let (code_a, out_a, err_a) = run(afinar().args(&a));
        let (code_b, out_b, err_b) = run(afinar().args(&b).arg("--quiet"));
        assert_eq!(code_a, code_b, "{b:?}: {err_b}");
        let filter = |t: &str, d: &std::path::Path| t.replace(&d.display().to_string(), "[TMP]");
        assert_eq!(filter(&out_a, loud.path()), filter(&out_b, quiet.path()));
        assert_eq!(filter(&err_a, loud.path()), filter(&err_b, quiet.path()));
    }
    for name in [
        "c.jsonl",
        "c.rejects.jsonl",
        "d.jsonl",
        "split/train.jsonl",
        "run/train.jsonl",
    ] {
        assert_eq!(
            read(&loud.path().join(name)),
            read(&quiet.path().join(name)),
            "{name}"
        );
    }
}

/// A spreadsheet export longer than many batches, with rejects and multi-line cells.
fn long_csv(rows: usize) -> String {
    let mut body = String::from("Tema;Pergunta;Resposta\r\n");
    for i in 0..rows {
        if i % 101 == 50 {
            body.push_str(&format!("IRPF;Pergunta {i} sem resposta?;\r\n"));
        } else {
            body.push_str(&format!(
                "MEI;\"Como emito a nota {i}?\";\"Pelo portal, com o código de acesso.\r\nO \"\"DAS\"\" custa R$ {},00.\"\r\n",
                i % 90 + 10
            ));
        }
    }
    body
}

#[test]
fn convert_gives_the_same_bytes_on_one_thread_or_several() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("longo.csv");
    std::fs::write(&input, long_csv(7000)).unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "4"] {
        let out = dir.path().join(format!("out-{threads}.jsonl"));
        let (code, _, stderr) = run(afinar()
            .env("RAYON_NUM_THREADS", threads)
            .args(["convert", "--quiet", "-o"])
            .arg(&out)
            .arg(&input));
        assert_eq!(code, 0, "{stderr}");
        let rejects = dir.path().join(format!("out-{threads}.rejects.jsonl"));
        outputs.push((
            std::fs::read(&out).unwrap(),
            std::fs::read(&rejects).unwrap(),
        ));
    }
    let rejected = (0..7000).filter(|i| i % 101 == 50).count();
    let lines = |b: &[u8]| b.iter().filter(|c| **c == b'\n').count();
    assert_eq!(lines(&outputs[0].0), 7000 - rejected);
    assert_eq!(lines(&outputs[0].1), rejected);
    assert!(outputs.iter().all(|o| *o == outputs[0]));
}

#[test]
fn a_convert_failing_on_its_last_source_changes_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("longo.csv");
    std::fs::write(&good, long_csv(5000)).unwrap();
    let bad = dir.path().join("quebrado.xlsx");
    std::fs::write(&bad, b"PK\x03\x04 cut short").unwrap();
    let out = dir.path().join("train.jsonl");
    let rejects = dir.path().join("train.rejects.jsonl");
    std::fs::write(&out, "previous\n").unwrap();
    std::fs::write(&rejects, "previous rejects\n").unwrap();
    let (code, stdout, stderr) = run(afinar()
        .args(["convert", "-o"])
        .arg(&out)
        .arg(&good)
        .arg(&bad));
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("quebrado.xlsx"), "{stderr}");
    assert_eq!(read(&out), "previous\n");
    assert_eq!(read(&rejects), "previous rejects\n");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".afinar"))
        .collect();
    assert!(left.is_empty(), "temp files left: {left:?}");
    // To standard output: nothing at all.
    let (code, stdout, _) = run(afinar().args(["convert", "-o", "-"]).arg(&good).arg(&bad));
    assert_eq!((code, stdout.as_str()), (2, ""));
}
