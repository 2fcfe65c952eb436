//! The system message: set one on every example, or drop instruction messages.

use afinar_core::Example;
use serde::{Deserialize, Serialize};

use super::{Outcome, Record, Transform};

/// `--system TEXT` / `system = "…"`, and `--system-policy drop` / `system_policy = "drop"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSpec {
    /// Set this system message on every example (replacing any there).
    #[serde(default)]
    pub text: Option<String>,
    /// Remove system and developer messages from chat examples.
    #[serde(default)]
    pub drop: bool,
}

impl SystemSpec {
    pub fn build(&self) -> System {
        System { spec: self.clone() }
    }

    /// Whether the stage changes anything.
    pub fn is_noop(&self) -> bool {
        self.text.is_none() && !self.drop
    }
}

/// The runtime stage of [`SystemSpec`].
#[derive(Debug, Clone)]
pub struct System {
    spec: SystemSpec,
}

impl Transform for System {
    fn name(&self) -> &'static str {
        "system"
    }

    fn apply(&self, record: Record) -> Outcome {
        Outcome::Keep(match record {
            Record::Example(mut ex) => {
                self.example(&mut ex);
                Record::Example(ex)
            }
            Record::Completion(mut ex, c) => {
                self.example(&mut ex);
                Record::Completion(ex, c)
            }
            Record::Preference(mut p) => {
                // A preference's input is a message list: set the system message there.
                if let Some(text) = &self.spec.text {
                    let mut carrier = Example::new(std::mem::take(&mut p.input), p.origin.clone());
                    carrier.set_system(text);
                    p.input = carrier.messages;
                }
                Record::Preference(p)
            }
        })
    }
}

impl System {
    fn example(&self, ex: &mut Example) {
        if let Some(text) = &self.spec.text {
            // Unfolds a system prompt that `--to completion` put before the prompt.
            afinar_core::set_system_unfolded(ex, text);
        }
        if self.spec.drop {
            ex.drop_instructions();
        }
    }
}

#[cfg(test)]
mod tests {
    use afinar_core::Role;

    use super::*;
    use crate::stage::tests::example;

    fn first_role(out: Outcome) -> (Role, String) {
        match out {
            Outcome::Keep(Record::Example(ex)) => {
                (ex.messages[0].role, ex.messages[0].content.clone())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sets_or_replaces_the_system_message() {
        let stage = SystemSpec {
            text: Some("Você é um assistente.".into()),
            drop: false,
        }
        .build();
        let out = stage.apply(Record::Example(example("Qual o prazo?", "Dia 20.", 2)));
        assert_eq!(
            first_role(out),
            (Role::System, "Você é um assistente.".into())
        );
        let mut ex = example("Qual o prazo?", "Dia 20.", 2);
        ex.set_system("Antigo");
        let out = stage.apply(Record::Example(ex));
        assert_eq!(first_role(out).1, "Você é um assistente.");
    }

    #[test]
    fn drop_removes_instructions_only() {
        let stage = SystemSpec {
            text: None,
            drop: true,
        }
        .build();
        let mut ex = example("Qual o prazo?", "Dia 20.", 2);
        ex.set_system("Seja breve.");
        let out = stage.apply(Record::Example(ex));
        assert_eq!(first_role(out), (Role::User, "Qual o prazo?".into()));
    }
}
