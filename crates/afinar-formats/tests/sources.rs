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
