//! Language-model providers: Claude (Anthropic Messages API), any OpenAI-compatible chat endpoint and
//! Workers AI (through the production `AI` binding), tried in the configured order. A provider that times out, is rate limited, overloaded or failing
//! (429, 5xx, 529 `overloaded_error`) or refuses our key hands over to the next.

use super::answer::Usage;
use super::request::Turn;
use crate::config::{EnvSource, Secret, number, optional_secret};
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest};
use crate::time::{Clock, with_timeout};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Anthropic,
    OpenAi,
    /// A Workers AI text-generation model; no URL or key, the binding is the credential.
    WorkersAi,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::OpenAi => "openai",
            Self::WorkersAi => "workers-ai",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub kind: Kind,
    pub base_url: String,
    pub api_key: Secret,
    pub model: String,
}

#[derive(Debug, Clone)]
pub struct AiConfig {
    /// Configured and keyed providers, in the order to try them.
    pub providers: Vec<Provider>,
    pub timeout_ms: u64,
    pub max_tokens: u64,
}

impl AiConfig {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let order = env.var("AI_PROVIDERS").unwrap_or_else(|| "anthropic,openai".into());
        let mut providers = Vec::new();
        for name in order.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "workers-ai" {
                // Listed means wanted: the binding, not a key, decides whether it can answer.
                let model = env.var("WORKERS_AI_MODEL").unwrap_or_else(|| "@cf/meta/llama-3.1-8b-instruct".into());
                providers.push(Provider {
                    kind: Kind::WorkersAi,
                    base_url: String::new(),
                    api_key: Secret::new(""),
                    model,
                });
                continue;
            }
            let (kind, prefix, default_base, default_model) = match name {
                "anthropic" => (Kind::Anthropic, "ANTHROPIC", "https://api.anthropic.com", "claude-sonnet-4-5"),
                "openai" => (Kind::OpenAi, "OPENAI", "https://api.openai.com", "gpt-4o-mini"),
                other => {
                    return Err(Error::Config(format!(
                        "AI_PROVIDERS: unknown provider {other:?}; use anthropic, openai, workers-ai"
                    )));
                }
            };
            // A provider without a key is simply not configured.
            let Some(api_key) = optional_secret(env, &format!("{prefix}_API_KEY")) else { continue };
            let base_url = env.var(&format!("{prefix}_BASE_URL")).unwrap_or_else(|| default_base.into());
            if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
                return Err(Error::Config(format!("{prefix}_BASE_URL must be an http(s) URL")));
            }
            let model = env.var(&format!("{prefix}_MODEL")).unwrap_or_else(|| default_model.into());
            providers.push(Provider { kind, base_url: base_url.trim_end_matches('/').into(), api_key, model });
        }
        Ok(Self {
            providers,
            timeout_ms: number(env, "AI_TIMEOUT_MS", 25_000, 100..=120_000)?,
            max_tokens: number(env, "AI_MAX_TOKENS", 1_024, 16..=8_192)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    pub usage: Usage,
    pub model: String,
}

/// The request for one provider (non-streaming, or streaming when `stream`).
pub fn request(provider: &Provider, system: &str, messages: &[Turn], max_tokens: u64, stream: bool) -> OutboundRequest {
    match provider.kind {
        Kind::Anthropic => {
            let mut request = OutboundRequest::post_json(
                format!("{}/v1/messages", provider.base_url),
                &json!({"model": provider.model, "max_tokens": max_tokens, "system": system, "messages": messages, "stream": stream}),
            );
            request.headers.push(("x-api-key".into(), provider.api_key.expose().into()));
            request.headers.push(("anthropic-version".into(), "2023-06-01".into()));
            request
        }
        Kind::OpenAi | Kind::WorkersAi => {
            let mut body = json!({"model": provider.model, "messages": chat_messages(system, messages), "max_tokens": max_tokens, "stream": stream});
            if stream {
                body["stream_options"] = json!({"include_usage": true});
            }
            let mut request = OutboundRequest::post_json(format!("{}/v1/chat/completions", provider.base_url), &body);
            request.headers.push(("authorization".into(), format!("Bearer {}", provider.api_key.expose())));
            request
        }
    }
}

/// OpenAI-style messages: the system prompt first, as a message.
fn chat_messages(system: &str, messages: &[Turn]) -> Vec<Value> {
    let mut all = vec![json!({"role": "system", "content": system})];
    all.extend(messages.iter().map(|t| json!({"role": t.role, "content": t.content})));
    all
}

/// The input of a Workers AI text-generation model.
pub fn workers_ai_input(system: &str, messages: &[Turn], max_tokens: u64) -> Value {
    json!({"messages": chat_messages(system, messages), "max_tokens": max_tokens})
}

/// A Workers AI answer: `{response, usage: {prompt_tokens, completion_tokens}}`.
pub fn parse_workers_ai(model: &str, output: &Value) -> Result<Completion> {
    let text = output["response"].as_str().unwrap_or_default();
    if text.trim().is_empty() {
        return Err(Error::upstream("reading a Workers AI answer", "the answer has no text"));
    }
    let u = |pointer: &str| output.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    Ok(Completion {
        text: text.to_owned(),
        usage: Usage { input: u("/usage/prompt_tokens"), output: u("/usage/completion_tokens") },
        model: model.to_owned(),
    })
}

/// The provider's error message, for the log (Anthropic: `{type:"error", error:{type, message}}`;
/// OpenAI: `{error:{message, type}}`).
fn describe_failure(status: u16, body: &str) -> String {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let kind = parsed.pointer("/error/type").and_then(Value::as_str).unwrap_or("");
    let message = parsed.pointer("/error/message").and_then(Value::as_str).unwrap_or(body);
    format!("HTTP {status} {kind}: {}", message.chars().take(200).collect::<String>())
}

/// Reads a non-streaming answer.
pub fn parse_completion(kind: Kind, body: &str) -> Result<Completion> {
    let parsed: Value = serde_json::from_str(body).map_err(|e| Error::upstream("reading a model answer", e))?;
    let u = |pointer: &str| parsed.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    let (text, usage) = match kind {
        Kind::Anthropic => {
            let text = parsed["content"]
                .as_array()
                .map(|blocks| {
                    blocks.iter().filter(|b| b["type"] == "text").filter_map(|b| b["text"].as_str()).collect::<String>()
                })
                .unwrap_or_default();
            (text, Usage { input: u("/usage/input_tokens"), output: u("/usage/output_tokens") })
        }
        Kind::OpenAi | Kind::WorkersAi => (
            parsed.pointer("/choices/0/message/content").and_then(Value::as_str).unwrap_or_default().to_owned(),
            Usage { input: u("/usage/prompt_tokens"), output: u("/usage/completion_tokens") },
        ),
    };
    if text.trim().is_empty() {
        return Err(Error::upstream("reading a model answer", "the answer has no text"));
    }
    Ok(Completion { text, usage, model: parsed["model"].as_str().unwrap_or_default().to_owned() })
}

/// One provider, one answer, under the timeout.
pub async fn complete(
    http: &impl HttpClient,
    clock: &impl Clock,
    config: &AiConfig,
    provider: &Provider,
    system: &str,
    messages: &[Turn],
) -> Result<Completion> {
    if provider.kind == Kind::WorkersAi {
        let input = workers_ai_input(system, messages, config.max_tokens);
        let output = with_timeout(clock, config.timeout_ms, http.run_model(&provider.model, &input))
            .await
            .ok_or_else(|| Error::upstream("asking workers-ai", format!("no answer in {} ms", config.timeout_ms)))??;
        return parse_workers_ai(&provider.model, &output);
    }
    let call = http.send(request(provider, system, messages, config.max_tokens, false));
    let response = with_timeout(clock, config.timeout_ms, call).await.ok_or_else(|| {
        Error::upstream(format!("asking {}", provider.kind.name()), format!("no answer in {} ms", config.timeout_ms))
    })??;
    if !(200..300).contains(&response.status) {
        return Err(Error::upstream(
            format!("asking {}", provider.kind.name()),
            describe_failure(response.status, &response.body),
        ));
    }
    parse_completion(provider.kind, &response.body)
}

/// Tries each provider in order; the first answer wins. Answers the winner (if any) and why each
/// earlier one failed.
pub async fn first_answer<'a>(
    http: &impl HttpClient,
    clock: &impl Clock,
    config: &'a AiConfig,
    system: &str,
    messages: &[Turn],
) -> (Option<(&'a Provider, Completion)>, Vec<String>) {
    let mut failures = Vec::new();
    for provider in &config.providers {
        match complete(http, clock, config, provider, system, messages).await {
            Ok(completion) => return (Some((provider, completion)), failures),
            Err(e) => failures.push(format!("{}: {e}", provider.kind.name())),
        }
    }
    (None, failures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::RecordingHttp;
    use crate::time::testing::FixedClock;
    use futures::executor::block_on;
    use std::collections::HashMap;

    const CLAUDE_OK: &str = r#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Use Patient.birthDate [1]."}],"stop_reason":"end_turn","usage":{"input_tokens":812,"output_tokens":9}}"#;
    const OVERLOADED: &str = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    const OPENAI_OK: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Patient.birthDate [1]"},"finish_reason":"stop"}],"usage":{"prompt_tokens":700,"completion_tokens":6,"total_tokens":706}}"#;

    fn config() -> AiConfig {
        let env = HashMap::from([
            ("ANTHROPIC_API_KEY", "sk-ant-test"),
            ("ANTHROPIC_BASE_URL", "http://127.0.0.1:1"),
            ("OPENAI_API_KEY", "sk-test"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:2/"),
        ]);
        AiConfig::from_env(&env).expect("valid")
    }

    fn ask(http: &RecordingHttp) -> (Option<(String, Completion)>, Vec<String>) {
        let config = config();
        let messages = [Turn { role: "user".into(), content: "dob?".into() }];
        let (winner, failures) = block_on(first_answer(http, &FixedClock::at(0), &config, "system", &messages));
        (winner.map(|(p, c)| (p.kind.name().to_owned(), c)), failures)
    }

    #[test]
    fn claude_is_asked_in_the_messages_format() {
        let http = RecordingHttp::answering(200, CLAUDE_OK);
        let (winner, failures) = ask(&http);
        let (provider, completion) = winner.expect("answered");
        assert_eq!(provider, "anthropic");
        assert!(failures.is_empty());
        assert_eq!(completion.text, "Use Patient.birthDate [1].");
        assert_eq!(completion.usage, Usage { input: 812, output: 9 });
        let sent = &http.sent.borrow()[0];
        assert_eq!(sent.url, "http://127.0.0.1:1/v1/messages");
        assert!(sent.headers.contains(&("x-api-key".into(), "sk-ant-test".into())));
        assert!(sent.headers.contains(&("anthropic-version".into(), "2023-06-01".into())));
        let body: Value = serde_json::from_str(sent.body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(body["system"], "system");
        assert_eq!(body["messages"][0]["role"], "user");
        assert_eq!(body["model"], "claude-sonnet-4-5");
    }

    #[test]
    fn an_overloaded_claude_falls_back_to_the_openai_compatible_provider() {
        let http = RecordingHttp::answering(529, OVERLOADED).then(200, OPENAI_OK);
        let (winner, failures) = ask(&http);
        let (provider, completion) = winner.expect("the second provider answered");
        assert_eq!(provider, "openai");
        assert_eq!(completion.usage, Usage { input: 700, output: 6 });
        assert!(failures[0].contains("529") && failures[0].contains("overloaded_error"), "{failures:?}");
        let sent = http.sent.borrow();
        assert_eq!(sent[1].url, "http://127.0.0.1:2/v1/chat/completions");
        assert!(sent[1].headers.contains(&("authorization".into(), "Bearer sk-test".into())));
        let body: Value = serde_json::from_str(sent[1].body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(body["messages"][0]["role"], "system", "OpenAI takes the system prompt as a message");
    }

    #[test]
    fn when_every_provider_fails_there_is_no_winner_and_each_reason_is_kept() {
        let http = RecordingHttp::answering(429, r#"{"error":{"message":"Rate limit","type":"rate_limit_error"}}"#);
        let (winner, failures) = ask(&http);
        assert!(winner.is_none());
        assert_eq!(failures.len(), 2);
    }

    #[test]
    fn workers_ai_is_run_with_chat_messages_and_without_the_binding_the_next_provider_answers() {
        let env = HashMap::from([
            ("AI_PROVIDERS", "workers-ai,openai"),
            ("OPENAI_API_KEY", "sk-test"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:2"),
        ]);
        let config = AiConfig::from_env(&env).expect("valid");
        assert_eq!(config.providers[0].model, "@cf/meta/llama-3.1-8b-instruct");
        let messages = [Turn { role: "user".into(), content: "dob?".into() }];
        let answered = RecordingHttp::answering(
            200,
            r#"{"response":"Patient.birthDate [1]","usage":{"prompt_tokens":640,"completion_tokens":7,"total_tokens":647}}"#,
        );
        let (winner, _) = block_on(first_answer(&answered, &FixedClock::at(0), &config, "system", &messages));
        let (provider, completion) = winner.expect("answered");
        assert_eq!(provider.kind, Kind::WorkersAi);
        assert_eq!(completion.usage, Usage { input: 640, output: 7 });
        let sent = answered.sent.borrow();
        assert_eq!(sent[0].url, "workers-ai:@cf/meta/llama-3.1-8b-instruct");
        let input: Value = serde_json::from_str(sent[0].body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(input["messages"][0], json!({"role": "system", "content": "system"}));
        assert_eq!(input["max_tokens"], 1_024);

        // A model error (or no binding, as in development) hands over to the next provider.
        let failing =
            RecordingHttp::answering(500, r#"{"errors":[{"message":"InferenceUpstreamError"}]}"#).then(200, OPENAI_OK);
        let (winner, failures) = block_on(first_answer(&failing, &FixedClock::at(0), &config, "system", &messages));
        assert_eq!(winner.expect("fell back").0.kind, Kind::OpenAi);
        assert!(failures[0].starts_with("workers-ai"), "{failures:?}");
    }

    #[test]
    fn unkeyed_providers_are_skipped_and_unknown_ones_are_errors() {
        let none: HashMap<&str, &str> = HashMap::new();
        assert!(AiConfig::from_env(&none).expect("valid").providers.is_empty());
        let bad = HashMap::from([("AI_PROVIDERS", "anthropic,skynet")]);
        assert!(AiConfig::from_env(&bad).is_err());
    }
}
