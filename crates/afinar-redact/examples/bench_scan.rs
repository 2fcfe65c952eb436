//! Scan throughput on a generated chat JSONL the size of the 200,000-example check target.
//!
//! ```text
//! cargo run --release -p afinar-redact --example bench_scan [EXAMPLES|FILE.jsonl [REPEAT [OUT.jsonl]]]
//! ```
//!
//! The text is Portuguese FAQ prose full of money, dates, percentages, law and process
//! numbers, with personal data in about 1 example in 50; it is generated from a fixed seed,
//! so every run scans the same bytes. Printed: the JSON parse rate of the same lines (the
//! least any `afinar check` does) as a yardstick, the scan rate over message text, and the
//! scan time as a share of the parse time. Single thread.

use std::fmt::Write;
use std::time::Instant;

use afinar_core::Message;
use afinar_redact::{Scanner, cnpj_check_digits, cpf_check_digits};
use serde::Deserialize;

/// A small, fixed pseudo-random generator (SplitMix64): same bytes on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn money(r: &mut Rng) -> String {
    let v = r.below(5_000_000) + 100;
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("R$ {out},{:02}", r.below(100))
}

fn cpf(r: &mut Rng) -> String {
    let mut b = [0u8; 9];
    for d in &mut b {
        *d = r.below(10) as u8;
    }
    let dv = cpf_check_digits(&b);
    let d: Vec<char> = b.iter().chain(&dv).map(|d| char::from(b'0' + d)).collect();
    format!(
        "{}{}{}.{}{}{}.{}{}{}-{}{}",
        d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10]
    )
}

fn cnpj(r: &mut Rng) -> String {
    let mut b = [0u8; 12];
    for d in &mut b[..8] {
        *d = r.below(10) as u8;
    }
    b[11] = 1;
    let dv = cnpj_check_digits(&b);
    b.iter().chain(&dv).map(|d| char::from(b'0' + d)).collect()
}

const PLAIN: [&str; 6] = [
    "O MEI pode contratar um empregado que receba o salário mínimo ou o piso da categoria.",
    "A opção pelo Simples Nacional é irretratável para todo o ano-calendário.",
    "Empresas com débitos sem exigibilidade suspensa não podem permanecer no regime.",
    "O fator R compara a folha de salários dos últimos doze meses com a receita bruta.",
    "Consulte o contador responsável antes de alterar a atividade principal.",
    "A exclusão pode ser feita de ofício ou por comunicação do contribuinte.",
];

fn sentence(r: &mut Rng) -> String {
    match r.below(8) {
        0 => format!(
            "O limite de faturamento é de {} por ano, conforme a LC 123/2006, art. {}.",
            money(r),
            r.below(90) + 1
        ),
        1 => format!(
            "A alíquota efetiva da {}ª faixa é de {},{:02}% sobre a receita bruta de {}.",
            r.below(6) + 1,
            r.below(30),
            r.below(100),
            money(r)
        ),
        2 => {
            let (m, y) = (r.below(12) + 1, 2018 + r.below(8));
            format!(
                "O DAS de {m:02}/{y} vence em 20/{:02}/{y}; depois há multa de 0,33% ao dia.",
                m % 12 + 1
            )
        }
        3 => format!(
            "Processo nº {:07}-{:02}.{}.8.26.0100, CEP {:05}-{:03}.",
            r.below(10_000_000),
            r.below(100),
            2015 + r.below(10),
            r.below(100_000),
            r.below(1000)
        ),
        4 => format!(
            "Resolução CGSN nº 140/2018, art. {}, § {}º, em {}-{:02}-{:02}.",
            r.below(140),
            r.below(5) + 1,
            2024,
            r.below(12) + 1,
            r.below(28) + 1
        ),
        _ => r.pick(&PLAIN).to_owned(),
    }
}

fn personal(r: &mut Rng) -> String {
    match r.below(4) {
        0 => format!("Meu CPF é {}.", cpf(r)),
        1 => format!("O CNPJ da empresa é {}.", cnpj(r)),
        2 => format!("Fale comigo em contato{}@escritorio.com.br.", r.below(1000)),
        _ => format!(
            "Meu celular é (11) 9{:04}-{:04}.",
            r.below(10_000),
            r.below(10_000)
        ),
    }
}

/// The lines, and how many personal values were planted in them.
fn generate(n: usize) -> (Vec<String>, usize) {
    let mut r = Rng(2026);
    let mut planted = 0;
    let system = "Você é um assistente especializado no Simples Nacional.";
    let lines = (0..n)
        .map(|_| {
            let mut question = String::from("Dúvida: ");
            question.push_str(&sentence(&mut r));
            question.push_str(" Como fica no meu caso?");
            if r.below(50) == 0 {
                planted += 1;
                question.push(' ');
                question.push_str(&personal(&mut r));
            }
            let mut answer = String::new();
            for _ in 0..(4 + r.below(5)) {
                let _ = write!(answer, "{} ", sentence(&mut r));
            }
            let messages = [
                ("system", system),
                ("user", question.as_str()),
                ("assistant", answer.trim_end()),
            ];
            let messages: Vec<_> = messages
                .iter()
                .map(|(role, content)| serde_json_like(role, content))
                .collect();
            format!("{{\"messages\":[{}]}}", messages.join(","))
        })
        .collect::<Vec<_>>();
    (lines, planted)
}

/// A chat message as JSON (the generated text needs no escaping beyond quotes).
fn serde_json_like(role: &str, content: &str) -> String {
    format!(
        "{{\"role\":\"{role}\",\"content\":\"{}\"}}",
        content.replace('"', "\\\"")
    )
}

#[derive(Deserialize)]
struct Line {
    messages: Vec<Message>,
}

fn main() {
    let first = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "200000".to_owned());
    // A file instead of a count scans that file (e.g. `make bench`'s chat-200k.jsonl).
    let (lines, planted) = match first.parse::<usize>() {
        Ok(n) => generate(n),
        Err(_) => match std::fs::read_to_string(&first) {
            Ok(text) => (text.lines().map(str::to_owned).collect(), 0),
            Err(e) => {
                eprintln!("error: cannot read `{first}`: {e}");
                std::process::exit(2);
            }
        },
    };
    let n = lines.len();
    // A third argument writes the generated JSONL there (to time `afinar check` on it).
    if let Some(path) = std::env::args().nth(3) {
        let mut text = lines.join("\n");
        text.push('\n');
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: cannot write `{path}`: {e}");
            std::process::exit(2);
        }
    }
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mb = bytes as f64 / 1e6;

    let t = Instant::now();
    let parsed: Vec<Line> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let parse = t.elapsed().as_secs_f64();

    let text_mb = parsed
        .iter()
        .flat_map(|l| &l.messages)
        .map(|m| m.content.len())
        .sum::<usize>() as f64
        / 1e6;

    let scanner = Scanner::new();
    let mut findings = Vec::new();
    let mut count = 0;
    // A second argument repeats the scan (for profiling); the best time is reported.
    let repeat: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let mut scan = f64::MAX;
    for _ in 0..repeat.max(1) {
        count = 0;
        let t = Instant::now();
        for line in &parsed {
            for m in &line.messages {
                findings.clear();
                scanner.scan_into(&m.content, &mut findings);
                count += findings.len();
            }
        }
        scan = scan.min(t.elapsed().as_secs_f64());
    }

    println!(
        "{n} examples, {mb:.1} MB of JSONL, {text_mb:.1} MB of message text, \
         {planted} values planted, {count} found"
    );
    println!(
        "JSON parse (yardstick): {:>7.1} MB/s  {parse:.2} s",
        mb / parse
    );
    println!(
        "scan:                   {:>7.1} MB/s  {scan:.2} s (of JSONL bytes)",
        mb / scan
    );
    println!("scan / parse time:      {:>7.1} %", 100.0 * scan / parse);
}
