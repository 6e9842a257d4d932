//! Abuse resistance against the real workers (issue 15, docs/security.md): each test performs an
//! attack a hostile user made against `make dev` and checks that it no longer works. Lockouts of
//! other people's accounts, quota races, seat holds, open redirects.

use fhir_iq_tests::{DEMO, FakeService, Options, Platform, Reply, session_cookie};
use serde_json::json;
use std::time::Duration;

/// A request from the client address `ip`, with a `cookie` header when given.
fn post_from(platform: &Platform, path: &str, ip: &str, cookie: Option<&str>, body: &serde_json::Value) -> Reply {
    let mut headers = vec![("cf-connecting-ip", ip)];
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    platform.send("POST", path, &headers, Some(body))
}

/// `fhiriq_device=<token>` from a sign-in's `Set-Cookie` headers.
fn device_cookie(reply: &Reply) -> Option<String> {
    reply
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, value)| value.split(';').next().filter(|c| c.starts_with("fhiriq_device=")).map(str::to_owned))
}

fn retry_after(reply: &Reply) -> u64 {
    reply.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("Retry-After on {reply:?}"))
}

#[test]
fn failures_from_other_addresses_never_lock_the_owner_out_and_a_reset_lifts_the_block() {
    // Arrange: the owner has signed in from their browser before; email goes to a fake provider.
    let provider = FakeService::email_provider("4ef9a417-02e9-4d39-ad75-9611e0fcc33c");
    let platform = Platform::start_with(Options::default().email(&provider));
    let (_, email, password) = DEMO[1];
    let owner = json!({"email": email, "password": password});
    let first = post_from(&platform, "/api/auth/signin", "192.0.2.10", None, &owner);
    assert_eq!(first.status, 200, "{}", first.body);
    let device = device_cookie(&first).expect("a sign-in leaves a device cookie");

    // Act: twenty wrong passwords for the owner's account, each from a different address.
    for i in 0..20 {
        let guess = post_from(
            &platform,
            "/api/auth/signin",
            &format!("198.51.100.{i}"),
            None,
            &json!({"email": email, "password": format!("guess number {i} of many")}),
        );
        assert!(matches!(guess.status, 401 | 429), "{}", guess.body);
    }

    // Assert: a browser that never signed in waits, for at most 15 minutes...
    let stranger = post_from(&platform, "/api/auth/signin", "192.0.2.99", None, &owner);
    assert_eq!(stranger.status, 429, "{}", stranger.body);
    assert!(retry_after(&stranger) <= 900, "a block lasts at most 15 minutes: {:?}", stranger.headers);
    // ...the owner's browser signs in as always...
    let again = post_from(&platform, "/api/auth/signin", "192.0.2.10", Some(&device), &owner);
    assert_eq!(again.status, 200, "the owner's browser is never blocked by failures from elsewhere: {}", again.body);
    assert!(session_cookie(&again).is_some());

    // ...and a completed password reset lifts the block for every browser.
    let asked = post_from(&platform, "/api/auth/reset-request", "192.0.2.99", None, &json!({"email": email}));
    assert_eq!(asked.status, 202);
    let sent = provider.wait_for("/emails", 1, Duration::from_secs(10));
    let text = sent[0].json()["text"].as_str().unwrap_or_default().to_owned();
    let token = text
        .split("token=")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_hexdigit()).next())
        .expect("a reset link")
        .to_owned();
    let fresh = "a fresh passphrase after the attack";
    let reset =
        post_from(&platform, "/api/auth/reset", "192.0.2.99", None, &json!({"token": token, "password": fresh}));
    assert_eq!(reset.status, 200, "{}", reset.body);
    let unblocked =
        post_from(&platform, "/api/auth/signin", "192.0.2.99", None, &json!({"email": email, "password": fresh}));
    assert_eq!(unblocked.status, 200, "the reset cleared the account's block: {}", unblocked.body);
}

#[test]
fn a_class_signs_up_and_in_from_one_school_address_and_an_ipv6_64_counts_as_one_address() {
    let platform = Platform::start();
    let school = "203.0.113.77";
    for i in 0..30 {
        let student =
            json!({"email": format!("student{i}@school.example"), "password": "a class of thirty learns FHIR"});
        let up = post_from(&platform, "/api/auth/signup", school, None, &student);
        assert_eq!(up.status, 201, "sign-up {i} from the school's address: {}", up.body);
        let signed_in = post_from(&platform, "/api/auth/signin", school, None, &student);
        assert_eq!(signed_in.status, 200, "sign-in {i} from the school's address: {}", signed_in.body);
    }

    let strict = Platform::start_with(Options::default().var("RATE_LIMIT_SIGNUP_IP", "2/3600"));
    let signup = |ip: &str, n: u32| {
        post_from(
            &strict,
            "/api/auth/signup",
            ip,
            None,
            &json!({"email": format!("v6-{n}@example.org"), "password": "addresses of one network"}),
        )
    };
    assert_eq!(signup("2001:db8:10:20::1", 1).status, 201);
    assert_eq!(signup("2001:db8:10:20:aaaa::2", 2).status, 201);
    let third = signup("2001:db8:10:20:ffff:1:2:3", 3);
    assert_eq!(third.status, 429, "the same /64 is one address: {}", third.body);
    assert!(retry_after(&third) <= 900, "slowed down, never blocked past 15 minutes: {:?}", third.headers);
    assert_eq!(signup("2001:db8:10:21::1", 4).status, 201, "the next /64 is another address");
}

/// `n` requests at once; the statuses, sorted.
fn in_parallel(n: usize, send: impl Fn(usize) -> Reply + Sync) -> Vec<u16> {
    let mut statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                scope.spawn({
                    let send = &send;
                    move || send(i).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a request thread")).collect()
    });
    statuses.sort_unstable();
    statuses
}

const CLAUDE: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Use Patient.birthDate [1]."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5}}"#;

#[test]
fn forty_parallel_questions_get_exactly_the_free_plans_ten_answers() {
    // A model that takes a second to answer, as real ones do: the window the race needs.
    let claude = FakeService::start();
    claude.answer_after("/v1/messages", 200, CLAUDE, Duration::from_millis(1_500));
    let platform = Platform::start_with(
        Options::default()
            .var("ANTHROPIC_API_KEY", "sk-ant-test")
            .var("ANTHROPIC_BASE_URL", &claude.url(""))
            .var("AI_QUOTA_BASIC_PER_DAY", "10"),
    );
    let created = platform
        .post_json("/api/auth/signup", &json!({"email": "racer@example.org", "password": "forty questions at once"}));
    assert_eq!(created.status, 201, "{}", created.body);
    let free = session_cookie(&created).expect("a session");

    let statuses = in_parallel(40, |i| {
        platform.send_as(
            &free,
            "POST",
            "/_functions/processAIQuery",
            Some(&json!({"message": format!("question {i}: what is a Patient?")})),
        )
    });
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 30, "{statuses:?}");
    assert_eq!(claude.received("/v1/messages").len(), 10, "no model call past the quota");
}

#[test]
fn parallel_builder_generations_get_exactly_the_daily_limit() {
    let platform = Platform::start_with(Options::default().var("BUILDER_GENERATIONS_PER_DAY", "3"));
    let pro = platform.sign_in(DEMO[2].1, DEMO[2].2);
    let body = json!({"useCase": "patient-portal", "resources": ["Patient"],
                      "implementation": {"language": "typescript", "auth": "smart-standalone"}});
    let statuses = in_parallel(12, |_| platform.send_as(&pro, "POST", "/api/builder/generate", Some(&body)));
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 9, "{statuses:?}");
    let over = platform.send_as(&pro, "POST", "/api/builder/generate", Some(&body));
    assert_eq!(over.json()["error"]["code"], "quota_exceeded", "{}", over.body);
    let stored = platform.query("SELECT COUNT(*) AS n FROM code_generations");
    assert_eq!(stored[0]["n"], 3);
}

#[test]
fn a_paid_courses_downloads_and_live_sessions_need_a_seat_in_it() {
    let platform = Platform::start_with(Options { content: true, ..Options::default() });
    // A Pro member with no seat in the paid course.
    let pro = platform.sign_in(DEMO[2].1, DEMO[2].2);
    let download =
        platform.send_as(&pro, "GET", "/api/courses/smart-on-fhir/resources/smart-launch-checklist.md", None);
    assert_eq!(download.status, 403, "a download needs a seat: {}", download.body);
    assert_eq!(download.json()["error"]["code"], "forbidden");
    let quiz = platform.send_as(&pro, "GET", "/api/courses/smart-on-fhir/quizzes/smart-check", None);
    assert_eq!(quiz.status, 403, "a quiz needs a seat: {}", quiz.body);
    // The live sessions' booking link is neither in the page nor in the progress answer.
    let page = platform.get("/courses/smart-on-fhir");
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("calendly.com/fhiriq"), "the booking link is not public");
    let progress = platform.send_as(&pro, "GET", "/api/courses/smart-on-fhir/progress", None).json();
    assert_eq!(progress["enrollment"], serde_json::Value::Null);
    assert_eq!(progress["liveSessions"], serde_json::Value::Null);
    // A student with a seat in a course gets its downloads and its booking link.
    let student = platform.sign_in(DEMO[1].1, DEMO[1].2);
    let enrolled = platform.send_as(&student, "POST", "/api/courses/fhir-fundamentals/enroll", None);
    assert!(matches!(enrolled.status, 200 | 201), "{}", enrolled.body);
    let own = platform.send_as(&student, "GET", "/api/courses/fhir-fundamentals/resources/patient-example.json", None);
    assert_eq!(own.status, 200, "{}", own.body);
}

const WHSEC: &str = "whsec_abuse_tests";

/// A paid course written through the admin API, sold as `product`.
fn paid_course(platform: &Platform, admin: &str, slug: &str, product: &str) {
    let document = format!(
        "+++\ntitle = \"Paid {slug}\"\nsummary = \"A paid course for the seat-hold tests.\"\nlevel = \"beginner\"\n\
         instructor = \"maya-okafor\"\nproduct = \"{product}\"\ncapacity = 10\nstarts = \"2027-05-04\"\n\
         ends = \"2027-05-25\"\nschedule = \"Tuesdays\"\nworkload = \"2 hours\"\n+++\nPaid.\n"
    );
    let path = format!("/api/admin/content/courses/{slug}");
    let saved = platform.send_as(admin, "PUT", &path, Some(&json!({"document": document, "publish": true})));
    assert_eq!(saved.status, 201, "{}", saved.body);
}

/// The platform with its courses and payments against the fake Stripe, and `options`' variables.
fn with_payments(stripe: &fhir_iq_tests::stripe::FakeStripe, options: Options) -> Platform {
    Platform::start_with(Options { content: true, ..options.stripe(stripe, WHSEC) })
}

#[test]
fn seat_holds_are_one_per_course_never_renewed_two_at_most_and_leave_the_page_cache_alone() {
    let stripe = fhir_iq_tests::stripe::FakeStripe::start();
    let platform = with_payments(
        &stripe,
        Options::default().var(
            "ONE_TIME_PRODUCTS",
            "course-smart-on-fhir:price_fhiriq_course_smart_on_fhir:9900:SMART on FHIR course;\
             course-a:price_course_a:5000:Course A;course-b:price_course_b:5000:Course B",
        ),
    );
    let admin = platform.sign_in(DEMO[4].1, DEMO[4].2);
    paid_course(&platform, &admin, "paid-a", "course-a");
    paid_course(&platform, &admin, "paid-b", "course-b");
    let hoarder = platform.sign_up_verified("hoarder@example.org", "holding every seat");
    let generation = || platform.query("SELECT generation FROM content_meta")[0]["generation"].clone();
    let before = generation();
    assert_eq!(platform.get("/blog").status, 200); // now cached

    // One hold per course: enrolling again answers the same checkout, and opens nothing new.
    let first = platform.send_as(&hoarder, "POST", "/api/courses/smart-on-fhir/enroll", None);
    assert_eq!(first.status, 201, "{}", first.body);
    let url = first.json()["checkoutUrl"].clone();
    assert!(url.as_str().is_some_and(|u| u.starts_with("http")), "{}", first.body);
    let held_at = platform.query("SELECT created_at FROM enrollments WHERE course_slug = 'smart-on-fhir'");
    for _ in 0..3 {
        let again = platform.send_as(&hoarder, "POST", "/api/courses/smart-on-fhir/enroll", None);
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(
            (again.json()["status"].clone(), again.json()["checkoutUrl"].clone()),
            (json!("checkout"), url.clone())
        );
    }
    assert_eq!(stripe.received("/v1/checkout/sessions").len(), 1, "one Checkout session");
    assert_eq!(
        platform.query(
            "SELECT COUNT(*) AS n FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email = 'hoarder@example.org'"
        )[0]["n"],
        1,
        "one order"
    );
    assert_eq!(
        platform.query("SELECT created_at FROM enrollments WHERE course_slug = 'smart-on-fhir'"),
        held_at,
        "the hold was not renewed"
    );

    // Two courses held at once, not three.
    assert_eq!(platform.send_as(&hoarder, "POST", "/api/courses/paid-a/enroll", None).status, 201);
    let third = platform.send_as(&hoarder, "POST", "/api/courses/paid-b/enroll", None);
    assert_eq!(third.status, 409, "{}", third.body);
    assert!(third.json()["error"]["message"].as_str().is_some_and(|m| m.contains("2 courses")), "{}", third.body);
    assert_eq!(
        platform.query("SELECT COUNT(*) AS n FROM enrollments WHERE course_slug = 'paid-b'")[0]["n"],
        0,
        "no third hold"
    );

    // Holds and seats never empty the whole page cache; the course page shows the new count.
    assert_eq!(generation(), before, "the content generation is untouched by enrolments");
    assert_eq!(platform.get("/blog").header("x-cache"), Some("HIT"), "other pages stay cached");
    assert!(platform.get("/courses/smart-on-fhir").body.contains("24 of 25 left"), "the hold counts on its page");
}

#[test]
fn an_organisation_never_invites_past_its_seats_and_an_owner_invites_at_a_limited_rate() {
    // Arrange: an Enterprise plan of three seats (granted by staff: the default seats), and an owner
    // who may send five invitations a day.
    let platform = Platform::start_with(
        Options::default().var("ENTERPRISE_DEFAULT_SEATS", "3").var("RATE_LIMIT_INVITES_OWNER", "5/86400"),
    );
    let owner = platform.sign_in(DEMO[3].1, DEMO[3].2);
    let invite = |email: &str| platform.send_as(&owner, "POST", "/api/org/invitations", Some(&json!({"email": email})));

    // Act and assert: the owner and two invitations fill the three seats, even sent at once.
    let first = invite("member0@example.org");
    assert_eq!(first.status, 201, "{}", first.body);
    let statuses = in_parallel(3, |i| invite(&format!("member{}@example.org", i + 1)));
    assert_eq!(statuses, vec![201, 409, 409], "two seats were free");
    let refused = invite("late@example.org");
    assert_eq!(refused.status, 409);
    assert!(refused.json()["error"]["message"].as_str().is_some_and(|m| m.contains("3 seats")), "{}", refused.body);
    let open = platform.query("SELECT COUNT(*) AS n FROM org_invitations WHERE accepted_at IS NULL");
    assert_eq!(open[0]["n"], 2);
    // The rate limit holds whatever the seats: six attempts so far, the limit is five a day.
    let limited = invite("member1@example.org");
    assert_eq!(limited.status, 429, "{}", limited.body);
}

/// The code of an error answer.
fn code(reply: &Reply) -> String {
    reply.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
}

/// Issue 15, item 6: someone registers `victim@…` and waits for the real owner. Until the address is
/// confirmed through the emailed link, the account has the free assistant and nothing that ties it to
/// money, courses, GitHub or a team; once confirmed, all of it opens.
#[test]
fn an_unverified_account_cannot_buy_enrol_connect_github_invite_or_join_until_its_link_is_used() {
    // Arrange: payments against a fake Stripe, a GitHub app for connecting accounts, the courses.
    let stripe = fhir_iq_tests::stripe::FakeStripe::start();
    let platform = with_payments(
        &stripe,
        Options::default()
            .var("GITHUB_CLIENT_ID", "Iv1.verification")
            .var("GITHUB_CLIENT_SECRET", "verification-client-secret")
            .var("GITHUB_TOKEN_KEY", "verification-test-token-key-of-32-chars"),
    );
    let admin = platform.sign_in(DEMO[4].1, DEMO[4].2);
    let victim = "victim@company.test";
    let created = platform.post_json("/api/auth/signup", &json!({"email": victim, "password": "not really the owner"}));
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["emailVerified"], false, "{}", created.body);
    let squatter = session_cookie(&created).expect("a session");
    let first_link = platform.emailed_verification_token(victim);
    let grant = |plan: &str| {
        let body = json!({"email": victim, "plan": plan, "status": "active"});
        let granted = platform.send_as(&admin, "POST", "/api/admin/subscriptions", Some(&body));
        assert_eq!(granted.status, 200, "{}", granted.body);
    };
    // Act: everything the attack needs, as a Pro and then an Enterprise account (the plan is no help).
    let ask = |cookie: &str| {
        let question = json!({"message": "Which resource holds a patient's allergies?"});
        platform.send_as(cookie, "POST", "/_functions/processAIQuery", Some(&question))
    };
    let assistant = ask(&squatter);
    assert_eq!(assistant.status, 200, "the free assistant works unverified: {}", assistant.body);
    let checkout = platform.send_as(&squatter, "POST", "/api/billing/checkout", Some(&json!({"plan": "pro"})));
    let enrol = platform.send_as(&squatter, "POST", "/api/courses/fhir-fundamentals/enroll", None);
    grant("pro");
    let connect = platform.send_as(&squatter, "GET", "/api/github/connect", None);
    let push = platform.send_as(&squatter, "POST", "/_functions/createGitHubRepo", Some(&json!({"name": "stolen"})));
    grant("enterprise");
    let invite =
        platform.send_as(&squatter, "POST", "/api/org/invitations", Some(&json!({"email": "friend@elsewhere.test"})));
    let owner = platform.sign_in(DEMO[3].1, DEMO[3].2);
    let invited = platform.send_as(&owner, "POST", "/api/org/invitations", Some(&json!({"email": victim})));
    assert_eq!(invited.status, 201, "{}", invited.body);
    let invitation = platform.emailed_token(victim, "You are invited", "invite=");
    let join = platform.send_as(&squatter, "POST", "/api/org/invitations/accept", Some(&json!({"token": invitation})));

    // Assert: each refused as unverified, and nothing was created for the account.
    for (what, reply) in
        [("checkout", &checkout), ("enrol", &enrol), ("connect", &connect), ("push", &push), ("invite", &invite)]
            .into_iter()
            .chain([("join", &join)])
    {
        assert_eq!((reply.status, code(reply)), (403, "email_unverified".to_owned()), "{what}: {}", reply.body);
    }
    assert!(stripe.received("/v1/checkout/sessions").is_empty(), "no Checkout was opened");
    let opened = platform.query(&format!(
        "SELECT (SELECT COUNT(*) FROM enrollments e JOIN users u ON u.id = e.user_id WHERE u.email = '{victim}') AS enrolments,
                (SELECT COUNT(*) FROM github_oauth_states) AS oauth_states,
                (SELECT COUNT(*) FROM org_invitations WHERE email = 'friend@elsewhere.test') AS invitations"
    ));
    assert_eq!(opened[0], json!({"enrolments": 0, "oauth_states": 0, "invitations": 0}));

    // Resending is limited (three an hour), and each new link replaces the older ones.
    let resends =
        (0..4).map(|_| platform.send_as(&squatter, "POST", "/api/auth/verify-email/resend", None)).collect::<Vec<_>>();
    assert_eq!(resends.iter().map(|r| r.status).collect::<Vec<_>>(), [202, 202, 202, 429]);
    assert!(retry_after(&resends[3]) <= 15 * 60, "a wait of at most 15 minutes");
    let replaced = platform.post_json("/api/auth/verify-email", &json!({"token": first_link}));
    assert_eq!((replaced.status, code(&replaced)), (422, "unprocessable".to_owned()), "{}", replaced.body);

    // The owner of the mailbox uses the newest link, once: of five uses at once, one verifies.
    let newest = platform.emailed_verification_token(victim);
    let statuses = in_parallel(5, |_| platform.post_json("/api/auth/verify-email", &json!({"token": newest})));
    assert_eq!(statuses, vec![200, 422, 422, 422, 422], "single use");
    let me = platform.send_as(&squatter, "GET", "/api/auth/me", None);
    assert_eq!(me.json()["emailVerified"], true, "{}", me.body);
    let already = platform.send_as(&squatter, "POST", "/api/auth/verify-email/resend", None);
    assert_eq!(already.status, 409, "{}", already.body);
    let connect = platform.send_as(&squatter, "GET", "/api/github/connect", None);
    assert_eq!(connect.status, 302, "verified, the Enterprise account connects GitHub: {}", connect.body);
    let join = platform.send_as(&squatter, "POST", "/api/org/invitations/accept", Some(&json!({"token": invitation})));
    assert_eq!(join.status, 200, "and joins the team it was invited to: {}", join.body);
}
