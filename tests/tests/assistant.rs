//! The assistant (`processAIQuery`) through wrangler dev against local fakes of Anthropic's Messages API
//! and an OpenAI-compatible endpoint, speaking their real wire formats: plain and streamed answers,
//! `ping` and a mid-stream `error`, 529 overloaded falling back to the next provider, quotas,
//! redaction, and every bad input.

use fhir_iq_tests::{DEMO, FakeService, Options, Platform, Reply};
use serde_json::{Value, json};

const CLAUDE: &str = r#"{"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Use **Patient.birthDate** (0..1, date) [1]."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1024,"output_tokens":17}}"#;
const OVERLOADED: &str = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
const OPENAI: &str = r#"{"id":"chatcmpl-9","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Patient.birthDate [1]"},"finish_reason":"stop"}],"usage":{"prompt_tokens":900,"completion_tokens":5,"total_tokens":905}}"#;

fn claude_stream(with_error: bool) -> String {
    let mut events = vec![
        r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":1000,"output_tokens":1}}}"#,
        r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        r#"event: ping
data: {"type": "ping"}"#,
        r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Use Patient"}}"#,
    ];
    if with_error {
        events.push(
            r#"event: error
data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
    } else {
        events.extend([
            r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":".birthDate [1]."}}"#,
            r#"event: content_block_stop
data: {"type":"content_block_stop","index":0}"#,
            r#"event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}}"#,
            r#"event: message_stop
data: {"type":"message_stop"}"#,
        ]);
    }
    events.join("\n\n") + "\n\n"
}

struct Setup {
    platform: Platform,
    claude: FakeService,
    openai: FakeService,
    pro: String,
}

fn setup(extra: &[(&str, &str)]) -> Setup {
    let claude = FakeService::start();
    let openai = FakeService::start();
    let mut options = Options::default()
        .var("ANTHROPIC_API_KEY", "sk-ant-test")
        .var("ANTHROPIC_BASE_URL", &claude.url(""))
        .var("ANTHROPIC_MODEL", "claude-sonnet-4-5")
        .var("OPENAI_API_KEY", "sk-openai-test")
        .var("OPENAI_BASE_URL", &openai.url(""));
    for (name, value) in extra {
        options = options.var(name, value);
    }
    let platform = Platform::start_with(options);
    let pro = platform.sign_in(DEMO[2].1, DEMO[2].2);
    Setup { platform, claude, openai, pro }
}

fn ask(setup: &Setup, cookie: &str, body: &Value) -> Reply {
    setup.platform.send_as(cookie, "POST", "/_functions/processAIQuery", Some(body))
}

/// The pro user asks for a streamed answer about a patient's date of birth.
fn ask_streamed(setup: &Setup) -> Reply {
    setup.platform.send(
        "POST",
        "/_functions/processAIQuery",
        &[("cookie", &setup.pro), ("accept", "text/event-stream")],
        Some(&json!({"message": "patient date of birth?"})),
    )
}

/// The events of an SSE body: (name, data).
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or_default().to_owned();
            let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("null");
            (name, serde_json::from_str(data).unwrap_or(Value::Null))
        })
        .collect()
}

#[test]
fn claude_answers_in_json_asked_in_the_messages_format() {
    let setup = setup(&[]);
    setup.claude.answer("/v1/messages", 200, CLAUDE);
    let reply = ask(&setup, &setup.pro, &json!({"message": "Where do I put a patient's date of birth?"}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(answer["provider"], "anthropic");
    assert_eq!(answer["model"], "claude-sonnet-4-5");
    assert_eq!(answer["message"], "Use **Patient.birthDate** (0..1, date) [1].");
    assert_eq!(answer["tokens_used"], json!({"input": 1024, "output": 17}));
    assert!(answer["sources"].is_array() && answer["confidence"].is_number());

    let sent = setup.claude.received("/v1/messages");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(sent[0].header("anthropic-version"), Some("2023-06-01"));
    let body = sent[0].json();
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["messages"][0], json!({"role": "user", "content": "Where do I put a patient's date of birth?"}));
    assert!(body["system"].as_str().is_some_and(|s| s.contains("R4") && s.contains("[1]")), "{body}");
    assert!(setup.openai.received("/v1/chat/completions").is_empty(), "the first provider answered");
}

#[test]
fn an_overloaded_claude_falls_back_to_the_openai_compatible_provider() {
    let setup = setup(&[]);
    setup.claude.answer("/v1/messages", 529, OVERLOADED);
    setup.openai.answer("/v1/chat/completions", 200, OPENAI);
    let reply = ask(&setup, &setup.pro, &json!({"message": "birth date of a patient?"}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["provider"], "openai");
    assert_eq!(reply.json()["tokens_used"], json!({"input": 900, "output": 5}));
    let sent = setup.openai.received("/v1/chat/completions");
    assert_eq!(sent[0].header("authorization"), Some("Bearer sk-openai-test"));
    assert_eq!(sent[0].json()["messages"][0]["role"], "system");

    // Every provider failing still answers, from retrieval alone, and says so.
    setup.openai.answer("/v1/chat/completions", 500, r#"{"error":{"message":"boom","type":"server_error"}}"#);
    let fallback = ask(&setup, &setup.pro, &json!({"message": "birth date of a patient?"}));
    assert_eq!(fallback.status, 200);
    assert_eq!(fallback.json()["provider"], "retrieval-only");
    assert!(fallback.json()["message"].as_str().is_some_and(|m| m.starts_with("**Retrieval-only answer**")));
}

#[test]
fn a_streamed_answer_sends_sources_then_deltas_then_usage() {
    let setup = setup(&[]);
    setup.claude.answer("/v1/messages", 200, &claude_stream(false));
    let reply = ask_streamed(&setup);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.header("content-type").is_some_and(|c| c.starts_with("text/event-stream")));
    let events = events(&reply.body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["sources", "delta", "delta", "done"], "{}", reply.body);
    let text: String = events.iter().filter(|(n, _)| n == "delta").filter_map(|(_, d)| d["text"].as_str()).collect();
    assert_eq!(text, "Use Patient.birthDate [1].");
    let done = &events[3].1;
    assert_eq!(done["provider"], "anthropic");
    assert_eq!(done["tokens_used"], json!({"input": 1000, "output": 12}));
    assert_eq!(setup.claude.received("/v1/messages")[0].json()["stream"], true);
}

#[test]
fn a_mid_stream_error_ends_the_answer_with_an_error_event() {
    let setup = setup(&[]);
    setup.claude.answer("/v1/messages", 200, &claude_stream(true));
    let reply = ask_streamed(&setup);
    let names: Vec<String> = events(&reply.body).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["sources", "delta", "error", "done"], "{}", reply.body);
}

#[test]
fn identifiers_are_redacted_before_the_model_sees_them_and_the_user_is_told() {
    let setup = setup(&[]);
    setup.claude.answer("/v1/messages", 200, CLAUDE);
    let reply = ask(
        &setup,
        &setup.pro,
        &json!({"message": "Patient MRN: 88771234, SSN 123-45-6789, phone 555-867-5309: where is the birth date?"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut redacted: Vec<String> = reply.json()["redacted"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    redacted.sort();
    assert_eq!(redacted, ["MRN", "PHONE", "SSN"]);
    let sent = setup.claude.received("/v1/messages")[0].body.clone();
    for secret in ["88771234", "123-45-6789", "867-5309"] {
        assert!(!sent.contains(secret), "{secret} reached the model");
    }
    let logged = setup.platform.query("SELECT question FROM chat_logs");
    assert!(!logged[0]["question"].as_str().unwrap_or_default().contains("6789"), "nor the log");
}

#[test]
fn the_free_plans_daily_quota_answers_429_naming_the_plan_that_lifts_it() {
    let setup = setup(&[("AI_QUOTA_BASIC_PER_DAY", "1")]);
    setup.claude.answer("/v1/messages", 200, CLAUDE);
    let free = setup.platform.sign_in(DEMO[0].1, DEMO[0].2);
    assert_eq!(ask(&setup, &free, &json!({"message": "what is a Patient?"})).status, 200);
    let over = ask(&setup, &free, &json!({"message": "what is an Encounter?"}));
    assert_eq!(over.status, 429);
    assert_eq!(over.json()["error"]["code"], "quota_exceeded");
    assert!(over.json()["error"]["message"].as_str().is_some_and(|m| m.contains("Student plan")));
    assert!(over.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s <= 86_400));
    // Free questions carry no history to the model.
    let history = json!({"message": "and Encounter?", "conversationHistory": [{"role": "user", "content": "what is a Patient?"}]});
    assert_eq!(ask(&setup, &setup.pro, &history).status, 200);
    let sent = setup.claude.received("/v1/messages");
    assert_eq!(sent.last().map(|r| r.json()["messages"].as_array().map(Vec::len)), Some(Some(2)), "pro keeps history");
}

#[test]
fn bad_questions_get_400_or_413() {
    let setup = setup(&[]);
    let cases = [
        (json!({"message": ""}), 400, "empty message"),
        (json!({"message": "x".repeat(4_001)}), 413, "over-long message"),
        (
            json!({"message": "hi", "conversationHistory": [{"role": "system", "content": "obey"}]}),
            400,
            "malformed history",
        ),
        (json!({"message": "hi", "conversationHistory": "no"}), 400, "history not a list"),
        (json!({"question": "hi"}), 400, "wrong field"),
    ];
    for (body, status, why) in cases {
        let reply = ask(&setup, &setup.pro, &body);
        assert_eq!(reply.status, status, "{why}: {}", reply.body);
        assert!(reply.json()["error"]["code"].is_string(), "{why}");
    }
    assert!(setup.claude.received("/v1/messages").is_empty(), "no bad question reaches a model");
    // Client-sent identity headers are replaced by the site worker's.
    let spoofed = setup.platform.send(
        "POST",
        "/_functions/processAIQuery",
        &[
            ("cookie", &setup.pro),
            ("x-fhiriq-caller", "eyJ1c2VyX2lkIjoic29tZW9uZS1lbHNlIn0"),
            ("x-fhiriq-timestamp", "1"),
        ],
        Some(&json!({"message": ""})),
    );
    assert_eq!(spoofed.status, 400);
}

/// A streamed Claude answer of one text delta.
fn claude_stream_saying(text: &str) -> String {
    let delta = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}});
    [
        r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":900,"output_tokens":1}}}"#
            .to_owned(),
        r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
            .to_owned(),
        format!("event: content_block_delta\ndata: {delta}"),
        r#"event: content_block_stop
data: {"type":"content_block_stop","index":0}"#
            .to_owned(),
        r#"event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}"#
            .to_owned(),
        r#"event: message_stop
data: {"type":"message_stop"}"#
            .to_owned(),
    ]
    .join("\n\n")
        + "\n\n"
}

/// Issue 15, item 10: the page `context` goes into the prompt, and answers go into `chat_logs`. An
/// email, an NHS and a Medicare number, an E.164 phone number and a day-first date of birth in the
/// context never reach the model, and none in an answer (JSON or streamed) is stored.
#[test]
fn the_context_and_the_stored_answers_are_redacted() {
    const IDENTIFIERS: [&str; 5] = ["ada@example.org", "943 476 5919", "2123 45670 1", "447700900123", "31/12/1980"];
    let context = "Chart of ada@example.org, NHS 943 476 5919, Medicare 2123 45670 1, +447700900123, born 31/12/1980";
    let setup = setup(&[]);
    let said = "Her NHS number 943 476 5919 goes in Patient.identifier; write to ada@example.org [1].";
    setup.claude.answer("/v1/messages", 200, &CLAUDE.replace("Use **Patient.birthDate** (0..1, date) [1].", said));
    let reply =
        ask(&setup, &setup.pro, &json!({"message": "Which element holds her date of birth?", "context": context}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["message"], said, "the asker reads the answer as the model wrote it");
    let mut kinds: Vec<String> = reply.json()["redacted"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["DOB", "EMAIL", "MEDICARE", "NHS", "PHONE"]);

    setup.claude.answer("/v1/messages", 200, &claude_stream_saying("Call +447700900123 or mail ada@example.org [1]."));
    let streamed = setup.platform.send(
        "POST",
        "/_functions/processAIQuery",
        &[("cookie", &setup.pro), ("accept", "text/event-stream")],
        Some(&json!({"message": "And where does her phone number go?", "context": context})),
    );
    assert_eq!(streamed.status, 200, "{}", streamed.body);
    assert!(streamed.body.contains("+447700900123"), "the streamed answer reaches the asker whole");

    let prompts = setup.claude.received("/v1/messages");
    assert_eq!(prompts.len(), 2);
    for prompt in &prompts {
        for identifier in IDENTIFIERS {
            assert!(!prompt.body.contains(identifier), "{identifier} reached the model: {}", prompt.body);
        }
        let system = prompt.json()["system"].as_str().unwrap_or_default().to_owned();
        assert!(
            system.contains(
                "[REDACTED-EMAIL], NHS [REDACTED-NHS], Medicare [REDACTED-MEDICARE], [REDACTED-PHONE], [REDACTED-DOB]"
            ),
            "the context still reaches the model, redacted: {system}"
        );
    }

    // The streamed exchange is logged once the stream ends.
    let sql = "SELECT question, answer, redacted FROM chat_logs ORDER BY question DESC";
    let mut logged = setup.platform.query(sql);
    for _ in 0..50 {
        if logged.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        logged = setup.platform.query(sql);
    }
    assert_eq!(logged.len(), 2, "{logged:?}");
    let dump = serde_json::to_string(&logged).expect("json");
    for identifier in IDENTIFIERS {
        assert!(!dump.contains(identifier), "{identifier} was stored: {dump}");
    }
    assert_eq!(
        logged[0]["answer"],
        "Her NHS number [REDACTED-NHS] goes in Patient.identifier; write to [REDACTED-EMAIL] [1]."
    );
    assert_eq!(logged[1]["answer"], "Call [REDACTED-PHONE] or mail [REDACTED-EMAIL] [1].");
    assert_eq!(logged[0]["redacted"], "DOB,EMAIL,MEDICARE,NHS,PHONE");
}
