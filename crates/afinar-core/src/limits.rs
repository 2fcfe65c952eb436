//! Resource caps: no input makes memory or recursion grow without bound. Each is far
//! above anything a real FAQ source holds, and hitting one is a clear error or reject
//! naming the file and line, never a crash.

/// One JSON Lines line, that is one example: 16 MiB. The largest context window a
/// fine-tuning service takes (~1M tokens) is about 4 MiB of text.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// One cell of a CSV or spreadsheet, or one Markdown answer: 1 MiB, some 250,000 tokens.
/// A cell this long is almost always an unbalanced quote swallowing the rows after it.
pub const MAX_CELL_BYTES: usize = 1 << 20;

/// JSON nesting: serde_json's own recursion limit, kept so that every later walk over a
/// parsed value (checks, personal-data scan, schema) is bounded too.
pub const MAX_DEPTH: usize = 128;

/// A source that is read whole into memory (CSV, spreadsheet, Markdown, JSONL for
/// `convert`): 2 GiB. `afinar check` streams and has no such cap.
pub const MAX_SOURCE_BYTES: u64 = 2 << 30;

/// The decompressed size a spreadsheet (a zip archive) may declare: 1 GiB, so a small
/// "zip bomb" cannot exhaust memory.
pub const MAX_UNZIPPED_BYTES: u64 = 1 << 30;

/// `16 MiB`, `1.5 GiB`, `512 bytes`: a size as the messages show it.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() < 0.05 || value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(MAX_CELL_BYTES as u64), "1 MiB");
        assert_eq!(human_bytes(MAX_LINE_BYTES as u64), "16 MiB");
        assert_eq!(human_bytes(20 * 1024 * 1024 + 40), "20 MiB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(human_bytes(MAX_SOURCE_BYTES), "2 GiB");
    }
}
