//! The FHIR assistant behind `processAIQuery`: validate the question, redact patient identifiers,
//! retrieve passages of the R4 specification, and answer with a language model grounded in them
//! (Claude, or any OpenAI-compatible endpoint, tried in order with fallback), or, with no model
//! configured or all failing, with a retrieval-only answer composed from the passages. Quotas per plan
//! and a redacted log (`chat_logs`).

pub mod answer;
pub mod providers;
pub mod quota;
pub mod redact;
pub mod request;
pub mod service;
pub mod sse;
