//! The FHIR Builder: from a use case, resources and implementation choices to a complete, working
//! project (README, source, tests, configuration, CI, Dockerfile) in TypeScript or Python, with the
//! chosen SMART flow, reading and writing the chosen resources through the FHIR REST API.
//!
//! - [`spec`]: the request, validated (R4 resource names, URLs, choices) into a [`spec::Spec`].
//! - [`project`]: the deterministic templates (the embedded default) that render a spec into files.
//! - [`archive`]: the ZIP download.
//! - [`service`]: the API: options, preview, generate, ZIP.
//! - [`store`]: `code_generations`, so a generation can be downloaded or pushed later.

pub mod archive;
pub mod project;
pub mod service;
pub mod spec;
pub mod store;
