//! Daily question quotas per plan: the basic assistant (free) gets a few questions a day, the full
//! assistant (student and up) many more. Reserved per UTC day in `usage_counters` (shared::usage)
//! before the question is answered, and given back when no answer was given.

use crate::auth::{Permission, Role};
use crate::config::{EnvSource, number};
use crate::error::Result;
use crate::storage::Database;
use crate::time::Millis;
use crate::usage::{self, Meter, Reservation};

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

/// Takes one of today's questions for the user, before anything is retrieved or asked, or refuses
/// with 429 and the time to midnight UTC. Atomic: parallel questions get exactly the plan's limit.
pub async fn reserve(
    db: &impl Database,
    user_id: &str,
    role: Role,
    quotas: &Quotas,
    now: Millis,
) -> Result<Reservation> {
    let full = role.has(Permission::AccessFullChatbot);
    usage::reserve(db, user_id, Meter::Questions, quotas.for_role(role), now, |limit| {
        if full {
            format!("You have asked {limit} questions today, your plan's daily limit. It resets at midnight UTC.")
        } else {
            format!(
                "You have asked {limit} questions today, the Free plan's daily limit. The Student plan lifts it to {} a day with conversation history: see /pricing.",
                quotas.full_per_day
            )
        }
    })
    .await
}
