//! Malformed inputs: every case must end without a panic or a hang, exit 1 or 2, and
//! name the file (and the line where there is one).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{afinar, run};

/// One malformed input: file name and bytes.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut garbage = Vec::with_capacity(4096);
    let mut x: u32 = 0x9E37_79B9;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push((x & 0xFF) as u8);
    }
    let mut deep = "[".repeat(100_000);
    deep.push_str(&"]".repeat(100_000));
    let mut huge_line = b"{\"prompt\": \"".to_vec();
    huge_line.extend(std::iter::repeat_n(b'a', 20 * 1024 * 1024));
    huge_line.extend_from_slice(b"\", \"completion\": \"b\"}\n");
    let wide_header: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
    let wide = format!(
        "Pergunta,Resposta,{}\nA?,B,{}\n",
        wide_header.join(","),
        vec!["x"; 10_000].join(",")
    );
    vec![
        ("empty.csv", Vec::new()),
        ("empty.jsonl", Vec::new()),
        ("bom-only.csv", b"\xEF\xBB\xBF".to_vec()),
        ("bom-only.jsonl", b"\xEF\xBB\xBF".to_vec()),
        ("garbage.csv", garbage.clone()),
        ("garbage.jsonl", garbage.clone()),
        ("garbage.json", garbage.clone()),
        ("garbage.tsv", garbage),
        (
            "invalid-utf8.jsonl",
            b"{\"prompt\": \"a\xff\xfeb\", \"completion\": \"c\"}\n".to_vec(),
        ),
        ("deep.jsonl", deep.clone().into_bytes()),
        ("deep.json", deep.into_bytes()),
        ("huge-line.jsonl", huge_line),
        (
            "unbalanced.csv",
            b"Pergunta,Resposta\n\"A?,B\nC?,D\n".to_vec(),
        ),
        ("wide.csv", wide.into_bytes()),
        ("nul.csv", b"Pergunta,Resposta\nA\0?,B\0\n".to_vec()),
        (
            "nul.jsonl",
            b"\0\0\0\n{\"prompt\":\"a\0\",\"completion\":\"b\"}\n".to_vec(),
        ),
        ("only-blank.jsonl", b"\n\n  \n\r\n".to_vec()),
    ]
}

fn check_outcome(name: &str, input: &Path, code: i32, stderr: &str) {
    assert!(!stderr.contains("panicked"), "{name}: panic\n{stderr}");
    assert!(
        (1..=2).contains(&code) || code == 0,
        "{name}: exit {code}\n{stderr}"
    );
    let file = input.file_name().unwrap().to_string_lossy();
    assert!(
        stderr.contains(&*file),
        "{name}: the message does not name the file\n{stderr}"
    );
}

#[test]
fn convert_survives_every_malformed_input() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in cases() {
        let input = tmp.path().join(name);
        std::fs::write(&input, &bytes).unwrap();
        let out = tmp.path().join(format!("{name}.out.jsonl"));
        let (code, _, stderr) = run(afinar()
            .arg("convert")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .timeout(Duration::from_secs(120)));
        check_outcome(name, &input, code, &stderr);
        // Valid content inside a malformed file still converts; nothing valid means exit 1.
        if code == 0 {
            assert!(
                std::fs::read_to_string(&out).unwrap().lines().count() > 0,
                "{name}: exit 0 but nothing written"
            );
        }
    }
}

#[test]
fn directories_and_missing_paths_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().join("pasta.csv");
    std::fs::create_dir(&dir).unwrap();
    for input in [dir, tmp.path().join("nao-existe.jsonl")] {
        let (code, _, stderr) = run(afinar()
            .arg("convert")
            .arg(&input)
            .arg("-o")
            .arg(tmp.path().join("o.jsonl")));
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(&*input.file_name().unwrap().to_string_lossy()),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
