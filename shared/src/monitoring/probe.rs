//! What the monitor records and announces: an endpoint's state, one probe of it, and an alert. Its
//! own module so the monitor and its statements (`store`) both use them without importing each other.

use crate::time::Millis;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Up,
    Slow,
    Down,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Slow => "slow",
            Self::Down => "down",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "up" => Some(Self::Up),
            "slow" => Some(Self::Slow),
            "down" => Some(Self::Down),
            _ => None,
        }
    }
}

/// One probe of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    pub endpoint: String,
    pub status_code: Option<u16>,
    pub response_ms: u64,
    pub state: State,
    pub error: Option<String>,
    pub checked_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Down,
    Slow,
    Recovered,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Down => "down",
            Self::Slow => "slow",
            Self::Recovered => "recovered",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub endpoint: String,
    pub kind: AlertKind,
    pub probe: Probe,
}

impl Alert {
    pub fn message(&self) -> String {
        let detail = self.probe.error.clone().unwrap_or_else(|| {
            format!("HTTP {} in {} ms", self.probe.status_code.unwrap_or_default(), self.probe.response_ms)
        });
        match self.kind {
            AlertKind::Down => format!("{} is DOWN: {detail}", self.endpoint),
            AlertKind::Slow => format!("{} is SLOW: {detail}", self.endpoint),
            AlertKind::Recovered => format!("{} has RECOVERED: {detail}", self.endpoint),
        }
    }
}
