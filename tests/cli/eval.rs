//! `afinar eval` against a server on 127.0.0.1 that plays two models with known answers
//! (and a judge). Nothing here touches the network.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use afinar_openai::testing::{MockServer, Reply, Request, chat_route};
use assert_cmd::Command;
use serde_json::{Value, json};

use crate::common::{chromium, filter, read, rendered_dom, run};
use crate::remote::clean;

const KEY: &str = "sk-proj-EVALTESTSECRET77";
const FILE: &str = "fixtures/eval/validacao.jsonl";
const TUNED: &str = "ft:gpt-4.1-mini-2025-04-14:contabil:simples:Ev4l";
const BASE: &str = "gpt-4.1-mini-2025-04-14";
const JUDGE: &str = "gpt-4.1";

/// What each model answers, by the last question asked.
fn answer(model: &str, question: &str) -> Option<&'static str> {
    let tuned = model == TUNED;
    if model != TUNED && model != BASE {
        return None;
    }
    Some(match question {
        q if q.starts_with("Qual é o limite") => {
            if tuned {
                // Same facts, reordered and formatted differently.
                "Pelo art. 3º da LC 123/2006, o limite é R$ 4.800.000,00 por ano."
            } else {
                "O limite é de R$ 3,6 milhões por ano."
            }
        }
        q if q.starts_with("Qual a alíquota") => {
            if tuned {
                "A alíquota nominal inicial do Anexo III é de 6%."
            } else {
                "A alíquota inicial do Anexo III é de 4,5%."
            }
        }
        q if q.starts_with("Até quando") => {
            if tuned {
                "Até 31/05 de cada ano."
            } else {
                "Até 30 de abril."
            }
        }
        _ => {
            if tuned {
                "Sim, pode contratar um empregado."
            } else {
                "Não."
            }
        }
    })
}

fn last_user(messages: &Value) -> String {
    messages
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The two models, and a judge that grades every answer 5 and always prefers answer A.
fn models() -> impl FnMut(&Request) -> Reply + Send + 'static {
    chat_route(|model, messages| {
        if model == JUDGE {
            let prompt = last_user(messages);
            return Some(if prompt.contains("Answer A:") {
                r#"{"winner": "A", "reason": "A agrees with the reference"}"#.to_owned()
            } else {
                "```json\n{\"score\": 5, \"reason\": \"ok\"}\n```".to_owned()
            });
        }
        answer(model, &last_user(messages)).map(str::to_owned)
    })
}

/// afinar with `server` as OpenAI.
fn served(server: &MockServer) -> Command {
    let mut cmd = clean();
    cmd.env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", format!("{}/v1", server.url()))
        .env("AFINAR_RETRY_BASE_MS", "1");
    cmd
}

/// `afinar eval FILE --out-dir OUT` against `server` as OpenAI.
fn eval(server: &MockServer, out: &Path) -> Command {
    let mut cmd = served(server);
    cmd.arg("eval").arg(FILE).arg("--out-dir").arg(out);
    cmd
}

fn json_out(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn mean(summary: &Value, model: &str, metric: &str) -> f64 {
    summary["models"][model]["scores"][metric]["mean"]
        .as_f64()
        .unwrap_or_else(|| panic!("no {metric} for {model}: {summary}"))
}

fn records(out: &Path) -> Vec<Value> {
    read(&out.join("eval.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn eval_scores_both_models_with_the_expected_numbers() {
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, stdout, stderr) =
        run(eval(&server, &out).args(["--model", TUNED, "--baseline", BASE, "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let s = json_out(&stdout);
    assert_eq!(s["examples"], 4);
    assert_eq!(s["requests"]["sent"], 8);
    // facts: the tuned model states every fact of the three references that have any
    // (money, law and article; annex and rate; the date); the base one states only the
    // annex of the second (1/2), so (0 + 0.5 + 0) / 3.
    assert!(close(mean(&s, TUNED, "facts"), 1.0));
    assert!(close(mean(&s, BASE, "facts"), 0.5 / 3.0));
    assert_eq!(s["models"][TUNED]["scores"]["facts"]["n"], 3);
    // exact: only the tuned model's second answer equals its reference.
    assert!(close(mean(&s, TUNED, "exact"), 0.25));
    assert!(close(mean(&s, BASE, "exact"), 0.0));
    let facts = &s["comparison"]["metrics"]["facts"];
    assert_eq!(
        (&facts["wins"], &facts["ties"], &facts["losses"]),
        (&json!(3), &json!(0), &json!(0))
    );
    for model in [TUNED, BASE] {
        let ci = &s["models"][model]["scores"]["facts"];
        assert!(ci["ci_low"].as_f64().unwrap() <= ci["mean"].as_f64().unwrap());
        assert!(ci["ci_high"].as_f64().unwrap() >= ci["mean"].as_f64().unwrap());
    }
    assert!(s["models"][TUNED]["scores"].get("judge").is_none());

    let recs = records(&out);
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0]["origin"], "fixtures/eval/validacao.jsonl:1");
    assert_eq!(
        recs[0]["reference"],
        "O limite é de R$ 4,8 milhões de receita bruta anual (LC 123/2006, art. 3º)."
    );
    assert_eq!(recs[0]["scores"][BASE]["facts"], 0.0);
    assert_eq!(
        recs[0]["answers"][BASE]["missing_facts"],
        json!(["R$ 4,8 milhões", "LC 123/2006", "art. 3º"])
    );
    assert_eq!(recs[0]["answers"][TUNED]["missing_facts"], json!([]));
    // The fourth reference states no fact: no facts score, but the others.
    assert_eq!(recs[3]["scores"][TUNED]["facts"], Value::Null);
    assert!(recs[3]["scores"][TUNED]["f1"].as_f64().unwrap() > 0.8);
    assert_eq!(recs[3]["scores"][BASE]["f1"], 0.0);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 8);
    for r in &reqs {
        assert_eq!(r.path(), "/v1/chat/completions");
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(r.json().unwrap()["temperature"], 0.0);
    }
    // The multi-turn example is sent up to its last assistant turn, without it.
    let third = reqs
        .iter()
        .map(|r| r.json().unwrap())
        .find(|b| last_user(&b["messages"]).starts_with("Até quando"))
        .unwrap();
    let roles: Vec<&str> = third["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert!(!third.to_string().contains("31 de maio"));
}

#[test]
fn eval_text_output() {
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, stdout, stderr) =
        run(eval(&server, &out).args(["--model", TUNED, "--baseline", BASE]));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("eval_text_stdout", stdout);
    insta::assert_snapshot!("eval_text_stderr", filter(&stderr, tmp.path()));
}

#[test]
fn eval_rerun_sends_nothing_and_a_later_baseline_asks_only_the_baseline() {
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, _, stderr) = run(eval(&server, &out).args(["--model", TUNED, "--concurrency", "3"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.requests().len(), 4);
    let first = (
        read(&out.join("eval.jsonl")),
        read(&out.join("report.html")),
    );

    let (code, stdout, stderr) =
        run(eval(&server, &out).args(["--model", TUNED, "--format", "json", "--concurrency", "1"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.requests().len(), 4, "a rerun sends nothing");
    assert_eq!(
        json_out(&stdout)["requests"],
        json!({"sent": 0, "cached": 4})
    );
    assert_eq!(
        (
            read(&out.join("eval.jsonl")),
            read(&out.join("report.html"))
        ),
        first,
        "the same answers give the same bytes"
    );

    let (code, _, stderr) = run(eval(&server, &out).args(["--model", TUNED, "--baseline", BASE]));
    assert_eq!(code, 0, "{stderr}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 8);
    assert!(
        reqs[4..].iter().all(|r| r.json().unwrap()["model"] == BASE),
        "only the baseline is asked"
    );
    // A changed parameter is a different request.
    let (code, _, stderr) =
        run(eval(&server, &out).args(["--model", TUNED, "--temperature", "0.5", "--limit", "1"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.requests().len(), 9);
}

#[test]
fn eval_retries_a_429_and_honours_retry_after() {
    let mut inner = models();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let server = MockServer::start(move |req: &Request| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::json(
                429,
                &json!({"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}),
            )
            .header("retry-after-ms", "5");
        }
        inner(req)
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, stdout, stderr) =
        run(eval(&server, &out).args(["--model", TUNED, "--concurrency", "1", "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.requests().len(), 5, "4 answers and the retried 429");
    assert!(close(mean(&json_out(&stdout), TUNED, "facts"), 1.0));
}

#[test]
fn eval_gate_exits_1_below_the_minimum_and_0_above() {
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, stdout, stderr) = run(eval(&server, &out).args([
        "--model",
        BASE,
        "--min",
        "facts=0.9",
        "--min",
        "chrf=0.1",
        "--format",
        "json",
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Gate failed: `{BASE}` facts is 0.167, below the minimum 0.9"
        )),
        "{stderr}"
    );
    let gate = &json_out(&stdout)["gate"];
    assert_eq!(gate[0]["passed"], false);
    assert_eq!(gate[1]["passed"], true);
    // The outputs are written all the same: they say why.
    assert_eq!(records(&out).len(), 4);

    let (code, _, stderr) = run(eval(&server, &out).args([
        "--model",
        TUNED,
        "--min",
        "facts=0.9",
        "--min",
        "exact=0.25",
    ]));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn eval_never_shows_the_key_and_a_failure_changes_no_output() {
    // A gateway that echoes the key in its error, after one good answer.
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let mut inner = models();
    let server = MockServer::start(move |req: &Request| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            return inner(req);
        }
        Reply::json(
            401,
            &json!({"error": {"message": format!("Incorrect API key provided: {KEY}"), "code": "invalid_api_key"}}),
        )
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, stdout, stderr) =
        run(eval(&server, &out).args(["--model", TUNED, "--concurrency", "1"]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");
    assert!(stderr.contains("[redacted]"), "{stderr}");
    assert!(!out.join("eval.jsonl").exists() && !out.join("report.html").exists());
    // The answer that came is kept, so a rerun does not pay for it again.
    assert_eq!(read(&out.join("cache.jsonl")).lines().count(), 1);

    // And a good run: the key is in no output or file.
    let good = MockServer::start(models()).unwrap();
    let (code, stdout2, stderr2) = run(eval(&good, &out).args([
        "--model",
        TUNED,
        "--baseline",
        BASE,
        "--judge",
        JUDGE,
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr2}");
    let mut texts = vec![stdout, stderr, stdout2, stderr2];
    for entry in std::fs::read_dir(&out).unwrap() {
        texts.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    for t in &texts {
        assert!(!t.contains("EVALTESTSECRET"), "the key leaked: {t}");
    }
}

#[test]
fn eval_judge_grades_each_answer_and_alternates_the_pairwise_order() {
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, stdout, stderr) = run(eval(&server, &out).args([
        "--model",
        TUNED,
        "--baseline",
        BASE,
        "--judge",
        JUDGE,
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let s = json_out(&stdout);
    // 8 answers, 8 grades, 4 comparisons.
    assert_eq!(server.requests().len(), 20);
    assert!(close(mean(&s, TUNED, "judge"), 1.0));
    assert!(close(mean(&s, BASE, "judge"), 1.0));
    // The judge always prefers answer A; the model is A on examples 1 and 3 only.
    let p = &s["comparison"]["judge_pairwise"];
    assert_eq!((&p["wins"], &p["losses"]), (&json!(2), &json!(2)));
    let prompts: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.json().unwrap()["model"] == JUDGE)
        .map(|r| last_user(&r.json().unwrap()["messages"]))
        .collect();
    assert!(
        prompts
            .iter()
            .any(|p| p.contains("Reference answer:") && p.contains("R$ 4,8 milhões"))
    );
    // A rerun asks the judge nothing either.
    let (code, _, stderr) =
        run(eval(&server, &out).args(["--model", TUNED, "--baseline", BASE, "--judge", JUDGE]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.requests().len(), 20);
}

#[test]
fn eval_answers_do_not_depend_on_concurrency() {
    let strip = |out: &Path| -> Vec<Value> {
        records(out)
            .into_iter()
            .map(|mut r| {
                for model in [TUNED, BASE] {
                    r["answers"][model]["latency_ms"] = Value::Null;
                }
                r
            })
            .collect()
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for n in ["1", "8"] {
        let server = MockServer::start(models()).unwrap();
        let out = tmp.path().join(n);
        let (code, _, stderr) = run(eval(&server, &out).args([
            "--model",
            TUNED,
            "--baseline",
            BASE,
            "--concurrency",
            n,
        ]));
        assert_eq!(code, 0, "{stderr}");
        seen.push(strip(&out));
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn eval_compatible_server_without_a_key_gets_no_authorization() {
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, _, stderr) = run(clean()
        .args([
            "eval",
            FILE,
            "--model",
            TUNED,
            "--provider",
            "compatible",
            "--limit",
            "2",
        ])
        .arg("--base-url")
        .arg(format!("{}/v1", server.url()))
        .arg("--out-dir")
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "--limit 2");
    assert!(reqs.iter().all(|r| r.header("authorization").is_none()));
    assert_eq!(records(&out).len(), 2);
}

#[test]
fn eval_refuses_bad_input_before_sending_anything() {
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, _, stderr) = run(clean()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", format!("{}/v1", server.url()))
        .args(["eval", "fixtures/eval/sem-resposta.jsonl", "--model", TUNED])
        .arg("--out-dir")
        .arg(&out));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("fixtures/eval/sem-resposta.jsonl:2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fixtures/eval/sem-resposta.jsonl:3"),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was sent"), "{stderr}");
    for (args, message) in [
        (vec!["--min", "bleu=0.3"], "`bleu` is not a metric"),
        (vec!["--min", "facts=90"], "outside 0..1"),
        (vec!["--min", "judge=0.5"], "needs a judge model"),
        (vec!["--provider", "compatible"], "needs the server's URL"),
        (vec!["--baseline", TUNED], "same model"),
    ] {
        let (code, _, stderr) = run(clean()
            .args(["eval", FILE, "--model", TUNED])
            .args(&args)
            .arg("--out-dir")
            .arg(&out));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // No credentials: a usage error naming the variable.
    let (code, _, stderr) = run(clean()
        .args(["eval", FILE, "--model", TUNED])
        .arg("--out-dir")
        .arg(&out));
    assert_eq!(code, 2);
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    assert!(server.requests().is_empty());
    assert!(!out.exists(), "a refused run writes nothing");
}

/// The report renders in a real browser with the scores and the marked facts. Chromium
/// is required in CI (`AFINAR_REQUIRE_CHROMIUM=1`, set by `.ci/run`, which installs it).
#[test]
fn eval_report_renders_in_chromium() {
    let Some(chromium) = chromium() else {
        return;
    };
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // The base model first, so its missing facts are marked in the references.
    let out = tmp.path().join("eval");
    let (code, _, stderr) = run(eval(&server, &out).args(["--model", BASE, "--baseline", TUNED]));
    assert_eq!(code, 0, "{stderr}");
    let profile = tmp.path().join("profile");
    let dom = rendered_dom(chromium, &out.join("report.html"), &profile);
    assert!(
        dom.contains("id=\"mean-facts-0\">16.7 ["),
        "the base model's facts mean"
    );
    assert!(dom.contains("id=\"mean-facts-1\">100.0 [100.0, 100.0] n=3<"));
    assert!(dom.contains("id=\"wins-facts\">0<") && dom.contains("id=\"losses-facts\">3<"));
    assert!(dom.contains("<mark class=\"missing\">R$ 4,8 milhões</mark>"));
    assert!(dom.contains("<mark class=\"missing\">31 de maio</mark>"));
    // Worst first: the base model's first example has facts 0 and the fewest words right.
    let first = dom.find("id=\"example-1\"").unwrap();
    let last = dom.find("id=\"example-4\"").unwrap();
    assert!(first < last);
}

#[test]
fn eval_cache_is_shared_and_sorted() {
    // Two runs in the same directory with the models in the other order reuse each
    // other's answers; the cache's lines are sorted by key whatever the timing.
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let (code, _, stderr) = run(eval(&server, &out).args(["--model", BASE, "--concurrency", "4"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(eval(&server, &out).args(["--model", TUNED, "--baseline", BASE]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.requests().len(), 8);
    let keys: Vec<String> = read(&out.join("cache.jsonl"))
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), 8);
}

/// A pipeline over the bundled CSV with `eval` as its `[eval]` section.
fn eval_pipeline(dir: &Path, eval: &str) -> std::path::PathBuf {
    let path = dir.join("avaliar.toml");
    let csv = crate::common::root().join("fixtures/simples-nacional.csv");
    std::fs::write(
        &path,
        format!(
            "[[sources]]\npath = \"{}\"\n[split]\nvalidation = 4\n{eval}",
            csv.display().to_string().replace('\\', "/")
        ),
    )
    .unwrap();
    path
}

fn run_eval_pipeline(server: &MockServer, pipeline: &Path, out: &Path) -> (i32, String, String) {
    run(served(server)
        .arg("run")
        .arg(pipeline)
        .arg("--out-dir")
        .arg(out)
        .arg("--eval"))
}

#[test]
fn run_eval_scores_the_runs_own_validation_file_from_the_eval_section() {
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let section = format!(
        "[eval]\nmodel = \"{TUNED}\"\nbaseline = \"{BASE}\"\nmin = [\"f1=0.0\", \"chrf=0.0\"]\nyes = true\n"
    );
    let pipeline = eval_pipeline(tmp.path(), &section);
    let (code, stdout, stderr) = run_eval_pipeline(&server, &pipeline, &out);
    assert_eq!(code, 0, "{stderr}");
    // The questions asked are exactly the run's validation questions, to both models.
    let validation: Vec<Value> = read(&out.join("validation.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(validation.len(), 4);
    let recs = records(&out.join("eval"));
    assert_eq!(recs.len(), 4);
    for (rec, ex) in recs.iter().zip(&validation) {
        assert_eq!(rec["question"], last_user(&ex["messages"]).as_str());
        assert!(rec["scores"][TUNED]["f1"].is_number(), "{rec}");
        assert!(rec["scores"][BASE]["f1"].is_number(), "{rec}");
    }
    assert_eq!(server.requests().len(), 8);
    assert!(out.join("eval/report.html").exists());
    for text in [&stdout, &stderr] {
        assert!(!text.contains(KEY));
    }

    // A gate the answers cannot meet fails the run (exit 1), with the cache: no request.
    let section = format!("[eval]\nmodel = \"{TUNED}\"\nmin = [\"exact=0.99\"]\nyes = true\n");
    let pipeline = eval_pipeline(tmp.path(), &section);
    let (code, _, stderr) = run_eval_pipeline(&server, &pipeline, &out);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(server.requests().len(), 8, "the cache answered");
}

#[test]
fn run_eval_without_an_eval_section_or_with_a_bad_key_is_a_usage_error() {
    let server = MockServer::start(models()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = run_eval_pipeline(&server, &eval_pipeline(tmp.path(), ""), &out);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("has no `[eval]` section"), "{stderr}");
    let bad = format!("[eval]\nmodel = \"{TUNED}\"\nbaselin = \"{BASE}\"\n");
    let (code, _, stderr) = run_eval_pipeline(&server, &eval_pipeline(tmp.path(), &bad), &out);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`[eval]` in `"), "{stderr}");
    assert!(stderr.contains("has unknown key `baselin`"), "{stderr}");
    assert!(server.requests().is_empty());
}
