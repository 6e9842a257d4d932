use crate::time::{Clock, Millis};

/// `Date.now()` and `setTimeout`, the Workers clock. (`SystemTime::now()` panics on wasm32.)
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_ms(&self) -> Millis {
        worker::js_sys::Date::now() as Millis
    }

    async fn sleep(&self, ms: u64) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }
}
