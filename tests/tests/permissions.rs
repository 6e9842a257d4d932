//! The route-by-role matrix: every route in the route table, requested by an anonymous visitor and by
//! each demo account, must answer as the permission matrix says. The matrix is written out here from
//! the design, independently of the code under test, so a route with the wrong declared access, or an
//! enforcement gap, fails.

use fhir_iq_tests::stripe::FakeStripe;
use fhir_iq_tests::{DEMO, Options, Platform};
use shared::auth::{Access, Permission};
use shared::web::routes::ROUTES;

/// The design's permission matrix, by role name.
fn grants(role: &str, permission: Permission) -> bool {
    let free = ["view_public_content", "access_basic_chatbot", "view_tools_catalog"];
    let student = [
        "view_public_content",
        "view_tools_catalog",
        "access_full_chatbot",
        "enroll_courses",
        "take_quizzes",
        "download_resources",
    ];
    let pro_extra = ["use_fhir_builder", "create_github_repos", "priority_support"];
    let enterprise_extra = ["bulk_user_management", "analytics_dashboard", "custom_integrations"];
    let name = permission.as_str();
    match role {
        // The admin demo account is staff on the free plan.
        "free" | "admin" | "unverified" => free.contains(&name),
        "student" => student.contains(&name),
        "pro" => student.contains(&name) || pro_extra.contains(&name),
        "enterprise" => student.contains(&name) || pro_extra.contains(&name) || enterprise_extra.contains(&name),
        _ => false,
    }
}

/// 401 for nobody signed in, 403 for a signed-in caller without the right, None when allowed. The
/// demo accounts have verified their email addresses; `unverified` is a new free account that has
/// not, refused on the routes that need a verified address (issue 15, item 6).
fn expected_denial(access: Access, role: Option<&str>) -> Option<u16> {
    let Some(role) = role else {
        return (access != Access::Public).then_some(401);
    };
    let allowed = match access {
        Access::Public | Access::SignedIn => true,
        Access::Permission(p) => grants(role, p),
        Access::Either(a, b) => grants(role, a) || grants(role, b),
        Access::PermissionOrAdmin(p) => role == "admin" || grants(role, p),
        Access::Admin | Access::AdminOrService => role == "admin",
        Access::Verified(inner) => {
            return if role == "unverified" { Some(403) } else { expected_denial(*inner, Some(role)) };
        }
    };
    (!allowed).then_some(403)
}

#[test]
fn every_route_answers_every_role_as_the_matrix_says() {
    // Payments and webhooks configured (Stripe against the fake), so those routes answer, not 5xx.
    let stripe = FakeStripe::start();
    let platform = Platform::start_with(
        Options::default()
            .var("RATE_LIMIT_SIGNIN_IP", "100/60")
            .stripe(&stripe, "whsec_permissions")
            .var("GITHUB_WEBHOOK_SECRET", "github-permissions")
            .var("CALENDLY_WEBHOOK_SIGNING_KEY", "calendly-permissions")
            .var("GITHUB_CLIENT_ID", "Iv1.permissions")
            .var("GITHUB_CLIENT_SECRET", "permissions-client-secret")
            .var("GITHUB_TOKEN_KEY", "permissions-test-token-key-of-32-chars"),
    );
    let mut callers: Vec<(Option<&str>, Option<String>)> = vec![(None, None)];
    for (role, email, password) in DEMO {
        callers.push((Some(role), Some(platform.sign_in(email, password))));
    }
    let signup = platform.post_json(
        "/api/auth/signup",
        &serde_json::json!({"email": "unverified@permissions.test", "password": "a long enough passphrase 42"}),
    );
    assert_eq!(signup.status, 201, "{}", signup.body);
    callers.push((Some("unverified"), fhir_iq_tests::session_cookie(&signup)));
    // Signing out ends the session the later requests need, so those routes go last: everywhere
    // (needs a live session), then plain sign-out (public).
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|r| match r.path {
        "/api/auth/signout-everywhere" => 1,
        "/api/auth/signout" => 2,
        _ => 0,
    });

    let mut failures = Vec::new();
    let mut checked = 0;
    for route in &routes {
        let path = route.path.replace("{userId}", "no-such-user");
        for (role, cookie) in &callers {
            let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("cookie", c.as_str())).collect();
            let body = (route.method != "GET").then(|| serde_json::json!({}));
            let reply = platform.send(route.method, &path, &headers, body.as_ref());
            let who = role.unwrap_or("anonymous");
            checked += 1;
            match expected_denial(route.access, *role) {
                // Pages send visitors to sign in instead of answering 401.
                Some(401) if route.target.sends_to_sign_in() => {
                    if reply.status != 303 {
                        failures.push(format!("{} {path} as {who}: {} (expected 303)", route.method, reply.status));
                    }
                }
                Some(status) => {
                    if reply.status != status {
                        failures.push(format!(
                            "{} {path} as {who}: {} (expected {status}) {}",
                            route.method, reply.status, reply.body
                        ));
                    } else if !reply.body.contains("\"error\"") {
                        failures.push(format!("{} {path} as {who}: denial without the error body", route.method));
                    } else if who == "unverified"
                        && matches!(route.access, Access::Verified(inner) if expected_denial(*inner, Some("free")).is_none())
                        && !reply.body.contains("email_unverified")
                    {
                        failures.push(format!(
                            "{} {path} as {who}: not refused as unverified: {}",
                            route.method, reply.body
                        ));
                    }
                }
                None => {
                    if matches!(reply.status, 401 | 403) || reply.status >= 500 {
                        failures.push(format!(
                            "{} {path} as {who}: {} (expected access) {}",
                            route.method, reply.status, reply.body
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(checked, ROUTES.len() * 7);
    assert!(
        failures.is_empty(),
        "{} of {checked} answers disagree with the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn denials_name_the_plan_that_unlocks_the_feature() {
    let platform = Platform::start();
    let student = platform.sign_in(DEMO[1].1, DEMO[1].2);
    let reply = platform.send_as(&student, "POST", "/_functions/createGitHubRepo", Some(&serde_json::json!({})));
    assert_eq!(reply.status, 403);
    let message = reply.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("Pro plan"), "{message}");
    let anonymous = platform.post_json("/_functions/createGitHubRepo", &serde_json::json!({}));
    assert_eq!(anonymous.status, 401);
}
