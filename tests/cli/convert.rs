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
                "Invalid JSON at column 119: the line ends inside the string that starts at column 108; a closing `\"` is missing (was the line cut short?)"
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

/// `convert FILE --to SHAPE --format json`: exit code, summary, output lines, rejects.
fn convert_json(file: &str, to: &str, extra: &[&str]) -> (i32, Value, Vec<Value>, Vec<Value>) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.jsonl");
    let (code, stdout, stderr) = run(afinar()
        .args(["convert", file, "--to", to, "--format", "json"])
        .args(extra)
        .arg("-o")
        .arg(&out));
    let summary: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let written = if out.exists() {
        lines(&read(&out))
    } else {
        Vec::new()
    };
    let rejects = lines(&read(&tmp.path().join("out.rejects.jsonl")));
    (code, summary, written, rejects)
}

/// Every row of a file is either written or rejected with a reason, never dropped.
fn assert_accounted(file: &str, summary: &Value, written: &[Value], rejects: &[Value]) {
    let read = summary["read"].as_u64().unwrap();
    assert_eq!(
        (written.len() + rejects.len()) as u64,
        read,
        "{file}: {} written + {} rejected != {read} read",
        written.len(),
        rejects.len()
    );
    assert_eq!(summary["written"].as_u64().unwrap() as usize, written.len());
    for r in rejects {
        assert!(!r["reason"].as_str().unwrap().is_empty(), "{r}");
        assert!(!r["raw"].as_str().unwrap().is_empty(), "{r}");
    }
}

fn reject_reasons(rejects: &[Value]) -> Vec<String> {
    rejects
        .iter()
        .map(|r| {
            format!(
                "{}: {}",
                r["origin"].as_str().unwrap(),
                r["reason"].as_str().unwrap()
            )
        })
        .collect()
}

const LF: &str = "fixtures/sources/llamafactory";

#[test]
fn llama_factory_alpaca_and_sharegpt_rows_are_read_whole() {
    let (code, summary, written, rejects) =
        convert_json(&format!("{LF}/alpaca_pt.json"), "chat", &[]);
    assert_eq!(code, 0);
    assert_accounted("alpaca", &summary, &written, &rejects);
    assert_eq!(written.len(), 3);
    assert_eq!(
        texts(&written[1], "system"),
        ["Você é um contador que responde em uma frase."]
    );
    // `history` pairs come before the instruction, and are answers too.
    assert_eq!(
        texts(&written[2], "user"),
        [
            "Qual o limite do Simples Nacional?",
            "E do MEI?",
            "E se a receita passar de R$ 4,8 milhões?"
        ]
    );
    assert_eq!(texts(&written[2], "assistant").len(), 3);
    assert_eq!(
        reject_reasons(&rejects),
        [format!("{LF}/alpaca_pt.json:22: `output` is empty")]
    );

    let (code, summary, written, rejects) =
        convert_json(&format!("{LF}/sharegpt_pt.json"), "chat", &[]);
    assert_eq!(code, 0);
    assert_accounted("sharegpt", &summary, &written, &rejects);
    assert_eq!(
        texts(&written[0], "system"),
        ["Você é um assistente contábil."]
    );
    assert_eq!(texts(&written[0], "assistant").len(), 2);
    assert!(reject_reasons(&rejects)[0].contains("unknown role `robô`"));
}

#[test]
fn llama_factory_preference_rows_become_complete_dpo_pairs() {
    for (file, pairs) in [("dpo_sharegpt_pt.json", 2), ("dpo_alpaca_pt.json", 2)] {
        let path = format!("{LF}/{file}");
        let (code, summary, written, rejects) = convert_json(&path, "dpo", &[]);
        assert_eq!(code, 0, "{file}");
        assert_accounted(file, &summary, &written, &rejects);
        assert_eq!(written.len(), pairs, "{file}");
        for line in &written {
            let input = line["input"]["messages"].as_array().unwrap();
            assert_eq!(input.last().unwrap()["role"], "user", "{line}");
            for key in ["preferred_output", "non_preferred_output"] {
                let answer = &line[key][0];
                assert_eq!(answer["role"], "assistant", "{line}");
                assert!(!answer["content"].as_str().unwrap().is_empty(), "{line}");
            }
        }
    }
    let (_, _, written, rejects) = convert_json(&format!("{LF}/dpo_sharegpt_pt.json"), "dpo", &[]);
    assert_eq!(
        written[1]["preferred_output"][0]["content"],
        "Um salário mínimo ou o piso da categoria."
    );
    assert_eq!(written[1]["input"]["messages"].as_array().unwrap().len(), 3);
    assert_eq!(
        reject_reasons(&rejects),
        [format!(
            "{LF}/dpo_sharegpt_pt.json:18: Row has `chosen` but no `rejected`; a preference pair needs both answers"
        )]
    );
    // As chat they are refused with the way out, not written without their answers.
    let (code, summary, written, rejects) =
        convert_json(&format!("{LF}/dpo_sharegpt_pt.json"), "chat", &[]);
    assert_eq!(code, 1);
    assert_accounted("dpo as chat", &summary, &written, &rejects);
    assert!(written.is_empty());
    assert!(
        reject_reasons(&rejects)[0].ends_with("use --to dpo"),
        "{rejects:?}"
    );
}

#[test]
fn llama_factory_tool_rows_keep_tools_calls_and_results() {
    let path = format!("{LF}/glaive_toolcall_pt.json");
    let (code, summary, written, rejects) = convert_json(&path, "chat", &[]);
    assert_eq!(code, 0);
    assert_accounted("glaive", &summary, &written, &rejects);
    assert_eq!(written.len(), 3);
    // `"tools": "[]"` holds nothing; the others are parsed into OpenAI's shape.
    assert!(written[0].get("tools").is_none());
    for line in &written[1..] {
        let tools = line["tools"].as_array().unwrap();
        assert_eq!(tools.len(), 2, "{line}");
        assert_eq!(tools[0]["type"], "function");
        assert_eq!(tools[0]["function"]["name"], "calcular_das");
        assert_eq!(
            tools[0]["function"]["description"],
            "Calcula o valor do DAS do mês"
        );
    }
    let messages = written[2]["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool", "tool", "assistant"]);
    let calls = messages[1]["tool_calls"].as_array().unwrap();
    assert!(messages[1]["content"].is_null());
    assert_eq!(
        calls[1]["function"]["arguments"],
        "{\"cnae\":\"9602-5/01\"}"
    );
    assert_eq!(messages[2]["tool_call_id"], calls[0]["id"]);
    assert_eq!(messages[3]["tool_call_id"], calls[1]["id"]);
    assert_eq!(messages[3]["content"], "{\"mei\": true}");
    assert_eq!(
        texts(&written[1], "system"),
        ["Você é um assistente contábil."]
    );
    let reasons = reject_reasons(&rejects);
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].contains("Turn 2 makes 2 tool calls but only 1 results follow it"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("Turn 2 (`function_call`) is not JSON"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("`tools` is a string that is not JSON"),
        "{reasons:?}"
    );
}

#[test]
fn kto_multimodal_and_content_part_rows_are_written_whole_or_rejected_with_reason() {
    let (code, summary, written, rejects) = convert_json(&format!("{LF}/kto_pt.json"), "chat", &[]);
    assert_eq!(code, 0);
    assert_accounted("kto", &summary, &written, &rejects);
    assert_eq!(written.len(), 2);
    assert!(written.iter().all(|l| l.get("label").is_none()));
    let reasons = reject_reasons(&rejects);
    assert!(
        reasons[0].contains("(`label: false`); afinar writes SFT and DPO data"),
        "{reasons:?}"
    );
    assert_eq!(
        summary["inputs"][0]["notes"][0],
        "3 KTO rows (`label`/`kto_tag`): 2 marked desirable read as chat examples, 1 marked undesirable rejected"
    );

    let (code, summary, written, rejects) =
        convert_json(&format!("{LF}/mllm_pt.json"), "chat", &[]);
    assert_eq!(code, 0);
    assert_accounted("mllm", &summary, &written, &rejects);
    assert_eq!(texts(&written[0], "user"), ["Sem imagem: o que é DAS?"]);
    let reasons = reject_reasons(&rejects);
    assert!(
        reasons[0].contains("Row has `images` (`mllm_demo_data/1.jpg`)"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("Row has `videos` (`mllm_demo_data/1.mp4`)"),
        "{reasons:?}"
    );

    let (code, summary, written, rejects) =
        convert_json(&format!("{LF}/openai_parts.jsonl"), "chat", &[]);
    assert_eq!(code, 0);
    assert_accounted("parts", &summary, &written, &rejects);
    assert_eq!(
        texts(&written[1], "user"),
        ["Leia a guia:\nvencimento 20/05, valor R$ 76,60."]
    );
    assert!(reject_reasons(&rejects)[0].contains("has a `image_url` content part"));
}

#[test]
fn a_dataset_info_json_is_one_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.jsonl");
    let (code, _, stderr) = run(afinar()
        .args(["convert", &format!("{LF}/dataset_info.json"), "-o"])
        .arg(&out));
    assert_eq!(code, 2);
    assert!(!out.exists());
    insta::assert_snapshot!("error_dataset_info", filter(&stderr, tmp.path()));
}

#[test]
fn legacy_markers_are_removed_reported_and_kept_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("chat.jsonl");
    let (code, _, stderr) = run(afinar()
        .args(["convert", &format!("{LF}/legacy_pc.jsonl"), "-o"])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("legacy_markers_summary", filter(&stderr, tmp.path()));
    let written = lines(&read(&out));
    assert_eq!(written.len(), 10);
    assert_eq!(texts(&written[0], "user"), ["Qual o prazo do DAS?"]);
    assert_eq!(
        texts(&written[0], "assistant"),
        ["Até o dia 20 do mês seguinte."]
    );
    assert!(!read(&out).contains("###") && !read(&out).contains("END"));

    // To a clean completion file.
    let (_, _, written, _) = convert_json(&format!("{LF}/legacy_pc.jsonl"), "completion", &[]);
    assert_eq!(written[1]["prompt"], "MEI paga INSS?");
    assert_eq!(
        written[1]["completion"],
        "Sim: 5% do salário mínimo, incluído no DAS."
    );

    let (_, summary, written, _) = convert_json(
        &format!("{LF}/legacy_pc.jsonl"),
        "chat",
        &["--keep-markers"],
    );
    assert_eq!(texts(&written[0], "user"), ["Qual o prazo do DAS?\n\n###"]);
    assert_eq!(
        texts(&written[0], "assistant"),
        ["Até o dia 20 do mês seguinte. END"]
    );
    assert!(
        summary["inputs"][0]["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("Legacy completion markers kept (--keep-markers): prompts end with `\\n\\n###\\n\\n` (9 of 10 rows)")
    );
}

#[test]
fn system_prompt_round_trip_gives_back_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (chat, pc, back) = (
        tmp.path().join("chat.jsonl"),
        tmp.path().join("pc.jsonl"),
        tmp.path().join("back.jsonl"),
    );
    let steps: [(&std::path::Path, &[&str], &std::path::Path); 3] = [
        (
            &fixture("simples-nacional.csv"),
            &["--system", SYSTEM],
            &chat,
        ),
        (&chat, &["--to", "completion"], &pc),
        (&pc, &["--to", "chat", "--system", SYSTEM], &back),
    ];
    for (input, args, output) in steps {
        let (code, _, stderr) = run(afinar()
            .arg("convert")
            .arg(input)
            .args(args)
            .arg("-o")
            .arg(output));
        assert_eq!(code, 0, "{stderr}");
    }
    // The completion prompts carry the system prompt; reading back removes it again.
    let prompts = lines(&read(&pc));
    assert!(
        prompts[1]["prompt"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{SYSTEM}\n\nQual o limite"))
    );
    assert_eq!(read(&back), read(&chat));
    assert!(read(&back).contains("R$ 4,8 milhões"));
}

#[test]
fn a_line_cut_mid_string_is_said_so_by_convert_and_check() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("cut.jsonl");
    std::fs::write(
        &file,
        "{\"messages\": [{\"role\": \"user\", \"content\": \"Qual o prazo?\"}, {\"role\": \"assistant\", \"content\": \"Até o dia 2\n",
    )
    .unwrap();
    let want = "Invalid JSON at column 105: the line ends inside the string that starts at column 94; a closing `\"` is missing (was the line cut short?)";
    let out = tmp.path().join("out.jsonl");
    let (code, _, stderr) = run(afinar().arg("convert").arg(&file).arg("-o").arg(&out));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(want), "{stderr}");
    let (code, stdout, stderr) = run(afinar().arg("check").arg(&file));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains(want),
        "{stdout}{stderr}"
    );
    assert!(!format!("{stdout}{stderr}").contains("control character"));
}
