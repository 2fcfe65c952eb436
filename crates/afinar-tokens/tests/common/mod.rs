//! Random texts that stress the pre-tokenizer: the characters and sequences its regexes
//! treat specially, mixed with any Unicode scalar value.

#![allow(dead_code)]

pub const FRAGMENTS: &[&str] = &[
    "a",
    "b",
    "Z",
    "Q",
    "é",
    "Ç",
    "ã",
    "Ö",
    "ß",
    "ſ",
    "ǅ",
    "ʰ",
    "中",
    "א",
    "ب",
    "ก",
    "\u{301}",
    "\u{308}",
    "\u{93f}",
    "0",
    "7",
    "²",
    "½",
    "Ⅻ",
    "٣",
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\u{a0}",
    "\u{2028}",
    "\u{3000}",
    "\u{2003}",
    "\u{b}",
    "\u{c}",
    "\u{85}",
    "'",
    "'s",
    "'S",
    "'t",
    "'re",
    "'VE",
    "'m",
    "'ll",
    "'LL",
    "'lL",
    "'d",
    "'ſ",
    "'x",
    "'R",
    "'Re",
    ".",
    ",",
    "!",
    "?",
    "/",
    "//",
    "-",
    "_",
    "(",
    ")",
    "{",
    "}",
    "\"",
    "\\",
    "#",
    "$",
    "R$",
    "%",
    "&",
    "*",
    "@",
    "😀",
    "👍🏽",
    "🇧🇷",
    "\u{200d}",
    "\u{fe0f}",
    "<|endoftext|>",
    "<|fim_prefix|>",
    " de",
    " não",
    " contribuinte",
    " ação",
    " Simples",
    " NACIONAL",
    "ões",
    "ção",
    "HTTP",
    "Server",
    "xml",
    "ID",
    "\u{0}",
    "\u{7f}",
    "\u{200b}",
    "𝟙",
    "𝔘",
    "\u{1f3fd}",
    "ꙮ",
    "ᾈ",
    "İ",
    "ı",
    "K",
    "Å",
    "ﬁ",
    "Ⓐ",
    "ⓐ",
    "\u{e000}",
    "\u{fffd}",
    "\u{10ffff}",
    "\u{e0001}",
];

/// xorshift64*: deterministic, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn scalar(&mut self) -> char {
        loop {
            // Mostly the BMP, sometimes any plane.
            let cp = if self.below(4) == 0 {
                self.below(0x11_0000)
            } else {
                self.below(0x1_0000)
            };
            if let Some(c) = char::from_u32(cp as u32) {
                return c;
            }
        }
    }

    pub fn text(&mut self) -> String {
        let mut s = String::new();
        let n = 1 + self.below(40);
        for _ in 0..n {
            match self.below(20) {
                0..=16 => s.push_str(FRAGMENTS[self.below(FRAGMENTS.len())]),
                17 | 18 => s.push(self.scalar()),
                _ => {
                    let f = FRAGMENTS[self.below(FRAGMENTS.len())];
                    for _ in 0..2 + self.below(150) {
                        s.push_str(f);
                    }
                }
            }
        }
        s
    }
}
