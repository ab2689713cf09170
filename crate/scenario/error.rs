//! Errors of the scenario text format, with 1-based line/column locations.

use serde::Serialize;

/// A position in the scenario text: 1-based line and column (columns count
/// characters, not bytes), plus the byte offset it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

impl Location {
    /// Converts a byte offset into `text` to a 1-based line/column. Offsets past
    /// the end clamp to the end; an offset inside a UTF-8 sequence moves back to
    /// the start of that character. Never panics.
    pub fn from_offset(text: &str, offset: usize) -> Location {
        let mut off = offset.min(text.len());
        while off > 0 && !text.is_char_boundary(off) {
            off -= 1;
        }
        let before = text.get(..off).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before.get(line_start..).unwrap_or("").chars().count() + 1;
        Location {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            offset: off,
        }
    }
}

/// What went wrong, for programs (the web page colours these differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not valid TOML.
    Syntax,
    /// Valid TOML, but a key is unknown, missing, or has the wrong type or an
    /// unknown enumeration value (e.g. an expectation `kind` nobody knows).
    Schema,
    /// Two items of the same class share a name (tasks, files, variants, ...).
    Duplicate,
    /// A reference to something that is not defined (a file, mapping, task,
    /// process, variant, switch, option or option value).
    Undefined,
    /// A value that is well-typed but not allowed (a fill of two bytes, a block
    /// size of 3000, a switch value the switch does not declare, ...).
    BadValue,
    /// The scenario declares a text format version this build does not know.
    Version,
}

/// An error in a scenario text. `path` names the offending item in the
/// document (`tasks[1].steps[0].file`); `location` points at it when the TOML
/// parser knows where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}", self.render())]
pub struct ScenarioError {
    pub kind: ErrorKind,
    pub message: String,
    pub path: String,
    pub location: Option<Location>,
}

impl ScenarioError {
    pub(crate) fn new(
        kind: ErrorKind,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ScenarioError {
            kind,
            message: message.into(),
            path: path.into(),
            location: None,
        }
    }

    /// "line 3, column 7: `tasks[0].steps[1].file`: no file named `g`".
    pub fn render(&self) -> String {
        let mut s = String::new();
        if let Some(l) = self.location {
            s.push_str(&format!("line {}, column {}: ", l.line, l.column));
        }
        if !self.path.is_empty() {
            s.push_str(&self.path);
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }

    /// Builds an error from the toml crate's error, locating its span.
    pub(crate) fn from_toml(kind: ErrorKind, text: &str, err: &toml::de::Error) -> Self {
        // The toml message is multi-line (it quotes the source); keep the first
        // meaningful line, since we carry the location separately.
        let message = err
            .message()
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("invalid TOML")
            .to_string();
        ScenarioError {
            kind,
            message,
            path: String::new(),
            location: err
                .span()
                .map(|r| Location::from_offset(text, refine(text, r, err.message()))),
        }
    }
}

/// Serde errors inside internally tagged enums (steps) carry the span of the
/// whole enclosing value. When the message names an unknown field or
/// variant, point at its first occurrence inside that span instead.
fn refine(text: &str, span: std::ops::Range<usize>, message: &str) -> usize {
    let start = span.start;
    let Some(inner) = text.get(span.clone()) else {
        return start;
    };
    let token = message.split('`').nth(1).filter(|t| !t.is_empty());
    let Some(token) = token else { return start };
    if message.starts_with("unknown variant") {
        let quoted = format!("\"{token}\"");
        return inner.find(&quoted).map_or(start, |i| start + i);
    }
    if message.starts_with("unknown field") || message.starts_with("missing field") {
        // A key: the token followed by optional blanks and `=`, not part of a
        // longer word.
        let bytes = inner.as_bytes();
        for (i, _) in inner.match_indices(token) {
            let before_ok = i == 0 || !is_key_byte(bytes[i - 1]);
            let rest = inner.get(i + token.len()..).unwrap_or("");
            let after_ok = rest.trim_start_matches([' ', '\t']).starts_with('=');
            if before_ok && after_ok {
                return start + i;
            }
        }
    }
    start
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_to_line_col() {
        let t = "ab\ncdé\nf";
        assert_eq!(Location::from_offset(t, 0).line, 1);
        let l = Location::from_offset(t, 4);
        assert_eq!((l.line, l.column), (2, 2));
        // 'é' is two bytes; offset 7 is after it -> column 4 (chars a-la editor).
        let l = Location::from_offset(t, 7);
        assert_eq!((l.line, l.column), (2, 4));
        // Inside the two-byte char: moves back to its start.
        let l = Location::from_offset(t, 6);
        assert_eq!((l.line, l.column, l.offset), (2, 3, 5));
        let l = Location::from_offset(t, 999);
        assert_eq!((l.line, l.column), (3, 2));
    }
}
