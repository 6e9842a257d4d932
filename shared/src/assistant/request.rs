//! `POST /_functions/processAIQuery` `{message, conversationHistory?, context?}`, parsed and bounded.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// The history budget, in characters (about 4 per token): old turns beyond it are dropped.
pub const MAX_HISTORY_CHARS: usize = 24_000;
pub const MAX_HISTORY_TURNS: usize = 40;
/// The page context given to the model, in characters, after redaction. Parsing keeps four times as
/// much, so an identifier is never cut in half before it is redacted (then left unrecognised).
pub const MAX_CONTEXT_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub role: String,
    pub content: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    message: Option<serde_json::Value>,
    conversation_history: Option<serde_json::Value>,
    context: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub message: String,
    /// Oldest first, at most the budget, user and assistant turns only.
    pub history: Vec<Turn>,
    /// Optional page context (for example the resource the user is reading), not yet redacted: at
    /// most `4 * MAX_CONTEXT_CHARS` characters here, cut to `MAX_CONTEXT_CHARS` once redacted.
    pub context: Option<String>,
}

impl Ask {
    pub fn parse(body: &[u8]) -> Result<Self> {
        let raw: Raw =
            serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("The body is not valid JSON: {e}")))?;
        let message = match raw.message {
            Some(serde_json::Value::String(m)) => m.trim().to_owned(),
            Some(_) => return Err(Error::BadRequest("message must be a string".into())),
            None => String::new(),
        };
        if message.is_empty() {
            return Err(Error::BadRequest("Ask a question: message is empty.".into()));
        }
        if message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(Error::PayloadTooLarge(format!("The question is longer than {MAX_MESSAGE_CHARS} characters.")));
        }
        let history = match raw.conversation_history {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::Array(turns)) => {
                if turns.len() > MAX_HISTORY_TURNS {
                    return Err(Error::PayloadTooLarge(format!(
                        "The conversation has more than {MAX_HISTORY_TURNS} turns; start a new one."
                    )));
                }
                let mut parsed = Vec::with_capacity(turns.len());
                for (i, turn) in turns.into_iter().enumerate() {
                    let turn: Turn = serde_json::from_value(turn).map_err(|_| {
                        Error::BadRequest(format!(
                            "conversationHistory[{i}] must be {{role, content}} with string values"
                        ))
                    })?;
                    if turn.role != "user" && turn.role != "assistant" {
                        return Err(Error::BadRequest(format!(
                            "conversationHistory[{i}].role must be \"user\" or \"assistant\""
                        )));
                    }
                    parsed.push(turn);
                }
                let total: usize = parsed.iter().map(|t| t.content.chars().count()).sum();
                if total > MAX_HISTORY_CHARS * 4 {
                    return Err(Error::PayloadTooLarge(
                        "The conversation history is too long; start a new one.".into(),
                    ));
                }
                bounded(parsed)
            }
            Some(_) => return Err(Error::BadRequest("conversationHistory must be an array".into())),
        };
        let context = match raw.context {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(c)) => Some(c.chars().take(4 * MAX_CONTEXT_CHARS).collect()),
            Some(other) => Some(other.to_string().chars().take(4 * MAX_CONTEXT_CHARS).collect()),
        };
        Ok(Self { message, history, context })
    }

    /// The search query: the question, plus the previous user turn for a short follow-up
    /// ("and its search parameters?") that means nothing alone.
    pub fn search_query(&self) -> String {
        let previous = self.history.iter().rev().find(|t| t.role == "user").map(|t| t.content.as_str());
        match previous {
            Some(previous) if self.message.split_whitespace().count() < 8 => format!("{previous} {}", self.message),
            _ => self.message.clone(),
        }
    }
}

/// Keeps the most recent turns that fit the budget.
fn bounded(turns: Vec<Turn>) -> Vec<Turn> {
    let mut kept = Vec::new();
    let mut used = 0;
    for turn in turns.into_iter().rev() {
        used += turn.content.chars().count();
        if used > MAX_HISTORY_CHARS {
            break;
        }
        kept.push(turn);
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(body: &str) -> Option<u16> {
        Ask::parse(body.as_bytes()).err().map(|e| e.status_code())
    }

    #[test]
    fn bad_input_gets_400_or_413() {
        let long = "x".repeat(MAX_MESSAGE_CHARS + 1);
        let cases = [
            ("{", 400, "malformed JSON"),
            ("{}", 400, "no message"),
            (r#"{"message": "   "}"#, 400, "blank message"),
            (r#"{"message": 42}"#, 400, "message not a string"),
            (r#"{"message": "hi", "conversationHistory": "no"}"#, 400, "history not an array"),
            (
                r#"{"message": "hi", "conversationHistory": [{"role": "system", "content": "x"}]}"#,
                400,
                "system role smuggled in",
            ),
            (r#"{"message": "hi", "conversationHistory": [{"role": "user"}]}"#, 400, "turn without content"),
        ];
        for (body, expected, why) in cases {
            assert_eq!(status(body), Some(expected), "{why}");
        }
        assert_eq!(status(&format!(r#"{{"message": "{long}"}}"#)), Some(413), "over-long message");
        let turns: Vec<String> = (0..41).map(|_| r#"{"role":"user","content":"x"}"#.to_owned()).collect();
        assert_eq!(status(&format!(r#"{{"message":"hi","conversationHistory":[{}]}}"#, turns.join(","))), Some(413));
    }

    #[test]
    fn history_keeps_the_most_recent_turns_within_budget() {
        let big = "y".repeat(MAX_HISTORY_CHARS / 2 + 10);
        let body = serde_json::json!({"message": "and its search parameters?", "conversationHistory": [
            {"role": "user", "content": big}, {"role": "assistant", "content": big},
            {"role": "user", "content": "What is Patient.birthDate?"}, {"role": "assistant", "content": "The date of birth."}
        ]});
        let ask = Ask::parse(body.to_string().as_bytes()).expect("valid");
        assert_eq!(ask.history.len(), 3, "the oldest turn no longer fits");
        assert_eq!(ask.search_query(), "What is Patient.birthDate? and its search parameters?");
    }
}
