//! Parquet in and out (`--features parquet`; CI builds and runs these with it): tables
//! written by another tool read back to their pairs, afinar's tables read by pyarrow, and
//! a pipeline exporting Parquet. Without the feature, the clear error a user gets.

use std::path::Path;

#[cfg(feature = "parquet")]
use serde_json::Value;

use crate::common::{afinar, fixture, root, run};
#[cfg(feature = "parquet")]
use crate::common::{filter, read};

const PIPELINE: &str = r#"
name = "parquet"
system = "Você é um assistente de contabilidade."

[[sources]]
path = "SOURCE"

[split]
validation = 3
seed = 7

[model]
name = "openai/gpt-oss-20b"

[export]
parquet = true
"#;

fn pipeline(dir: &Path, source: &Path) -> std::path::PathBuf {
    let path = dir.join("pipeline.toml");
    let text = PIPELINE.replace("SOURCE", &source.display().to_string().replace('\\', "/"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `(question, answer)` of each JSONL chat line, in order.
#[cfg(feature = "parquet")]
fn chat_pairs(path: &Path) -> Vec<(String, String)> {
    read(path)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let msgs = v["messages"].as_array().unwrap();
            let of = |role: &str| {
                msgs.iter()
                    .find(|m| m["role"] == role)
                    .map(|m| m["content"].as_str().unwrap().to_owned())
                    .unwrap()
            };
            (of("user"), of("assistant"))
        })
        .collect()
}

#[cfg(feature = "parquet")]
#[test]
fn a_table_written_by_pyarrow_reads_back_to_its_pairs_and_names_the_null_row() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("faq.jsonl");
    let rejects = tmp.path().join("rejects.jsonl");
    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(fixture("sources/parquet/faq-pyarrow.parquet"))
        .arg("-o")
        .arg(&out)
        .arg("--rejects")
        .arg(&rejects));
    assert_eq!(code, 0, "{stderr}");
    let pairs = chat_pairs(&out);
    let questions: Vec<&str> = pairs.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(
        questions,
        [
            "Qual é o limite de faturamento do Simples Nacional?",
            "O MEI pode ter empregado?",
            "Quando vence o DAS?",
            "Qual a alíquota inicial do Anexo III?",
        ]
    );
    assert_eq!(
        pairs[0].1,
        "O limite é de R$ 4,8 milhões de receita bruta por ano."
    );
    assert_eq!(
        pairs[2].1,
        "Até o dia 20 do mês seguinte ao da apuração.\nSe cair em feriado, no dia útil anterior."
    );
    // The row with a null answer is a reject naming its data row (the 4th), not dropped.
    let rejected: Vec<Value> = read(&rejects)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let origin = rejected[0]["origin"].as_str().unwrap();
    assert!(origin.ends_with("faq-pyarrow.parquet:4"), "{origin}");
    assert!(
        rejected[0]["raw"]
            .as_str()
            .unwrap()
            .contains("Posso parcelar")
    );
}

/// Python with pyarrow, or `None` (then the test says so) unless CI requires it.
#[cfg(feature = "parquet")]
fn pyarrow() -> Option<&'static str> {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("AFINAR_REQUIRE_PYARROW").is_some() {
        panic!("AFINAR_REQUIRE_PYARROW is set but `python3 -c 'import pyarrow'` fails");
    }
    ok.then_some("python3")
}

/// The table's rows as pyarrow reads them: `{column: [values]}`.
#[cfg(feature = "parquet")]
fn pyarrow_columns(python: &str, table: &Path) -> serde_json::Map<String, Value> {
    let script = "import json, sys, pyarrow.parquet as pq\n\
                  t = pq.read_table(sys.argv[1])\n\
                  print(json.dumps(t.to_pydict(), ensure_ascii=False))";
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(table)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

#[cfg(feature = "parquet")]
#[test]
fn pyarrow_reads_afinars_table_with_the_same_pairs_and_accents() {
    let Some(python) = pyarrow() else {
        eprintln!("skipped: pyarrow is not installed (pip install pyarrow)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("faq.parquet");
    let jsonl = tmp.path().join("faq.jsonl");
    let source = fixture("sources/faq-cp1252.csv");
    for out in [&table, &jsonl] {
        let (code, _, stderr) = run(afinar().arg("convert").arg(&source).arg("-o").arg(out));
        assert_eq!(code, 0, "{stderr}");
    }
    let columns = pyarrow_columns(python, &table);
    let text = |name: &str| -> Vec<String> {
        columns[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let pairs: Vec<(String, String)> = text("question").into_iter().zip(text("answer")).collect();
    assert_eq!(pairs, chat_pairs(&jsonl));
    assert!(pairs.len() >= 3, "{pairs:?}");
    assert!(
        pairs
            .iter()
            .any(|(q, a)| [q, a].iter().any(|t| t.contains('ã') || t.contains('ç'))),
        "no accented text came through: {pairs:?}"
    );
    // Every row names where it came from.
    assert!(text("origin").iter().all(|o| o.contains("faq-cp1252.csv:")));
}

#[cfg(feature = "parquet")]
#[test]
fn a_pipeline_exports_parquet_tables_that_read_back_to_its_jsonl() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let file = pipeline(tmp.path(), &root().join("fixtures/simples-nacional.csv"));
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&file)
        .arg("--out-dir")
        .arg(&out_dir));
    assert_eq!(code, 0, "{stderr}");
    for set in ["train", "validation"] {
        let table = out_dir.join(format!("{set}.parquet"));
        let back = tmp.path().join(format!("{set}-back.jsonl"));
        let (code, _, stderr) = run(afinar().arg("convert").arg(&table).arg("-o").arg(&back));
        assert_eq!(code, 0, "{set}: {stderr}");
        assert_eq!(
            chat_pairs(&back),
            chat_pairs(&out_dir.join(format!("{set}.jsonl"))),
            "{set}"
        );
        // The pipeline's system prompt is the `system` column of every row.
        if let Some(python) = pyarrow() {
            let columns = pyarrow_columns(python, &table);
            let system = columns["system"].as_array().unwrap();
            assert!(!system.is_empty());
            assert!(
                system
                    .iter()
                    .all(|v| v == "Você é um assistente de contabilidade."),
                "{system:?}"
            );
        }
    }
}

#[cfg(feature = "parquet")]
#[test]
fn a_pipeline_with_multi_turn_examples_writes_no_partial_table() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("conversas.jsonl");
    let turn = |q: &str, a: &str| {
        format!(r#"{{"role":"user","content":"{q}"}},{{"role":"assistant","content":"{a}"}}"#)
    };
    let topics = [
        ("o prazo do DAS", "Até o dia 20 do mês seguinte."),
        ("o limite do MEI", "R$ 81 mil por ano."),
        ("a alíquota do Anexo I", "Começa em 4% na primeira faixa."),
        (
            "o Fator R",
            "A folha dividida pela receita bruta dos últimos 12 meses.",
        ),
        (
            "a DASN-SIMEI",
            "A declaração anual do MEI, entregue até 31 de maio.",
        ),
        (
            "o PGDAS-D",
            "O programa que calcula o DAS das empresas do Simples.",
        ),
        (
            "a exclusão de ofício",
            "Quando a Receita exclui a empresa por irregularidade.",
        ),
        ("o sublimite estadual", "R$ 3,6 milhões para ICMS e ISS."),
        (
            "a opção pelo Simples",
            "Feita em janeiro, pelo Portal do Simples Nacional.",
        ),
        ("o parcelamento", "Em até 60 parcelas mensais."),
        (
            "o CNAE impeditivo",
            "Uma atividade que não pode optar pelo Simples.",
        ),
        ("a receita bruta", "O produto da venda de bens e serviços."),
        ("o ICMS-ST", "É recolhido fora do DAS."),
        (
            "o desenquadramento",
            "A saída do MEI por excesso de receita.",
        ),
    ];
    let mut lines = String::new();
    for (topic, answer) in topics {
        lines.push_str(&format!(
            "{{\"messages\":[{}]}}\n",
            turn(&format!("O que é {topic}?"), answer)
        ));
    }
    lines.push_str(&format!(
        "{{\"messages\":[{},{}]}}\n",
        turn("Qual o limite do MEI?", "R$ 81 mil por ano."),
        turn("E se eu passar?", "Você é desenquadrado.")
    ));
    std::fs::write(&source, lines).unwrap();
    let out_dir = tmp.path().join("out");
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(pipeline(tmp.path(), &source))
        .arg("--out-dir")
        .arg(&out_dir));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        filter(&stderr, tmp.path()).contains(
            "`[export] parquet`: 1 multi-turn example cannot be one table row (first: `[TMP]/conversas.jsonl:15`)"
        ),
        "{stderr}"
    );
    assert!(!out_dir.join("train.parquet").exists());
    assert!(!out_dir.join("validation.parquet").exists());
    // The JSONL outputs still hold every example, the conversation whole.
    let all = read(&out_dir.join("train.jsonl")) + &read(&out_dir.join("validation.jsonl"));
    assert_eq!(all.lines().count(), 15);
    assert!(all.contains("E se eu passar?"));
}

#[cfg(not(feature = "parquet"))]
#[test]
fn without_the_feature_parquet_says_how_to_rebuild_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("faq.parquet");
    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(fixture("sources/parquet/faq-pyarrow.parquet"))
        .arg("-o")
        .arg(tmp.path().join("faq.jsonl")));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("rebuild afinar with the `parquet` feature"),
        "{stderr}"
    );
    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(fixture("sources/artigo.md"))
        .arg("-o")
        .arg(&table));
    assert_eq!(code, 2, "{stderr}");
    assert!(!table.exists());
    let out_dir = tmp.path().join("out");
    let file = pipeline(tmp.path(), &root().join("fixtures/sources/faq-cp1252.csv"));
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&file)
        .arg("--out-dir")
        .arg(&out_dir));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("rebuild afinar with the `parquet` feature"),
        "{stderr}"
    );
    assert!(!out_dir.join("train.jsonl").exists());
}
