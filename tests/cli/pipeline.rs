//! `afinar run` on the bundled pipeline and on pipelines written by the tests.

use std::path::Path;

use serde_json::Value;

use crate::common::{afinar, chromium, filter, read, rendered_dom, run};

const OUTPUTS: [&str; 6] = [
    "train.jsonl",
    "validation.jsonl",
    "rejects.jsonl",
    "duplicates.json",
    "manifest.json",
    "report.html",
];

fn run_pipeline(pipeline: &Path, out: &Path) -> (i32, String, String) {
    run(afinar().arg("run").arg(pipeline).arg("--out-dir").arg(out))
}

fn manifest(out: &Path) -> Value {
    serde_json::from_str(&read(&out.join("manifest.json"))).unwrap()
}

#[test]
fn the_simples_nacional_pipeline_accounts_for_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_pipeline(Path::new("pipelines/simples-nacional.toml"), tmp.path());
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("simples_nacional_summary", filter(&stderr, tmp.path()));
    for name in OUTPUTS {
        assert!(tmp.path().join(name).is_file(), "{name} is written");
    }
    let m = manifest(tmp.path());
    let a = &m["accounting"];
    assert_eq!(a["closes"], true);
    let n = |k: &str| a[k].as_u64().unwrap();
    assert_eq!(
        n("rows_read"),
        n("train") + n("validation") + n("rejected") + n("duplicates") + n("filtered_out")
    );
    // Every rejected row is in rejects.jsonl, every duplicate names its kept twin.
    assert_eq!(
        read(&tmp.path().join("rejects.jsonl")).lines().count() as u64,
        n("rejected")
    );
    let dups: Value = serde_json::from_str(&read(&tmp.path().join("duplicates.json"))).unwrap();
    assert_eq!(
        dups["duplicates"].as_array().unwrap().len() as u64,
        n("duplicates")
    );
    assert!(
        dups["duplicates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["kept"].as_str().is_some_and(|k| k.contains(':')))
    );
    // Outputs are described by their real hash and count.
    let train = std::fs::read(tmp.path().join("train.jsonl")).unwrap();
    assert_eq!(m["outputs"][0]["examples"].as_u64().unwrap(), n("train"));
    assert_eq!(
        train.iter().filter(|b| **b == b'\n').count() as u64,
        n("train")
    );
    assert_eq!(m["outputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(m["estimate"]["billed_tokens"].as_u64().unwrap() > 0);
    // Stratified by Tema: every line of train has the system message.
    for line in read(&tmp.path().join("train.jsonl")).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["messages"][0]["role"], "system");
    }
}

#[test]
fn two_runs_give_byte_identical_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for out in [&a, &b] {
        let (code, _, stderr) = run_pipeline(Path::new("pipelines/simples-nacional.toml"), out);
        assert_eq!(code, 0, "{stderr}");
    }
    for name in OUTPUTS {
        let (x, y) = (
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
        );
        assert!(x == y, "{name} differs between runs");
    }
}

#[test]
fn an_unknown_key_names_the_key_and_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("p.toml");
    std::fs::write(
        &pipeline,
        "[[sources]]\npath = \"fixtures/simples-nacional.csv\"\n\n[split]\nsed = 7\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = run_pipeline(&pipeline, &out);
    assert_eq!(code, 2);
    insta::assert_snapshot!("unknown_key", filter(&stderr, tmp.path()));
    assert!(!out.exists());
}

#[test]
fn a_failed_run_keeps_the_previous_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _, _) = run_pipeline(Path::new("pipelines/simples-nacional.toml"), &out);
    assert_eq!(code, 0);
    let before: Vec<Vec<u8>> = OUTPUTS
        .iter()
        .map(|n| std::fs::read(out.join(n)).unwrap())
        .collect();

    let broken = tmp.path().join("broken.toml");
    std::fs::write(
        &broken,
        "[[sources]]\npath = \"fixtures/simples-nacional.csv\"\n[[sources]]\npath = \"fixtures/nao-existe.csv\"\n",
    )
    .unwrap();
    let (code, _, stderr) = run_pipeline(&broken, &out);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("fixtures/nao-existe.csv"), "{stderr}");
    let after: Vec<Vec<u8>> = OUTPUTS
        .iter()
        .map(|n| std::fs::read(out.join(n)).unwrap())
        .collect();
    assert_eq!(before, after);
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

#[test]
fn filters_meta_and_exports_for_other_trainers() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("p.toml");
    std::fs::write(
        &pipeline,
        r#"
system = "Seja breve."
[[sources]]
path = "fixtures/simples-nacional.csv"
filter = { Tema = ["MEI", "DAS", "Declarações"] }
[split]
validation = 3
stratify = "Tema"
[export]
llama_factory = "sharegpt"
axolotl = true
azure = true
"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = run_pipeline(&pipeline, &out);
    // So few examples are below the service's minimum: the run says so and exits 1,
    // with every output written for the user to inspect.
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr
            .contains("error: train.jsonl: The file has 7 examples; the service needs at least 10"),
        "{stderr}"
    );
    let m = manifest(&out);
    let a = &m["accounting"];
    assert_eq!(a["closes"], true);
    // 11 rows have those topics (one of them rejected for an empty answer).
    assert_eq!(a["rows_read"], 30);
    assert_eq!(
        a["filtered_out"].as_u64().unwrap() + a["rejected"].as_u64().unwrap(),
        30 - 11 + 1
    );
    assert_eq!(a["validation"], 3);
    // Azure wants a BOM.
    assert!(
        std::fs::read(out.join("train.jsonl"))
            .unwrap()
            .starts_with(b"\xEF\xBB\xBF")
    );
    let info: Value =
        serde_json::from_str(&read(&out.join("llama_factory/dataset_info.json"))).unwrap();
    assert_eq!(info["afinar_train"]["formatting"], "sharegpt");
    let lf: Value = serde_json::from_str(&read(&out.join("llama_factory/train.json"))).unwrap();
    assert_eq!(
        lf.as_array().unwrap().len() as u64,
        a["train"].as_u64().unwrap()
    );
    assert_eq!(lf[0]["system"], "Seja breve.");
    assert!(read(&out.join("axolotl.yml")).contains("type: chat_template"));
}

#[test]
fn a_filter_on_a_missing_column_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("p.toml");
    std::fs::write(&pipeline, "[[sources]]\npath = \"fixtures/simples-nacional.csv\"\nfilter = { Status = \"publicado\" }\n").unwrap();
    let (code, _, stderr) = run_pipeline(&pipeline, &tmp.path().join("out"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("has no column `Status` for its filter"),
        "{stderr}"
    );
}

/// The report renders in a real browser with the manifest's counts. Chromium is required
/// in CI (`AFINAR_REQUIRE_CHROMIUM=1`, set by `.ci/run`, which installs it).
#[test]
fn the_html_report_renders_in_chromium() {
    let Some(chromium) = chromium() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _, _) = run_pipeline(Path::new("pipelines/simples-nacional.toml"), &out);
    assert_eq!(code, 0);
    let profile = tmp.path().join("profile");
    let dom = rendered_dom(chromium, &out.join("report.html"), &profile);
    let m = manifest(&out);
    for (id, key) in [
        ("count-read", "rows_read"),
        ("count-train", "train"),
        ("count-validation", "validation"),
        ("count-rejected", "rejected"),
        ("count-duplicates", "duplicates"),
    ] {
        let expected = format!("id=\"{id}\">{}</div>", m["accounting"][key]);
        assert!(
            dom.contains(&expected),
            "{expected} not in the rendered DOM"
        );
    }
    assert!(dom.contains("<svg id=\"histogram\""));
    assert!(dom.contains("class=\"limit\""), "the model limit is marked");
}

#[test]
fn redaction_masks_every_planted_value_and_counts_them() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("p.toml");
    std::fs::write(
        &pipeline,
        "[[sources]]\npath = \"fixtures/redact/planted.jsonl\"\n[dedupe]\nenabled = false\n[split]\nvalidation = 2\n[redact]\nmode = \"placeholder\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (_, _, stderr) = run_pipeline(&pipeline, &out);
    assert!(out.join("manifest.json").is_file(), "{stderr}");
    let expected: Vec<Value> = read(Path::new("fixtures/redact/planted.expected.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let written: String = [
        "train.jsonl",
        "validation.jsonl",
        "rejects.jsonl",
        "report.html",
    ]
    .iter()
    .map(|n| read(&out.join(n)))
    .collect();
    for planted in &expected {
        let value = planted["value"].as_str().unwrap();
        assert!(!written.contains(value), "`{value}` survived redaction");
    }
    let m = manifest(&out);
    let mut by_kind = std::collections::BTreeMap::<String, u64>::new();
    for planted in &expected {
        *by_kind
            .entry(planted["kind"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for (kind, n) in by_kind {
        assert_eq!(m["redactions"][&kind].as_u64(), Some(n), "{kind}");
    }
}

/// Every source fixture, run through a pipeline on its own: whatever the file holds
/// (broken lines, DPO lines in a chat pipeline, duplicates, blank rows), every row read
/// is accounted for in the manifest.
#[test]
fn the_accounting_closes_on_every_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = [
        "simples-nacional.csv",
        "simples-nacional.jsonl",
        "sources/alpaca.json",
        "sources/artigo.md",
        "sources/dpo.jsonl",
        "sources/faq-cp1252.csv",
        "sources/faq-latin1.tsv",
        "sources/faq-utf16.csv",
        "sources/faq.ods",
        "sources/sharegpt.json",
        "curate/faq-duplicados.csv",
        "curate/reformulacoes.jsonl",
        "check/rules.jsonl",
        "check/completion.jsonl",
        "redact/planted.jsonl",
        "remote/quebrado.jsonl",
    ];
    for (i, fixture) in fixtures.iter().enumerate() {
        let pipeline = tmp.path().join(format!("p{i}.toml"));
        std::fs::write(
            &pipeline,
            format!("[[sources]]\npath = \"fixtures/{fixture}\"\n[split]\nvalidation = 2\n"),
        )
        .unwrap();
        let out = tmp.path().join(format!("out{i}"));
        let (code, _, stderr) = run_pipeline(&pipeline, &out);
        // 1 is fine here (a small file is below the service's minimum); 2 is not.
        assert!(code == 0 || code == 1, "{fixture}: exit {code}\n{stderr}");
        let a = manifest(&out)["accounting"].clone();
        assert_eq!(a["closes"], true, "{fixture}: {a}");
        assert!(
            a["rows_read"].as_u64().unwrap() > 0,
            "{fixture}: nothing read"
        );
        let rejects = read(&out.join("rejects.jsonl")).lines().count() as u64;
        assert_eq!(rejects, a["rejected"].as_u64().unwrap(), "{fixture}");
    }
}

fn with_launch(tmp: &Path, launch: &str) -> std::path::PathBuf {
    let pipeline = tmp.join("launch.toml");
    let base = read(Path::new("pipelines/simples-nacional.toml"));
    std::fs::write(&pipeline, format!("{base}\n[launch]\n{launch}\n")).unwrap();
    pipeline
}

#[test]
fn run_launch_takes_the_launch_path_with_the_pipelines_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = with_launch(
        tmp.path(),
        "model = \"gpt-4.1-mini-2025-04-14\"\nsuffix = \"simples\"\nepochs = 3\ndry_run = true\nformat = \"json\"",
    );
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = run(afinar()
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(&out)
        .arg("--launch")
        .env_remove("OPENAI_API_KEY")
        .env_remove("AZURE_OPENAI_API_KEY"));
    assert_eq!(code, 0, "{stderr}");
    let dry: Value = serde_json::from_str(&stdout).unwrap();
    let request = &dry["request"];
    assert_eq!(request["model"], "gpt-4.1-mini-2025-04-14");
    assert_eq!(request["suffix"], "simples");
    assert_eq!(
        request["method"]["supervised"]["hyperparameters"]["n_epochs"],
        3
    );
    // Both of the run's outputs were checked for the launch model.
    let checked: Vec<&str> = dry["checks"].as_array().map_or_else(Vec::new, |c| {
        c.iter().filter_map(|f| f["file"].as_str()).collect()
    });
    assert!(
        checked.iter().any(|f| f.ends_with("train.jsonl")),
        "{stdout}"
    );
    assert!(
        checked.iter().any(|f| f.ends_with("validation.jsonl")),
        "{stdout}"
    );
}

#[test]
fn run_launch_refuses_unknown_keys_and_bad_data() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = with_launch(tmp.path(), "model = \"gpt-4o-mini\"\nepocas = 3");
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(tmp.path().join("a"))
        .arg("--launch"));
    assert_eq!(code, 2);
    assert!(stderr.contains("has unknown key `epocas`"), "{stderr}");

    // Seven training examples are below the service's minimum: nothing is launched.
    let small = tmp.path().join("small.toml");
    std::fs::write(
        &small,
        "[[sources]]\npath = \"fixtures/simples-nacional.csv\"\nfilter = { Tema = [\"MEI\", \"DAS\", \"Declarações\"] }\n[split]\nvalidation = 3\n[launch]\nmodel = \"gpt-4o-mini\"\ndry_run = true\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(afinar()
        .arg("run")
        .arg(&small)
        .arg("--out-dir")
        .arg(tmp.path().join("b"))
        .arg("--launch"));
    assert_eq!(code, 1);
    assert!(stderr.contains("Not launching"), "{stderr}");
    assert!(!stdout.contains("request"), "{stdout}");
}

#[test]
fn keep_markers_in_a_source_keeps_legacy_markers_as_convert_does() {
    let tmp = tempfile::tempdir().unwrap();
    let source = crate::common::root().join("fixtures/sources/llamafactory/legacy_pc.jsonl");
    let all_lines = |keep: bool| -> String {
        let file = tmp.path().join(format!("keep-{keep}.toml"));
        let out = tmp.path().join(format!("out-{keep}"));
        std::fs::write(
            &file,
            format!(
                "name = \"markers\"\n[[sources]]\npath = \"{}\"\nkeep_markers = {keep}\n\
                 [split]\nenabled = false\n",
                source.display().to_string().replace('\\', "/")
            ),
        )
        .unwrap();
        let (code, _, stderr) = run_pipeline(&file, &out);
        assert_eq!(code, 0, "{stderr}");
        read(&out.join("train.jsonl"))
    };
    let kept = all_lines(true);
    assert!(kept.contains(r"Qual o prazo do DAS?\n\n###"), "{kept}");
    assert!(kept.contains("Até o dia 20 do mês seguinte. END"), "{kept}");
    let removed = all_lines(false);
    assert!(
        !removed.contains("###") && !removed.contains(" END\""),
        "{removed}"
    );
    assert!(removed.contains("\"Qual o prazo do DAS?\""), "{removed}");
}
