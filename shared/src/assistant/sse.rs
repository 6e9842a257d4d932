//! Server-sent events both ways: decoding the providers' streams (Anthropic's typed events, OpenAI's
//! `data:` chunks ending in `[DONE]`) and encoding ours for the browser: `sources`, `delta`, `done`,
//! and `error`.

use super::answer::{Answer, Usage};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

/// Splits a byte stream into events, whatever the chunk boundaries. Bytes are kept until an event is
/// whole and only then decoded, so a character split across two network chunks arrives whole (the
/// boundaries searched for are ASCII, never inside a UTF-8 sequence).
#[derive(Debug, Default)]
pub struct Decoder {
    buffer: Vec<u8>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        // CRLF line ends as LF, each byte looked at once, as it arrives: a CR waiting at the end for its
        // LF is dropped when the LF comes, in this chunk or the next. (Normalising the whole buffer
        // again on every push made the CR kept from `\r\r\n` a line end after all, so the events
        // depended on where the network cut the stream.)
        self.buffer.reserve(bytes.len());
        for &byte in bytes {
            if byte == b'\n' && self.buffer.last() == Some(&b'\r') {
                self.buffer.pop();
            }
            self.buffer.push(byte);
        }
        let mut events = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
            let bytes: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let block = String::from_utf8_lossy(&bytes);
            let mut name = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                }
            }
            if name.is_some() || !data.is_empty() {
                events.push(Event { name, data: data.join("\n") });
            }
        }
        events
    }
}

/// What a provider's event means for the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Model(String),
    InputTokens(u64),
    OutputTokens(u64),
    /// The provider reported an error (Anthropic `error` event, OpenAI `{error}`).
    Error(String),
    End,
    Skip,
}

/// Anthropic Messages streaming: `message_start`, `content_block_delta` (`text_delta`), `message_delta`
/// (cumulative output tokens), `message_stop`; `ping` anywhere; `error` possibly mid-stream.
pub fn anthropic(event: &Event) -> Vec<Piece> {
    let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    match data["type"].as_str().unwrap_or_default() {
        "message_start" => {
            let mut pieces =
                vec![Piece::Model(data.pointer("/message/model").and_then(Value::as_str).unwrap_or("").into())];
            if let Some(n) = data.pointer("/message/usage/input_tokens").and_then(Value::as_u64) {
                pieces.push(Piece::InputTokens(n));
            }
            pieces
        }
        "content_block_delta" if data.pointer("/delta/type") == Some(&json!("text_delta")) => {
            vec![Piece::Text(data.pointer("/delta/text").and_then(Value::as_str).unwrap_or("").into())]
        }
        "message_delta" => {
            data.pointer("/usage/output_tokens").and_then(Value::as_u64).map(Piece::OutputTokens).into_iter().collect()
        }
        "message_stop" => vec![Piece::End],
        "error" => {
            vec![Piece::Error(data.pointer("/error/message").and_then(Value::as_str).unwrap_or("stream error").into())]
        }
        _ => vec![Piece::Skip],
    }
}

/// OpenAI-compatible chat streaming: `data: {choices:[{delta:{content}}]}` lines, `data: [DONE]`.
pub fn openai(event: &Event) -> Vec<Piece> {
    if event.data.trim() == "[DONE]" {
        return vec![Piece::End];
    }
    let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    if let Some(message) = data.pointer("/error/message").and_then(Value::as_str) {
        return vec![Piece::Error(message.into())];
    }
    let mut pieces = Vec::new();
    if let Some(model) = data["model"].as_str() {
        pieces.push(Piece::Model(model.into()));
    }
    if let Some(text) = data.pointer("/choices/0/delta/content").and_then(Value::as_str) {
        pieces.push(Piece::Text(text.into()));
    }
    if let Some(n) = data.pointer("/usage/prompt_tokens").and_then(Value::as_u64) {
        pieces.push(Piece::InputTokens(n));
    }
    if let Some(n) = data.pointer("/usage/completion_tokens").and_then(Value::as_u64) {
        pieces.push(Piece::OutputTokens(n));
    }
    pieces
}

/// One event of ours.
pub fn encode(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

pub fn sources_event(answer_sources: &[crate::knowledge::search::Hit], redacted: &[&str]) -> String {
    encode("sources", &json!({"sources": answer_sources, "redacted": redacted}))
}

pub fn delta_event(text: &str) -> String {
    encode("delta", &json!({"text": text}))
}

pub fn done_event(usage: Usage, provider: &str, model: Option<&str>, confidence: f64) -> String {
    encode("done", &json!({"tokens_used": usage, "provider": provider, "model": model, "confidence": confidence}))
}

pub fn error_event(message: &str) -> String {
    encode("error", &json!({"message": message}))
}

/// A finished answer as events (the retrieval-only answer, streamed in small pieces so the browser
/// renders it the same way as a model's).
pub fn whole_answer(answer: &Answer) -> Vec<String> {
    let mut events = vec![sources_event(&answer.sources, &answer.redacted)];
    let mut piece = String::new();
    for word in answer.message.split_inclusive(' ') {
        piece.push_str(word);
        if piece.len() > 48 {
            events.push(delta_event(&std::mem::take(&mut piece)));
        }
    }
    if !piece.is_empty() {
        events.push(delta_event(&piece));
    }
    events.push(done_event(answer.tokens_used, &answer.provider, answer.model.as_deref(), answer.confidence));
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// Anthropic's documented stream, split at awkward places.
    const CLAUDE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: ping\ndata: {\"type\": \"ping\"}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Use Patient\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\".birthDate [1].\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    fn decode_all(stream: &str, step: usize, map: fn(&Event) -> Vec<Piece>) -> Vec<Piece> {
        let mut decoder = Decoder::default();
        let bytes = stream.as_bytes();
        let mut pieces = Vec::new();
        for chunk in bytes.chunks(step) {
            for event in decoder.push(chunk) {
                pieces.extend(map(&event).into_iter().filter(|p| *p != Piece::Skip));
            }
        }
        pieces
    }

    #[test]
    fn a_claude_stream_decodes_to_text_usage_and_end_at_any_chunking() {
        for step in [1, 7, 64, CLAUDE.len()] {
            let pieces = decode_all(CLAUDE, step, anthropic);
            assert_eq!(
                pieces,
                vec![
                    Piece::Model("claude-sonnet-4-5".into()),
                    Piece::InputTokens(25),
                    Piece::Text("Use Patient".into()),
                    Piece::Text(".birthDate [1].".into()),
                    Piece::OutputTokens(15),
                    Piece::End
                ],
                "chunks of {step} bytes"
            );
        }
    }

    #[test]
    fn a_character_split_across_chunks_arrives_whole_at_every_byte_offset() {
        let text = "naïve café 患者";
        let data = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}});
        let stream = format!("event: content_block_delta\r\ndata: {data}\r\n\r\n");
        let bytes = stream.as_bytes();
        for at in 0..=bytes.len() {
            let mut decoder = Decoder::default();
            let mut events = decoder.push(&bytes[..at]);
            events.extend(decoder.push(&bytes[at..]));
            let pieces: Vec<Piece> = events.iter().flat_map(anthropic).collect();
            assert_eq!(pieces, vec![Piece::Text(text.into())], "split at byte {at}");
        }
    }

    #[test]
    fn a_mid_stream_error_event_is_reported() {
        let stream = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n\
event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        assert_eq!(decode_all(stream, 5, anthropic), vec![Piece::Text("Hi".into()), Piece::Error("Overloaded".into())]);
    }

    #[test]
    fn an_openai_stream_decodes_with_crlf_and_done() {
        let stream = "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\r\n\r\n\
data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Patient\"}}]}\r\n\r\n\
data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\r\n\r\n\
data: [DONE]\r\n\r\n";
        let pieces = decode_all(stream, 3, openai);
        assert!(pieces.contains(&Piece::Text("Patient".into())));
        assert!(pieces.contains(&Piece::InputTokens(9)) && pieces.contains(&Piece::OutputTokens(2)));
        assert_eq!(pieces.last(), Some(&Piece::End));
    }

    #[test]
    fn our_events_are_sources_then_deltas_then_done() {
        let answer = Answer {
            message: "word ".repeat(40),
            sources: vec![],
            tokens_used: Usage::default(),
            confidence: 0.5,
            provider: "retrieval-only".into(),
            model: None,
            redacted: vec!["SSN"],
        };
        let events = whole_answer(&answer);
        assert!(events[0].starts_with("event: sources\ndata: {"));
        assert!(events[0].contains("\"redacted\":[\"SSN\"]"));
        assert!(events[1..events.len() - 1].iter().all(|e| e.starts_with("event: delta\n")));
        assert!(events.len() > 3, "the text is split into several deltas");
        assert!(events.last().is_some_and(|e| e.starts_with("event: done\n") && e.contains("retrieval-only")));
        let mut decoder = Decoder::default();
        let decoded = decoder.push(events.concat().as_bytes());
        assert_eq!(decoded.len(), events.len(), "what we send decodes back");
    }

    /// Stream-shaped text: field names, line ends of every kind (CR alone too), multi-byte characters.
    fn stream() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            Just("event:".to_owned()),
            Just("data:".to_owned()),
            Just("data: ".to_owned()),
            Just(":".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\r".to_owned()),
            Just("\r\n".to_owned()),
            Just("\n\n".to_owned()),
            Just("é患".to_owned()),
            "[a-z]{1,5}",
            ".{0,6}",
        ];
        vec(fragment, 0..24).prop_map(|parts| parts.concat())
    }

    /// `bytes` pushed in pieces cut at `cuts` (any byte offsets, inside characters too).
    fn push_in_pieces(bytes: &[u8], cuts: &[Index]) -> Vec<Event> {
        let mut offsets: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
        offsets.sort_unstable();
        let mut decoder = Decoder::default();
        let mut events = Vec::new();
        let mut start = 0;
        for end in offsets.into_iter().chain([bytes.len()]) {
            events.extend(decoder.push(&bytes[start..end]));
            start = end;
        }
        events
    }

    proptest! {
        #![proptest_config(crate::testing::properties(2_000))]

        #[test]
        fn any_stream_cut_at_any_byte_offsets_decodes_to_the_same_events_as_whole(
            text in stream(),
            cuts in vec(any::<Index>(), 0..8),
        ) {
            let whole = Decoder::default().push(text.as_bytes());
            prop_assert_eq!(push_in_pieces(text.as_bytes(), &cuts), whole, "{:?}", text);
        }

        #[test]
        fn our_events_read_back_whatever_their_text_and_chunking(
            events in vec(("[a-z_]{1,12}", prop_oneof![".{0,30}", stream()]), 0..6),
            cuts in vec(any::<Index>(), 0..8),
        ) {
            let sent: String = events.iter().map(|(name, text)| encode(name, &json!({"text": text}))).collect();
            let read = push_in_pieces(sent.as_bytes(), &cuts);
            prop_assert_eq!(read.len(), events.len());
            for (event, (name, text)) in read.iter().zip(&events) {
                prop_assert_eq!(event.name.as_deref(), Some(name.as_str()));
                let data: Value = serde_json::from_str(&event.data).expect("our data is JSON");
                prop_assert_eq!(data["text"].as_str(), Some(text.as_str()));
            }
        }
    }
}
