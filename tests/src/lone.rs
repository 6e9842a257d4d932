//! One function worker started on its own under `wrangler dev`, on a port of its own, without the
//! site worker in front of it: what an attacker would reach if a function worker were ever exposed
//! (a route, a `workers.dev` or preview URL, another worker of the account bound to it). The tests
//! send it requests directly, as such an attacker would, forged `x-fhiriq-*` headers included.

use crate::platform::{Reply, free_port, quiet_command, wait_until_serving, wrangler};
use crate::root;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};

pub struct LoneFunction {
    pub base: String,
    child: Child,
    log: std::path::PathBuf,
    agent: ureq::Agent,
    _state: tempfile::TempDir,
}

impl LoneFunction {
    /// `functions/<name>` alone, with empty local D1 and KV, answering on a free port once it serves
    /// (any answer to `/_functions/<name>/health`). `vars` reach it as secrets, as in [`crate::Platform`].
    pub fn start(name: &str, vars: &[(&str, &str)]) -> Self {
        let config = format!("functions/{name}/wrangler.toml");
        assert!(
            root().join(format!("functions/{name}/build/index.js")).exists(),
            "functions/{name} is not built: run `make build` (make test does) before the integration tests"
        );
        // wrangler picks its internal sockets' ports itself; a start that lost one to a parallel test
        // ("Address already in use") is tried again on new ports, as `Platform` does.
        const ATTEMPTS: u32 = 3;
        for attempt in 1..=ATTEMPTS {
            let mut lone = Self::spawn(&config, vars);
            // Its liveness answers JSON (401: unsigned) once it serves.
            let health = format!("{}/_functions/{name}/health", lone.base);
            match wait_until_serving(&mut lone.child, &lone.agent, &health, &lone.log) {
                Ok(()) => return lone,
                Err(output) if attempt < ATTEMPTS && output.contains("Address already in use") => drop(lone),
                Err(output) => panic!("{output}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn spawn(config: &str, vars: &[(&str, &str)]) -> Self {
        let state = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let log = state.path().join("wrangler.log");
        let log_file = File::create(&log).expect("log file");
        let mut command = quiet_command(wrangler(), state.path());
        command
            .arg("dev")
            .args(["-c", config])
            .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--inspector-port", &free_port().to_string()])
            .arg("--persist-to")
            .arg(state.path().join("persist"))
            .arg("--show-interactive-dev-session=false")
            .env("CLOUDFLARE_INCLUDE_PROCESS_ENV", "true");
        for (name, value) in vars {
            command.env(name, value);
        }
        let child = command
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("wrangler starts");
        let agent = crate::platform::test_agent();
        Self { base: format!("http://127.0.0.1:{port}"), child, log, agent, _state: state }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A request straight to the function worker, with `headers` and an optional raw body.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
        let mut builder = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let result = match body {
            Some(body) => self.agent.run(builder.body(body.to_owned()).expect("valid request")),
            None => self.agent.run(builder.body(()).expect("valid request")),
        };
        crate::Platform::read(result)
    }
}

impl Drop for LoneFunction {
    fn drop(&mut self) {
        crate::platform::stop(&mut self.child);
    }
}
