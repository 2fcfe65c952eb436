//! Word documents and web pages under `fixtures/sources/docx` and `fixtures/sources/html`
//! read with default options, each to its exact expected pairs, rejects and summary; the
//! traps in them (table of contents, headers, footers, footnotes, comments, deleted
//! changes, field codes, page chrome, templates, comments) never become text.

// Helpers outside `#[test]` functions panic on broken fixtures, which is what a test wants.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

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
    let file = Path::new(name).file_name().unwrap().to_str().unwrap();
    read::read_bytes(kind, &bytes, file, &ReadOptions::default()).unwrap()
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

fn rejects(out: &ReadOutput) -> Vec<(String, String)> {
    out.rejects
        .iter()
        .map(|r| (r.origin.to_string(), r.reason.clone()))
        .collect()
}

/// Everything the reader produced, to look for trap text in.
fn all_text(out: &ReadOutput) -> String {
    let mut s = String::new();
    for (o, q, a) in pairs(out) {
        s.push_str(&format!("{o}\n{q}\n{a}\n"));
    }
    for r in &out.rejects {
        s.push_str(&format!("{}\n{}\n{}\n", r.origin, r.reason, r.raw));
    }
    s
}

fn p(origin: &str, q: &str, a: &str) -> (String, String, String) {
    (origin.to_owned(), q.to_owned(), a.to_owned())
}

fn r(origin: &str, reason: &str) -> (String, String) {
    (origin.to_owned(), reason.to_owned())
}

fn assert_no_trap(out: &ReadOutput, traps: &[&str]) {
    let text = all_text(out);
    for trap in traps {
        assert!(
            !text.contains(trap),
            "`{trap}` was read as content:\n{text}"
        );
    }
}

#[test]
fn word_document_gives_every_style_and_nothing_from_its_traps() {
    let out = read_fixture("docx/manual-duvidas.docx");
    let f = "manual-duvidas.docx";
    assert_eq!(
        pairs(&out),
        vec![
            p(
                &format!("{f}:§\"O que é o Simples Nacional?\""),
                "O que é o Simples Nacional?",
                "O Simples Nacional é um regime compartilhado de arrecadação, cobrança e fiscalização de tributos aplicável às microempresas e empresas de pequeno porte.\n\nEle abrange oito tributos\nem uma única guia, o DAS."
            ),
            p(
                &format!("{f}:§\"Quem pode optar?\""),
                "Quem pode optar?",
                "Podem optar as empresas que:\n\n- sejam microempresas (ME) ou empresas de pequeno porte (EPP);\n- tenham receita bruta anual de até R$ 4,8 milhões;\n  - no ano-calendário anterior.\n\n**Limites de faturamento**\n\n| Porte | Receita bruta anual |\n|---|---|\n| ME | até R$ 360 mil |\n| EPP | até R$ 4,8 milhões |"
            ),
            p(
                &format!("{f}:§\"Como optar?\""),
                "Como optar?",
                "A opção é feita em janeiro, no Portal do Simples Nacional."
            ),
            p(
                &format!("{f}:§\"Qual é o vencimento do DAS?\""),
                "Qual é o vencimento do DAS?",
                "O DAS vence no dia 20 do mês seguinte ao da apuração.\n\nSe o dia 20 não for dia útil, o vencimento é antecipado."
            ),
            p(
                &format!("{f}:§\"O MEI também paga pelo DAS?\""),
                "O MEI também paga pelo DAS?",
                "Sim. O MEI paga um valor fixo mensal pelo DAS-MEI."
            ),
            p(
                &format!("{f}:table 2 row 2"),
                "Há multa por atraso na entrega da DEFIS?",
                "Sim. A multa é de 2% ao mês-calendário sobre o montante dos tributos informados, limitada a 20%."
            ),
            p(
                &format!("{f}:table 2 row 3"),
                "Quem está obrigado à DEFIS?",
                "Todas as ME e EPP optantes pelo Simples Nacional.\n\nO MEI não entrega a DEFIS; entrega a DASN-SIMEI."
            ),
            p(
                &format!("{f}:§\"Empresa com sócio no exterior pode optar?\""),
                "Empresa com sócio no exterior pode optar?",
                "Não. A pessoa jurídica que tenha sócio domiciliado no exterior não pode optar pelo Simples Nacional."
            ),
            p(
                &format!("{f}:§\"Como é calculada a alíquota efetiva?\""),
                "Como é calculada a alíquota efetiva?",
                "A alíquota efetiva é calculada pela fórmula:\n(RBT12 × Alíq − PD) ÷ RBT12\n\n1. Apure a receita bruta dos últimos 12 meses (RBT12);\n2. aplique a alíquota nominal e a parcela a deduzir do anexo."
            ),
            p(
                &format!("{f}:§\"Qual é o limite de receita para o MEI?\""),
                "Qual é o limite de receita para o MEI?",
                "R$ 81 mil por ano, ou R$ 6.750 por mês de atividade no primeiro ano."
            ),
        ]
    );
    assert_eq!(
        rejects(&out),
        vec![
            r(
                &format!("{f}:§\"Qual o prazo para regularizar pendências?\""),
                "Question heading has no answer before the next heading"
            ),
            r(
                &format!("{f}:§\"Posso parcelar débitos do Simples?\""),
                "Question label has no answer label (`R:`, `Resposta:`, `A:`) before the next question or heading"
            ),
            r(
                &format!("{f}:table 2 row 5"),
                "Question in the table has an empty answer cell"
            ),
        ]
    );
    assert!(out.rejects.iter().all(|r| r.code == "empty_answer"));
    assert_eq!(
        (out.info.format.as_str(), out.info.rows, out.info.blank),
        ("docx", 13, 1)
    );
    assert_eq!(
        out.info.notes,
        vec![
            "Found 4 question headings, 3 `P:`/`R:` label pairs, 3 question table rows, 3 numbered bold questions",
            "Not read as content: 4 table of contents entries, 2 headers and footers, 1 footnote or endnote mark, 1 comment, 1 deleted tracked change, 1 field code and 1 hidden text run",
        ]
    );
    assert_no_trap(
        &out,
        &[
            "Sumário",
            "PAGEREF",
            "HYPERLINK",
            "receita.fazenda",
            "Ficou com dúvidas",
            "Precisa de ajuda",
            "Página",
            "vale para todos",
            "Revisar",
            "3,6 milhões",
            "trecho apagado",
            "OCULTA",
            "Manual de dúvidas",
        ],
    );
}

#[test]
fn web_page_gives_every_style_once_and_nothing_from_its_chrome() {
    let out = read_fixture("html/faq-simples.html");
    let f = "faq-simples.html";
    assert_eq!(
        pairs(&out),
        vec![
            p(
                &format!("{f}:§\"Quem pode optar pelo Simples Nacional?\""),
                "Quem pode optar pelo Simples Nacional?",
                "Podem optar as microempresas e as empresas de pequeno porte com receita bruta anual de até R$ 4,8 milhões.\n\n- sem débitos com a Receita Federal;\n- sem sócio domiciliado no exterior."
            ),
            p(
                &format!("{f}:§\"Qual é o vencimento do DAS?\""),
                "Qual é o vencimento do DAS?",
                "O DAS vence no dia 20 do mês seguinte ao da apuração."
            ),
            p(
                &format!("{f}:§\"Posso mudar de regime no meio do ano?\""),
                "Posso mudar de regime no meio do ano?",
                "Não. A opção vale para o ano-calendário inteiro,\nsalvo exclusão."
            ),
            p(
                &format!("{f}:§\"O que é a DEFIS?\""),
                "O que é a DEFIS?",
                "É a Declaração de Informações Socioeconômicas e Fiscais, entregue à Receita Federal até 31 de março."
            ),
            p(
                &format!("{f}:§\"Quem entrega a DASN-SIMEI?\""),
                "Quem entrega a DASN-SIMEI?",
                "O MEI, até 31 de maio de cada ano.\n\nMesmo sem faturamento, a declaração é obrigatória."
            ),
            p(
                &format!("{f}:§\"O que é o PGDAS-D?\""),
                "O que é o PGDAS-D?",
                "É o programa gerador do DAS, onde se apura o valor devido."
            ),
            p(
                &format!("{f}:§\"O que é a RBT12?\""),
                "O que é a RBT12?",
                "É a receita bruta acumulada nos 12 meses anteriores ao período de apuração."
            ),
            p(
                &format!("{f}:table 2 row 2"),
                "O MEI pode ter empregado?",
                "Sim, um empregado que receba o salário mínimo ou o piso da categoria."
            ),
            p(
                &format!("{f}:table 2 row 3"),
                "Qual o limite de faturamento do MEI?",
                "R$ 81 mil por ano."
            ),
            p(
                &format!("{f}:JSON-LD[3]"),
                "O que é o Fator R?",
                "É a razão entre a folha de salários dos últimos 12 meses e a receita bruta do mesmo período. Quando é de 28% ou mais, a atividade é tributada pelo Anexo III."
            ),
        ]
    );
    assert_eq!(
        rejects(&out),
        vec![
            r(
                &format!("{f}:§\"Qual a multa por atraso?\""),
                "Question heading has no answer before the next heading"
            ),
            r(
                &format!("{f}:JSON-LD[4]"),
                "JSON-LD `Question` has no `acceptedAnswer` text"
            ),
        ]
    );
    // The entity in the JSON-LD name is decoded.
    assert_eq!(
        out.rejects[1].raw,
        "Como emitir a guia do MEI & do DAS-MEI?"
    );
    assert_eq!(
        (out.info.format.as_str(), out.info.encoding.as_str()),
        ("html", "utf-8")
    );
    assert_eq!(
        out.info.notes,
        vec![
            "Found 4 FAQPage JSON-LD questions (2 also on the page, read once), 3 <details> accordion questions, 3 question headings, 2 <dt>/<dd> questions, 2 question table rows",
            "Not read as content: asides (1), comments (1), cookie banners (1), navigation (1), page footer (1), page header (1), templates (1)",
        ]
    );
    assert_eq!(
        out.info.warnings,
        vec![
            "1 accordion or definition title does not end in `?` and was read as text, not a question: `Saiba mais sobre o regime`"
        ]
    );
    assert_no_trap(
        &out,
        &[
            "cookies",
            "Precisa de um contador",
            "Procurando algo",
            "Dúvidas?",
            "script",
            "comentada",
            "modelo",
            "Ainda tem dúvidas",
            "novidades",
            "Saiba mais",
            "Tabela de prazos",
            "Reunimos",
        ],
    );
}

#[test]
fn old_page_declared_latin1_reads_as_windows_1252_through_its_layout_table() {
    let out = read_fixture("html/faq-antigo.htm");
    let f = "faq-antigo.htm";
    assert_eq!(out.info.encoding, "windows-1252");
    assert_eq!(
        pairs(&out),
        vec![
            p(
                &format!("{f}:table row 1"),
                "Qual o limite de receita da EPP?",
                "R$ 4,8 milhões por ano-calendário. O “sublimite” estadual é de R$ 3,6 milhões."
            ),
            p(
                &format!("{f}:table row 2"),
                "O que é o “Simples”?",
                "É o regime unificado de tributos para ME e EPP – Lei Complementar nº 123/2006."
            ),
            p(
                &format!("{f}:table row 4"),
                "Posso ter filial?",
                "Sim, desde que a receita somada de todas as unidades não ultrapasse o limite."
            ),
        ]
    );
    assert_eq!(
        rejects(&out),
        vec![r(
            &format!("{f}:table row 3"),
            "Question in the table has an empty answer cell"
        )]
    );
    assert_no_trap(&out, &["Menu", "Início", "Atualizado"]);
}

fn read_html(bytes: &[u8], opts: &ReadOptions) -> ReadOutput {
    read::read_bytes(InputKind::Html, bytes, "p.html", opts).unwrap()
}

#[test]
fn page_encoding_bom_then_flag_then_meta_then_bytes() {
    let body = "<h2>Quem pode optar?</h2><p>Empresas com receita até R$ 4,8 milhões.</p>";
    let answer = |out: &ReadOutput| out.examples[0].answer().unwrap().to_owned();
    let cp1252 = |s: &str| encoding_rs::WINDOWS_1252.encode(s).0.into_owned();
    let expected = "Empresas com receita até R$ 4,8 milhões.";

    // Declared ISO-8859-1, saved as Windows-1252.
    let page = cp1252(&format!("<meta charset=\"ISO-8859-1\">{body}"));
    let out = read_html(&page, &ReadOptions::default());
    assert_eq!(
        (out.info.encoding.as_str(), answer(&out).as_str()),
        ("windows-1252", expected)
    );
    assert!(out.info.warnings.is_empty());

    // A BOM wins over a declaration that contradicts it.
    let mut page = b"\xEF\xBB\xBF".to_vec();
    page.extend(format!("<meta charset=\"windows-1252\">{body}").as_bytes());
    let out = read_html(&page, &ReadOptions::default());
    assert_eq!((out.info.encoding.as_str(), out.info.bom), ("utf-8", true));
    assert_eq!(answer(&out), expected);

    // --encoding wins over the declaration.
    let page = cp1252(&format!("<meta charset=\"utf-8\">{body}"));
    let opts = ReadOptions {
        encoding: Some("latin1".into()),
        ..ReadOptions::default()
    };
    assert_eq!(answer(&read_html(&page, &opts)), expected);

    // Declared UTF-8 but not: read as declared, with a warning that says what to do.
    let out = read_html(&page, &ReadOptions::default());
    assert_eq!(out.info.encoding, "utf-8");
    assert!(answer(&out).contains('\u{FFFD}'));
    assert!(
        out.info.warnings[0].contains("pass --encoding"),
        "{:?}",
        out.info.warnings
    );

    // Nothing declared: UTF-8 when valid, else Windows-1252.
    let out = read_html(body.as_bytes(), &ReadOptions::default());
    assert_eq!(
        (out.info.encoding.as_str(), answer(&out).as_str()),
        ("utf-8", expected)
    );
    let out = read_html(&cp1252(body), &ReadOptions::default());
    assert_eq!(
        (out.info.encoding.as_str(), answer(&out).as_str()),
        ("windows-1252", expected)
    );
}

#[test]
fn json_ld_in_its_shapes_and_invalid_json_ld_is_a_warning() {
    let page = r#"<script type="application/ld+json">[{"@type":"Organization","name":"X"},
        {"@type":["WebPage","FAQPage"],"mainEntity":{"@type":"Question","name":"O MEI paga &lt;DAS&gt;?",
         "acceptedAnswer":[{"@type":"Answer","text":"Sim.\n\nTodo mês,\nno dia 20."}]}}]</script>
        <script type="application/ld+json">{"@type":"FAQPage","mainEntity":[</script>
        <script type="application/ld+json; charset=utf-8">{"@type":"FAQPage","mainEntity":[{"@type":"Question","name":"Tem multa?","suggestedAnswer":{"text":"<ol><li>2% ao mês;</li><li>no máximo 20%.</li></ol>"}}]}</script>"#;
    let out = read_html(page.as_bytes(), &ReadOptions::default());
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "p.html:JSON-LD[1]",
                "O MEI paga <DAS>?",
                "Sim.\n\nTodo mês,\nno dia 20."
            ),
            p(
                "p.html:JSON-LD[2]",
                "Tem multa?",
                "1. 2% ao mês;\n2. no máximo 20%."
            ),
        ]
    );
    assert_eq!(out.info.warnings.len(), 1);
    assert!(out.info.warnings[0].starts_with("JSON-LD script 2 is not valid JSON"));
}

/// A `.docx` zip with `document.xml` holding `body`, plus `styles` when given (stored, not
/// deflated: the `zip` crate here has no compression features).
fn docx(body: &str, styles: Option<&str>) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let ns = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;
    z.start_file("word/document.xml", opts).unwrap();
    write!(z, r#"<?xml version="1.0" encoding="UTF-8"?><w:document {ns}><w:body>{body}</w:body></w:document>"#).unwrap();
    if let Some(styles) = styles {
        z.start_file("word/styles.xml", opts).unwrap();
        write!(z, "<w:styles {ns}>{styles}</w:styles>").unwrap();
    }
    z.finish().unwrap();
    buf.into_inner()
}

fn read_docx(bytes: &[u8]) -> ReadOutput {
    read::read_bytes(InputKind::Docx, bytes, "d.docx", &ReadOptions::default()).unwrap()
}

fn wp(text: &str) -> String {
    format!("<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>")
}

#[test]
fn word_toc_field_without_content_control_outline_levels_and_split_labels() {
    let toc = r#"<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> TOC \o "1-3" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>Quem pode optar?</w:t></w:r></w:p><w:p><w:r><w:t>Tem multa?</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>"#;
    let heading = r#"<w:p><w:pPr><w:outlineLvl w:val="1"/></w:pPr><w:r><w:t>Quem pode optar?</w:t></w:r></w:p>"#;
    let text_box = r#"<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>Caixa de texto?</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice></mc:AlternateContent></w:r><w:r><w:t>ME e EPP.</w:t></w:r></w:p>"#;
    let nested = r#"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Anexo</w:t></w:r></w:p></w:tc><w:tc><w:tbl><w:tr><w:tc><w:p><w:r><w:t>I</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:tc></w:tr></w:tbl>"#;
    let control = format!(
        r#"<w:sdt><w:sdtPr><w:alias w:val="Pergunta"/></w:sdtPr><w:sdtContent>{}{}</w:sdtContent></w:sdt>"#,
        wp("Pergunta:"),
        wp("Tem multa por atraso?")
    );
    let title = r#"<w:p><w:pPr><w:outlineLvl w:val="0"/></w:pPr><w:r><w:t>Perguntas rápidas</w:t></w:r></w:p>"#;
    let body = format!(
        "{toc}{heading}{text_box}{nested}{title}{control}{}{}",
        wp("Resposta: Sim, de 2% ao mês."),
        wp("a: Yes.")
    );
    let out = read_docx(&docx(&body, None));
    assert_eq!(
        pairs(&out),
        vec![
            p(
                "d.docx:§\"Quem pode optar?\"",
                "Quem pode optar?",
                "ME e EPP.\n\n| Anexo | I |\n|---|---|"
            ),
            p(
                "d.docx:§\"Tem multa por atraso?\"",
                "Tem multa por atraso?",
                "Sim, de 2% ao mês.\n\na: Yes."
            ),
        ]
    );
    assert!(
        out.info.notes[1].contains("2 table of contents entries"),
        "{:?}",
        out.info.notes
    );
    assert!(
        out.info.notes[1].contains("1 drawing or text box"),
        "{:?}",
        out.info.notes
    );
}

#[test]
fn word_files_that_are_not_documents_are_errors_naming_them() {
    let err = read::read_bytes(
        InputKind::Docx,
        b"\xD0\xCF\x11\xE0 not a zip",
        "velho.docx",
        &ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("`velho.docx` is not a readable Word document: it is not a zip archive"),
        "{err}"
    );
    assert!(err.contains("Save it from Word as .docx"), "{err}");

    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    z.start_file(
        "xl/workbook.xml",
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    z.finish().unwrap();
    let err = read::read_bytes(
        InputKind::Docx,
        &buf.into_inner(),
        "planilha.docx",
        &ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "`planilha.docx` is not a readable Word document: it has no `word/document.xml`; is it really a Word document?"
    );

    let err = read::read_bytes(
        InputKind::Docx,
        &docx("<w:p><w:r><w:t>a</w:t></w:r></w:p></w:body>", None),
        "x.docx",
        &ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with(
            "`x.docx` is not a readable Word document: `word/document.xml`: invalid XML"
        ),
        "{err}"
    );

    let err = InputKind::from_path(Path::new("Manual.DOC"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "`Manual.DOC` is an old Word 97-2003 document; open it in Word and save it as .docx (Word Document)"
    );
    assert_eq!(
        InputKind::from_path(Path::new("faq.HTM")).unwrap(),
        InputKind::Html
    );
    assert_eq!(
        InputKind::from_path(Path::new("m.docm")).unwrap(),
        InputKind::Docx
    );
}

#[test]
fn a_document_without_questions_says_what_afinar_looks_for() {
    let out = read_docx(&docx(&wp("Só um parágrafo."), None));
    assert!(out.examples.is_empty() && out.rejects.is_empty());
    assert!(
        out.info.notes[0]
            .starts_with("Found no questions: afinar looks for headings ending in `?`")
    );
    let out = read_html(b"<p>Nada aqui?</p>", &ReadOptions::default());
    assert!(out.examples.is_empty() && out.rejects.is_empty());
    assert!(out.info.notes[0].starts_with("Found no questions"));
}
