use crate::config::EnvSource;

impl EnvSource for worker::Env {
    fn var(&self, name: &str) -> Option<String> {
        worker::Env::var(self, name).ok().map(|v| v.to_string())
    }

    fn secret(&self, name: &str) -> Option<String> {
        worker::Env::secret(self, name).ok().map(|v| v.to_string())
    }
}
