//! A source's `filter` (keep rows whose column has one of some values) and `meta` (the
//! columns kept as meta). Rows filtered out are counted, not rejected.

use std::collections::BTreeMap;

use afinar_core::Example;
use afinar_formats::columns;
use serde::{Deserialize, Serialize};

use super::{Outcome, Record, Transform};
use crate::PipelineError;

/// One value or a list of accepted values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum FilterValue {
    One(String),
    Any(Vec<String>),
}

impl FilterValue {
    pub fn values(&self) -> &[String] {
        match self {
            FilterValue::One(v) => std::slice::from_ref(v),
            FilterValue::Any(v) => v,
        }
    }
}

/// A source's `filter` and `meta` keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSpec {
    /// Column → accepted values (compared case- and accent-insensitively).
    pub filter: BTreeMap<String, FilterValue>,
    /// The columns kept as meta; all when `None`.
    pub meta: Option<Vec<String>>,
}

impl FilterSpec {
    pub fn is_noop(&self) -> bool {
        self.filter.is_empty() && self.meta.is_none()
    }

    /// Builds the stage for one source, refusing a filter on a column the source does not
    /// have (it would silently drop everything).
    pub fn build(&self, source: &str, examples: &[Example]) -> Result<Filter, PipelineError> {
        for column in self.filter.keys() {
            let folded = columns::fold(column);
            let has = |e: &Example| e.meta.keys().any(|k| columns::fold(k) == folded);
            if !examples.is_empty() && !examples.iter().any(has) {
                return Err(PipelineError::FilterColumn {
                    source_name: source.to_owned(),
                    column: column.clone(),
                });
            }
        }
        Ok(Filter {
            filter: self
                .filter
                .iter()
                .map(|(k, v)| {
                    (
                        columns::fold(k),
                        v.values().iter().map(|v| columns::fold(v)).collect(),
                    )
                })
                .collect(),
            meta: self
                .meta
                .as_ref()
                .map(|m| m.iter().map(|c| columns::fold(c)).collect()),
        })
    }
}

/// The runtime stage of [`FilterSpec`], names and values folded once.
#[derive(Debug, Clone)]
pub struct Filter {
    filter: Vec<(String, Vec<String>)>,
    meta: Option<Vec<String>>,
}

impl Filter {
    fn passes(&self, ex: &Example) -> bool {
        self.filter.iter().all(|(column, accepted)| {
            let value = ex
                .meta
                .iter()
                .find(|(k, _)| columns::fold(k) == *column)
                .map(|(_, v)| columns::fold(v));
            value.is_some_and(|v| accepted.contains(&v))
        })
    }
}

impl Transform for Filter {
    fn name(&self) -> &'static str {
        "filter"
    }

    fn apply(&self, mut record: Record) -> Outcome {
        let (Record::Example(ex) | Record::Completion(ex, _)) = &mut record else {
            return Outcome::Keep(record);
        };
        if !self.passes(ex) {
            return Outcome::FilterOut;
        }
        if let Some(wanted) = &self.meta {
            ex.meta.retain(|k, _| wanted.contains(&columns::fold(k)));
        }
        Outcome::Keep(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::tests::example;

    fn row(status: &str, tema: &str, line: u64) -> Example {
        let mut ex = example("Pergunta?", "Resposta.", line);
        ex.meta.insert("Status".into(), status.into());
        ex.meta.insert("Tema".into(), tema.into());
        ex
    }

    #[test]
    fn keeps_matching_rows_folded_and_only_the_meta_asked_for() {
        let spec = FilterSpec {
            filter: BTreeMap::from([("status".into(), FilterValue::Any(vec!["Publicado".into()]))]),
            meta: Some(vec!["tema".into()]),
        };
        let rows = [row("PUBLICADO", "MEI", 2), row("rascunho", "DAS", 3)];
        let stage = spec.build("faq.csv", &rows).unwrap();
        let Outcome::Keep(Record::Example(kept)) = stage.apply(Record::Example(rows[0].clone()))
        else {
            panic!()
        };
        assert_eq!(kept.meta.keys().collect::<Vec<_>>(), ["Tema"]);
        assert_eq!(
            stage.apply(Record::Example(rows[1].clone())),
            Outcome::FilterOut
        );
    }

    #[test]
    fn a_filter_on_a_missing_column_is_an_error() {
        let spec = FilterSpec {
            filter: BTreeMap::from([("Situação".into(), FilterValue::One("ok".into()))]),
            meta: None,
        };
        let err = spec
            .build("faq.csv", &[row("a", "b", 2)])
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("`faq.csv`") && err.contains("`Situação`"),
            "{err}"
        );
    }
}
