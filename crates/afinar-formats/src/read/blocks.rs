//! The block structure shared by the Word and web page readers: what a document is once
//! its markup is gone (headings, paragraphs, list items, tables), and how an answer made
//! of blocks is written as Markdown.

/// One block of a document, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// A heading, level 1 (the highest) to 9.
    Heading { level: u8, text: String },
    /// A paragraph; `\n` where the author put a soft line break.
    Para(String),
    /// A list item at `depth` (0 for the outermost list); `number` for numbered lists.
    Item {
        depth: u8,
        number: Option<u32>,
        text: String,
    },
    /// A table, each cell's text on one line.
    Table(Vec<Vec<String>>),
    /// Preformatted text, kept as it is.
    Pre(String),
    /// A question and answer structure already read as pairs (an accordion, a question
    /// table): it ends a heading's section and makes it a title.
    Qa,
}

/// Writes blocks as Markdown: paragraphs separated by a blank line, list items as `- `
/// or `1. ` on consecutive lines, nested ones indented, tables as pipe tables, headings
/// inside an answer in bold.
pub(crate) fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    let mut last_item = false;
    for block in blocks {
        let is_item = matches!(block, Block::Item { .. });
        let piece = match block {
            Block::Heading { text, .. } if !text.is_empty() => format!("**{text}**"),
            Block::Para(text) if !text.is_empty() => text.clone(),
            Block::Item {
                depth,
                number,
                text,
            } if !text.is_empty() => {
                let marker = number.map_or_else(|| "-".to_owned(), |n| format!("{n}."));
                let indent = "  ".repeat(usize::from(*depth));
                // Continuation lines line up under the item's text.
                let pad = " ".repeat(indent.len() + marker.len() + 1);
                format!(
                    "{indent}{marker} {}",
                    text.replace('\n', &format!("\n{pad}"))
                )
            }
            Block::Table(rows) if !rows.is_empty() => pipe_table(rows),
            Block::Pre(text) if !text.trim().is_empty() => {
                format!("```\n{}\n```", text.trim_matches('\n'))
            }
            _ => continue,
        };
        if !out.is_empty() {
            out.push_str(if is_item && last_item { "\n" } else { "\n\n" });
        }
        out.push_str(&piece);
        last_item = is_item;
    }
    out
}

fn pipe_table(rows: &[Vec<String>]) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let line = |row: &[String]| {
        let mut s = String::from("|");
        for i in 0..width {
            let cell = row.get(i).map_or("", String::as_str);
            let cell = cell.replace('|', "\\|").replace('\n', " ");
            s.push(' ');
            s.push_str(cell.trim());
            s.push_str(" |");
        }
        s
    };
    let mut out = line(&rows[0]);
    out.push('\n');
    out.push('|');
    out.push_str(&"---|".repeat(width));
    for row in &rows[1..] {
        out.push('\n');
        out.push_str(&line(row));
    }
    out
}

/// Whether a heading or title reads as a question.
pub(crate) fn is_question(text: &str) -> bool {
    text.trim_end().ends_with('?')
}

/// The sections of `?` headings: for each, the block range of its answer (to the next
/// heading of the same or a higher level). A section holding other questions (`holds`
/// says which blocks are questions of another style) is a title and is left out.
pub(crate) fn question_sections(
    blocks: &[Block],
    holds: impl Fn(usize) -> bool,
) -> Vec<(usize, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let Block::Heading { level, text } = block else {
            continue;
        };
        if !is_question(text) {
            continue;
        }
        let end = blocks[i + 1..]
            .iter()
            .position(|b| matches!(b, Block::Heading { level: l, .. } if l <= level))
            .map_or(blocks.len(), |p| i + 1 + p);
        let titles_others = (i + 1..end).any(|j| {
            holds(j)
                || matches!(&blocks[j], Block::Qa)
                || matches!(&blocks[j], Block::Heading { text, .. } if is_question(text))
        });
        if !titles_others {
            out.push((i, i + 1..end));
        }
    }
    out
}

/// Where a question is seen twice on one page or document (the same question and answer
/// once folded: accents, case, punctuation and Markdown marks ignored).
pub(crate) fn same_pair(a: (&str, &str), b: (&str, &str)) -> bool {
    use crate::columns::fold;
    fold(a.0) == fold(b.0) && fold(a.1) == fold(b.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_keep_their_structure() {
        let blocks = vec![
            Block::Para("Primeiro parágrafo\ncom quebra.".into()),
            Block::Item {
                depth: 0,
                number: None,
                text: "ME".into(),
            },
            Block::Item {
                depth: 1,
                number: Some(1),
                text: "até R$ 4,8 milhões".into(),
            },
            Block::Para(String::new()),
            Block::Table(vec![
                vec!["Anexo".into(), "Alíquota".into()],
                vec!["I | comércio".into(), "4%".into()],
            ]),
            Block::Heading {
                level: 3,
                text: "Detalhe".into(),
            },
        ];
        assert_eq!(
            markdown(&blocks),
            "Primeiro parágrafo\ncom quebra.\n\n- ME\n  1. até R$ 4,8 milhões\n\n| Anexo | Alíquota |\n|---|---|\n| I \\| comércio | 4% |\n\n**Detalhe**"
        );
    }

    #[test]
    fn a_section_holding_questions_is_a_title() {
        let h = |level, text: &str| Block::Heading {
            level,
            text: text.into(),
        };
        let blocks = vec![
            h(1, "Dúvidas?"),
            h(2, "Quem pode optar?"),
            Block::Para("ME e EPP.".into()),
            h(2, "Vazia?"),
            h(1, "Fim"),
        ];
        let got = question_sections(&blocks, |_| false);
        assert_eq!(got, vec![(1, 2..3), (3, 4..4)]);
    }
}
