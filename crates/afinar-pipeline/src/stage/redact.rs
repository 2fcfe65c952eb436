//! Masking personal data (CPF, CNPJ, e-mail, phone, listed names) with placeholders or
//! consistent fakes. The one place a redactor is built, for `convert --redact` and a
//! pipeline's `[redact]` alike.

use afinar_formats::Reject;
use afinar_redact::{Counts, FakeKey, Mode, NameList, Redactor, Scanner};
use serde::{Deserialize, Serialize};

use super::{Outcome, Record, Transform};
use crate::PipelineError;

/// The environment variable holding the secret behind fakes.
pub const KEY_VAR: &str = "AFINAR_REDACT_KEY";

/// `--redact[=fake]`, `--redact-names FILE`, `--redact-key-file FILE`, or a pipeline's
/// `[redact]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedactSpec {
    #[serde(default)]
    pub mode: RedactMode,
    /// A file of names to mask, one per line (`#` starts a comment).
    #[serde(default)]
    pub names: Option<String>,
    /// A file holding the secret behind fakes; `AFINAR_REDACT_KEY` when absent.
    #[serde(default)]
    pub key_file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RedactMode {
    /// `[CPF]`, `[CNPJ]`, `[EMAIL]`, `[TELEFONE]`, `[NOME]`.
    #[default]
    Placeholder,
    /// Consistent fakes with valid check digits; needs a secret.
    Fake,
}

/// What the builder reads: the side files (through `afinar_formats`) and the environment.
/// Tests hand in their own.
pub trait Resources {
    fn read(&self, path: &str) -> Result<Vec<u8>, afinar_formats::FormatError>;
    fn env_key(&self) -> Option<Vec<u8>>;
}

/// Files read through `afinar_formats`, the key from [`KEY_VAR`].
#[derive(Debug, Clone, Copy)]
pub struct Environment;

impl Resources for Environment {
    fn read(&self, path: &str) -> Result<Vec<u8>, afinar_formats::FormatError> {
        afinar_formats::read::read_side_file(path.as_ref())
    }
    fn env_key(&self) -> Option<Vec<u8>> {
        std::env::var_os(KEY_VAR).map(std::ffi::OsString::into_encoded_bytes)
    }
}

impl RedactSpec {
    /// Builds the stage; reads the names file and the key.
    pub fn build(&self, resources: &dyn Resources) -> Result<Redact, PipelineError> {
        let mut scanner = Scanner::new();
        if let Some(path) = &self.names {
            let bytes = resources
                .read(path)
                .map_err(|source| PipelineError::SideFile {
                    what: "name list",
                    source,
                })?;
            let text = String::from_utf8(bytes).map_err(|_| PipelineError::NotUtf8 {
                what: "name list",
                path: path.clone(),
            })?;
            let names = NameList::parse(&text).map_err(|source| PipelineError::Names {
                path: path.clone(),
                source,
            })?;
            scanner = scanner.with_names(names);
        }
        let mode = match self.mode {
            RedactMode::Placeholder => Mode::Placeholder,
            RedactMode::Fake => Mode::Fake(self.key(resources)?),
        };
        Ok(Redact {
            redactor: Redactor::new(scanner, mode),
            mode: self.mode,
            counts: std::sync::Mutex::new(Counts::default()),
        })
    }

    /// The secret behind fakes: without one anybody could recompute them and, a CPF having
    /// only 10⁹ bases, test guesses until one matches. Surrounding whitespace (a file's
    /// final newline, a stray space in the variable) is not part of it.
    fn key(&self, resources: &dyn Resources) -> Result<FakeKey, PipelineError> {
        let secret = match &self.key_file {
            Some(path) => resources
                .read(path)
                .map_err(|source| PipelineError::SideFile {
                    what: "redaction key",
                    source,
                })?,
            None => resources.env_key().ok_or(PipelineError::NoRedactKey)?,
        };
        let secret = secret.trim_ascii();
        if secret.is_empty() {
            return Err(PipelineError::EmptyRedactKey);
        }
        Ok(FakeKey::from_secret(secret))
    }
}

/// The runtime stage of [`RedactSpec`]: masks every message, and counts what it replaced.
pub struct Redact {
    redactor: Redactor,
    mode: RedactMode,
    /// Added to from every core.
    counts: std::sync::Mutex<Counts>,
}

impl std::fmt::Debug for Redact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Redact")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Redact {
    /// Replacements so far, per kind (what the summary and the manifest report).
    pub fn counts(&self) -> Counts {
        *self.counted()
    }

    /// The counts so far (a panic elsewhere leaves them as they were).
    fn counted(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn mode(&self) -> RedactMode {
        self.mode
    }

    /// Masks a reject's raw text: it is written out as surely as the data. Not counted
    /// (the counts describe the dataset). Only for rejects made before this stage ran;
    /// later ones hold text it already masked.
    pub fn mask_reject(&self, reject: &mut Reject) {
        self.redactor.redact_string(&mut reject.raw);
    }
}

/// What a redaction replaced, per kind, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Redacted {
    pub mode: RedactMode,
    #[serde(flatten)]
    pub counts: Counts,
}

impl Transform for Redact {
    fn name(&self) -> &'static str {
        "redact"
    }

    fn pass_reject(&self, reject: &mut Reject) {
        self.mask_reject(reject);
    }

    fn redacted(&self) -> Option<Redacted> {
        Some(Redacted {
            mode: self.mode,
            counts: self.counts(),
        })
    }

    fn apply(&self, mut record: Record) -> Outcome {
        let found = match &mut record {
            Record::Example(ex) | Record::Completion(ex, _) => self.redactor.redact_example(ex),
            Record::Preference(p) => self.redactor.redact_preference(p),
        };
        *self.counted() += found;
        Outcome::Keep(record)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use afinar_formats::FormatError;
    use afinar_redact::Kind;

    use super::*;
    use crate::stage::tests::example;

    /// Side files from memory.
    struct Fake {
        files: BTreeMap<&'static str, &'static [u8]>,
        key: Option<&'static [u8]>,
    }

    impl Resources for Fake {
        fn read(&self, path: &str) -> Result<Vec<u8>, FormatError> {
            self.files
                .get(path)
                .map(|b| b.to_vec())
                .ok_or_else(|| FormatError::Read {
                    path: path.into(),
                    source: std::io::ErrorKind::NotFound.into(),
                })
        }
        fn env_key(&self) -> Option<Vec<u8>> {
            self.key.map(<[u8]>::to_vec)
        }
    }

    fn env(key: Option<&'static [u8]>) -> Fake {
        Fake {
            files: BTreeMap::from([
                ("nomes.txt", &b"# clientes\nMaria da Silva\n"[..]),
                ("chave.txt", &b"uma frase secreta\n"[..]),
            ]),
            key,
        }
    }

    fn answer(out: Outcome) -> String {
        match out {
            Outcome::Keep(Record::Example(ex)) => ex.messages[1].content.clone(),
            other => panic!("{other:?}"),
        }
    }

    const ROW: &str = "Fale com Maria da Silva, CPF 123.456.789-09, maria@exemplo.com.br.";

    #[test]
    fn placeholders_and_names_are_masked_and_counted() {
        let spec = RedactSpec {
            names: Some("nomes.txt".into()),
            ..RedactSpec::default()
        };
        let stage = spec.build(&env(None)).unwrap();
        let out = answer(stage.apply(Record::Example(example("Contato?", ROW, 2))));
        assert_eq!(out, "Fale com [NOME], CPF [CPF], [EMAIL].");
        assert_eq!(stage.counts().get(Kind::Cpf), 1);
        assert_eq!(stage.counts().get(Kind::Email), 1);
    }

    #[test]
    fn the_key_is_trimmed_the_same_from_a_file_and_the_environment() {
        let fake = RedactSpec {
            mode: RedactMode::Fake,
            ..RedactSpec::default()
        };
        let from_file = RedactSpec {
            key_file: Some("chave.txt".into()),
            ..fake.clone()
        };
        let masked = |spec: &RedactSpec, key| {
            let stage = spec.build(&env(key)).unwrap();
            answer(stage.apply(Record::Example(example("Contato?", ROW, 2))))
        };
        let a = masked(&fake, Some(b"uma frase secreta "));
        assert_eq!(a, masked(&fake, Some(b"uma frase secreta")));
        assert_eq!(a, masked(&from_file, None));
        assert_ne!(a, masked(&fake, Some(b"outra frase")));
        assert!(!a.contains("123.456.789-09"));
    }

    #[test]
    fn fakes_without_a_key_or_with_an_empty_one_are_refused() {
        let fake = RedactSpec {
            mode: RedactMode::Fake,
            ..RedactSpec::default()
        };
        let err = fake.build(&env(None)).err().unwrap().to_string();
        assert!(err.contains(KEY_VAR), "{err}");
        let err = fake.build(&env(Some(b"  \n"))).err().unwrap();
        assert!(matches!(err, PipelineError::EmptyRedactKey));
        let missing = RedactSpec {
            names: Some("nao-existe.txt".into()),
            ..RedactSpec::default()
        };
        let err = missing.build(&env(None)).err().unwrap();
        assert!(matches!(err, PipelineError::SideFile { .. }));
        assert!(std::error::Error::source(&err).is_some());
    }
}
