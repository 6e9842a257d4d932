//! The FHIR Builder's generated projects are the product: each use case in each language (and each
//! auth flow at least once per language) is generated and its own tests run, offline, against the
//! fake FHIR server the project ships in its tests: TypeScript compiles under `tsc --strict` and
//! passes `node --test`; Python passes `pytest`.

use fhir_iq_tests::root;
use shared::builder::project::generate;
use shared::builder::spec::{GenerateRequest, Implementation, Spec};
use std::path::Path;
use std::process::Command;

const COMBINATIONS: [(&str, &str); 4] = [
    ("patient-portal", "smart-standalone"),
    ("provider-ehr", "smart-ehr"),
    ("analytics-dashboard", "backend-services"),
    ("patient-portal", "none"),
];

fn write(dir: &Path, use_case: &str, language: &str, auth: &str) {
    let spec = Spec::parse(&GenerateRequest {
        use_case: use_case.into(),
        // More than the defaults: includes a type without a patient search and one without a draft.
        resources: ["Patient", "Observation", "Condition", "Encounter", "MedicationRequest", "Practitioner"]
            .map(str::to_owned)
            .to_vec(),
        implementation: Implementation {
            language: language.into(),
            auth: Some(auth.into()),
            fhir_base_url: Some("https://fhir.example.org/r4".into()),
            extras: None,
        },
        description: None,
    })
    .expect("a valid request");
    let _ = std::fs::remove_dir_all(dir);
    for file in generate(&spec).expect("renders") {
        let path = dir.join(&file.path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("creates folders");
        std::fs::write(path, file.content).expect("writes");
    }
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn generated_typescript_projects_type_check_and_pass_their_tests() {
    for (use_case, auth) in COMBINATIONS {
        // Inside the repository, so `tsc` finds @types/node in its node_modules, as `npm install` would.
        let dir = root().join(format!("target/generated/ts-{use_case}-{auth}"));
        write(&dir, use_case, "typescript", auth);
        let tsc = root().join("node_modules/.bin/tsc");
        run(Command::new(&tsc).arg("-p").arg(&dir), &format!("tsc for {use_case}/{auth}"));
        run(
            // The project's own `npm test` pattern (Node 22 takes globs; a bare folder is no longer read).
            Command::new("node").arg("--test").arg("dist/test/**/*.test.js").current_dir(&dir),
            &format!("node --test for {use_case}/{auth}"),
        );
    }
}

#[test]
fn generated_python_projects_pass_their_tests() {
    for (use_case, auth) in COMBINATIONS {
        let dir = root().join(format!("target/generated/py-{use_case}-{auth}"));
        write(&dir, use_case, "python", auth);
        run(
            Command::new("python3")
                .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
                .current_dir(&dir)
                .env("PYTHONPATH", &dir)
                .env("PYTHONDONTWRITEBYTECODE", "1"),
            &format!("pytest for {use_case}/{auth}"),
        );
    }
}
