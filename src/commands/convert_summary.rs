//! `afinar convert`'s text summary on standard error.

use afinar_formats::Reject;
use afinar_pipeline::convert::Summary;
use afinar_pipeline::stage::redact::RedactMode;
use afinar_pipeline::stage::shape::Format;

use crate::ui;

/// The summary: each source read, what was written where, what was masked, the rejects.
pub(super) fn render(s: &Summary<'_>, rejects: &[Reject]) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    for input in &s.inputs {
        let unit = input.unit();
        t.push_str(&ui::source_summary(input.path, input.info));
        let mut counts = format!(
            "  {}: {}, {} rejected",
            ui::count(input.rows, unit.0, unit.1),
            ui::count(input.examples, "example", "examples"),
            input.rejected
        );
        if input.blank > 0 {
            let _ = write!(counts, "; {} blank skipped", input.blank);
        }
        if let Some(skipped) = ui::title_rows(input.info) {
            let _ = write!(counts, "; {skipped}");
        }
        let _ = writeln!(t, "{counts}");
        for note in input.notes {
            let _ = writeln!(t, "  note: {note}");
        }
        for w in input.warnings {
            let _ = writeln!(t, "  {} {w}", ui::paint("warning:", "1;33"));
        }
    }
    let shape = match s.shape {
        Format::Chat => "chat",
        Format::Completion => "prompt/completion",
        Format::Dpo => "DPO",
    };
    let target = if s.output == "-" {
        "standard output".to_owned()
    } else {
        format!("`{}`", s.output)
    };
    match s.not_written {
        None => {
            let n = ui::count(s.written as u64, "example", "examples");
            let lines = s.target.map(|n| format!(", {n} lines")).unwrap_or_default();
            let _ = writeln!(t, "Wrote {n} ({shape}{lines}) to {target}");
        }
        Some(why) if s.output == "-" => {
            t.push_str(&ui::warning(&format!(
                "no examples were written: {}",
                why.describe()
            )));
        }
        Some(why) => t.push_str(&ui::warning(&format!(
            "no examples were written: {}; {target} was not created or changed",
            why.describe()
        ))),
    }
    if let Some(r) = &s.redacted {
        let how = match r.mode {
            RedactMode::Placeholder => "placeholders",
            RedactMode::Fake => "consistent fakes",
        };
        let masked = ui::redacted_text(&r.counts);
        let _ = writeln!(t, "Masked personal data with {how}: {masked}");
    }
    t.push_str(&ui::rejects_list(rejects, s.rejects_file.as_deref()));
    t
}
