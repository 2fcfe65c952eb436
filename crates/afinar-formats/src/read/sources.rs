//! Reading several sources at once: the one entry point `convert`, `dedupe`, `split` and
//! the pipeline runner share, so every command reads the same way (in parallel, each file
//! capped at [`afinar_core::limits::MAX_SOURCE_BYTES`], errors naming the file).

use std::path::{Path, PathBuf};

use std::borrow::Cow;

use afinar_core::progress::{Progress, Unit};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::{
    Batch, InputKind, ReadOptions, ReadOutput, SourceInfo, encoding, read_bytes, read_capped,
};
use crate::FormatError;

/// One file to read, and how.
#[derive(Debug, Clone)]
pub struct SourceRequest {
    pub path: PathBuf,
    pub options: ReadOptions,
}

/// One file read: what it held, and the SHA-256 of its bytes (for a manifest).
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub output: ReadOutput,
    /// Lowercase hex SHA-256 of the file as read.
    pub sha256: String,
}

/// Reads one file, choosing the reader by its extension, and hashes its bytes.
pub fn read_source(path: &Path, options: &ReadOptions) -> Result<Source, FormatError> {
    let kind = InputKind::from_path(path)?;
    let bytes = read_capped(path)?;
    // The digest while the rows are read: after them, it was a tenth of reading a CSV.
    let (output, sha256) = rayon::join(
        || read_bytes(kind, &bytes, &path.display().to_string(), options),
        || sha256_hex(&bytes),
    );
    Ok(Source {
        path: path.to_owned(),
        output: output?,
        sha256,
    })
}

/// One file streamed: what was learnt about it, once all of it was read.
#[derive(Debug, Clone)]
pub struct Streamed {
    pub path: PathBuf,
    pub info: SourceInfo,
    /// Lowercase hex SHA-256 of the file as read.
    pub sha256: String,
}

/// Reads one file as [`read_source`] does, handing what it holds to `sink` in input order,
/// [`super::BATCH_ROWS`] rows at a time where rows are independent (delimited text, the
/// large sources of FAQ work), so that only the file's text and one batch are held; other
/// formats come as one batch. The examples, rejects and info are the same as
/// [`read_source`]'s. `progress` counts the file's bytes.
pub fn stream_source<E: From<FormatError>>(
    path: &Path,
    options: &ReadOptions,
    progress: &dyn Progress,
    mut sink: impl FnMut(Batch) -> Result<(), E>,
) -> Result<Streamed, E> {
    let kind = InputKind::from_path(path)?;
    let name = path.display().to_string();
    if kind == InputKind::Jsonl
        && let Some(streamed) = stream_jsonl(
            path,
            &name,
            options,
            super::jsonl::STREAM_FROM_BYTES,
            progress,
            &mut sink,
        )?
    {
        return Ok(streamed);
    }
    if kind != InputKind::Csv {
        let size = std::fs::metadata(path).map(|m| m.len()).ok();
        progress.begin(&name, size, Unit::Bytes);
        let source = read_source(path, options)?;
        progress.advance(size.unwrap_or(0));
        progress.end();
        let ReadOutput {
            examples,
            preferences,
            rejects,
            info,
        } = source.output;
        sink(Batch {
            examples,
            preferences,
            rejects,
        })?;
        return Ok(Streamed {
            path: source.path,
            info,
            sha256: source.sha256,
        });
    }
    let bytes = read_capped(path)?;
    let sha256 = sha256_hex(&bytes);
    let mut options = Cow::Borrowed(options);
    if options.delimiter.is_none()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
    {
        options.to_mut().delimiter = Some(b'\t');
    }
    let forced = options
        .encoding
        .as_deref()
        .map(|l| encoding::resolve(l, &name))
        .transpose()?;
    let io = |source| FormatError::Read {
        path: path.to_owned(),
        source,
    };
    // Text that has to be transcoded is decoded from the file again, the bytes dropped
    // first; otherwise the text is the bytes (after any byte order mark), held once.
    let (again, bytes) = match encoding::decode_file_again(path, bytes, forced).map_err(io)? {
        Ok(decoded) => (Some(decoded), Vec::new()),
        Err(bytes) => (None, bytes),
    };
    let decoded = match again {
        Some(decoded) => decoded,
        None => encoding::decode(&bytes, forced),
    };
    let info = SourceInfo {
        encoding: decoded.encoding.clone(),
        bom: decoded.bom,
        notes: decoded.note.clone().into_iter().collect(),
        warnings: decoded.warning.clone().into_iter().collect(),
        ..Default::default()
    };
    let body: &str = &decoded.text;
    progress.begin(&name, Some(body.len() as u64), Unit::Bytes);
    let info = super::csv::stream_str(body, &name, &options, info, progress, sink)?;
    progress.end();
    Ok(Streamed {
        path: path.to_owned(),
        info,
        sha256,
    })
}

/// A plain UTF-8 JSON Lines file of at least `min_bytes`, read a batch of lines at a time
/// (see `jsonl::stream`); `None` for anything [`read_source`] must read whole: a smaller
/// file, a forced or non-UTF-8 encoding, a JSON array or a JSON object over several lines.
fn stream_jsonl<E: From<FormatError>>(
    path: &Path,
    name: &str,
    options: &ReadOptions,
    min_bytes: u64,
    progress: &dyn Progress,
    sink: &mut impl FnMut(Batch) -> Result<(), E>,
) -> Result<Option<Streamed>, E> {
    use std::io::BufRead as _;
    let io = |source| FormatError::Read {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if options.encoding.is_some() || size < min_bytes || size == 0 {
        return Ok(None);
    }
    if size > afinar_core::limits::MAX_SOURCE_BYTES {
        return Err(FormatError::TooLarge {
            path: path.to_owned(),
            size,
            limit: afinar_core::limits::MAX_SOURCE_BYTES,
        }
        .into());
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let head = reader.fill_buf().map_err(io)?;
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Ok(None);
    }
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let plain_lines = start.is_some_and(|i| {
        let first = body[i..].split(|b| *b == b'\n').next().unwrap_or(&[]);
        // A first line that is a whole JSON value: lines, not one document.
        body[i] == b'{'
            && i + first.len() < body.len()
            && serde_json::from_slice::<serde::de::IgnoredAny>(first).is_ok()
    });
    if !plain_lines {
        return Ok(None);
    }
    progress.begin(name, Some(size), Unit::Bytes);
    let mut hash = Sha256::new();
    let info = super::jsonl::stream(
        reader,
        name,
        options,
        |bytes| {
            hash.update(bytes);
            progress.advance(bytes.len() as u64);
        },
        sink,
    )?;
    progress.end();
    Ok(Some(Streamed {
        path: path.to_owned(),
        info,
        sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
    }))
}

/// Reads every request in parallel. The result keeps their order, and the first failure
/// in that order is the one returned, whatever thread finished first.
pub fn read_sources(requests: &[SourceRequest]) -> Result<Vec<Source>, FormatError> {
    let read: Vec<_> = requests
        .par_iter()
        .map(|r| read_source(&r.path, &r.options))
        .collect();
    read.into_iter().collect()
}

/// [`read_sources`] of several paths read the same way.
pub fn read_paths(paths: &[PathBuf], options: &ReadOptions) -> Result<Vec<Source>, FormatError> {
    let requests: Vec<SourceRequest> = paths
        .iter()
        .map(|path| SourceRequest {
            path: path.clone(),
            options: options.clone(),
        })
        .collect();
    read_sources(&requests)
}

/// A path, or a glob's matching files in sorted order; a glob that matches nothing is an
/// error (a pipeline that silently read nothing would look like it worked).
pub fn expand(pattern: &str) -> Result<Vec<PathBuf>, FormatError> {
    if !pattern.contains(['*', '?', '[']) {
        return Ok(vec![PathBuf::from(pattern)]);
    }
    let paths = glob::glob(pattern).map_err(|source| FormatError::Glob {
        pattern: pattern.to_owned(),
        source,
    })?;
    let mut found: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(FormatError::NoMatch {
            pattern: pattern.to_owned(),
        });
    }
    Ok(found)
}

/// A small side file a stage needs (a list of names, a key), capped like a source.
pub fn read_side_file(path: &Path) -> Result<Vec<u8>, FormatError> {
    read_capped(path)
}

/// Whether `path` is a `.json` file holding one JSON array (alpaca, ShareGPT exports)
/// rather than JSON Lines: its first non-blank byte (after a BOM) is `[`. Only the head
/// of the file is read; an unreadable file is not an array (the caller reports it).
pub fn holds_json_array(path: &Path) -> bool {
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return false;
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4096];
    let n = std::io::Read::read(&mut f, &mut head).unwrap_or(0);
    let body = head[..n]
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&head[..n]);
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// Lowercase hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `stream_jsonl` from the first byte, gathered into one output; `None` when the file
    /// is one `read_source` must read whole.
    fn streamed(path: &Path) -> Option<(Streamed, ReadOutput)> {
        let mut out = ReadOutput::default();
        let s = stream_jsonl::<FormatError>(
            path,
            &path.display().to_string(),
            &ReadOptions::default(),
            1,
            &afinar_core::progress::Silent,
            &mut |b: Batch| {
                out.examples.extend(b.examples);
                out.preferences.extend(b.preferences);
                out.rejects.extend(b.rejects);
                Ok(())
            },
        )
        .unwrap()?;
        out.info = s.info.clone();
        Some((s, out))
    }

    #[test]
    fn json_lines_stream_as_they_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let line = "{\"messages\":[{\"role\":\"user\",\"content\":\"Qual o prazo do DAS?\"},{\"role\":\"assistant\",\"content\":\"Até o dia 20 do mês seguinte.\"}]}\n";
        let mut body = String::from("\u{FEFF}");
        for i in 0..20_000 {
            if i == 7 {
                body.push_str("{\"messages\": nope}\n\n");
            }
            body.push_str(line);
        }
        let plain = body.trim_start_matches('\u{FEFF}');
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(plain.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let array = format!(
            "[{}]",
            plain
                .lines()
                .filter(|l| l.starts_with("{\"messages\":["))
                .collect::<Vec<_>>()
                .join(",")
        );
        let object = "{\n  \"faq\": {\"file_name\": \"faq.json\"}\n}\n".to_owned();
        for (name, bytes, streams) in [
            ("big.jsonl", body.as_bytes().to_vec(), true),
            ("big16.jsonl", utf16, false),
            ("array.jsonl", array.into_bytes(), false),
            ("dataset_info.jsonl", object.into_bytes(), false),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let got = streamed(&path);
            assert_eq!(got.is_some(), streams, "{name}");
            let Some((s, got)) = got else { continue };
            let whole = read_source(&path, &ReadOptions::default()).unwrap();
            assert_eq!(whole.output.examples.len(), 20_000, "{name}");
            assert_eq!(got.examples, whole.output.examples, "{name}");
            assert_eq!(got.rejects, whole.output.rejects, "{name}");
            assert_eq!(got.info, whole.output.info, "{name}");
            assert_eq!(s.sha256, whole.sha256, "{name}");
        }
    }

    #[test]
    fn sources_keep_their_order_and_the_first_error_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.jsonl");
        std::fs::write(&a, "Pergunta;Resposta\nO que é o DAS?;Uma guia.\n").unwrap();
        std::fs::write(
            &b,
            "{\"messages\":[{\"role\":\"user\",\"content\":\"Oi?\"},{\"role\":\"assistant\",\"content\":\"Olá.\"}]}\n",
        )
        .unwrap();
        let read = read_paths(&[a.clone(), b.clone()], &ReadOptions::default()).unwrap();
        assert_eq!(read[0].path, a);
        assert_eq!(read[1].path, b);
        assert_eq!(read[0].output.examples.len(), 1);
        assert_eq!(read[1].sha256, sha256_hex(&std::fs::read(&b).unwrap()));

        let missing = dir.path().join("nao-existe.csv");
        let also_missing = dir.path().join("tambem-nao.csv");
        let err = read_paths(&[a, missing.clone(), also_missing], &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("nao-existe.csv"), "{err}");
    }

    #[test]
    fn a_json_array_is_told_from_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let array = dir.path().join("alpaca.json");
        std::fs::write(&array, "\u{FEFF}\n  [{\"instruction\": \"Oi\"}]").unwrap();
        let lines = dir.path().join("lines.json");
        std::fs::write(&lines, "{\"messages\": []}\n").unwrap();
        let jsonl = dir.path().join("array.jsonl");
        std::fs::write(&jsonl, "[1]").unwrap();
        assert!(holds_json_array(&array));
        assert!(!holds_json_array(&lines));
        assert!(!holds_json_array(&jsonl), "only .json files are sniffed");
        assert!(!holds_json_array(&dir.path().join("nao-existe.json")));
    }

    #[test]
    fn globs_match_sorted_files_or_fail() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.csv", "a.csv", "c.txt"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let pattern = format!("{}/*.csv", dir.path().display());
        let found = expand(&pattern).unwrap();
        assert_eq!(
            found,
            vec![dir.path().join("a.csv"), dir.path().join("b.csv")]
        );
        let none = format!("{}/*.xlsx", dir.path().display());
        assert!(matches!(expand(&none), Err(FormatError::NoMatch { .. })));
        assert!(matches!(expand("[*.csv"), Err(FormatError::Glob { .. })));
        assert_eq!(expand("faq.csv").unwrap(), vec![PathBuf::from("faq.csv")]);
    }
}
