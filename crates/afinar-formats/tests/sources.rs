//! Every fixture under `fixtures/sources/` read with default options (no flags), each
//! with its exact expected pairs, plus a workbook generated here.

// Helpers outside `#[test]` functions panic on broken fixtures, which is what a test wants.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use afinar_core::Role;
use afinar_formats::read::{self, InputKind, ReadOptions, ReadOutput};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/sources")
        .join(name)
}

/// Reads a fixture with origins naming it by its file name only.
fn read_fixture(name: &str) -> ReadOutput {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let kind = InputKind::from_path(Path::new(name)).unwrap();
    read::read_bytes(kind, &bytes, name, &ReadOptions::default()).unwrap()
}

/// (origin, question, answer) of every example.
fn pairs(out: &ReadOutput) -> Vec<(String, String, String)> {
    out.examples
        .iter()
        .map(|e| {
            (
                e.origin.to_string(),
                e.question().unwrap_or("").to_owned(),
                e.answer().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn p(origin: &str, q: &str, a: &str) -> (String, String, String) {
    (origin.to_owned(), q.to_owned(), a.to_owned())
}

fn rejects(out: &ReadOutput) -> Vec<(String, String)> {
    out.rejects
        .iter()
        .map(|r| (r.origin.to_string(), r.reason.clone()))
        .collect()
}

#[test]
fn cp1252_semicolon_crlf_csv() {
    let out = read_fixture("faq-cp1252.csv");
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "faq-cp1252.csv:4",
                "Qual o limite de faturamento do Simples Nacional?",
                "R$ 4,8 milhões por ano-calendário.\nAcima de R$ 3,6 milhões, ICMS e ISS são recolhidos fora do DAS."
            ),
            p(
                "faq-cp1252.csv:6",
                "O que significa \"DAS\"?",
                "É o “Documento de Arrecadação do Simples Nacional” – a guia única mensal."
            ),
            p(
                "faq-cp1252.csv:8",
                "Até quando pago o DAS?",
                "Até o dia 20 do mês seguinte (art. 21, § 3º, da LC nº 123/2006).\n\nSe cair em feriado, vence no dia útil anterior."
            ),
        ]
    );
    assert_eq!(
        rejects(&out),
        vec![(
            "faq-cp1252.csv:11".into(),
            "Empty answer in column `Resposta`".into()
        )]
    );
    assert_eq!(out.examples[0].meta["Revisado em"], "31/03/2026");
    assert_eq!(out.examples[0].meta["Tema"], "Limites");
    let info = &out.info;
    assert_eq!(
        (info.format.as_str(), info.encoding.as_str(), info.delimiter),
        ("csv", "windows-1252", Some(b';'))
    );
    assert_eq!(
        (
            info.header_line,
            info.skipped_above_header.clone(),
            info.blank
        ),
        (Some(3), vec![1], 2)
    );
}

#[test]
fn latin1_tsv_without_final_newline() {
    let out = read_fixture("faq-latin1.tsv");
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "faq-latin1.tsv:2",
                "O que é o Fator R?",
                "É a razão entre a folha de salários e a receita bruta dos últimos 12 meses."
            ),
            p(
                "faq-latin1.tsv:3",
                "Quando o Fator R é igual ou superior a 28%?",
                "A atividade é tributada pelo Anexo III, com alíquotas menores."
            ),
            p(
                "faq-latin1.tsv:4",
                "Serviços de açougue pagam ICMS?",
                "Sim; o açougue é comércio (Anexo I)."
            ),
        ]
    );
    assert_eq!(out.examples[2].meta["Categoria"], "Comércio");
    assert_eq!(
        (out.info.encoding.as_str(), out.info.delimiter),
        ("windows-1252", Some(b'\t'))
    );
}

#[test]
fn utf16_csv_with_bom() {
    let out = read_fixture("faq-utf16.csv");
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "faq-utf16.csv:2",
                "Quem pode ser MEI?",
                "Quem fatura até R$ 81.000,00 por ano e não é sócio de outra empresa."
            ),
            p(
                "faq-utf16.csv:3",
                "O MEI emite nota fiscal?",
                "Sim: a NFS-e nacional é obrigatória desde 2023 – para serviços."
            ),
        ]
    );
    assert_eq!(
        (out.info.encoding.as_str(), out.info.bom, out.info.delimiter),
        ("utf-16le", true, Some(b','))
    );
}

#[test]
fn markdown_article_mixing_three_styles() {
    let out = read_fixture("artigo.md");
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "artigo.md:9",
                "Quem pode optar pelo Simples Nacional?",
                "Microempresas e empresas de pequeno porte com receita bruta anual de até\n**R$ 4,8 milhões**, desde que:\n\n- não tenham sócio domiciliado no exterior;\n- não exerçam atividade vedada (art. 17 da LC nº 123/2006).\n\nA opção é feita em janeiro."
            ),
            p(
                "artigo.md:28",
                "O MEI precisa de contador?",
                "Não é obrigatório, mas ajuda a evitar erros na *declaração anual* (DASN-SIMEI)."
            ),
            p(
                "artigo.md:31",
                "Posso parcelar o DAS em atraso?",
                "Sim. O parcelamento é pedido no portal do Simples Nacional.\n\nO número de parcelas é de até 60."
            ),
            p(
                "artigo.md:37",
                "What if I miss the deadline?",
                "A fine of 0.33% per day applies, up to 20%."
            ),
            p(
                "artigo.md:42",
                "O MEI pode ter empregado?",
                "Sim, um empregado que receba o salário mínimo ou o piso da categoria."
            ),
            p(
                "artigo.md:45",
                "Quanto custa o DAS do MEI?",
                "Um valor fixo mensal:\n\n- R$ 75,90 para comércio e indústria;\n- R$ 79,90 para serviços."
            ),
        ]
    );
    assert_eq!(rejects(&out), vec![]);
    assert_eq!(
        (out.info.format.as_str(), out.info.encoding.as_str()),
        ("markdown", "utf-8")
    );
}

#[test]
fn alpaca_json() {
    let out = read_fixture("alpaca.json");
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "alpaca.json:2",
                "Explique o que é o DAS.",
                "É a guia única de recolhimento do Simples Nacional, paga até o dia 20."
            ),
            p(
                "alpaca.json:7",
                "Calcule o imposto devido.\n\nReceita do mês: R$ 10.000,00; alíquota efetiva: 6%.",
                "O imposto devido é R$ 600,00."
            ),
            p(
                "alpaca.json:13",
                "Qual o limite do MEI?",
                "R$ 81 mil por ano."
            ),
        ]
    );
    assert_eq!(out.examples[1].meta["categoria"], "cálculo");
    assert_eq!(
        rejects(&out),
        vec![("alpaca.json:17".into(), "`output` is empty".into())]
    );
}

#[test]
fn sharegpt_json() {
    let out = read_fixture("sharegpt.json");
    let roles: Vec<Vec<Role>> = out
        .examples
        .iter()
        .map(|e| e.messages.iter().map(|m| m.role).collect())
        .collect();
    assert_eq!(
        roles,
        vec![
            vec![
                Role::System,
                Role::User,
                Role::Assistant,
                Role::User,
                Role::Assistant
            ],
            vec![Role::User, Role::Assistant],
        ]
    );
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "sharegpt.json:2",
                "Preciso emitir nota como MEI?",
                "Também é recomendável emitir."
            ),
            p(
                "sharegpt.json:27",
                "O que é o CNAE?",
                "É a Classificação Nacional de Atividades Econômicas."
            ),
        ]
    );
    assert_eq!(out.examples[0].meta["id"], "c1");
    assert_eq!(
        rejects(&out),
        vec![(
            "sharegpt.json:40".into(),
            "Turn 1 is from unknown role `robot`; use human, gpt, system, function_call, observation (or user, assistant, tool), or add an alias".into()
        )]
    );
}

#[test]
fn openai_dpo_jsonl() {
    let out = read_fixture("dpo.jsonl");
    assert!(out.examples.is_empty());
    type Row = (String, Vec<(Role, String)>, String, String);
    let got: Vec<Row> = out
        .preferences
        .iter()
        .map(|p| {
            (
                p.origin.to_string(),
                p.input
                    .iter()
                    .map(|m| (m.role, m.content.clone()))
                    .collect(),
                p.preferred.content.clone(),
                p.non_preferred.content.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "dpo.jsonl:1".into(),
                vec![(Role::User, "Qual o prazo do DAS?".into())],
                "Até o dia 20 do mês seguinte ao da apuração.".into(),
                "No fim do ano.".into()
            ),
            (
                "dpo.jsonl:2".into(),
                vec![
                    (Role::System, "Responda em uma frase.".into()),
                    (Role::User, "MEI paga INSS?".into())
                ],
                "Sim: 5% do salário mínimo, incluído no DAS.".into(),
                "Não.".into()
            ),
        ]
    );
    assert_eq!(
        rejects(&out),
        vec![
            (
                "dpo.jsonl:3".into(),
                "Line has no `non_preferred_output`".into()
            ),
            (
                "dpo.jsonl:4".into(),
                "Invalid JSON at column 25: expected value".into()
            ),
        ]
    );
}

/// A workbook as accountants make them: a cover sheet without Q&A, a merged title row,
/// blank rows, a number, a date, a percentage, a formula with its cached value, a line
/// break in a cell, and a second Q&A sheet.
pub fn workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    let mut book = Workbook::new();
    let cover = book.add_worksheet();
    cover.set_name("Capa").unwrap();
    cover
        .write_string(0, 0, "Escritório Contábil Exemplo")
        .unwrap();
    cover
        .write_string(2, 0, "As perguntas estão na aba FAQ. Dúvidas?")
        .unwrap();
    let faq = book.add_worksheet();
    faq.set_name("FAQ").unwrap();
    faq.merge_range(
        0,
        0,
        0,
        5,
        "FAQ – Simples Nacional 2026",
        &Format::new().set_bold(),
    )
    .unwrap();
    for (col, name) in [
        "Tema",
        "Pergunta",
        "Resposta",
        "Limite (R$)",
        "Revisado em",
        "Alíquota",
    ]
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
        "R$ 4,8 milhões por ano.\nO sublimite estadual é R$ 3,6 milhões.",
    )
    .unwrap();
    faq.write_number(3, 3, 4_800_000.0).unwrap();
    let date = ExcelDateTime::from_ymd(2026, 3, 31).unwrap();
    faq.write_datetime_with_format(3, 4, &date, &Format::new().set_num_format("dd/mm/yyyy"))
        .unwrap();
    faq.write_number(3, 5, 0.05).unwrap();
    faq.write_string(5, 0, "Limites").unwrap();
    faq.write_string(5, 1, "Qual o dobro do limite?").unwrap();
    faq.write_formula(5, 2, Formula::new("=D4*2").set_result("9600000"))
        .unwrap();
    faq.write_string(6, 0, "MEI").unwrap();
    faq.write_string(6, 1, "Posso ter empregado?").unwrap();
    let other = book.add_worksheet();
    other.set_name("Outra").unwrap();
    other.write_string(0, 0, "Question").unwrap();
    other.write_string(0, 1, "Answer").unwrap();
    other.write_string(1, 0, "Is this read?").unwrap();
    other
        .write_string(1, 1, "Only with --sheet Outra.")
        .unwrap();
    book.save_to_buffer().unwrap()
}

#[test]
fn xlsx_first_qa_sheet_with_title_numbers_dates_and_formulas() {
    let bytes = workbook();
    let out = read::read_bytes(
        InputKind::Spreadsheet,
        &bytes,
        "faq.xlsx",
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "faq.xlsx:FAQ!4",
                "Qual o limite do Simples Nacional?",
                "R$ 4,8 milhões por ano.\nO sublimite estadual é R$ 3,6 milhões."
            ),
            p("faq.xlsx:FAQ!6", "Qual o dobro do limite?", "9600000"),
        ]
    );
    let meta: Vec<(&str, &str)> = out.examples[0]
        .meta
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        meta,
        vec![
            ("Alíquota", "0.05"),
            ("Limite (R$)", "4800000"),
            ("Revisado em", "2026-03-31"),
            ("Tema", "Limites")
        ]
    );
    assert_eq!(
        rejects(&out),
        vec![(
            "faq.xlsx:FAQ!7".into(),
            "Empty answer in column `Resposta`".into()
        )]
    );
    let info = &out.info;
    assert_eq!(
        (
            info.format.as_str(),
            info.sheet.as_deref(),
            info.skipped_sheets.clone()
        ),
        ("xlsx", Some("FAQ"), vec!["Capa".to_owned()])
    );
    assert_eq!(
        (
            info.header_line,
            info.skipped_above_header.clone(),
            info.blank
        ),
        (Some(3), vec![1], 2)
    );
}

#[test]
fn xlsx_sheet_by_name_and_unknown_sheet() {
    let bytes = workbook();
    let opts = ReadOptions {
        sheet: Some("outra".into()),
        ..Default::default()
    };
    let out = read::read_bytes(InputKind::Spreadsheet, &bytes, "faq.xlsx", &opts).unwrap();
    assert_eq!(
        pairs(&out),
        vec![p(
            "faq.xlsx:Outra!2",
            "Is this read?",
            "Only with --sheet Outra."
        )]
    );
    let opts = ReadOptions {
        sheet: Some("Perguntas".into()),
        ..Default::default()
    };
    let err = read::read_bytes(InputKind::Spreadsheet, &bytes, "faq.xlsx", &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`faq.xlsx` has no sheet `Perguntas`; found `Capa`, `FAQ`, `Outra`"
    );
}

#[test]
fn ods_first_qa_sheet_with_merged_title_number_date_and_formula() {
    let out = read_fixture("faq.ods");
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "faq.ods:FAQ!4",
                "Qual o limite do Simples Nacional?",
                "R$ 4,8 milhões por ano.\nO sublimite é R$ 3,6 milhões."
            ),
            p("faq.ods:FAQ!5", "Qual o dobro do limite?", "9600000"),
        ]
    );
    let meta: Vec<(&str, &str)> = out.examples[0]
        .meta
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        meta,
        vec![
            ("Limite (R$)", "4800000"),
            ("Revisado em", "2026-03-31"),
            ("Tema", "Limites")
        ]
    );
    let info = &out.info;
    assert_eq!(
        (
            info.format.as_str(),
            info.sheet.as_deref(),
            info.skipped_sheets.clone()
        ),
        ("ods", Some("FAQ"), vec!["Capa".to_owned()])
    );
    assert_eq!(
        (info.header_line, info.skipped_above_header.clone()),
        (Some(3), vec![1])
    );
}

#[path = "../../../fixtures/sources/workbooks.rs"]
mod workbooks;

fn read_workbook(bytes: &[u8], opts: &ReadOptions) -> Result<ReadOutput, String> {
    read::read_bytes(InputKind::Spreadsheet, bytes, "faq.xlsx", opts).map_err(|e| e.to_string())
}

#[test]
fn mac_roman_cr_only_csv() {
    let out = read_fixture("faq-mac-roman-cr.csv");
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "faq-mac-roman-cr.csv:2",
                "Qual é o limite do Simples Nacional?",
                "R$ 4,8 milhões por ano. É o teto para ME e EPP."
            ),
            p(
                "faq-mac-roman-cr.csv:3",
                "Até quando pago o DAS?",
                "Até o dia 20 do mês seguinte; se cair em feriado, no dia útil anterior."
            ),
            p(
                "faq-mac-roman-cr.csv:5",
                "O MEI pode ter sócio?",
                "Não. O MEI é individual:\nnão há sócios, e a opção é só para quem fatura até R$ 81 mil."
            ),
            p(
                "faq-mac-roman-cr.csv:7",
                "Recebi uma intimação. E agora?",
                "Responda à notificação no prazo; peça orientação ao contador (exceções à regra são raras)."
            ),
        ]
    );
    assert_eq!(out.examples[3].meta["Tema"], "Fiscalização");
    assert_eq!(
        rejects(&out),
        vec![(
            "faq-mac-roman-cr.csv:8".into(),
            "Empty answer in column `Resposta`".into()
        )]
    );
    let info = &out.info;
    assert_eq!(
        (info.encoding.as_str(), info.delimiter, info.blank),
        ("macintosh", Some(b';'), 0)
    );
    assert_eq!(info.warnings, Vec::<String>::new());
    assert_eq!(info.notes.len(), 2, "{:?}", info.notes);
    assert!(info.notes[0].starts_with("read as Mac Roman (older Excel for Mac): as Windows-1252 it would show symbols where accented letters belong, e.g. `milh›es` on line 2"), "{}", info.notes[0]);
    assert_eq!(
        info.notes[1],
        "line ends are CR only (classic Mac OS); read one record per CR"
    );
    // `--encoding` still decides, and says when its reading looks wrong.
    let bytes = std::fs::read(fixture("faq-mac-roman-cr.csv")).unwrap();
    let forced = |label: &str| {
        let opts = ReadOptions {
            encoding: Some(label.into()),
            ..Default::default()
        };
        read::read_bytes(InputKind::Csv, &bytes, "mac.csv", &opts).unwrap()
    };
    let out = forced("mac-roman");
    assert_eq!(
        (out.info.encoding.as_str(), out.examples.len()),
        ("macintosh", 4)
    );
    assert!(out.info.warnings.is_empty());
    let out = forced("cp1252");
    assert_eq!(
        out.examples[0].question(),
        Some("Qual Ž o limite do Simples Nacional?")
    );
    assert_eq!(out.info.warnings.len(), 1);
    assert!(
        out.info.warnings[0].contains("(from --encoding)"),
        "{:?}",
        out.info.warnings
    );
}

#[test]
fn semicolon_csv_with_a_huge_answer_full_of_commas() {
    let out = read_fixture("faq-huge-answer.csv");
    assert_eq!(out.info.delimiter, Some(b';'));
    assert_eq!(
        (
            out.info.question_column.as_deref(),
            out.info.answer_column.as_deref()
        ),
        (Some("Pergunta"), Some("Resposta"))
    );
    let got: Vec<(String, String)> = pairs(&out).into_iter().map(|(o, q, _)| (o, q)).collect();
    assert_eq!(
        got,
        vec![
            (
                "faq-huge-answer.csv:2".into(),
                "Quais são as condições para optar pelo Simples Nacional?".into()
            ),
            ("faq-huge-answer.csv:62".into(), "O que é o DAS?".into()),
            ("faq-huge-answer.csv:63".into(), "Quem pode ser MEI?".into()),
        ]
    );
    let huge = out.examples[0].answer().unwrap();
    assert_eq!(huge.lines().count(), 60);
    assert!(
        huge.starts_with("1. Receita bruta até R$ 4,8 milhões, sem sócio no exterior,"),
        "{huge}"
    );
    assert_eq!(out.examples[0].meta["Tema"], "Opção");
    assert_eq!(rejects(&out), vec![]);
}

#[test]
fn utf16_big_endian_csv_without_bom() {
    let out = read_fixture("faq-utf16be-nobom.csv");
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "faq-utf16be-nobom.csv:2",
                "O que é o Fator R?",
                "É a razão entre a folha de salários e a receita bruta, em 12 meses."
            ),
            p(
                "faq-utf16be-nobom.csv:3",
                "Quando o Fator R passa de 28%?",
                "A atividade vai para o Anexo III, com alíquotas menores: até R$ 4,8 milhões."
            ),
        ]
    );
    assert_eq!(
        (out.info.encoding.as_str(), out.info.bom, out.info.delimiter),
        ("utf-16be", false, Some(b','))
    );
    assert!(out.info.notes[0].contains("big-endian without a byte order mark"));
}

#[test]
fn readme_sheet_first_is_passed_over_for_the_faq() {
    let out = read_workbook(&workbooks::readme_first(), &ReadOptions::default()).unwrap();
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "faq.xlsx:FAQ!4",
                workbooks::FAQ_2026[0].1,
                workbooks::FAQ_2026[0].2
            ),
            p(
                "faq.xlsx:FAQ!5",
                workbooks::FAQ_2026[1].1,
                workbooks::FAQ_2026[1].2
            ),
        ]
    );
    let info = &out.info;
    assert_eq!(
        (
            info.sheet.as_deref(),
            info.skipped_sheets.clone(),
            info.header_line
        ),
        (Some("FAQ"), vec!["Leia-me".to_owned()], Some(3))
    );
    assert_eq!(
        info.notes,
        vec!["read sheet `FAQ`, the first with a question/answer header; passed over `Leia-me` (no row of column labels naming a question and an answer in its first 20 rows)".to_owned()]
    );
    assert!(info.other_sheets.is_empty());
}

#[test]
fn a_second_qualifying_sheet_is_named_and_can_be_picked() {
    let bytes = workbooks::two_faq_sheets();
    let out = read_workbook(&bytes, &ReadOptions::default()).unwrap();
    assert_eq!(out.info.sheet.as_deref(), Some("FAQ"));
    assert_eq!(out.info.other_sheets, vec!["Arquivo 2025".to_owned()]);
    assert_eq!(
        out.info.notes[1],
        "sheet `Arquivo 2025` also has a question/answer header (row 3) and was not read; pass --sheet \"Arquivo 2025\" to read it instead"
    );
    let opts = ReadOptions {
        sheet: Some("arquivo 2025".into()),
        ..Default::default()
    };
    let out = read_workbook(&bytes, &opts).unwrap();
    assert_eq!(
        pairs(&out),
        vec![p(
            "faq.xlsx:Arquivo 2025!4",
            "Qual era o limite do MEI em 2025?",
            "R$ 81 mil por ano."
        )]
    );
    assert!(out.info.notes.is_empty() && out.info.other_sheets.is_empty());
}

#[test]
fn no_qualifying_sheet_fails_listing_every_sheet_and_why() {
    let err = read_workbook(&workbooks::no_faq_sheet(), &ReadOptions::default()).unwrap_err();
    assert_eq!(
        err,
        "No sheet of `faq.xlsx` has a question/answer header (a row of column labels, question and answer in different cells, with rows under it); looked at \
         `Leia-me` (no row of column labels naming a question and an answer in its first 20 rows), \
         `Contatos` (no row of column labels naming a question and an answer in its first 20 rows), \
         `Rascunho` (a header on row 1 but no rows under it), `Vazia` (empty); pass --sheet NAME, or --question and --answer"
    );
    // The prose sheet alone is still never read as both question and answer.
    let opts = ReadOptions {
        sheet: Some("Leia-me".into()),
        ..Default::default()
    };
    let err = read_workbook(&workbooks::no_faq_sheet(), &opts).unwrap_err();
    assert!(
        err.starts_with("`faq.xlsx:Leia-me` has no column that looks like an answer"),
        "{err}"
    );
}
