use thiserror::Error;

use crate::Role;

/// Why an example cannot take another shape. These are row-level problems: the caller
/// turns them into rejects and goes on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConvertError {
    #[error(
        "Example has {user_turns} user and {assistant_turns} assistant messages; prompt/completion holds exactly one of each"
    )]
    NotSingleTurn {
        user_turns: usize,
        assistant_turns: usize,
    },
    #[error(
        "Example has a `{role}` message; prompt/completion holds only system, user and assistant text"
    )]
    UnsupportedRole { role: Role },
    #[error("Example's assistant message comes before its user message")]
    AnswerBeforeQuestion,
    #[error(
        "Example has a system message and the system policy is `keep`; use `drop` or `prepend`"
    )]
    SystemNotRepresentable,
}
