//! The deterministic templates: a [`Spec`] rendered into a complete project. The same spec always
//! gives the same files. Templates live in `shared/templates/builder/` (askama, no HTML escaping:
//! every value that reaches code is validated in [`super::spec`] to be safe inside a string literal).

use super::spec::{Auth, Extra, Language, Spec, UseCase, patient_searchable};
use crate::error::{Error, Result};
use askama::Template;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct File {
    pub path: String,
    pub content: String,
}

/// Resource types with a minimal valid R4 body in the generated `draft()`.
const WRITABLE: [&str; 8] = [
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "MedicationRequest",
    "Encounter",
    "Procedure",
    "CarePlan",
    "DocumentReference",
];

/// What the templates see.
pub struct P {
    pub name: String,
    pub title: &'static str,
    pub base_url: String,
    pub scope: String,
    pub auth_title: &'static str,
    pub resources_literal: String,
    pub related_literal: String,
    pub writable_literal: String,
    pub resources_tuple: String,
    pub related_tuple: String,
    pub writable_tuple: String,
    pub resources_list: String,
    pub related_list: String,
    pub writable_list: String,
    pub first_searchable: String,
    pub typescript: bool,
    pub smart: bool,
    pub ehr: bool,
    pub backend: bool,
    pub none: bool,
    pub portal: bool,
    pub provider: bool,
    pub analytics: bool,
    pub tests: bool,
    pub docker: bool,
    pub ci: bool,
}

fn ts_array(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(", "))
}

fn py_tuple(items: &[String]) -> String {
    match items {
        [] => "()".into(),
        [one] => format!("(\"{one}\",)"),
        many => format!("({})", many.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ")),
    }
}

fn prose(items: &[String]) -> String {
    if items.is_empty() {
        "no other resource types".into()
    } else {
        items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
    }
}

/// The SMART scopes the app asks for: patient-, user- or system-level reads of its resources, and
/// writes of what it writes.
fn scope(spec: &Spec, writable: &[String]) -> String {
    let level = match (spec.auth, spec.use_case) {
        (Auth::BackendServices, _) => "system",
        (Auth::SmartStandalone, UseCase::PatientPortal) => "patient",
        _ => "user",
    };
    let mut scopes: Vec<String> = match spec.auth {
        Auth::SmartStandalone if spec.use_case == UseCase::PatientPortal => {
            vec!["launch/patient".into(), "openid".into(), "fhirUser".into()]
        }
        Auth::SmartStandalone => vec!["openid".into(), "fhirUser".into()],
        Auth::SmartEhr => vec!["launch".into(), "openid".into(), "fhirUser".into()],
        _ => Vec::new(),
    };
    if spec.resources.len() > 6 {
        scopes.push(format!("{level}/*.read"));
    } else {
        scopes.extend(spec.resources.iter().map(|r| format!("{level}/{r}.read")));
    }
    scopes.extend(writable.iter().map(|r| format!("{level}/{r}.write")));
    scopes.join(" ")
}

impl P {
    pub fn new(spec: &Spec) -> Self {
        let related: Vec<String> =
            spec.resources.iter().filter(|r| *r != "Patient" && patient_searchable(r)).cloned().collect();
        let writable: Vec<String> = if spec.use_case == UseCase::ProviderEhr {
            spec.resources.iter().filter(|r| WRITABLE.contains(&r.as_str())).cloned().collect()
        } else {
            Vec::new()
        };
        let first_searchable =
            spec.resources.iter().find(|r| *r != "Patient").or(spec.resources.first()).cloned().unwrap_or_default();
        Self {
            name: format!("fhir-{}", spec.use_case.as_str()),
            title: spec.use_case.title(),
            base_url: spec.fhir_base_url.clone(),
            scope: scope(spec, &writable),
            auth_title: spec.auth.title(),
            resources_literal: ts_array(&spec.resources),
            related_literal: ts_array(&related),
            writable_literal: ts_array(&writable),
            resources_tuple: py_tuple(&spec.resources),
            related_tuple: py_tuple(&related),
            writable_tuple: py_tuple(&writable),
            resources_list: prose(&spec.resources),
            related_list: prose(&related),
            writable_list: prose(&writable),
            first_searchable,
            typescript: spec.language == Language::TypeScript,
            smart: matches!(spec.auth, Auth::SmartStandalone | Auth::SmartEhr),
            ehr: spec.auth == Auth::SmartEhr,
            backend: spec.auth == Auth::BackendServices,
            none: spec.auth == Auth::None,
            portal: spec.use_case == UseCase::PatientPortal,
            provider: spec.use_case == UseCase::ProviderEhr,
            analytics: spec.use_case == UseCase::AnalyticsDashboard,
            tests: spec.has(Extra::Tests),
            docker: spec.has(Extra::Dockerfile),
            ci: spec.has(Extra::Ci),
        }
    }
}

macro_rules! templates {
    ($($name:ident => $path:literal),* $(,)?) => {
        $(
            #[derive(Template)]
            #[template(path = $path, escape = "none")]
            #[allow(dead_code, reason = "some templates are fixed text that reads nothing from the project")]
            struct $name<'a> {
                p: &'a P,
            }
        )*
    };
}

templates! {
    TsPackage => "builder/ts/package.json",
    TsConfigJson => "builder/ts/tsconfig.json",
    TsConfig => "builder/ts/config.ts",
    TsFhir => "builder/ts/fhir.ts",
    TsAuth => "builder/ts/auth.ts",
    TsApp => "builder/ts/app.ts",
    TsServer => "builder/ts/server.ts",
    TsFake => "builder/ts/fake-fhir.ts",
    TsFhirTest => "builder/ts/fhir.test.ts",
    TsAppTest => "builder/ts/app.test.ts",
    TsAuthTest => "builder/ts/auth.test.ts",
    PyProject => "builder/py/pyproject.toml",
    PyInit => "builder/py/init.py",
    PyMain => "builder/py/main.py",
    PyConfig => "builder/py/config.py",
    PyFhir => "builder/py/fhir.py",
    PyAuth => "builder/py/auth.py",
    PyApp => "builder/py/app.py",
    PyServer => "builder/py/server.py",
    PyConftest => "builder/py/conftest.py",
    PyFhirTest => "builder/py/test_fhir.py",
    PyAppTest => "builder/py/test_app.py",
    PyAuthTest => "builder/py/test_auth.py",
    Readme => "builder/common/README.md",
    EnvExample => "builder/common/env.example",
    GitIgnore => "builder/common/gitignore",
    Dockerfile => "builder/common/Dockerfile",
    CiWorkflow => "builder/common/ci.yml",
}

fn render(path: &str, result: askama::Result<String>) -> Result<File> {
    let mut content = result.map_err(|e| Error::internal(format!("rendering {path}"), e))?;
    if !content.ends_with('\n') {
        content.push('\n');
    }
    Ok(File { path: path.to_owned(), content })
}

/// Every file of the project, in a stable order.
pub fn generate(spec: &Spec) -> Result<Vec<File>> {
    let p = &P::new(spec);
    let mut files = vec![render("README.md", Readme { p }.render())?];
    match spec.language {
        Language::TypeScript => {
            files.push(render("package.json", TsPackage { p }.render())?);
            files.push(render("tsconfig.json", TsConfigJson { p }.render())?);
            files.push(render("src/config.ts", TsConfig { p }.render())?);
            files.push(render("src/fhir.ts", TsFhir { p }.render())?);
            files.push(render("src/auth.ts", TsAuth { p }.render())?);
            files.push(render("src/app.ts", TsApp { p }.render())?);
            files.push(render("src/server.ts", TsServer { p }.render())?);
            if p.tests {
                files.push(render("test/fake-fhir.ts", TsFake { p }.render())?);
                files.push(render("test/fhir.test.ts", TsFhirTest { p }.render())?);
                files.push(render("test/app.test.ts", TsAppTest { p }.render())?);
                files.push(render("test/auth.test.ts", TsAuthTest { p }.render())?);
            }
        }
        Language::Python => {
            files.push(render("pyproject.toml", PyProject { p }.render())?);
            files.push(render("fhir_app/__init__.py", PyInit { p }.render())?);
            files.push(render("fhir_app/__main__.py", PyMain { p }.render())?);
            files.push(render("fhir_app/config.py", PyConfig { p }.render())?);
            files.push(render("fhir_app/fhir.py", PyFhir { p }.render())?);
            files.push(render("fhir_app/auth.py", PyAuth { p }.render())?);
            files.push(render("fhir_app/app.py", PyApp { p }.render())?);
            files.push(render("fhir_app/server.py", PyServer { p }.render())?);
            if p.tests {
                files.push(render("tests/conftest.py", PyConftest { p }.render())?);
                files.push(render("tests/test_fhir.py", PyFhirTest { p }.render())?);
                files.push(render("tests/test_app.py", PyAppTest { p }.render())?);
                files.push(render("tests/test_auth.py", PyAuthTest { p }.render())?);
            }
        }
    }
    files.push(render(".env.example", EnvExample { p }.render())?);
    files.push(render(".gitignore", GitIgnore { p }.render())?);
    if p.docker {
        files.push(render("Dockerfile", Dockerfile { p }.render())?);
    }
    if p.ci {
        files.push(render(".github/workflows/ci.yml", CiWorkflow { p }.render())?);
    }
    Ok(files)
}

/// How to run and deploy it, for the results page.
pub fn deployment_instructions(spec: &Spec) -> String {
    let run = match spec.language {
        Language::TypeScript => "npm install && npm run build && npm start",
        Language::Python => "pip install -e \".[test]\" && python -m fhir_app",
    };
    let test = match spec.language {
        Language::TypeScript => "npm test",
        Language::Python => "pytest",
    };
    let mut steps = vec![
        "Copy .env.example to .env and fill it in (README.md says where each value comes from).".to_owned(),
        format!("Run it: {run} (then open http://localhost:3000/)."),
        format!("Test it: {test} (against a local fake FHIR server; no network needed)."),
    ];
    if spec.has(Extra::Dockerfile) {
        steps.push(
            "Deploy it as a container: docker build -t app . && docker run -p 3000:3000 --env-file .env app.".into(),
        );
    }
    if spec.has(Extra::Ci) {
        steps.push("Push it to GitHub: the workflow in .github/workflows/ci.yml runs the tests on every push.".into());
    }
    steps.iter().enumerate().map(|(i, s)| format!("{}. {s}", i + 1)).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::super::spec::{GenerateRequest, Implementation};
    use super::*;

    pub fn spec(use_case: &str, language: &str, auth: &str) -> Spec {
        Spec::parse(&GenerateRequest {
            use_case: use_case.into(),
            resources: Vec::new(),
            implementation: Implementation {
                language: language.into(),
                auth: Some(auth.into()),
                fhir_base_url: None,
                extras: None,
            },
            description: None,
        })
        .expect("valid")
    }

    #[test]
    fn every_combination_renders_a_complete_deterministic_project() {
        for use_case in UseCase::ALL {
            for language in Language::ALL {
                for auth in Auth::ALL {
                    let spec = spec(use_case.as_str(), language.as_str(), auth.as_str());
                    let files = generate(&spec).expect("renders");
                    assert_eq!(files, generate(&spec).expect("renders"), "deterministic");
                    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
                    for expected in ["README.md", ".env.example", "Dockerfile", ".github/workflows/ci.yml"] {
                        assert!(paths.contains(&expected), "{expected} in {paths:?}");
                    }
                    for file in &files {
                        assert!(
                            !file.content.contains("{{") && !file.content.contains("{%"),
                            "{} has template syntax",
                            file.path
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn scopes_fit_the_flow_and_use_case() {
        let portal = P::new(&spec("patient-portal", "python", "smart-standalone"));
        assert!(portal.scope.starts_with("launch/patient openid fhirUser patient/Patient.read"), "{}", portal.scope);
        let ehr = P::new(&spec("provider-ehr", "typescript", "smart-ehr"));
        assert!(ehr.scope.starts_with("launch ") && ehr.scope.contains("user/Observation.write"), "{}", ehr.scope);
        let backend = P::new(&spec("analytics-dashboard", "python", "backend-services"));
        assert_eq!(
            backend.scope,
            "system/Patient.read system/Observation.read system/Condition.read system/Encounter.read"
        );
        assert_eq!(py_tuple(&["A".into()]), "(\"A\",)");
    }
}
