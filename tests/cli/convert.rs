//! `afinar convert` on the bundled fixtures.

use serde_json::Value;

use crate::common::{afinar, filter, fixture, read, run};

const SYSTEM: &str = "Você é um assistente especializado no Simples Nacional.";

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

fn texts(line: &Value, role: &str) -> Vec<String> {
    line["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == role)
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn csv_fixture_becomes_chat_jsonl_with_rejects_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("train.jsonl");
    let (code, stdout, stderr) = run(afinar()
        .args([
            "convert",
            "fixtures/simples-nacional.csv",
            "--system",
            SYSTEM,
            "-o",
        ])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    insta::assert_snapshot!("csv_summary", filter(&stderr, tmp.path()));

    let written = lines(&read(&out));
    assert_eq!(written.len(), 28);
    for line in &written {
        assert_eq!(texts(line, "system"), vec![SYSTEM]);
    }
    // Normalisation: the NBSP in `R$ 4,8` and the doubled space are gone, accents kept.
    assert_eq!(
        texts(&written[1], "user"),
        vec!["Qual o limite de faturamento para optar pelo Simples Nacional?"]
    );
    assert!(texts(&written[1], "assistant")[0].starts_with("O limite é de R$ 4,8 milhões"));
    // A quoted multi-line cell is read whole, its CRLF as LF.
    assert_eq!(
        texts(&written[4], "assistant")[0],
        "O DAS vence no dia 20 do mês seguinte ao da apuração.\nSe o dia 20 não for dia útil, o vencimento passa para o primeiro dia útil seguinte."
    );
    // The Markdown table in an answer keeps its alignment.
    assert!(
        texts(&written[10], "assistant")[0].contains("| 1ª    | até R$ 180.000,00              |")
    );

    let rejects = read(&tmp.path().join("train.rejects.jsonl"));
    insta::assert_snapshot!("csv_rejects", rejects);
}

#[test]
fn chat_jsonl_with_broken_lines_keeps_every_valid_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("chat.jsonl");
    let (code, _, stderr) = run(afinar()
        .args(["convert", "fixtures/simples-nacional.jsonl", "-o"])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("jsonl_summary", filter(&stderr, tmp.path()));
    let written = lines(&read(&out));
    assert_eq!(written.len(), 13);
    // The last line used ShareGPT role names; they were mapped.
    assert_eq!(texts(&written[12], "user"), vec!["O que é o CGSN?"]);
    let rejects: Vec<Value> = lines(&read(&tmp.path().join("chat.rejects.jsonl")));
    let got: Vec<(&str, &str)> = rejects
        .iter()
        .map(|r| (r["origin"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "fixtures/simples-nacional.jsonl:4",
                "Invalid JSON at column 119: EOF while parsing a string"
            ),
            (
                "fixtures/simples-nacional.jsonl:7",
                "Message 1 has unknown role `cliente`; use system, developer, user, assistant or tool, or add an alias"
            ),
            (
                "fixtures/simples-nacional.jsonl:11",
                "Message 2 (assistant) has null `content`"
            ),
            (
                "fixtures/simples-nacional.jsonl:13",
                "Message 2 (assistant) has no `content`"
            ),
        ]
    );
    // The raw line is kept verbatim, so nothing is lost.
    let source: Vec<&str> = include_str!("../../fixtures/simples-nacional.jsonl")
        .lines()
        .collect();
    assert_eq!(rejects[0]["raw"], source[3]);
}

#[test]
fn role_aliases_are_configurable() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("chat.jsonl");
    let (code, _, stderr) = run(afinar()
        .args([
            "convert",
            "fixtures/simples-nacional.jsonl",
            "--role-alias",
            "cliente=user",
            "-o",
        ])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines(&read(&out)).len(), 14);
}

#[test]
fn chat_to_completion_and_back_preserves_text_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let chat = tmp.path().join("chat.jsonl");
    let pc = tmp.path().join("pc.jsonl");
    let back = tmp.path().join("back.jsonl");
    for args in [
        vec![
            "convert".into(),
            fixture("simples-nacional.csv"),
            "-o".into(),
            chat.clone(),
        ],
        vec![
            "convert".into(),
            chat.clone(),
            "--to".into(),
            "completion".into(),
            "--prompt-suffix".into(),
            "\\n\\n###\\n\\n".into(),
            "--completion-suffix".into(),
            " END".into(),
            "-o".into(),
            pc.clone(),
        ],
    ] {
        let (code, _, stderr) = run(afinar().args(args));
        assert_eq!(code, 0, "{stderr}");
    }
    let completions = lines(&read(&pc));
    assert_eq!(completions.len(), 28);
    assert!(
        completions[0]["prompt"]
            .as_str()
            .unwrap()
            .ends_with("\n\n###\n\n")
    );
    assert!(
        completions[0]["completion"]
            .as_str()
            .unwrap()
            .ends_with(" END")
    );

    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(&pc)
        .args([
            "--to",
            "chat",
            "--prompt-suffix",
            "\\n\\n###\\n\\n",
            "--completion-suffix",
            " END",
            "-o",
        ])
        .arg(&back));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&back), read(&chat));
}

#[test]
fn system_messages_are_prepended_or_dropped_for_completion() {
    let tmp = tempfile::tempdir().unwrap();
    let pc = tmp.path().join("pc.jsonl");
    let (code, _, _) = run(afinar()
        .args([
            "convert",
            "fixtures/simples-nacional.jsonl",
            "--to",
            "completion",
            "-o",
        ])
        .arg(&pc));
    assert_eq!(code, 0);
    let first = &lines(&read(&pc))[0];
    assert_eq!(
        first["prompt"],
        format!("{SYSTEM}\n\nO que é o Simples Nacional?")
    );

    let (code, _, _) = run(afinar()
        .args([
            "convert",
            "fixtures/simples-nacional.jsonl",
            "--to",
            "completion",
        ])
        .args(["--system-policy", "drop", "-o"])
        .arg(&pc));
    assert_eq!(code, 0);
    assert_eq!(
        lines(&read(&pc))[0]["prompt"],
        "O que é o Simples Nacional?"
    );
}

#[test]
fn multi_turn_examples_cannot_become_completions() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("multi.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"},{"role":"assistant","content":"d"}]}"#,
            "\n",
            r#"{"messages":[{"role":"user","content":"e"},{"role":"assistant","content":"f"}]}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("pc.jsonl");
    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(&input)
        .args(["--to", "completion", "--strict", "-o"])
        .arg(&out));
    assert_eq!(code, 1, "--strict with a reject exits 1");
    insta::assert_snapshot!("multi_turn_summary", filter(&stderr, tmp.path()));
    // A failing convert writes no output (issue 13: a good file must survive it).
    assert!(!out.exists());
    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(&input)
        .args(["--to", "completion", "-o"])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&out), "{\"prompt\":\"e\",\"completion\":\"f\"}\n");
}

#[test]
fn strict_exits_1_and_default_exits_0_with_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o.jsonl");
    let (code, _, _) = run(afinar()
        .args(["convert", "fixtures/simples-nacional.csv", "--strict", "-o"])
        .arg(&out));
    assert_eq!(code, 1);
    // Failing, it writes no output, only the rejects that say why.
    assert!(!out.exists(), "a failing convert wrote its output");
    assert_eq!(lines(&read(&tmp.path().join("o.rejects.jsonl"))).len(), 2);
    let (code, _, _) = run(afinar()
        .args(["convert", "fixtures/simples-nacional.csv", "-o"])
        .arg(&out));
    assert_eq!(code, 0);
    assert_eq!(
        lines(&read(&out)).len(),
        28,
        "without --strict the valid rows are written"
    );
}

#[test]
fn stdout_output_and_rejects_on_stderr() {
    let (code, stdout, stderr) =
        run(afinar().args(["convert", "fixtures/simples-nacional.jsonl", "-o", "-"]));
    assert_eq!(code, 0);
    assert_eq!(lines(&stdout).len(), 13);
    // With no rejects file, every reject is listed.
    assert_eq!(
        stderr.matches("fixtures/simples-nacional.jsonl:").count(),
        4,
        "{stderr}"
    );
}

#[test]
fn json_summary_and_bom() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("azure.jsonl");
    let (code, stdout, _) = run(afinar()
        .args([
            "convert",
            "fixtures/simples-nacional.csv",
            "--bom",
            "--format",
            "json",
            "-o",
        ])
        .arg(&out));
    assert_eq!(code, 0);
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (summary["read"].as_u64(), summary["written"].as_u64()),
        (Some(30), Some(28))
    );
    assert_eq!(summary["rejected"], 2);
    assert_eq!(summary["inputs"][0]["question_column"], "Pergunta");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF{\"messages\""));
    assert!(!bytes.contains(&b'\r'));
}

#[test]
fn outputs_are_byte_identical_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for name in ["a.jsonl", "b.jsonl"] {
        let out = tmp.path().join(name);
        run(afinar()
            .args([
                "convert",
                "fixtures/simples-nacional.csv",
                "fixtures/simples-nacional.jsonl",
                "-o",
            ])
            .arg(&out));
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn usage_and_io_errors_exit_2_and_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o.jsonl");
    let no_question = tmp.path().join("sem-pergunta.csv");
    std::fs::write(&no_question, "Assunto,Resposta\nMEI,Sim\n").unwrap();
    let bad_array = tmp.path().join("quebrado.json");
    std::fs::write(&bad_array, "[\n {\"prompt\": \"a\",\n").unwrap();
    let cases = [
        (
            "missing_file",
            vec!["convert".into(), "fixtures/nao-existe.csv".into()],
        ),
        (
            "unsupported_extension",
            vec!["convert".into(), "Cargo.lock".into()],
        ),
        (
            "no_question_column",
            vec!["convert".into(), no_question.display().to_string()],
        ),
        (
            "broken_json_array",
            vec!["convert".into(), bad_array.display().to_string()],
        ),
        (
            "output_is_input",
            vec![
                "convert".into(),
                "fixtures/simples-nacional.jsonl".into(),
                "-o".into(),
                "fixtures/simples-nacional.jsonl".into(),
            ],
        ),
        (
            "bad_alias",
            vec![
                "convert".into(),
                "fixtures/simples-nacional.jsonl".into(),
                "--role-alias".into(),
                "x=robot".into(),
            ],
        ),
    ];
    for (name, mut args) in cases {
        if !args.contains(&"-o".to_owned()) {
            args.push("-o".into());
            args.push(out.display().to_string());
        }
        let (code, _, stderr) = run(afinar().args(&args));
        assert_eq!(code, 2, "{name}: {stderr}");
        insta::assert_snapshot!(format!("error_{name}"), filter(&stderr, tmp.path()));
    }
    assert!(!out.exists(), "no output is written when reading fails");
}

#[test]
fn help_has_examples() {
    let (code, stdout, _) = run(afinar().args(["convert", "--help"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("Examples:"));
    assert!(stdout.contains("afinar convert faq.csv -o train.jsonl"));
}
