use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The speaker of a chat message, as the OpenAI chat format names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::System,
        Role::Developer,
        Role::User,
        Role::Assistant,
        Role::Tool,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// System and developer messages carry instructions rather than turns.
    pub fn is_instruction(self) -> bool {
        matches!(self, Role::System | Role::Developer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();

    /// Only the canonical, lowercase names. Use [`RoleAliases`] for anything looser.
    fn from_str(s: &str) -> Result<Self, ()> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

/// Maps the role names found in real data (`human`, `gpt`, `bot`…) to [`Role`]s.
///
/// Matching ignores ASCII case and surrounding whitespace. The canonical names always
/// resolve; the defaults add the ShareGPT and chatbot-export names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAliases {
    map: BTreeMap<String, Role>,
}

impl Default for RoleAliases {
    fn default() -> Self {
        let mut aliases = Self::canonical_only();
        for (alias, role) in [
            ("human", Role::User),
            ("gpt", Role::Assistant),
            ("bot", Role::Assistant),
            ("model", Role::Assistant),
            ("chatgpt", Role::Assistant),
        ] {
            aliases.insert(alias, role);
        }
        aliases
    }
}

impl RoleAliases {
    /// Only `system`, `developer`, `user`, `assistant` and `tool`.
    pub fn canonical_only() -> Self {
        let map = Role::ALL
            .into_iter()
            .map(|r| (r.as_str().to_owned(), r))
            .collect();
        Self { map }
    }

    /// Adds or replaces an alias.
    pub fn insert(&mut self, alias: &str, role: Role) {
        self.map.insert(alias.trim().to_ascii_lowercase(), role);
    }

    /// Parses `alias=role` pairs such as `cliente=user`, as given on the command line.
    pub fn insert_spec(&mut self, spec: &str) -> Result<(), RoleAliasError> {
        let (alias, role) = spec.split_once('=').ok_or_else(|| RoleAliasError::Form {
            spec: spec.to_owned(),
        })?;
        let role: Role = role
            .trim()
            .parse()
            .map_err(|()| RoleAliasError::UnknownRole {
                spec: spec.to_owned(),
                role: role.trim().to_owned(),
            })?;
        if alias.trim().is_empty() {
            return Err(RoleAliasError::EmptyAlias {
                spec: spec.to_owned(),
            });
        }
        self.insert(alias, role);
        Ok(())
    }

    pub fn resolve(&self, name: &str) -> Option<Role> {
        let key = name.trim();
        self.map
            .get(key)
            .or_else(|| self.map.get(&key.to_ascii_lowercase()))
            .copied()
    }
}

/// A role alias that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleAliasError {
    #[error("Role alias `{spec}` is not of the form `alias=role`")]
    Form { spec: String },
    #[error(
        "Role alias `{spec}` maps to unknown role `{role}`; use system, developer, user, assistant or tool"
    )]
    UnknownRole { spec: String, role: String },
    #[error("Role alias `{spec}` has an empty alias")]
    EmptyAlias { spec: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_aliases_cover_sharegpt_names() {
        let a = RoleAliases::default();
        assert_eq!(a.resolve("human"), Some(Role::User));
        assert_eq!(a.resolve("GPT"), Some(Role::Assistant));
        assert_eq!(a.resolve(" bot "), Some(Role::Assistant));
        assert_eq!(a.resolve("assistant"), Some(Role::Assistant));
        assert_eq!(a.resolve("cliente"), None);
    }

    #[test]
    fn aliases_are_configurable() {
        let mut a = RoleAliases::canonical_only();
        assert_eq!(a.resolve("human"), None);
        a.insert_spec("cliente=user").unwrap();
        a.insert_spec("Contador = assistant").unwrap();
        assert_eq!(a.resolve("Cliente"), Some(Role::User));
        assert_eq!(a.resolve("contador"), Some(Role::Assistant));
        assert!(
            a.insert_spec("x=robot")
                .unwrap_err()
                .to_string()
                .contains("unknown role `robot`")
        );
        assert!(a.insert_spec("nothing").is_err());
    }

    #[test]
    fn roles_round_trip_through_strings() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        assert!("User".parse::<Role>().is_err());
    }
}
