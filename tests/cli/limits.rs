//! Resource caps (afinar_core::limits): each cap is hit by a small input and answered by
//! a clear reject or error naming the file and the line, never a crash or a runaway
//! allocation. `convert` exits 0 with rejects written and listed (1 with `--strict`).

use std::fs;

use serde_json::Value;

use crate::common::{afinar, filter, fixture, run};

fn rejects(path: &std::path::Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_stray_cell_at_the_sheets_far_corner_costs_one_row_not_512_gib() {
    // 1.5 KB: a two-row table and one cell at XFD1048576. calamine's dense range asked
    // for 512 GiB here and aborted.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.jsonl");
    let (code, _, err) = run(afinar()
        .arg("convert")
        .arg(fixture("limits/stray-cell.xlsx"))
        .arg("-o")
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read_to_string(&out).unwrap().lines().count(), 1);
    let r = rejects(&tmp.path().join("out.rejects.jsonl"));
    assert_eq!(r.len(), 1);
    assert!(
        r[0]["origin"]
            .as_str()
            .unwrap()
            .ends_with("stray-cell.xlsx:FAQ!1048576")
    );
    insta::assert_snapshot!(r[0]["reason"].as_str().unwrap(), @"Row has 16384 fields but the header has 2; delete the cells to the right of the table, or give those columns a header");
}

#[test]
fn a_workbook_declaring_gigabytes_unpacked_is_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run(afinar()
        .args(["convert", "fixtures/limits/zip-bomb.xlsx", "-o"])
        .arg(tmp.path().join("out.jsonl")));
    assert_eq!(code, 2);
    insta::assert_snapshot!(err.trim_end(), @"error: `fixtures/limits/zip-bomb.xlsx` unpacks to 7.5 GiB, over the 1 GiB afinar accepts for a spreadsheet; is it really a workbook?");
}

#[test]
fn an_unbalanced_quote_swallowing_the_file_is_one_reject_on_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("faq.csv");
    let mut text = String::from("Pergunta;Resposta\nO que é o DAS?;A guia mensal.\n");
    text.push_str("Qual o limite?;\"R$ 4,8 milhões\n");
    for i in 0..30_000 {
        text.push_str(&format!(
            "Pergunta {i}?;Resposta {i} sobre o Simples Nacional.\n"
        ));
    }
    fs::write(&csv, text).unwrap();
    let out = tmp.path().join("out.jsonl");
    let (code, _, err) = run(afinar()
        .args(["convert", "--strict"])
        .arg(&csv)
        .arg("-o")
        .arg(&out));
    assert_eq!(code, 1, "{err}");
    let r = rejects(&tmp.path().join("out.rejects.jsonl"));
    assert_eq!(r.len(), 1);
    assert_eq!(
        filter(r[0]["origin"].as_str().unwrap(), tmp.path()),
        "[TMP]/faq.csv:3"
    );
    insta::assert_snapshot!(r[0]["reason"].as_str().unwrap(), @"Cell in column `Resposta` is 1.6 MiB, over the 1 MiB limit for one cell; an unbalanced quote (`\"`) may have swallowed the rows after it");
    // Nothing lost: the raw row holds everything the quote swallowed.
    assert!(
        r[0]["raw"]
            .as_str()
            .unwrap()
            .ends_with("Resposta 29999 sobre o Simples Nacional.")
    );
}

#[test]
fn a_jsonl_line_over_16_mib_is_a_reject_and_the_rest_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("big.jsonl");
    let mut text = String::from("{\"prompt\": \"O que é?\", \"completion\": \"Isto.\"}\n");
    text.push_str("{\"prompt\": \"");
    text.push_str(&"a".repeat(17 << 20));
    text.push_str("\", \"completion\": \"b\"}\n");
    text.push_str("{\"prompt\": \"E o DAS?\", \"completion\": \"A guia.\"}\n");
    fs::write(&src, text).unwrap();
    let out = tmp.path().join("out.jsonl");
    let (code, _, err) = run(afinar().arg("convert").arg(&src).arg("-o").arg(&out));
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read_to_string(&out).unwrap().lines().count(), 2);
    let r = rejects(&tmp.path().join("out.rejects.jsonl"));
    assert_eq!(
        filter(r[0]["origin"].as_str().unwrap(), tmp.path()),
        "[TMP]/big.jsonl:2"
    );
    insta::assert_snapshot!(r[0]["reason"].as_str().unwrap(), @"Line is 17 MiB, over the 16 MiB limit for one example; no model takes an example that long");
}

#[test]
fn check_skips_a_line_over_16_mib_without_holding_it_and_names_it() {
    // No newline at all: the reader must stop keeping bytes at the cap.
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("train.jsonl");
    let mut text = String::from(
        "{\"messages\": [{\"role\": \"user\", \"content\": \"Oi\"}, {\"role\": \"assistant\", \"content\": \"Olá\"}]}\n",
    );
    text.push_str(&"x".repeat(20 << 20));
    fs::write(&src, text).unwrap();
    let (code, out, err) = run(afinar().args(["check", "--format", "json"]).arg(&src));
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let errors = report["errors"].as_array().unwrap();
    let long: Vec<&Value> = errors
        .iter()
        .filter(|e| e["code"] == "line_too_long")
        .collect();
    assert_eq!(long.len(), 1, "{errors:?}");
    assert_eq!(long[0]["line"], 2);
    insta::assert_snapshot!(long[0]["message"].as_str().unwrap(), @"The line is 20 MiB, over the 16 MiB afinar reads for one example (no model takes one that long); it was skipped. Shorten or split it");
}

#[test]
fn json_nested_past_128_levels_is_named_on_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("deep.jsonl");
    let deep = format!("{{\"messages\": {}{}}}\n", "[".repeat(200), "]".repeat(200));
    fs::write(&src, deep).unwrap();
    let (code, _, err) = run(afinar().arg("check").arg(&src));
    assert_eq!(code, 1);
    assert!(
        err.contains("deep.jsonl:1  invalid_json  Invalid JSON at column 140: nested more than 128 levels deep"),
        "{err}"
    );
}

#[test]
fn a_source_over_2_gib_is_refused_before_it_is_read() {
    // Sparse: 3 GiB on paper, nothing on disk.
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("huge.csv");
    fs::File::create(&src).unwrap().set_len(3 << 30).unwrap();
    let (code, _, err) = run(afinar()
        .arg("convert")
        .arg(&src)
        .arg("-o")
        .arg(tmp.path().join("out.jsonl")));
    assert_eq!(code, 2);
    insta::assert_snapshot!(filter(err.trim_end(), tmp.path()), @"error: `[TMP]/huge.csv` is 3 GiB, over the 2 GiB afinar reads into memory; split it, or for JSONL use `afinar check`, which streams");
}
