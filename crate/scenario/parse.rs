//! Parsing a scenario text: TOML syntax, then the schema (serde), then the
//! semantic checks of [`super::validate`], each error located by line/column.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::error::{ErrorKind, Location, ScenarioError};
use super::model::Scenario;
use super::validate::{validate, Path, Seg};

/// Largest scenario text accepted (bytes). Built-ins are a few KiB.
pub const MAX_SCENARIO_TEXT: usize = 256 * 1024;

/// Parses and checks a scenario text. Returns the first problem found, with
/// the line and column of the offending item when it can be located. Never
/// panics, whatever the input.
pub fn parse_scenario(text: &str) -> Result<Scenario, ScenarioError> {
    let (scenario, mut problems) = parse_all(text);
    match (scenario, problems.is_empty()) {
        (Some(s), true) => Ok(s),
        _ => Err(if problems.is_empty() {
            ScenarioError::new(ErrorKind::Schema, "", "invalid scenario")
        } else {
            problems.swap_remove(0)
        }),
    }
}

/// Every problem in a scenario text (for an editor's lint markers): a syntax
/// or schema error stops at the first; semantic checks report all they find.
/// Empty means the text is a valid scenario.
pub fn check_scenario(text: &str) -> Vec<ScenarioError> {
    parse_all(text).1
}

fn parse_all(text: &str) -> (Option<Scenario>, Vec<ScenarioError>) {
    if text.len() > MAX_SCENARIO_TEXT {
        let e = ScenarioError::new(
            ErrorKind::Syntax,
            "",
            format!(
                "scenario text is {} bytes; the limit is {MAX_SCENARIO_TEXT}",
                text.len()
            ),
        );
        return (None, vec![e]);
    }
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => {
            return (
                None,
                vec![ScenarioError::from_toml(ErrorKind::Syntax, text, &e)],
            )
        }
    };
    let scenario: Scenario = match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => {
            return (
                None,
                vec![ScenarioError::from_toml(ErrorKind::Schema, text, &e)],
            )
        }
    };
    let span = doc.span();
    let root = Spanned::new(span, DeValue::Table(doc.into_inner()));
    let errors: Vec<ScenarioError> = validate(&scenario)
        .into_iter()
        .map(|p| {
            let mut e = p.error;
            e.location = locate(&root, &p.path).map(|off| Location::from_offset(text, off));
            e
        })
        .collect();
    (Some(scenario), errors)
}

/// The byte offset of the item at `path`, or of its nearest existing ancestor.
fn locate(root: &Spanned<DeValue<'_>>, path: &Path) -> Option<usize> {
    let mut cur = root;
    let mut best: Option<usize> = None;
    for seg in &path.0 {
        let next = match seg {
            Seg::Key(k) => cur.get_ref().get(k.as_str()),
            Seg::Index(i) => cur.get_ref().get(*i),
        };
        match next {
            Some(n) => {
                cur = n;
                best = Some(n.span().start);
            }
            None => break,
        }
    }
    best
}

/// Writes `scenario` back as scenario text (TOML). Comments and key order of
/// the original are not kept; parsing the result gives an equal scenario.
pub fn scenario_to_text(scenario: &Scenario) -> Result<String, ScenarioError> {
    toml::to_string(scenario)
        .map_err(|e| ScenarioError::new(ErrorKind::Schema, "", format!("cannot write TOML: {e}")))
}
