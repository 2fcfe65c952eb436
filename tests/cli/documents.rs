//! Word documents and saved web pages as sources: `convert` and `run` take them like any
//! other, with origins a user can find and every dropped question in the rejects.

use serde_json::Value;

use crate::common::{afinar, filter, read, run};

const DOCX: &str = "fixtures/sources/docx/manual-duvidas.docx";
const HTML: &str = "fixtures/sources/html/faq-simples.html";
const HTM: &str = "fixtures/sources/html/faq-antigo.htm";

#[test]
fn convert_reads_word_documents_and_web_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("faq.jsonl");
    let (code, _, stderr) = run(afinar()
        .args(["convert", DOCX, HTML, HTM, "-o"])
        .arg(&out)
        .args([
            "--system",
            "Você é um assistente especializado no Simples Nacional.",
        ]));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("documents_summary", filter(&stderr, tmp.path()));

    let lines: Vec<Value> = read(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10 + 10 + 3);
    // Accents, `R$ 4,8 milhões` and Markdown structure come through as written.
    let quem_pode = &lines[1]["messages"];
    assert_eq!(quem_pode[1]["content"], "Quem pode optar?");
    assert!(quem_pode[2]["content"].as_str().unwrap().contains(
        "- tenham receita bruta anual de até R$ 4,8 milhões;\n  - no ano-calendário anterior."
    ));
    let rejects = read(&tmp.path().join("faq.rejects.jsonl"));
    insta::assert_snapshot!("documents_rejects", rejects);
}

#[test]
fn a_pipeline_takes_documents_as_sources_and_accounts_for_them() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("docs.toml");
    std::fs::write(
        &pipeline,
        format!(
            "system = \"Você é um assistente especializado no Simples Nacional.\"\n\
             [[sources]]\npath = \"{DOCX}\"\n[[sources]]\npath = \"fixtures/sources/html/*.htm*\"\n\
             [split]\nvalidation = 3\nseed = 7\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(&out));
    assert!(code == 0 || code == 1, "exit {code}\n{stderr}");
    let manifest: Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    let a = &manifest["accounting"];
    assert_eq!(a["closes"], true, "{a}");
    assert_eq!(a["rows_read"], 13 + 12 + 4, "{a}");
    assert_eq!(a["rejected"], 3 + 2 + 1, "{a}");
    let formats: Vec<&str> = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["docx", "html", "html"]);
    let rejects = read(&out.join("rejects.jsonl"));
    assert!(
        rejects.contains("manual-duvidas.docx:table 2 row 5"),
        "{rejects}"
    );
    assert!(rejects.contains("faq-simples.html:JSON-LD[4]"), "{rejects}");
}

#[test]
fn check_sends_documents_to_convert_and_old_word_files_are_named() {
    let (code, _, stderr) = run(afinar().args(["check", DOCX]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is a Word document source, not JSON Lines")
            && stderr.contains(
                "afinar convert fixtures/sources/docx/manual-duvidas.docx -o train.jsonl"
            ),
        "{stderr}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let doc = tmp.path().join("Manual antigo.doc");
    std::fs::write(&doc, b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1").unwrap();
    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(&doc)
        .arg("-o")
        .arg(tmp.path().join("o.jsonl")));
    assert_eq!(code, 2, "{stderr}");
    insta::assert_snapshot!("documents_old_word", filter(&stderr, tmp.path()));
}
