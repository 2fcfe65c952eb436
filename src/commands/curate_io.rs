//! What `dedupe`, `split` and `leakage` share: reading their inputs as chat examples, the
//! summary format flag, and the warning that lists rows left out.

use std::fmt::Write as _;
use std::path::PathBuf;

use afinar_core::Example;
use afinar_core::progress::Progress;
use afinar_formats::{ReadOptions, Reject};
use clap::ValueEnum;

use crate::ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    Text,
    Json,
}

/// Reads every input with the shared readers, one after the other, telling `progress`
/// the bytes read; rows that cannot become examples come back as rejects, to be listed
/// (never silently dropped).
pub(super) fn read_inputs(
    inputs: &[PathBuf],
    progress: &dyn Progress,
) -> anyhow::Result<(Vec<Example>, Vec<Reject>)> {
    let mut examples = Vec::new();
    let mut rejects = Vec::new();
    for path in inputs {
        afinar_formats::read::stream_source(path, &ReadOptions::default(), progress, |out| {
            examples.extend(out.examples);
            rejects.extend(out.rejects);
            // Curation works on chat examples; a DPO line is reported, never dropped silently.
            rejects.extend(out.preferences.into_iter().map(|p| {
                Reject::new(
                    p.origin,
                    "DPO example; dedupe, split and leakage work on chat examples",
                    String::new(),
                )
            }));
            Ok::<(), afinar_formats::FormatError>(())
        })?;
    }
    // Grown by doubling while streaming: give back the unused quarter of a large input.
    examples.shrink_to_fit();
    Ok((examples, rejects))
}

/// How many groups, conflicts or rejects the text summary lists before "… and N more".
pub(super) const SHOWN: usize = 20;

/// Lists rows that could not be read, as a warning.
pub(super) fn render_rejects(t: &mut String, rejects: &[Reject]) {
    if rejects.is_empty() {
        return;
    }
    let _ = writeln!(
        t,
        "{} {} could not be read and {} left out (run `afinar convert` to see why in a rejects file):",
        ui::paint("warning:", "1;33"),
        ui::count(rejects.len() as u64, "row", "rows"),
        if rejects.len() == 1 { "is" } else { "are" }
    );
    for r in rejects.iter().take(SHOWN) {
        let _ = writeln!(t, "  {}: {}", r.origin, r.reason);
    }
    if rejects.len() > SHOWN {
        let _ = writeln!(t, "  … and {} more", rejects.len() - SHOWN);
    }
}
