//! Daily question quotas per plan: the basic assistant (free) gets a few questions a day, the full
//! assistant (student and up) many more. Counted from `chat_logs`, per UTC day.

use crate::auth::{Permission, Role};
use crate::config::{EnvSource, number};
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::{DAY, Millis, SECOND, start_of_day};
use serde::Deserialize;

#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub basic_per_day: u64,
    pub full_per_day: u64,
}

impl Quotas {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        Ok(Self {
            basic_per_day: number(env, "AI_QUOTA_BASIC_PER_DAY", 10, 1..=100_000)?,
            full_per_day: number(env, "AI_QUOTA_FULL_PER_DAY", 200, 1..=100_000)?,
        })
    }

    pub fn for_role(&self, role: Role) -> u64 {
        if role.has(Permission::AccessFullChatbot) { self.full_per_day } else { self.basic_per_day }
    }
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// `Ok` while the user has questions left today; 429 with the time to midnight UTC otherwise.
pub async fn check(db: &impl Database, user_id: &str, role: Role, quotas: &Quotas, now: Millis) -> Result<()> {
    let day_start = start_of_day(now);
    let used: Option<Count> = db
        .query_first(
            Statement::new("SELECT COUNT(*) AS n FROM chat_logs WHERE user_id = ?1 AND created_at >= ?2")
                .bind(user_id)
                .bind(day_start),
        )
        .await?;
    let used = used.map_or(0, |c| c.n.max(0) as u64);
    if used < quotas.for_role(role) {
        return Ok(());
    }
    let retry_after_seconds = u64::try_from((day_start + DAY - now + SECOND - 1) / SECOND).unwrap_or(1).max(1);
    Err(Error::QuotaExceeded {
        retry_after_seconds,
        message: if role.has(Permission::AccessFullChatbot) {
            format!("You have asked {used} questions today, your plan's daily limit. It resets at midnight UTC.")
        } else {
            format!(
                "You have asked {used} questions today, the Free plan's daily limit. The Student plan lifts it to {} a day with conversation history: see /pricing.",
                quotas.full_per_day
            )
        },
    })
}
