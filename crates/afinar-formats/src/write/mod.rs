//! Writers. Every file is written atomically (see [`crate::atomic`]).

pub mod jsonl;
