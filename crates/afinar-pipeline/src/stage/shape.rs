//! The output shape: chat, prompt/completion or DPO. A record that cannot take the shape
//! is rejected with the reason; a prompt/completion line is made here, once.

use afinar_core::{Completion, CompletionOptions, ConvertError};
use afinar_formats::Reject;
use serde::{Deserialize, Serialize};

use super::{Outcome, Record, Transform};

/// The shape of the training lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Chat,
    Completion,
    /// OpenAI DPO preference lines (only from DPO input).
    Dpo,
}

/// `--to` and the completion framing flags, or a pipeline's `[output]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShapeSpec {
    pub format: Format,
    pub completion: CompletionOptions,
}

impl ShapeSpec {
    pub fn build(&self) -> Shape {
        Shape { spec: self.clone() }
    }
}

/// The runtime stage of [`ShapeSpec`].
#[derive(Debug, Clone)]
pub struct Shape {
    spec: ShapeSpec,
}

/// Stable reject codes of this stage.
pub mod code {
    pub const NOT_PREFERENCE: &str = "not_a_preference";
    pub const PREFERENCE: &str = "preference_in_chat";
    pub const NOT_SINGLE_TURN: &str = "not_single_turn";
    pub const UNSUPPORTED_ROLE: &str = "unsupported_role";
    pub const ANSWER_BEFORE_QUESTION: &str = "answer_before_question";
    pub const SYSTEM_NOT_REPRESENTABLE: &str = "system_not_representable";
    pub const NOT_CONVERTIBLE: &str = "not_convertible";
}

fn convert_code(e: &ConvertError) -> &'static str {
    match e {
        ConvertError::NotSingleTurn { .. } => code::NOT_SINGLE_TURN,
        ConvertError::UnsupportedRole { .. } => code::UNSUPPORTED_ROLE,
        ConvertError::AnswerBeforeQuestion => code::ANSWER_BEFORE_QUESTION,
        ConvertError::SystemNotRepresentable => code::SYSTEM_NOT_REPRESENTABLE,
        _ => code::NOT_CONVERTIBLE,
    }
}

impl Transform for Shape {
    fn name(&self) -> &'static str {
        "shape"
    }

    fn apply(&self, record: Record) -> Outcome {
        let reject = |record: &Record, reason: String, code| {
            Outcome::Reject(
                Reject::new(record.origin().clone(), reason, record.raw()).with_code(code),
            )
        };
        match (self.spec.format, record) {
            (Format::Dpo, r @ Record::Preference(_)) => Outcome::Keep(r),
            (Format::Dpo, r) => reject(
                &r,
                "Chat example has no preferred and non-preferred answers, so it cannot become DPO; \
                 convert DPO input with --to dpo, or chat input with --to chat"
                    .into(),
                code::NOT_PREFERENCE,
            ),
            (_, r @ Record::Preference(_)) => reject(
                &r,
                "DPO preference example cannot become a chat or prompt/completion example; use --to dpo"
                    .into(),
                code::PREFERENCE,
            ),
            (Format::Chat, Record::Completion(ex, _)) | (Format::Chat, Record::Example(ex)) => {
                Outcome::Keep(Record::Example(ex))
            }
            (Format::Completion, Record::Completion(ex, _)) | (Format::Completion, Record::Example(ex)) => {
                match Completion::from_example(&ex, &self.spec.completion) {
                    Ok(pc) => Outcome::Keep(Record::Completion(ex, pc)),
                    Err(e) => {
                        let r = Record::Example(ex);
                        reject(&r, e.to_string(), convert_code(&e))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use afinar_core::{Example, Message, Origin, Preference, Role};

    use super::*;
    use crate::stage::tests::example;

    fn shape(format: Format) -> Shape {
        ShapeSpec {
            format,
            completion: CompletionOptions {
                prompt_suffix: "\n\n###\n\n".into(),
                completion_suffix: " END".into(),
                ..CompletionOptions::default()
            },
        }
        .build()
    }

    fn preference() -> Preference {
        Preference {
            input: vec![Message::new(Role::User, "Qual o prazo?")],
            preferred: Message::new(Role::Assistant, "Dia 20."),
            non_preferred: Message::new(Role::Assistant, "Não sei."),
            origin: Origin::line("prefs.jsonl", 3),
            meta: Default::default(),
        }
    }

    #[test]
    fn completion_lines_are_made_once_with_the_framing() {
        let out =
            shape(Format::Completion).apply(Record::Example(example("Ação?", "R$ 4,8 milhões", 2)));
        let Outcome::Keep(Record::Completion(ex, pc)) = out else {
            panic!("{out:?}")
        };
        assert_eq!(pc.prompt, "Ação?\n\n###\n\n");
        assert_eq!(pc.completion, "R$ 4,8 milhões END");
        assert_eq!(ex.question(), Some("Ação?"));
    }

    #[test]
    fn what_cannot_take_the_shape_is_rejected_with_a_code_and_its_raw_line() {
        let mut multi = example("a?", "b", 4);
        multi.messages.push(Message::new(Role::User, "c?"));
        multi.messages.push(Message::new(Role::Assistant, "d"));
        let out = shape(Format::Completion).apply(Record::Example(multi.clone()));
        let Outcome::Reject(r) = out else {
            panic!("{out:?}")
        };
        assert_eq!(r.code, code::NOT_SINGLE_TURN);
        assert_eq!(r.origin.to_string(), "faq.csv:4");
        let back: serde_json::Value = serde_json::from_str(&r.raw).unwrap();
        assert_eq!(back["messages"].as_array().unwrap().len(), 4);

        let Outcome::Reject(r) =
            shape(Format::Chat).apply(Record::Preference(Box::new(preference())))
        else {
            panic!()
        };
        assert_eq!(r.code, code::PREFERENCE);
        assert!(r.raw.contains("non_preferred_output"));
        let Outcome::Reject(r) = shape(Format::Dpo).apply(Record::Example(multi)) else {
            panic!()
        };
        assert_eq!(r.code, code::NOT_PREFERENCE);
    }

    #[test]
    fn dpo_keeps_preferences_and_chat_keeps_examples() {
        let p = Record::Preference(Box::new(preference()));
        assert_eq!(shape(Format::Dpo).apply(p.clone()), Outcome::Keep(p));
        let ex: Example = example("a?", "b", 2);
        assert_eq!(
            shape(Format::Chat).apply(Record::Example(ex.clone())),
            Outcome::Keep(Record::Example(ex))
        );
    }
}
