//! Malformed inputs through `convert`, `check` and `run`: every case must end without a
//! panic or a hang, exit 1 or 2, and name the file (and the line where there is one).
//!
//! Resource caps (a line over 16 MiB, nesting deeper than 128) have their own messages;
//! these tests assert only exit code, file name and line number, not the wording.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{afinar, fixture, run};

/// Only to stop a hang; never an assertion on speed.
const TIMEOUT: Duration = Duration::from_secs(180);

/// One malformed input.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    /// The line a message must point at, for a problem inside one line.
    line: Option<u64>,
    /// The file also holds a valid row, so `convert` may succeed (exit 0).
    converts: bool,
}

fn case(name: &'static str, bytes: impl Into<Vec<u8>>) -> Case {
    Case {
        name,
        bytes: bytes.into(),
        line: None,
        converts: false,
    }
}

fn at_line(name: &'static str, line: u64, bytes: impl Into<Vec<u8>>) -> Case {
    Case {
        line: Some(line),
        ..case(name, bytes)
    }
}

fn garbage() -> Vec<u8> {
    let mut garbage = Vec::with_capacity(4096);
    let mut x: u32 = 0x9E37_79B9;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push((x & 0xFF) as u8);
    }
    garbage
}

/// A real workbook (question and answer columns), as bytes.
fn workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Pergunta").unwrap();
    sheet.write_string(0, 1, "Resposta").unwrap();
    for row in 1..40 {
        sheet
            .write_string(row, 0, format!("Qual é o prazo {row} do DAS?"))
            .unwrap();
        sheet
            .write_string(row, 1, format!("Até o dia {row} do mês seguinte."))
            .unwrap();
    }
    book.save_to_buffer().unwrap()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A valid zip archive (one stored file, `leia-me.txt`) that is not a workbook.
fn plain_zip() -> Vec<u8> {
    let (name, data) = (b"leia-me.txt", b"Isto n\xC3\xA3o \xC3\xA9 uma planilha.\n");
    let crc = crc32(data);
    let le16 = |v: usize| (v as u16).to_le_bytes();
    let le32 = |v: u32| v.to_le_bytes();
    let mut zip = Vec::new();
    // Local file header, then the data (method 0: stored).
    zip.extend(le32(0x0403_4B50));
    zip.extend(le16(20));
    zip.extend(le16(0));
    zip.extend(le16(0));
    zip.extend([0; 4]); // time, date
    zip.extend(le32(crc));
    zip.extend(le32(data.len() as u32));
    zip.extend(le32(data.len() as u32));
    zip.extend(le16(name.len()));
    zip.extend(le16(0));
    zip.extend(name);
    zip.extend(data);
    let central = zip.len();
    zip.extend(le32(0x0201_4B50));
    zip.extend(le16(20));
    zip.extend(le16(20));
    zip.extend(le16(0));
    zip.extend(le16(0));
    zip.extend([0; 4]);
    zip.extend(le32(crc));
    zip.extend(le32(data.len() as u32));
    zip.extend(le32(data.len() as u32));
    zip.extend(le16(name.len()));
    zip.extend([0; 12]); // extra, comment, disk, internal and external attributes
    zip.extend(le32(0)); // offset of the local header
    zip.extend(name);
    let size = zip.len() - central;
    zip.extend(le32(0x0605_4B50));
    zip.extend([0; 4]); // disk numbers
    zip.extend(le16(1));
    zip.extend(le16(1));
    zip.extend(le32(size as u32));
    zip.extend(le32(central as u32));
    zip.extend(le16(0));
    zip
}

fn cases() -> Vec<Case> {
    let garbage = garbage();
    let mut deep = "[".repeat(100_000);
    deep.push_str(&"]".repeat(100_000));
    // The long line is line 2: the first is blank.
    let mut huge_line = b"\n{\"prompt\": \"".to_vec();
    huge_line.extend(std::iter::repeat_n(b'a', 20 * 1024 * 1024));
    huge_line.extend_from_slice(b"\", \"completion\": \"b\"}\n");
    let wide_header: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
    let wide = format!(
        "Pergunta,Resposta,{}\nA?,B,{}\n",
        wide_header.join(","),
        vec!["x"; 10_000].join(",")
    );
    let xlsx = workbook();
    let garbage_copy = garbage.clone();
    let docx = std::fs::read(fixture("sources/docx/manual-duvidas.docx")).unwrap();
    let ods = std::fs::read(fixture("sources/faq.ods")).unwrap();
    let mut cases = vec![
        case("empty.csv", b""),
        case("empty.jsonl", b""),
        case("empty.xlsx", b""),
        case("bom-only.csv", b"\xEF\xBB\xBF"),
        case("bom-only.jsonl", b"\xEF\xBB\xBF"),
        at_line("garbage.jsonl", 1, garbage.clone()),
        at_line("garbage.ndjson", 1, garbage.clone()),
        case("garbage.json", garbage.clone()),
        case("garbage.csv", garbage.clone()),
        case("garbage.tsv", garbage.clone()),
        case("garbage.txt", garbage.clone()),
        case("garbage.md", garbage.clone()),
        case("garbage.xlsx", garbage.clone()),
        case("garbage.xls", garbage.clone()),
        case("garbage.ods", garbage),
        case("truncated.xlsx", &xlsx[..xlsx.len() / 2]),
        case("truncated.ods", &ods[..ods.len() / 2]),
        case("zip-not-workbook.xlsx", plain_zip()),
        case("zip-not-workbook.ods", plain_zip()),
        at_line(
            "invalid-utf8.jsonl",
            2,
            b"\n{\"prompt\": \"a\xff\xfeb\", \"completion\": \"c\"}\n".to_vec(),
        ),
        at_line("deep.jsonl", 1, deep.clone()),
        case("deep.json", deep),
        at_line("huge-line.jsonl", 2, huge_line),
        at_line(
            "unbalanced.csv",
            2,
            b"Pergunta,Resposta\n\"A?,B\nC?,D\n".to_vec(),
        ),
        at_line(
            "unbalanced.jsonl",
            3,
            b"\n\n{\"prompt\": \"a, \"completion\": \"b\"}\n".to_vec(),
        ),
        Case {
            converts: true,
            ..case("wide.csv", wide)
        },
        Case {
            converts: true,
            ..case("nul.csv", b"Pergunta,Resposta\nA\0?,B\0\n")
        },
        at_line(
            "nul.jsonl",
            1,
            b"\0\0\0\n{\"prompt\":\"a\0\",\"completion\":\"b\"}\n".to_vec(),
        ),
        case("only-blank.jsonl", b"\n\n  \n\r\n"),
        case("empty.docx", b""),
        case("garbage.docx", garbage_copy.clone()),
        case("zip-not-document.docx", plain_zip()),
        case("truncated.docx", &docx[..docx.len() / 2]),
        case("empty.html", b""),
        case("garbage.html", garbage_copy.clone()),
        case("garbage.htm", garbage_copy),
        case("deep.html", "<div>".repeat(100_000)),
    ];
    cases.sort_by_key(|c| c.name);
    cases
}

/// Asserts the common contract; `allow_ok` for a file that also holds valid rows.
fn check_outcome(cmd: &str, case: &Case, code: i32, stderr: &str, allow_ok: bool) {
    let name = case.name;
    assert!(
        !stderr.contains("panicked"),
        "{cmd} {name}: panic\n{stderr}"
    );
    assert!(
        (1..=2).contains(&code) || (allow_ok && code == 0),
        "{cmd} {name}: exit {code}\n{stderr}"
    );
    assert!(
        stderr.contains(name),
        "{cmd} {name}: the message does not name the file\n{stderr}"
    );
}

/// `text` points at `line` of `name`: `name:LINE` or `name` … `line LINE`.
fn names_line(text: &str, name: &str, line: u64) -> bool {
    text.contains(&format!("{name}:{line}"))
        || text
            .lines()
            .any(|l| l.contains(name) && l.contains(&format!("line {line}")))
}

fn write_cases(dir: &Path) -> Vec<(Case, PathBuf)> {
    cases()
        .into_iter()
        .map(|c| {
            let path = dir.join(c.name);
            std::fs::write(&path, &c.bytes).unwrap();
            (c, path)
        })
        .collect()
}

#[test]
fn convert_survives_every_malformed_input() {
    let tmp = tempfile::tempdir().unwrap();
    for (case, input) in write_cases(tmp.path()) {
        let out = tmp.path().join(format!("{}.out.jsonl", case.name));
        let (code, _, stderr) = run(afinar()
            .arg("convert")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .timeout(TIMEOUT));
        check_outcome("convert", &case, code, &stderr, case.converts);
        if let Some(line) = case.line {
            assert!(
                names_line(&stderr, case.name, line),
                "convert {}: line {line} not named\n{stderr}",
                case.name
            );
        }
        // Valid content inside a malformed file still converts.
        if code == 0 {
            assert!(
                std::fs::read_to_string(&out).unwrap().lines().count() > 0,
                "{}: exit 0 but nothing written",
                case.name
            );
        }
    }
}

fn is_jsonl(name: &str) -> bool {
    name.ends_with(".jsonl") || name.ends_with(".ndjson")
}

#[test]
fn check_survives_every_malformed_jsonl() {
    let tmp = tempfile::tempdir().unwrap();
    for (case, input) in write_cases(tmp.path()) {
        if !is_jsonl(case.name) {
            continue;
        }
        let (code, _, stderr) = run(afinar().arg("check").arg(&input).timeout(TIMEOUT));
        check_outcome("check", &case, code, &stderr, false);
        if let Some(line) = case.line {
            assert!(
                names_line(&stderr, case.name, line),
                "check {}: line {line} not named\n{stderr}",
                case.name
            );
        }
    }
}

/// `check` reads JSONL only: any other file is refused whole (exit 2, naming the file)
/// rather than reported as one `invalid_json` finding per line. A `.json` file may hold
/// JSON Lines (people name them so), so it is read and its bad lines reported (exit 1),
/// unless it holds one JSON array.
#[test]
fn check_refuses_files_that_are_not_jsonl() {
    let tmp = tempfile::tempdir().unwrap();
    for (case, input) in write_cases(tmp.path()) {
        if is_jsonl(case.name) || case.name.ends_with(".json") {
            continue;
        }
        let (code, _, stderr) = run(afinar().arg("check").arg(&input).timeout(TIMEOUT));
        check_outcome("check", &case, code, &stderr, false);
        assert_eq!(code, 2, "check {}\n{stderr}", case.name);
    }
    let (code, _, stderr) = run(afinar().args(["check", "fixtures/sources/alpaca.json"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr.trim_end(), @"error: `fixtures/sources/alpaca.json` holds one JSON array, not JSON Lines; convert it first: `afinar convert fixtures/sources/alpaca.json -o train.jsonl`");
    let (code, _, stderr) = run(afinar().args(["check", "fixtures/simples-nacional.csv"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr.trim_end(), @"error: `fixtures/simples-nacional.csv` is a delimited text source, not JSON Lines; `afinar check` reads training files, so convert it first: `afinar convert fixtures/simples-nacional.csv -o train.jsonl`");
}

fn pipeline_for(dir: &Path, source: &Path, i: usize) -> PathBuf {
    let pipeline = dir.join(format!("p{i}.toml"));
    let path = source.display().to_string().replace('\\', "\\\\");
    std::fs::write(
        &pipeline,
        format!("[[sources]]\npath = \"{path}\"\n[split]\nvalidation = 1\n"),
    )
    .unwrap();
    pipeline
}

#[test]
fn run_survives_every_malformed_source() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, (case, input)) in write_cases(tmp.path()).into_iter().enumerate() {
        let pipeline = pipeline_for(tmp.path(), &input, i);
        let out = tmp.path().join(format!("out{i}"));
        let (code, _, stderr) = run(afinar()
            .arg("run")
            .arg(&pipeline)
            .arg("--out-dir")
            .arg(&out)
            .timeout(TIMEOUT));
        // A run never succeeds here: one valid row is below the service's minimum.
        check_outcome("run", &case, code, &stderr, false);
        // A run writes row-level problems to rejects.jsonl, each with its origin.
        if let Some(line) = case.line {
            let rejects = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap_or_default();
            assert!(
                names_line(&stderr, case.name, line) || names_line(&rejects, case.name, line),
                "run {}: line {line} not named\n{stderr}\n{rejects}",
                case.name
            );
        }
    }
}

/// Paths that cannot be read. Tests run as root in CI, where `chmod 000` does not stop a
/// read, so the portable cases are a path through a regular file (ENOTDIR) and a dangling
/// symlink; `chmod 000` is added when it does deny us.
fn unreadable_inputs(dir: &Path) -> Vec<PathBuf> {
    let folder = dir.join("pasta.jsonl");
    std::fs::create_dir(&folder).unwrap();
    let file = dir.join("arquivo.txt");
    std::fs::write(&file, "x").unwrap();
    let mut inputs = vec![
        folder,
        dir.join("nao-existe.jsonl"),
        file.join("dentro.jsonl"),
    ];
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dangling = dir.join("quebrado.jsonl");
        std::os::unix::fs::symlink(dir.join("sumiu.jsonl"), &dangling).unwrap();
        inputs.push(dangling);
        let locked = dir.join("trancado.jsonl");
        std::fs::write(&locked, "{\"prompt\":\"a\",\"completion\":\"b\"}\n").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_err() {
            inputs.push(locked);
        }
    }
    inputs
}

#[test]
fn unreadable_paths_are_usage_errors_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, input) in unreadable_inputs(tmp.path()).into_iter().enumerate() {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let pipeline = pipeline_for(tmp.path(), &input, i);
        let o = tmp.path().join("o.jsonl");
        let out = tmp.path().join(format!("out{i}"));
        let commands: [(&str, Vec<&std::ffi::OsStr>); 3] = [
            (
                "convert",
                vec![
                    "convert".as_ref(),
                    input.as_os_str(),
                    "-o".as_ref(),
                    o.as_os_str(),
                ],
            ),
            ("check", vec!["check".as_ref(), input.as_os_str()]),
            (
                "run",
                vec![
                    "run".as_ref(),
                    pipeline.as_os_str(),
                    "--out-dir".as_ref(),
                    out.as_os_str(),
                ],
            ),
        ];
        for (cmd, args) in commands {
            let (code, _, stderr) = run(afinar().args(args).timeout(TIMEOUT));
            assert_eq!(code, 2, "{cmd} {name}\n{stderr}");
            assert!(stderr.contains(&name), "{cmd} {name}\n{stderr}");
            assert!(!stderr.contains("panicked"), "{cmd} {name}\n{stderr}");
        }
        assert!(
            !tmp.path().join("o.jsonl").exists(),
            "{name}: output written"
        );
    }
}
