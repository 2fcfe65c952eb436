//! Exports for other trainers: LLaMA-Factory (alpaca or sharegpt, plus
//! `dataset_info.json`) and Axolotl (a config snippet over the chat JSONL).

use std::path::Path;

use afinar_core::{Example, Role};
use serde::Serialize;
use serde_json::{Value, json};

use crate::spec::LlamaFactoryFormat;

#[derive(Serialize)]
struct Alpaca<'a> {
    instruction: &'a str,
    input: &'a str,
    output: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    history: Vec<[&'a str; 2]>,
}

#[derive(Serialize)]
struct ShareGpt<'a> {
    conversations: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
}

#[derive(Serialize)]
struct Turn<'a> {
    from: &'a str,
    value: &'a str,
}

fn system_of(ex: &Example) -> Option<&str> {
    ex.messages
        .iter()
        .find(|m| m.role.is_instruction())
        .map(|m| m.content.as_str())
}

/// User/assistant pairs in order (tool turns have no place in these formats).
fn pairs(ex: &Example) -> Vec<[&str; 2]> {
    let mut out = Vec::new();
    let mut question = None;
    for m in &ex.messages {
        match m.role {
            Role::User => question = Some(m.content.as_str()),
            Role::Assistant => {
                if let Some(q) = question.take() {
                    out.push([q, m.content.as_str()]);
                }
            }
            _ => {}
        }
    }
    out
}

fn alpaca(ex: &Example) -> Option<Alpaca<'_>> {
    let mut turns = pairs(ex);
    let [instruction, output] = turns.pop()?;
    Some(Alpaca {
        instruction,
        input: "",
        output,
        system: system_of(ex),
        history: turns,
    })
}

fn sharegpt(ex: &Example) -> ShareGpt<'_> {
    let conversations = ex
        .messages
        .iter()
        .filter_map(|m| match m.role {
            Role::User => Some(Turn {
                from: "human",
                value: &m.content,
            }),
            Role::Assistant => Some(Turn {
                from: "gpt",
                value: &m.content,
            }),
            _ => None,
        })
        .collect();
    ShareGpt {
        conversations,
        system: system_of(ex),
    }
}

/// The LLaMA-Factory files: `llama_factory/train.json`, `validation.json` and
/// `dataset_info.json` describing them.
pub fn llama_factory(
    format: LlamaFactoryFormat,
    train: &[&Example],
    validation: &[&Example],
) -> Result<Vec<(String, Vec<u8>)>, serde_json::Error> {
    let encode = |set: &[&Example]| -> Result<Vec<u8>, serde_json::Error> {
        match format {
            LlamaFactoryFormat::Alpaca => {
                serde_json::to_vec_pretty(&set.iter().filter_map(|e| alpaca(e)).collect::<Vec<_>>())
            }
            LlamaFactoryFormat::Sharegpt => {
                serde_json::to_vec_pretty(&set.iter().map(|e| sharegpt(e)).collect::<Vec<_>>())
            }
        }
    };
    let entry = |file: &str| -> Value {
        match format {
            LlamaFactoryFormat::Alpaca => json!({
                "file_name": file,
                "columns": {"prompt": "instruction", "query": "input", "response": "output", "system": "system", "history": "history"}
            }),
            LlamaFactoryFormat::Sharegpt => json!({
                "file_name": file,
                "formatting": "sharegpt",
                "columns": {"messages": "conversations", "system": "system"},
                "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}
            }),
        }
    };
    let info = json!({ "afinar_train": entry("train.json"), "afinar_validation": entry("validation.json") });
    let info = serde_json::to_vec_pretty(&info)?;
    Ok(vec![
        ("llama_factory/train.json".into(), encode(train)?),
        ("llama_factory/validation.json".into(), encode(validation)?),
        ("llama_factory/dataset_info.json".into(), info),
    ])
}

/// An Axolotl `datasets:` snippet reading the chat JSONL with its chat template.
pub fn axolotl_config(out_dir: &Path) -> String {
    let dir = out_dir.display();
    format!(
        "# Axolotl datasets over afinar's chat JSONL; merge into your Axolotl config.\n\
         chat_template: tokenizer_default\n\
         datasets:\n  - path: {dir}/train.jsonl\n    type: chat_template\n    field_messages: messages\n    message_property_mappings:\n      role: role\n      content: content\n    roles_to_train: [\"assistant\"]\n\
         test_datasets:\n  - path: {dir}/validation.jsonl\n    split: train\n    type: chat_template\n    field_messages: messages\n    message_property_mappings:\n      role: role\n      content: content\n"
    )
}

#[cfg(test)]
mod tests {
    use afinar_core::{Message, Origin};

    use super::*;

    fn ex() -> Example {
        let mut e = Example::single_turn(Some("Sistema"), "P1", "R1", Origin::line("f", 1));
        e.messages.push(Message::new(Role::User, "P2"));
        e.messages.push(Message::new(Role::Assistant, "R2"));
        e
    }

    #[test]
    fn alpaca_keeps_history_and_system() {
        let e = ex();
        let files = llama_factory(LlamaFactoryFormat::Alpaca, &[&e], &[]).unwrap();
        let train: Value = serde_json::from_slice(&files[0].1).unwrap();
        assert_eq!(
            train,
            json!([{"instruction": "P2", "input": "", "output": "R2", "system": "Sistema", "history": [["P1", "R1"]]}])
        );
        let info: Value = serde_json::from_slice(&files[2].1).unwrap();
        assert_eq!(info["afinar_train"]["file_name"], "train.json");
    }

    #[test]
    fn sharegpt_uses_human_and_gpt() {
        let e = ex();
        let files = llama_factory(LlamaFactoryFormat::Sharegpt, &[&e], &[&e]).unwrap();
        let train: Value = serde_json::from_slice(&files[0].1).unwrap();
        assert_eq!(
            train[0]["conversations"][3],
            json!({"from": "gpt", "value": "R2"})
        );
        assert_eq!(train[0]["system"], "Sistema");
    }
}
