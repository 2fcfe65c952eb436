//! `afinar convert` on real-world sources: encodings, delimiters, workbooks, Markdown,
//! alpaca/ShareGPT/DPO JSON, several inputs at once. Every fixture converts with no flags.

use std::path::Path;

use serde_json::Value;

use crate::common::{afinar, filter, read, run};

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

/// (user, assistant) of every single-turn chat line.
fn pairs(text: &str) -> Vec<(String, String)> {
    lines(text)
        .iter()
        .map(|l| {
            let msgs = l["messages"].as_array().expect("messages");
            let of = |role: &str| {
                msgs.iter()
                    .rev()
                    .find(|m| m["role"] == role)
                    .and_then(|m| m["content"].as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            (of("user"), of("assistant"))
        })
        .collect()
}

fn convert(inputs: &[&str], out: &Path, extra: &[&str]) -> (i32, String, String) {
    run(afinar()
        .arg("convert")
        .args(inputs)
        .arg("-o")
        .arg(out)
        .args(extra))
}

/// The workbook of the issue: cover sheet without Q&A, merged title, blank rows, a
/// number, a date, a formula with a cached value, a line break in a cell.
fn write_workbook(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    let mut book = Workbook::new();
    let cover = book.add_worksheet();
    cover.set_name("Capa").unwrap();
    cover
        .write_string(0, 0, "Escritório Contábil Exemplo")
        .unwrap();
    let faq = book.add_worksheet();
    faq.set_name("FAQ").unwrap();
    faq.merge_range(
        0,
        0,
        0,
        4,
        "FAQ – Simples Nacional 2026",
        &Format::new().set_bold(),
    )
    .unwrap();
    for (col, name) in ["Tema", "Pergunta", "Resposta", "Limite (R$)", "Revisado em"]
        .iter()
        .enumerate()
    {
        faq.write_string(2, col as u16, *name).unwrap();
    }
    faq.write_string(3, 0, "Limites").unwrap();
    faq.write_string(3, 1, "Qual o limite do Simples Nacional?")
        .unwrap();
    faq.write_string(
        3,
        2,
        "R$ 4,8 milhões por ano.\nO sublimite é R$ 3,6 milhões.",
    )
    .unwrap();
    faq.write_number(3, 3, 4_800_000.0).unwrap();
    let date = ExcelDateTime::from_ymd(2026, 3, 31).unwrap();
    faq.write_datetime_with_format(3, 4, &date, &Format::new().set_num_format("dd/mm/yyyy"))
        .unwrap();
    faq.write_string(5, 1, "Qual o dobro do limite?").unwrap();
    faq.write_formula(5, 2, Formula::new("=D4*2").set_result("9600000"))
        .unwrap();
    faq.write_string(6, 1, "Posso ter empregado?").unwrap();
    let other = book.add_worksheet();
    other.set_name("Outra").unwrap();
    other.write_string(0, 0, "Question").unwrap();
    other.write_string(0, 1, "Answer").unwrap();
    other.write_string(1, 0, "Is this read?").unwrap();
    other
        .write_string(1, 1, "Only with --sheet Outra.")
        .unwrap();
    book.save(path).unwrap();
}

#[test]
fn cp1252_semicolon_csv_summary_names_encoding_delimiter_and_header() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("train.jsonl");
    let (code, _, stderr) = convert(&["fixtures/sources/faq-cp1252.csv"], &out, &[]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("cp1252_summary", filter(&stderr, tmp.path()));
    let got = pairs(&read(&out));
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].0, "O que significa \"DAS\"?");
    assert_eq!(
        got[1].1,
        "É o “Documento de Arrecadação do Simples Nacional” – a guia única mensal."
    );
    assert!(
        got[2].1.contains("§ 3º, da LC nº 123/2006).\n\nSe cair"),
        "{}",
        got[2].1
    );
}

#[test]
fn several_inputs_are_read_in_parallel_and_written_in_input_order() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("train.jsonl");
    let inputs = [
        "fixtures/sources/faq-utf16.csv",
        "fixtures/sources/faq-latin1.tsv",
        "fixtures/sources/artigo.md",
        "fixtures/sources/alpaca.json",
        "fixtures/sources/sharegpt.json",
    ];
    let (code, _, stderr) = convert(&inputs, &out, &[]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("several_inputs_summary", filter(&stderr, tmp.path()));
    let questions: Vec<String> = pairs(&read(&out)).into_iter().map(|(q, _)| q).collect();
    assert_eq!(
        questions,
        vec![
            "Quem pode ser MEI?",
            "O MEI emite nota fiscal?",
            "O que é o Fator R?",
            "Quando o Fator R é igual ou superior a 28%?",
            "Serviços de açougue pagam ICMS?",
            "Quem pode optar pelo Simples Nacional?",
            "O MEI precisa de contador?",
            "Posso parcelar o DAS em atraso?",
            "What if I miss the deadline?",
            "O MEI pode ter empregado?",
            "Quanto custa o DAS do MEI?",
            "Explique o que é o DAS.",
            "Calcule o imposto devido.\n\nReceita do mês: R$ 10.000,00; alíquota efetiva: 6%.",
            "Qual o limite do MEI?",
            "E para vendas on-line?",
            "O que é o CNAE?",
        ]
    );
    // The same call twice gives the same bytes, whatever the thread scheduling.
    let again = tmp.path().join("again.jsonl");
    let (code, _, _) = convert(&inputs, &again, &[]);
    assert_eq!(code, 0);
    assert_eq!(read(&out), read(&again));
}

#[test]
fn xlsx_summary_names_sheet_skipped_sheets_and_header_row() {
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join("faq.xlsx");
    write_workbook(&book);
    let out = tmp.path().join("train.jsonl");
    let (code, _, stderr) = run(afinar().arg("convert").arg(&book).arg("-o").arg(&out));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("xlsx_summary", filter(&stderr, tmp.path()));
    assert_eq!(
        pairs(&read(&out)),
        vec![
            (
                "Qual o limite do Simples Nacional?".to_owned(),
                "R$ 4,8 milhões por ano.\nO sublimite é R$ 3,6 milhões.".to_owned()
            ),
            ("Qual o dobro do limite?".to_owned(), "9600000".to_owned()),
        ]
    );

    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(&book)
        .args(["--sheet", "Outra", "-o"])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        pairs(&read(&out)),
        vec![(
            "Is this read?".to_owned(),
            "Only with --sheet Outra.".to_owned()
        )]
    );

    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(&book)
        .args(["--sheet", "Nenhuma", "-o"])
        .arg(&out));
    assert_eq!(code, 2);
    insta::assert_snapshot!("xlsx_unknown_sheet", filter(&stderr, tmp.path()));
}

#[test]
fn dpo_jsonl_goes_through_with_to_dpo_and_is_rejected_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dpo.jsonl");
    let (code, _, stderr) = convert(&["fixtures/sources/dpo.jsonl"], &out, &["--to", "dpo"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("dpo_summary", filter(&stderr, tmp.path()));
    insta::assert_snapshot!("dpo_output", read(&out));

    let chat = tmp.path().join("chat.jsonl");
    let (code, _, stderr) = convert(
        &["fixtures/sources/dpo.jsonl", "fixtures/sources/alpaca.json"],
        &chat,
        &["--to", "dpo"],
    );
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("dpo_mixed_with_chat", filter(&stderr, tmp.path()));

    let (code, _, stderr) = convert(&["fixtures/sources/dpo.jsonl"], &chat, &[]);
    assert_eq!(code, 1, "nothing written is exit 1: {stderr}");
    assert!(stderr.contains(
        "DPO preference example cannot become a chat or prompt/completion example; use --to dpo"
    ));
}

#[test]
fn encoding_flag_overrides_detection_and_bad_labels_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("train.jsonl");
    // Forcing UTF-8 on the cp1252 file shows replacement characters instead of guessing.
    let (code, _, stderr) = convert(
        &["fixtures/sources/faq-cp1252.csv"],
        &out,
        &["--encoding", "utf-8"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("(csv, utf-8, delimiter `;`"), "{stderr}");
    assert!(read(&out).contains('\u{FFFD}'));
    let (code, _, stderr) = convert(
        &["fixtures/sources/faq-cp1252.csv"],
        &out,
        &["--encoding", "latin1"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("(csv, windows-1252, delimiter `;`"),
        "{stderr}"
    );
    let (code, _, stderr) = convert(
        &["fixtures/sources/faq-cp1252.csv"],
        &out,
        &["--encoding", "klingon"],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("Unknown encoding `klingon`"), "{stderr}");
}

#[test]
fn parquet_output_round_trips_or_says_the_build_lacks_it() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("faq.parquet");
    let (code, _, stderr) = convert(&["fixtures/sources/artigo.md"], &table, &[]);
    // `make test-parquet` (CI) runs this with the feature on: then it must round-trip.
    assert_eq!(code == 0, cfg!(feature = "parquet"), "{stderr}");
    if code == 2 {
        // The binary is built without the `parquet` feature of afinar-formats.
        assert!(
            stderr.contains(
                "was built without Parquet support; rebuild afinar with the `parquet` feature"
            ),
            "{stderr}"
        );
        return;
    }
    assert_eq!(code, 0, "{stderr}");
    let direct = tmp.path().join("direct.jsonl");
    let back = tmp.path().join("back.jsonl");
    assert_eq!(convert(&["fixtures/sources/artigo.md"], &direct, &[]).0, 0);
    let (code, _, stderr) = run(afinar().arg("convert").arg(&table).arg("-o").arg(&back));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(pairs(&read(&back)), pairs(&read(&direct)));
}

#[path = "../../fixtures/sources/workbooks.rs"]
mod workbooks;

/// A workbook from [`workbooks`] written into `dir`.
fn workbook_file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn readme_first_workbook_reads_the_faq_sheet_even_among_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let book = workbook_file(tmp.path(), "leia-me.xlsx", &workbooks::readme_first());
    let out = tmp.path().join("train.jsonl");
    let (code, _, stderr) = run(afinar().arg("convert").arg(&book).arg("-o").arg(&out));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("readme_first_summary", filter(&stderr, tmp.path()));
    assert_eq!(
        pairs(&read(&out)),
        vec![
            (
                workbooks::FAQ_2026[0].1.to_owned(),
                workbooks::FAQ_2026[0].2.to_owned()
            ),
            (
                workbooks::FAQ_2026[1].1.to_owned(),
                workbooks::FAQ_2026[1].2.to_owned()
            ),
        ]
    );
    // The multi-file run the issue lost to exit 2.
    let book = book.display().to_string();
    let (code, _, stderr) = convert(
        &[book.as_str(), "fixtures/sources/faq-cp1252.csv"],
        &out,
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(pairs(&read(&out)).len(), 5);
}

#[test]
fn a_second_qualifying_sheet_is_named_with_how_to_pick_it() {
    let tmp = tempfile::tempdir().unwrap();
    let book = workbook_file(tmp.path(), "faq.xlsx", &workbooks::two_faq_sheets());
    let out = tmp.path().join("train.jsonl");
    let (code, stdout, stderr) = run(afinar().arg("convert").arg(&book).arg("-o").arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    insta::assert_snapshot!("two_qualifying_sheets_summary", filter(&stderr, tmp.path()));
    assert_eq!(pairs(&read(&out)).len(), 2);
    // What the note says to run reads the archive.
    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(&book)
        .args(["--sheet", "Arquivo 2025", "-o"])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        pairs(&read(&out)),
        vec![(
            "Qual era o limite do MEI em 2025?".to_owned(),
            "R$ 81 mil por ano.".to_owned()
        )]
    );
    // The JSON summary carries the notes too.
    let (code, stdout, _) = run(afinar()
        .arg("convert")
        .arg(&book)
        .args(["--format", "json", "-o"])
        .arg(&out));
    assert_eq!(code, 0);
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    let notes = summary["inputs"][0]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert!(
        notes[1]
            .as_str()
            .unwrap()
            .contains("--sheet \"Arquivo 2025\"")
    );
}

#[test]
fn no_qualifying_sheet_is_exit_2_listing_the_sheets_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let book = workbook_file(tmp.path(), "contatos.xlsx", &workbooks::no_faq_sheet());
    let out = tmp.path().join("train.jsonl");
    let (code, _, stderr) = run(afinar().arg("convert").arg(&book).arg("-o").arg(&out));
    assert_eq!(code, 2, "{stderr}");
    insta::assert_snapshot!("no_qualifying_sheet", filter(&stderr, tmp.path()));
    assert!(!out.exists());
}

#[test]
fn semicolon_csv_with_a_huge_comma_answer_keeps_its_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("train.jsonl");
    let (code, _, stderr) = convert(&["fixtures/sources/faq-huge-answer.csv"], &out, &[]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("huge_comma_answer_summary", filter(&stderr, tmp.path()));
    let got = pairs(&read(&out));
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].1.lines().count(), 60);
    assert_eq!(
        got[2].1,
        "Quem fatura até R$ 81 mil por ano e não é sócio de outra empresa."
    );
}

#[test]
fn mac_roman_cr_only_csv_comes_through_with_its_accents() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("train.jsonl");
    let (code, _, stderr) = convert(&["fixtures/sources/faq-mac-roman-cr.csv"], &out, &[]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("mac_roman_summary", filter(&stderr, tmp.path()));
    let text = read(&out);
    for garbled in ['Ž', 'ƒ', '‹', '›', '\u{8D}'] {
        assert!(!text.contains(garbled), "`{garbled}` in {text}");
    }
    assert_eq!(
        pairs(&text)[0],
        (
            "Qual é o limite do Simples Nacional?".to_owned(),
            "R$ 4,8 milhões por ano. É o teto para ME e EPP.".to_owned()
        )
    );
    // Forcing the wrong encoding is obeyed, and warned about in the summary.
    let (code, _, stderr) = convert(
        &["fixtures/sources/faq-mac-roman-cr.csv"],
        &out,
        &["--encoding", "cp1252"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("  warning: "), "{stderr}");
    assert!(read(&out).contains("Qual Ž o limite"));
    let (code, _, stderr) = convert(
        &["fixtures/sources/faq-mac-roman-cr.csv"],
        &out,
        &["--encoding", "mac-roman"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("(csv, macintosh, delimiter `;`"),
        "{stderr}"
    );
    assert!(!stderr.contains("warning:"), "{stderr}");
}

#[test]
fn utf16_big_endian_csv_without_bom_is_read_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("train.jsonl");
    let (code, _, stderr) = convert(&["fixtures/sources/faq-utf16be-nobom.csv"], &out, &[]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("utf16be_nobom_summary", filter(&stderr, tmp.path()));
    assert_eq!(
        pairs(&read(&out))[1].1,
        "A atividade vai para o Anexo III, com alíquotas menores: até R$ 4,8 milhões."
    );
}
