//! Which tables the nightly backup exports, and which it leaves out and why. The list is fixed in the
//! code: table and column names never come from input, and every statement is written at compile
//! time. A test fails when a table of the database of record is in neither list, or when a listed
//! table's columns differ from `schema.sql`'s, so a migration cannot silently escape the backup.

/// A table the backup exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    /// Every column, in `schema.sql`'s order; the INSERTs name them.
    pub columns: &'static [&'static str],
    /// Rows read per query: bounded, so one query never loads a whole table.
    pub batch: i64,
    /// `SELECT rowid AS backup_rowid, <columns> FROM <table> WHERE rowid > ?1 ORDER BY rowid LIMIT ?2`
    pub select: &'static str,
    /// `INSERT INTO "<table>" ("<column>", ...) VALUES (`
    pub insert: &'static str,
}

macro_rules! table {
    ($name:literal, $batch:literal, [$first:literal $(, $column:literal)* $(,)?]) => {
        Table {
            name: $name,
            columns: &[$first $(, $column)*],
            batch: $batch,
            select: concat!(
                "SELECT rowid AS backup_rowid, \"", $first, "\"" $(, ", \"", $column, "\"")*,
                " FROM \"", $name, "\" WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
            ),
            insert: concat!("INSERT INTO \"", $name, "\" (\"", $first, "\"" $(, ", \"", $column, "\"")*, ") VALUES ("),
        }
    };
}

/// The tables that cannot be rebuilt, parents before children, the order a restore inserts them in
/// (D1 enforces foreign keys).
pub const TABLES: &[Table] = &[
    // Accounts: organisations before their members.
    table!("organisations", 500, ["id", "name", "owner_id", "created_at"]),
    // Sign-in needs the password hashes; the file is as private as the database.
    table!(
        "users",
        500,
        [
            "id",
            "email",
            "password_hash",
            "admin",
            "org_id",
            "created_at",
            "password_changed_at",
            "email_verified_at",
            "disabled_at"
        ]
    ),
    // What was paid for: roles are derived from these two.
    table!("subscriptions", 500, ["id", "user_id", "plan", "status", "updated_at"]),
    table!(
        "orders",
        500,
        [
            "id",
            "user_id",
            "product",
            "status",
            "created_at",
            "amount",
            "currency",
            "stripe_payment_intent",
            "receipt_url",
            "refunded_amount",
            "refunded_at",
            "dispute_id",
            "dispute_reason",
            "disputed_at"
        ]
    ),
    // Every subscription payment: the account page's history and the staff's view of revenue.
    table!(
        "subscription_payments",
        500,
        [
            "id",
            "user_id",
            "subscription_id",
            "plan",
            "amount",
            "currency",
            "payment_intent",
            "receipt_url",
            "period_start",
            "period_end",
            "paid_at",
            "refunded_amount",
            "dispute_id",
            "dispute_reason",
            "disputed_at",
            "updated_at"
        ]
    ),
    // The audit trail of role changes.
    table!("role_changes", 500, ["id", "user_id", "from_role", "to_role", "reason", "created_at"]),
    // Open invitations: the emailed links keep working after a restore.
    table!(
        "org_invitations",
        500,
        ["token_hash", "org_id", "email", "invited_by", "created_at", "expires_at", "accepted_at"]
    ),
    // The user-to-customer link: without it the next checkout makes a second Stripe customer.
    table!("stripe_customers", 500, ["user_id", "customer_id", "created_at"]),
    // Renewal dates and intervals the account page shows until Stripe's next event.
    table!(
        "stripe_subscriptions",
        500,
        [
            "id",
            "user_id",
            "customer_id",
            "price_id",
            "billing_interval",
            "current_period_end",
            "cancel_at_period_end",
            "updated_at",
            "quantity"
        ]
    ),
    // Delivery records travel with the effects they guard (same snapshot), so an event replayed after
    // a restore is not applied twice. Small: pruned after WEBHOOK_RETENTION_DAYS.
    table!("stripe_events", 500, ["id", "type", "processed_at"]),
    // Support requests and their threads, and what staff did: they exist nowhere else.
    table!(
        "support_requests",
        500,
        [
            "id",
            "user_id",
            "subject",
            "category",
            "priority",
            "status",
            "link_kind",
            "link_id",
            "created_at",
            "updated_at",
            "first_response_due",
            "first_response_at"
        ]
    ),
    table!("support_messages", 500, ["id", "request_id", "author", "author_id", "body", "created_at"]),
    table!("admin_audit", 500, ["id", "staff_id", "staff_email", "action", "target", "detail", "created_at"]),
    // Sales leads exist nowhere else.
    table!(
        "sales_inquiries",
        500,
        ["id", "name", "email", "company", "seats", "message", "user_id", "created_at", "notified_at"]
    ),
    // What users generated (downloads, pushes): large rows, so small batches.
    table!(
        "code_generations",
        50,
        ["id", "user_id", "use_case", "language", "auth", "spec", "files", "generator", "created_at"]
    ),
    table!(
        "github_repos",
        500,
        [
            "owner",
            "name",
            "user_id",
            "generation_id",
            "status",
            "repo_url",
            "clone_url",
            "branch",
            "commit_sha",
            "created_at",
            "updated_at"
        ]
    ),
    // Where the GitHub App is installed: only GitHub's webhooks write it, and they do not resend.
    table!(
        "github_installations",
        500,
        ["id", "account", "account_type", "repository_selection", "suspended", "updated_at"]
    ),
    table!("github_installation_repos", 500, ["installation_id", "full_name", "private", "added_at"]),
    table!("github_deliveries", 500, ["id", "event", "received_at"]),
    // Learning: seats, bookings, quiz attempts and progress.
    table!(
        "enrollments",
        500,
        ["user_id", "course_slug", "status", "order_id", "created_at", "updated_at", "checkout_url"]
    ),
    table!(
        "bookings",
        500,
        [
            "invitee_uri",
            "event_uri",
            "user_id",
            "course_slug",
            "email",
            "name",
            "status",
            "start_time",
            "cancel_url",
            "reschedule_url",
            "created_at",
            "updated_at"
        ]
    ),
    table!(
        "quiz_attempts",
        500,
        ["id", "user_id", "course_slug", "quiz_slug", "correct", "total", "percent", "passed", "created_at"]
    ),
    table!("quiz_answers", 500, ["attempt_id", "question_id", "chosen", "correct"]),
    table!("user_progress", 500, ["user_id", "course_slug", "lesson_slug", "completed_at"]),
];

/// The tables of the database of record the backup leaves out, and why.
pub const LEFT_OUT: &[(&str, &str)] = &[
    ("schema_version", "written by the migrations the restore applies first"),
    ("content_meta", "written by the migrations; the cache generation restarts harmlessly"),
    ("sessions", "everyone signs in again after a restore; live session hashes stay out of files"),
    ("password_resets", "short-lived single-use tokens"),
    ("email_verifications", "single-use links that expire in a day; an unverified user asks for a new one"),
    ("trusted_devices", "device cookies: after a restore a browser simply counts as new until it signs in"),
    ("usage_counters", "today's question, generation and push counts: at worst a fresh daily quota"),
    ("github_oauth_states", "ten-minute OAuth states"),
    ("github_user_tokens", "sealed GitHub credentials stay out of files; users reconnect in one click"),
    ("rate_limits", "counters that reset within the hour"),
    ("staff_alerts", "Slack notices of disputes and requests whose records (orders, payments) are backed up"),
    ("email_outbox", "transient: reset links and invitations already sent or soon retried"),
    ("health_checks", "monitoring history, rebuilt by the monitor within minutes"),
    ("monitor_state", "rebuilt by the next monitor run"),
    ("monitor_alerts", "monitoring history"),
    ("job_runs", "rebuilt by the next cron runs"),
    ("backups", "describes the backups themselves; the R2 listing is the truth"),
    ("chat_logs", "assistant logs for quotas and review, deleted after CHAT_RETENTION_DAYS"),
    ("user_events", "raw analytics events, deleted after EVENTS_RETENTION_DAYS"),
    ("analytics_events", "raw analytics events, deleted after EVENTS_RETENTION_DAYS"),
    ("analytics_salts", "daily salts, deleted once their day is over by design"),
    ("analytics_daily", "reporting history; losing it shortens the dashboards, not the service"),
    ("analytics_daily_pages", "reporting history"),
    ("analytics_daily_ai", "reporting history"),
    ("analytics_rollup_state", "the rollup restarts from the raw events kept"),
    ("analytics_funnel_daily", "reporting history"),
    ("analytics_funnel_state", "the rollup restarts from the raw events kept"),
    ("content_authors", "content is rebuilt from content/ by the sync"),
    ("content_tools", "content is rebuilt from content/ by the sync"),
    ("content_posts", "content is rebuilt from content/ by the sync"),
    ("content_courses", "content is rebuilt from content/ by the sync"),
    ("content_lessons", "content is rebuilt from content/ by the sync"),
    ("content_quizzes", "content is rebuilt from content/ by the sync"),
    ("content_resources", "content is rebuilt from content/ by the sync"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SCHEMA;
    use std::collections::BTreeSet;

    /// The database of record's part of `schema.sql` (the knowledge base's follows the marker).
    fn record_schema() -> rusqlite::Connection {
        let record = SCHEMA.split("\n-- @database fhir-iq-kb\n").next().unwrap_or_default();
        let conn = rusqlite::Connection::open_in_memory().expect("opens");
        conn.execute_batch(record).expect("the database of record's schema applies");
        conn
    }

    fn names(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(sql).expect("valid");
        stmt.query_map([], |r| r.get::<_, String>(0)).expect("runs").map(|r| r.expect("a name")).collect()
    }

    #[test]
    fn every_table_of_the_database_of_record_is_backed_up_or_left_out_with_a_reason() {
        let conn = record_schema();
        let tables: BTreeSet<String> =
            names(&conn, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                .into_iter()
                .collect();
        let decided: BTreeSet<String> =
            TABLES.iter().map(|t| t.name).chain(LEFT_OUT.iter().map(|(name, _)| *name)).map(str::to_owned).collect();
        assert_eq!(tables, decided, "decide for each new table: back it up (TABLES) or say why not (LEFT_OUT)");
        assert_eq!(decided.len(), TABLES.len() + LEFT_OUT.len(), "no table is in both lists");
    }

    #[test]
    fn each_backed_up_table_lists_every_column_in_order() {
        let conn = record_schema();
        for table in TABLES {
            let sql = format!("SELECT name FROM pragma_table_info('{}') ORDER BY cid", table.name);
            assert_eq!(names(&conn, &sql), table.columns, "{}", table.name);
            assert!(table.batch > 0);
        }
    }

    #[test]
    fn parents_come_before_their_children() {
        let conn = record_schema();
        let position = |name: &str| TABLES.iter().position(|t| t.name == name);
        for (i, table) in TABLES.iter().enumerate() {
            let sql = format!("SELECT \"table\" FROM pragma_foreign_key_list('{}')", table.name);
            for parent in names(&conn, &sql) {
                let at =
                    position(&parent).unwrap_or_else(|| panic!("{} references {parent}, not backed up", table.name));
                assert!(at < i, "{parent} must come before {}", table.name);
            }
        }
    }

    #[test]
    fn the_statements_are_built_from_the_list() {
        let users = TABLES.iter().find(|t| t.name == "users").expect("users");
        assert!(users.select.starts_with("SELECT rowid AS backup_rowid, \"id\", \"email\""));
        assert!(users.select.ends_with("FROM \"users\" WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"));
        assert!(users.insert.starts_with("INSERT INTO \"users\" (\"id\", \"email\", \"password_hash\""));
        assert!(users.insert.ends_with("\"email_verified_at\", \"disabled_at\") VALUES ("));
    }
}
