//! Where the data goes (`--target`, a pipeline's `[output] target`): the last stateless
//! stage. It rejects, with the reason and a stable code, what the target cannot take
//! (a shape, a role, tool calls, turns that do not alternate where they must, what its
//! line dialect cannot express), so that the sink writes every kept record whole in the
//! target's dialect ([`line`]).

use afinar_check::targets::{self, Target};
use afinar_check::{Format, TurnOrder};
use afinar_core::{Message, Role};
use afinar_formats::Reject;
use afinar_formats::write::target as dialect_write;
use serde::Serialize;
use serde_json::Value;

use super::{Line, Outcome, Record, Transform};
use crate::PipelineError;

/// Stable reject codes of this stage (besides the dialect writer's,
/// `afinar_formats::write::target::code`).
pub mod code {
    pub const SHAPE: &str = "shape_not_supported";
    pub const ROLE: &str = "role_not_supported";
    pub const TOOLS: &str = "tools_not_supported";
    pub const TURNS: &str = "turns_not_alternating";
    pub const FIRST_TURN: &str = "first_turn_not_user";
}

/// The target, by id (`openai`, `vertex`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub target: String,
}

impl Default for TargetSpec {
    fn default() -> Self {
        Self {
            target: "openai".to_owned(),
        }
    }
}

impl TargetSpec {
    /// The target's table entry; an unknown name is an error listing the known ones.
    pub fn resolve(&self) -> Result<&'static Target, PipelineError> {
        targets::lookup(&self.target).map_err(PipelineError::Target)
    }

    pub fn build(&self) -> Result<TargetStage, PipelineError> {
        Ok(TargetStage {
            target: self.resolve()?,
        })
    }
}

/// The runtime stage of [`TargetSpec`].
#[derive(Debug, Clone)]
pub struct TargetStage {
    target: &'static Target,
}

/// One line as the target reads it: OpenAI's lines as they are, other dialects as JSON.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum TargetLine<'a> {
    Openai(Line<'a>),
    Other(Value),
}

/// The line of `record` in `target`'s dialect; the [`TargetStage`] has rejected the
/// records for which this fails.
pub fn line<'a>(
    target: &Target,
    record: &'a Record,
) -> Result<TargetLine<'a>, dialect_write::Unsupported> {
    let d = target.dialect;
    if d == afinar_core::Dialect::Openai {
        return Ok(TargetLine::Openai(record.line()));
    }
    let v = match record {
        Record::Example(ex) => dialect_write::chat(d, ex),
        Record::Completion(_, pc) => dialect_write::completion(d, pc),
        Record::Preference(p) => dialect_write::dpo(d, p),
    }?;
    Ok(TargetLine::Other(v))
}

/// Every record's line for the sink: in `target`'s dialect, or OpenAI's without one.
pub fn lines<'a>(
    target: Option<&Target>,
    records: &'a [Record],
) -> Result<Vec<TargetLine<'a>>, PipelineError> {
    records
        .iter()
        .map(|r| match target {
            None => Ok(TargetLine::Openai(r.line())),
            Some(t) => line(t, r).map_err(|u| PipelineError::TargetLine {
                origin: r.origin().to_string(),
                reason: u.reason,
            }),
        })
        .collect()
}

/// Whether files for `target` start with a UTF-8 BOM (Azure).
pub fn wants_bom(target: Option<&Target>) -> bool {
    target.is_some_and(|t| t.bom == targets::BomPolicy::Required)
}

fn shape(record: &Record) -> Format {
    match record {
        Record::Example(_) => Format::Chat,
        Record::Completion(..) => Format::Completion,
        Record::Preference(_) => Format::Dpo,
    }
}

impl TargetStage {
    pub fn target(&self) -> &'static Target {
        self.target
    }

    /// Why the target cannot take `record`, as (code, reason).
    fn refusal(&self, record: &Record) -> Option<(&'static str, String)> {
        let t = self.target;
        let format = shape(record);
        if !t.takes(format) {
            let takes: Vec<&str> = t
                .shapes
                .iter()
                .filter(|f| **f != Format::Text)
                .map(|f| f.name())
                .collect();
            return Some((
                code::SHAPE,
                format!(
                    "{} takes no {} lines (it takes {}); use --to {}",
                    t.name,
                    format.describe(),
                    takes.join(", "),
                    takes.first().unwrap_or(&"chat")
                ),
            ));
        }
        let messages: Vec<&Message> = match record {
            Record::Example(ex) | Record::Completion(ex, _) => ex.messages.iter().collect(),
            Record::Preference(p) => p
                .input
                .iter()
                .chain([&p.preferred, &p.non_preferred])
                .collect(),
        };
        let extra_tools = match record {
            Record::Example(ex) | Record::Completion(ex, _) => ex.extra.contains_key("tools"),
            Record::Preference(_) => false,
        };
        if !t.tools
            && (extra_tools
                || messages
                    .iter()
                    .any(|m| m.tool_calls.is_some() || m.role == Role::Tool))
        {
            return Some((
                code::TOOLS,
                format!(
                    "The example has tool calls, on which {} does not train",
                    t.name
                ),
            ));
        }
        if let Some((i, m)) = messages
            .iter()
            .enumerate()
            .find(|(_, m)| !t.takes_role(m.role))
        {
            return Some((
                code::ROLE,
                format!(
                    "Message {} has role `{}`, which {} does not take",
                    i + 1,
                    m.role,
                    t.name
                ),
            ));
        }
        if !t.openai_family()
            && let Some(i) = messages
                .iter()
                .enumerate()
                .skip_while(|(_, m)| m.role.is_instruction())
                .find(|(_, m)| m.role.is_instruction())
                .map(|(i, _)| i)
        {
            return Some((
                dialect_write::code::SYSTEM_NOT_FIRST,
                format!(
                    "Message {} is a system message after the conversation started; {} takes the system prompt before it only",
                    i + 1,
                    t.name
                ),
            ));
        }
        // Preferences: the replies follow the input, so the order rules see one conversation.
        let turns: Vec<(usize, Role)> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.role.is_instruction())
            .map(|(i, m)| (i + 1, m.role))
            .collect();
        if t.first_turn_user && turns.first().is_some_and(|(_, r)| *r != Role::User) {
            return Some((
                code::FIRST_TURN,
                format!(
                    "The conversation starts with an assistant turn; {} needs the user's first",
                    t.name
                ),
            ));
        }
        if t.turn_order == TurnOrder::Alternate
            && !matches!(record, Record::Preference(_))
            && let Some(w) = turns.windows(2).find(|w| w[0].1 == w[1].1)
        {
            return Some((
                code::TURNS,
                format!(
                    "Messages {} and {} are both {} turns, and {} needs the turns to alternate; merge them",
                    w[0].0, w[1].0, w[1].1, t.name
                ),
            ));
        }
        if t.weights == targets::Weights::None
            && let Some(i) = messages.iter().position(|m| m.weight == Some(0))
        {
            return Some((
                dialect_write::code::WEIGHT,
                format!(
                    "Message {} has weight 0, and {} trains on every assistant turn; remove the message or its weight",
                    i + 1,
                    t.name
                ),
            ));
        }
        if let Err(u) = line(t, record) {
            return Some((u.code, u.reason));
        }
        None
    }
}

impl Transform for TargetStage {
    fn name(&self) -> &'static str {
        "target"
    }

    fn apply(&self, record: Record) -> Outcome {
        match self.refusal(&record) {
            None => Outcome::Keep(record),
            Some((code, reason)) => Outcome::Reject(
                Reject::new(record.origin().clone(), reason, record.raw()).with_code(code),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use afinar_core::{Example, Origin, Preference};

    use super::*;

    fn stage(t: &str) -> TargetStage {
        TargetSpec { target: t.into() }.build().unwrap()
    }

    fn ex() -> Example {
        Example::single_turn(
            Some("Sistema"),
            "Ação?",
            "R$ 4,8 milhões",
            Origin::line("f.jsonl", 2),
        )
    }

    #[test]
    fn kept_records_are_written_in_the_dialect() {
        let s = stage("vertex");
        let Outcome::Keep(r) = s.apply(Record::Example(ex())) else {
            panic!()
        };
        let text = serde_json::to_string(&line(s.target(), &r).unwrap()).unwrap();
        assert_eq!(
            text,
            r#"{"systemInstruction":{"parts":[{"text":"Sistema"}]},"contents":[{"role":"user","parts":[{"text":"Ação?"}]},{"role":"model","parts":[{"text":"R$ 4,8 milhões"}]}]}"#
        );
        let openai = stage("openai");
        let r = Record::Example(ex());
        assert_eq!(
            serde_json::to_string(&line(openai.target(), &r).unwrap()).unwrap(),
            serde_json::to_string(&r.line()).unwrap()
        );
    }

    #[test]
    fn what_the_target_cannot_take_is_a_coded_reject() {
        let code_of = |t: &str, r: Record| match stage(t).apply(r) {
            Outcome::Reject(r) => r.code,
            other => panic!("{other:?}"),
        };
        let p = Preference {
            input: vec![Message::new(Role::User, "q")],
            preferred: Message::new(Role::Assistant, "a"),
            non_preferred: Message::new(Role::Assistant, "b"),
            origin: Origin::line("p.jsonl", 1),
            meta: Default::default(),
        };
        assert_eq!(
            code_of("bedrock", Record::Preference(Box::new(p.clone()))),
            code::SHAPE
        );
        assert!(matches!(
            stage("together").apply(Record::Preference(Box::new(p))),
            Outcome::Keep(_)
        ));
        let mut two_users = ex();
        two_users
            .messages
            .insert(2, Message::new(Role::User, "Mais?"));
        assert_eq!(
            code_of("together", Record::Example(two_users.clone())),
            code::TURNS
        );
        assert!(matches!(
            stage("openai").apply(Record::Example(two_users)),
            Outcome::Keep(_)
        ));
        let mut tool = ex();
        tool.messages.push(Message::new(Role::Tool, "42"));
        assert_eq!(code_of("together", Record::Example(tool)), code::TOOLS);
        let mut late = ex();
        late.messages.push(Message::new(Role::System, "x"));
        assert_eq!(code_of("vertex", Record::Example(late)), "system_not_first");
        assert!(
            TargetSpec {
                target: "nowhere".into()
            }
            .build()
            .is_err()
        );
    }
}
