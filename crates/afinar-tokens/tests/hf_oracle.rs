//! Chat-template counts against Python transformers (`apply_chat_template`) and gpt-oss
//! counts against `openai-harmony`, on the Portuguese FAQ fixture and 2,400 generated
//! conversations (multi-turn, system prompts, Markdown, accents, emoji, stray
//! whitespace, think blocks, roles that break alternation).
//!
//! The real tokenizer files come from `bash fixtures/tokenizers/fetch.sh` (into
//! `target/hf-tokenizers/`, or `AFINAR_HF_TOKENIZERS`). Every count is held by the
//! committed golden files (`fixtures/tokenizers/golden/MODEL.jsonl`, written by the
//! oracle); when Python transformers (or openai-harmony) is installed, the oracle is
//! also run live on the same corpus. Without the tokenizer files or the oracle the tests
//! skip, unless `AFINAR_REQUIRE_HF_ORACLE=1` (CI), which makes either missing a failure.
//! `AFINAR_BLESS=1` rewrites the golden files from the live oracle.

// Test helpers: a failed read or parse is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use afinar_tokens::chat::{ChatCounts, ChatTokenizer};
use common::Rng;
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn required() -> bool {
    std::env::var("AFINAR_REQUIRE_HF_ORACLE").is_ok_and(|v| v == "1")
}

fn skip(why: &str) {
    assert!(!required(), "AFINAR_REQUIRE_HF_ORACLE=1 but {why}");
    eprintln!("skipped: {why}");
}

fn tokenizers_dir() -> PathBuf {
    std::env::var_os("AFINAR_HF_TOKENIZERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/hf-tokenizers"))
}

const SYSTEMS: &[&str] = &[
    "Você é um assistente especializado no Simples Nacional.",
    "Você é um assistente de um escritório de contabilidade. Responda em português, de forma curta e cordial.",
    "Responda como a equipe da Contábil São João.\n\nNunca invente valores; se não souber, diga que vai confirmar.",
    "Assistente fiscal 🧾 — responda com **Markdown** quando ajudar.",
];

const QUESTIONS: &[&str] = &[
    "O que é o Simples Nacional?",
    "Qual o limite de faturamento do MEI?",
    "Até quando posso pagar o DAS?",
    "Como calcular a alíquota efetiva do Anexo III?",
    "Preciso emitir nota fiscal para pessoa física?",
    "O que é o Fator R? 🤔",
    "Quais documentos preciso enviar todo mês?",
    "Posso parcelar débitos do Simples?",
    "Quanto custa abrir uma empresa em São Paulo?",
    "Ação, emissão, exceção: o que muda com a reforma tributária?",
    "Como faço a DASN-SIMEI?",
    "Tenho faturamento de R$ 4,8 milhões — posso continuar no Simples?",
];

const ANSWERS: &[&str] = &[
    "É um regime tributário simplificado, previsto na Lei Complementar nº 123/2006.",
    "O MEI pode faturar até R$ 81.000,00 por ano, ou R$ 6.750,00 por mês em média.",
    "O DAS vence no dia 20 do mês seguinte ao da apuração. 📅",
    "Use a fórmula:\n\n```\n(RBT12 × alíquota − parcela a deduzir) ÷ RBT12\n```",
    "| Faixa | Alíquota |\n|---|---|\n| 1ª | 4,00% |\n| 2ª | 7,30% |",
    "Sim:\n\n1. Notas fiscais;\n2. Extratos bancários;\n3. Folha de pagamento.",
    "Depende da atividade. **Consulte** o CNAE no Anexo XI. ✅",
    "Acima de R$ 3,6 milhões, ICMS e ISS são recolhidos fora do DAS.",
    "> Atenção: valores de 2024, sujeitos a reajuste.\n\n- Junta: ~R$ 200\n- Alvará: ~R$ 400",
    "Não é obrigatório, salvo se o cliente pedir; para empresas, sim.",
    "Todos os acentos chegam intactos: ÁÉÍÓÚ ÂÊÔ ÃÕ À Ç “aspas” — e reticências…",
    "Olá! 😀👍🏽 Posso ajudar com mais alguma dúvida?",
];

const EDGES: &[&str] = &["", " ", "\n", "  ", "\n\n", "\t", " \u{a0}"];

fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len())]
}

fn text(rng: &mut Rng, xs: &[&str]) -> String {
    let mut s = String::new();
    if rng.below(8) == 0 {
        s.push_str(pick(rng, EDGES));
    }
    s.push_str(pick(rng, xs));
    for _ in 0..rng.below(3) {
        s.push_str(if rng.below(2) == 0 { " " } else { "\n\n" });
        s.push_str(pick(rng, xs));
    }
    if rng.below(8) == 0 {
        s.push_str(pick(rng, EDGES));
    }
    s
}

/// One generated training line: optional system prompt, 1 to 4 user/assistant turns,
/// now and then a think block or a broken alternation.
fn conversation(rng: &mut Rng) -> Value {
    let mut msgs = Vec::new();
    if rng.below(3) > 0 {
        msgs.push(json!({"role": "system", "content": pick(rng, SYSTEMS)}));
    }
    for _ in 0..=rng.below(4) {
        msgs.push(json!({"role": "user", "content": text(rng, QUESTIONS)}));
        let mut answer = text(rng, ANSWERS);
        if rng.below(20) == 0 {
            answer = format!("<think>\nO cliente quer o prazo.\n</think>\n\n{answer}");
        }
        msgs.push(json!({"role": "assistant", "content": answer}));
    }
    if rng.below(40) == 0 {
        // two assistant turns in a row: Gemma's template raises, others render
        msgs.push(json!({"role": "assistant", "content": pick(rng, ANSWERS)}));
    }
    json!({"messages": msgs})
}

/// The FAQ fixture, then 2,400 generated conversations (fixed seed).
fn corpus() -> Vec<Value> {
    let faq = std::fs::read_to_string(root().join("fixtures/tokenizers/faq-pt.jsonl")).unwrap();
    let mut out: Vec<Value> = faq
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut rng = Rng(0x00af_1a2e_2026_1201);
    out.extend((0..2400).map(|_| conversation(&mut rng)));
    out
}

/// afinar's answer for one line, in the oracle's shape.
fn ours(tok: &ChatTokenizer, line: &Value) -> Value {
    let msgs = line["messages"].as_array().unwrap();
    match tok.count(msgs, line.get("tools")) {
        Ok(ChatCounts { tokens, assistant }) => {
            json!({"tokens": tokens, "assistant_tokens": assistant})
        }
        Err(_) => json!({"error": true}),
    }
}

/// Oracle rows: `{"error": "..."}` compares equal to any afinar error.
fn normalise(v: Value) -> Value {
    if v.get("error").is_some() {
        json!({"error": true})
    } else {
        v
    }
}

fn live_oracle(model: &str, corpus_file: &Path) -> Result<Vec<Value>, String> {
    let script = root().join("fixtures/tokenizers/oracle.py");
    let python = std::env::var("AFINAR_PYTHON").unwrap_or_else(|_| "python3".into());
    let mode: Vec<PathBuf> = if model == "gptoss" {
        vec!["--harmony".into()]
    } else {
        vec![tokenizers_dir().join(model)]
    };
    let check = Command::new(&python)
        .arg(&script)
        .arg("--check")
        .args(if model == "gptoss" {
            &["--harmony"][..]
        } else {
            &[][..]
        })
        .output()
        .map_err(|e| format!("cannot run `{python}`: {e}"))?;
    if !check.status.success() {
        return Err(format!(
            "the oracle cannot run: {}",
            String::from_utf8_lossy(&check.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ));
    }
    let out = Command::new(&python)
        .arg(&script)
        .args(&mode)
        .arg(corpus_file)
        .output()
        .map_err(|e| e.to_string())?;
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| normalise(serde_json::from_str(l).unwrap()))
        .collect())
}

fn compare(model: &str) {
    let tok = if model == "gptoss" {
        ChatTokenizer::harmony()
    } else {
        let dir = tokenizers_dir().join(model);
        if !dir.join("tokenizer.json").is_file() {
            return skip(&format!(
                "no tokenizer files in `{}` (run `bash fixtures/tokenizers/fetch.sh`)",
                dir.display()
            ));
        }
        ChatTokenizer::load(&dir).unwrap()
    };
    let corpus = corpus();
    let got: Vec<Value> = corpus.iter().map(|l| ours(&tok, l)).collect();
    assert!(got.len() >= 2_000 + 20);

    let golden_file = root().join(format!("fixtures/tokenizers/golden/{model}.jsonl"));
    let tmp = tempfile::tempdir().unwrap();
    let corpus_file = tmp.path().join("corpus.jsonl");
    let text: String = corpus.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&corpus_file, text).unwrap();

    let mut checked = false;
    match live_oracle(model, &corpus_file) {
        Ok(want) => {
            assert_eq!(want.len(), got.len());
            let bad: Vec<String> = (0..got.len())
                .filter(|&i| got[i] != want[i])
                .take(5)
                .map(|i| {
                    format!(
                        "line {}: afinar {} oracle {} for {}",
                        i + 1,
                        got[i],
                        want[i],
                        corpus[i]
                    )
                })
                .collect();
            assert!(
                bad.is_empty(),
                "{model}: counts differ from the oracle:\n{}",
                bad.join("\n")
            );
            if std::env::var("AFINAR_BLESS").is_ok_and(|v| v == "1") {
                let text: String = want.iter().map(|v| format!("{v}\n")).collect();
                std::fs::create_dir_all(golden_file.parent().unwrap()).unwrap();
                std::fs::write(&golden_file, text).unwrap();
            }
            checked = true;
        }
        Err(why) => skip(&format!(
            "{model}: {why}; comparing with the golden file only"
        )),
    }
    let golden = std::fs::read_to_string(&golden_file).unwrap_or_default();
    let want: Vec<Value> = golden
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    if want.is_empty() {
        assert!(
            checked,
            "no golden file `{}` and no oracle",
            golden_file.display()
        );
        return;
    }
    assert_eq!(
        want.len(),
        got.len(),
        "golden file and corpus differ in length"
    );
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{model} line {}: {}", i + 1, corpus[i]);
    }
}

#[test]
fn qwen3_counts_equal_transformers() {
    compare("qwen3");
}

#[test]
fn llama3_1_counts_equal_transformers() {
    compare("llama3_1");
}

#[test]
fn gemma3_counts_equal_transformers() {
    compare("gemma3");
}

#[test]
fn gpt_oss_counts_equal_openai_harmony() {
    compare("gptoss");
}

/// The added tokens of the byte-level models, mixed into random text.
const ADDED: &[&str] = &[
    "<|im_start|>",
    "<|im_end|>",
    "<think>",
    "</think>",
    "<tool_call>",
    "<|endoftext|>",
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
];

/// The byte-level fast path against the `tokenizers` crate: the same ids and the same
/// offsets on random text (every regex corner of `common::FRAGMENTS`, any Unicode scalar,
/// long runs, added tokens in the middle of words, text NFC would change).
fn fast_path_equals_tokenizers(model: &str) {
    let dir = tokenizers_dir().join(model);
    if !dir.join("tokenizer.json").is_file() {
        return skip(&format!(
            "no tokenizer files in `{}` (run `bash fixtures/tokenizers/fetch.sh`)",
            dir.display()
        ));
    }
    let chat = afinar_tokens::chat::HfChat::from_path(&dir).unwrap();
    assert!(
        chat.is_fast(),
        "{model} should take the byte-level fast path"
    );
    let mut rng = Rng(0x5eed_0000_0000_0000 ^ model.len() as u64);
    let mut texts: Vec<String> = corpus()
        .iter()
        .flat_map(|l| l["messages"].as_array().unwrap().clone())
        .filter_map(|m| m["content"].as_str().map(str::to_owned))
        .collect();
    for _ in 0..4000 {
        let mut t = rng.text();
        if rng.below(3) == 0 {
            let at = (0..=t.len())
                .filter(|&i| t.is_char_boundary(i))
                .nth(rng.below(4))
                .unwrap_or(0);
            t.insert_str(at, ADDED[rng.below(ADDED.len())]);
            t.push_str(ADDED[rng.below(ADDED.len())]);
        }
        texts.push(t);
    }
    for t in &texts {
        let fast = chat.encode_offsets(t, false).unwrap();
        let reference = chat.encode_offsets(t, true).unwrap();
        assert_eq!(fast, reference, "{model}: {t:?}");
    }
}

#[test]
fn qwen3_fast_path_equals_tokenizers() {
    fast_path_equals_tokenizers("qwen3");
}

#[test]
fn llama3_1_fast_path_equals_tokenizers() {
    fast_path_equals_tokenizers("llama3_1");
}

#[test]
fn other_tokenizers_keep_the_tokenizers_path() {
    let tiny =
        afinar_tokens::chat::HfChat::from_path(&root().join("fixtures/tokenizers/tiny")).unwrap();
    assert!(!tiny.is_fast());
    let dir = tokenizers_dir().join("gemma3");
    if dir.join("tokenizer.json").is_file() {
        assert!(
            !afinar_tokens::chat::HfChat::from_path(&dir)
                .unwrap()
                .is_fast()
        );
    }
}
