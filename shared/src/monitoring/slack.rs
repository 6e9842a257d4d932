//! Slack incoming-webhook alerts: `POST {webhook url}` with JSON `{text, blocks}`; Slack answers `ok`.

use super::monitor::{Alert, AlertKind, Notifier};
use crate::config::Secret;
use crate::error::Result;
use crate::http::{HttpClient, OutboundRequest};
use serde_json::{Value, json};

/// The message Slack receives: plain `text` (notifications, screen readers) and a richer block.
pub fn payload(alert: &Alert, site_url: &str) -> Value {
    let icon = match alert.kind {
        AlertKind::Down => ":red_circle:",
        AlertKind::Slow => ":large_yellow_circle:",
        AlertKind::Recovered => ":large_green_circle:",
    };
    let text = format!("{icon} FHIR IQ: {}", alert.message());
    json!({
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": format!("Status page: {site_url}/status")}
            ]}
        ]
    })
}

/// Posts alerts to a Slack incoming webhook.
pub struct SlackNotifier<'a, H> {
    pub webhook: &'a Secret,
    pub http: &'a H,
    /// The public origin, linked from each alert.
    pub site_url: String,
}

impl<H: HttpClient> Notifier for SlackNotifier<'_, H> {
    async fn notify(&self, alert: &Alert) -> Result<()> {
        let request = OutboundRequest::post_json(self.webhook.expose(), &payload(alert, &self.site_url));
        let response = self.http.send(request).await?;
        // Slack explains refusals in the body: invalid_payload, no_service, channel_is_archived...
        response.success("posting a Slack alert").map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::RecordingHttp;
    use crate::monitoring::monitor::{Probe, State};
    use futures::executor::block_on;

    fn down_alert() -> Alert {
        let probe = Probe {
            endpoint: "/pricing".into(),
            status_code: Some(500),
            response_ms: 12,
            state: State::Down,
            error: Some("HTTP 500".into()),
            checked_at: 0,
        };
        Alert { endpoint: "/pricing".into(), kind: AlertKind::Down, probe }
    }

    #[test]
    fn an_alert_is_posted_as_json_to_the_webhook() {
        let http = RecordingHttp::answering(200, "ok");
        let webhook = Secret::new("http://127.0.0.1:9/services/T0/B0/X");
        let slack = SlackNotifier { webhook: &webhook, http: &http, site_url: "https://fhiriq.dev".into() };
        block_on(slack.notify(&down_alert())).expect("Slack accepted it");
        let sent = http.sent.borrow();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url, "http://127.0.0.1:9/services/T0/B0/X");
        let body: Value = serde_json::from_str(sent[0].body.as_deref().unwrap_or_default()).expect("json body");
        assert_eq!(body["text"], ":red_circle: FHIR IQ: /pricing is DOWN: HTTP 500");
        assert_eq!(body["blocks"][1]["elements"][0]["text"], "Status page: https://fhiriq.dev/status");
    }

    #[test]
    fn a_refusal_from_slack_is_an_upstream_error_with_its_reason() {
        let http = RecordingHttp::answering(400, "invalid_payload");
        let webhook = Secret::new("http://127.0.0.1:9/hook");
        let slack = SlackNotifier { webhook: &webhook, http: &http, site_url: String::new() };
        let error = block_on(slack.notify(&down_alert())).expect_err("refused");
        assert_eq!(error.status_code(), 502);
        assert!(error.to_string().contains("invalid_payload"));
        let unreachable = RecordingHttp::unreachable();
        let slack = SlackNotifier { webhook: &webhook, http: &unreachable, site_url: String::new() };
        assert!(block_on(slack.notify(&down_alert())).is_err());
    }
}
