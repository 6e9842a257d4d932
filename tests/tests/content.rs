//! Content through the platform: the pages with their meta tags and JSON-LD, the sitemap, robots and
//! feed; filters; the admin API (permissions, sanitizing, publish state); the KV cache telling the
//! truth and invalidating; enrolment (free at once, paid through Stripe, the last seat under
//! concurrency); quizzes scored on the server; progress; downloads; Calendly's signed webhook; and
//! the content sync refusing invalid files with the file named.

use fhir_iq_tests::stripe::{self, FakeStripe};
use fhir_iq_tests::{Options, Platform, Reply, now_seconds, root};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("admin@demo.fhiriq.test", "fhiriq-demo-admin");
const STUDENT: (&str, &str) = ("student@demo.fhiriq.test", "fhiriq-demo-student");
const FREE: (&str, &str) = ("free@demo.fhiriq.test", "fhiriq-demo-free");
const CALENDLY_KEY: &str = "calendly-signing-key-for-tests";
const WHSEC: &str = "whsec_fhiriq_content_test_secret";

fn with_content() -> Options {
    Options { content: true, ..Options::default() }
}

/// Every JSON-LD node on a page (the `@graph` of its one ld+json script).
fn json_ld(html: &str) -> Vec<Value> {
    let start = html.find(r#"<script type="application/ld+json">"#).expect("a JSON-LD script");
    let rest = &html[start + r#"<script type="application/ld+json">"#.len()..];
    let end = rest.find("</script>").expect("closed");
    let document: Value = serde_json::from_str(&rest[..end]).expect("JSON-LD is JSON");
    assert_eq!(document["@context"], "https://schema.org");
    document["@graph"].as_array().cloned().expect("a graph")
}

fn node<'a>(graph: &'a [Value], kind: &str) -> &'a Value {
    graph.iter().find(|n| n["@type"] == kind).unwrap_or_else(|| panic!("no {kind} in {graph:?}"))
}

fn meta(html: &str, attribute: &str, name: &str) -> String {
    let marker = format!(r#"<meta {attribute}="{name}" content=""#);
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} meta tag")) + marker.len();
    html[start..].split('"').next().unwrap_or_default().to_owned()
}

fn canonical(html: &str) -> String {
    let marker = r#"<link rel="canonical" href=""#;
    let start = html.find(marker).expect("a canonical link") + marker.len();
    html[start..].split('"').next().unwrap_or_default().to_owned()
}

/// The page's head carries title, description, Open Graph and a canonical URL for `path`.
fn assert_head(platform: &Platform, path: &str, page: &Reply) {
    assert_eq!(page.status, 200, "{path}: {}", page.body);
    assert!(page.body.contains("<title>") && !meta(&page.body, "name", "description").is_empty(), "{path}");
    assert!(!meta(&page.body, "property", "og:title").is_empty(), "{path}");
    assert_eq!(canonical(&page.body), platform.url(path), "{path}");
    assert_eq!(meta(&page.body, "property", "og:url"), platform.url(path), "{path}");
}

#[test]
fn every_content_page_renders_with_meta_tags_and_json_ld() {
    let platform = Platform::start_with(with_content());

    the_assistant_tool_page_is_a_free_application_with_its_demo(&platform);
    the_builder_tool_page_shows_pros_price_and_its_screenshot(&platform);
    let course = the_course_page_describes_its_instance_offer_seats_and_instructor(&platform);
    only_course_pages_may_frame_the_booking_calendar(&platform, &course);
    a_blog_post_is_an_article_with_related_posts_and_share_links(&platform);
    every_list_lesson_and_quiz_page_has_its_head_and_the_organisation(&platform);
    tools_and_courses_filter_as_the_original_data_layer_did(&platform);
    the_sitemap_robots_and_feed_list_the_content(&platform);
    missing_content_is_an_html_404(&platform);
    the_assistants_knowledge_base_cites_the_content(&platform);
    the_server_logs_no_page_views(&platform);
}

fn the_assistant_tool_page_is_a_free_application_with_its_demo(platform: &Platform) {
    let tool = platform.get("/tools/fhir-assistant");
    assert_head(platform, "/tools/fhir-assistant", &tool);
    let app = node(&json_ld(&tool.body), "SoftwareApplication").clone();
    assert_eq!(app["name"], "FHIR Assistant");
    assert_eq!(app["applicationCategory"], "DeveloperApplication");
    assert_eq!(app["offers"]["price"], "0.00");
    assert_eq!(app["offers"]["priceCurrency"], "USD");
    assert!(tool.body.contains("data-chat"), "the assistant demo is embedded");
    node(&json_ld(&tool.body), "Organization");
}

fn the_builder_tool_page_shows_pros_price_and_its_screenshot(platform: &Platform) {
    let builder = platform.get("/tools/builder");
    let paid = node(&json_ld(&builder.body), "SoftwareApplication").clone();
    assert_eq!(paid["offers"]["price"], "49.00", "Pro's monthly price from the catalog");
    assert!(builder.body.contains("Included in Pro · $49/month"));
    // The gallery links the fingerprinted copy (cached for a year); og:image and JSON-LD keep the
    // stable URL that crawlers store.
    assert!(builder.body.contains("<figure><a href=\"/assets/img/tools/builder-preview."), "the screenshot gallery");
    assert_eq!(meta(&builder.body, "property", "og:image"), platform.url("/img/tools/builder-preview.jpg"));
    let image = platform.get("/img/tools/builder-preview.jpg");
    assert_eq!((image.status, image.header("content-type")), (200, Some("image/jpeg")));
    assert_eq!(paid["screenshot"][0], platform.url("/img/tools/builder-preview.jpg"));
}

fn the_course_page_describes_its_instance_offer_seats_and_instructor(platform: &Platform) -> Reply {
    let course = platform.get("/courses/smart-on-fhir");
    assert_head(platform, "/courses/smart-on-fhir", &course);
    let c = node(&json_ld(&course.body), "Course").clone();
    assert_eq!(c["name"], "SMART on FHIR");
    assert!(c["description"].as_str().is_some_and(|d| d.len() >= 20));
    assert!(c["provider"]["@id"].as_str().is_some_and(|id| id.ends_with("/#organization")));
    let instance = &c["hasCourseInstance"][0];
    assert_eq!(instance["@type"], "CourseInstance");
    assert_eq!(instance["courseMode"], "Online");
    assert_eq!(instance["startDate"], "2027-03-23");
    assert_eq!(instance["instructor"][0]["name"], "Maya Okafor");
    assert!(instance["courseWorkload"].as_str().is_some_and(|w| w.starts_with("PT")));
    assert_eq!(c["offers"][0]["category"], "Paid");
    assert_eq!(c["offers"][0]["price"], "99.00");
    assert_eq!(c["offers"][0]["availability"], "https://schema.org/InStock");
    assert!(course.body.contains("25 of 25 left"), "seats remaining");
    assert!(course.body.contains("Your instructor: Maya Okafor"), "the instructor's bio");
    assert!(course.body.contains("data-booking"), "the booking box");
    assert!(!course.body.contains("https://calendly.com/"), "the booking link is for enrolled students only");
    course
}

fn only_course_pages_may_frame_the_booking_calendar(platform: &Platform, course: &Reply) {
    let csp = course.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-src https://calendly.com") && !csp.contains("unsafe"), "{csp}");
    let elsewhere = platform.get("/tools").header("content-security-policy").unwrap_or_default().to_owned();
    assert!(!elsewhere.contains("calendly"), "only course pages may frame Calendly");
}

fn a_blog_post_is_an_article_with_related_posts_and_share_links(platform: &Platform) {
    let post = platform.get("/blog/transaction-vs-batch-bundles");
    assert_head(platform, "/blog/transaction-vs-batch-bundles", &post);
    assert_eq!(meta(&post.body, "property", "og:type"), "article");
    let posting = node(&json_ld(&post.body), "BlogPosting").clone();
    for field in ["headline", "description", "datePublished", "dateModified", "url"] {
        assert!(posting[field].as_str().is_some_and(|v| !v.is_empty()), "BlogPosting.{field}: {posting}");
    }
    assert!(posting["author"][0]["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(post.body.contains("Related posts") && post.body.contains("About "), "related posts and author bio");
    assert!(post.body.contains("https://www.linkedin.com/sharing/share-offsite/?url="), "share links");
}

fn every_list_lesson_and_quiz_page_has_its_head_and_the_organisation(platform: &Platform) {
    for path in [
        "/tools",
        "/courses",
        "/blog",
        "/courses/fhir-fundamentals/what-is-fhir",
        "/courses/fhir-fundamentals/quizzes/fundamentals-check",
    ] {
        let page = platform.get(path);
        assert_head(platform, path, &page);
        node(&json_ld(&page.body), "Organization");
    }
}

fn tools_and_courses_filter_as_the_original_data_layer_did(platform: &Platform) {
    let assistants = platform.get("/api/tools?category=assistant").json();
    assert_eq!(assistants.as_array().map(Vec::len), Some(1));
    let featured = platform.get("/tools?featured=1").body;
    assert!(featured.contains("FHIR Assistant") && !featured.contains("R4 Resource Browser"));
    let advanced = platform.get("/api/courses?level=advanced").json();
    assert_eq!(
        advanced.as_array().map(|a| a.iter().map(|c| c["slug"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("smart-on-fhir")])
    );
    assert_eq!(platform.get("/api/courses?open=1").json().as_array().map(Vec::len), Some(3));
}

fn the_sitemap_robots_and_feed_list_the_content(platform: &Platform) {
    let sitemap = platform.get("/sitemap.xml");
    assert!(sitemap.header("content-type").is_some_and(|t| t.starts_with("application/xml")));
    for path in [
        "/blog/transaction-vs-batch-bundles",
        "/courses/smart-on-fhir",
        "/tools/builder",
        "/courses/fhir-fundamentals/what-is-fhir",
    ] {
        assert!(sitemap.body.contains(&format!("<loc>{}</loc>", platform.url(path))), "{path} in the sitemap");
    }
    let robots = platform.get("/robots.txt").body;
    assert!(robots.contains(&format!("Sitemap: {}", platform.url("/sitemap.xml"))));
    let feed = platform.get("/blog/feed.xml");
    assert!(feed.header("content-type").is_some_and(|t| t.starts_with("application/atom+xml")));
    assert_eq!(feed.body.matches("<entry>").count(), 5);
}

fn missing_content_is_an_html_404(platform: &Platform) {
    for missing in ["/blog/no-such-post", "/tools/nope", "/courses/nope", "/courses/smart-on-fhir/nope"] {
        let page = platform.get(missing);
        assert_eq!(page.status, 404, "{missing}");
        assert!(page.header("content-type").is_some_and(|t| t.contains("html")));
    }
}

fn the_assistants_knowledge_base_cites_the_content(platform: &Platform) {
    let hits = platform.get("/api/search?q=transaction+bundle+urn:uuid+fullUrl&k=10").json();
    assert!(
        hits.to_string().contains("/blog/transaction-vs-batch-bundles") || hits.to_string().contains("site:"),
        "{hits}"
    );
}

/// Page views are the browser's to report (its beacon honours DNT and GPC).
fn the_server_logs_no_page_views(platform: &Platform) {
    let views = platform.query("SELECT COUNT(*) AS n FROM user_events WHERE event_type = 'page.view'");
    assert_eq!(views[0]["n"], 0, "{views:?}");
}

const POST: &str = "+++\ntitle = \"Cache test post\"\nsummary = \"A post written through the admin API for tests.\"\n\
    author = \"daniel-reyes\"\npublished = \"2026-11-25\"\ntags = [\"search\"]\n+++\n\
    Zanzibarquokka search.\n\n<script>alert('owned')</script>\n\n<img src=x onerror=\"alert(2)\">\n\n[bad](javascript:alert(3))\n";

#[test]
fn the_admin_api_checks_staff_sanitizes_and_the_cache_tells_the_truth() {
    let platform = Platform::start_with(with_content());
    let admin = platform.sign_in(ADMIN.0, ADMIN.1);
    let student = platform.sign_in(STUDENT.0, STUDENT.1);
    let put = |cookie: Option<&str>, slug: &str, body: &Value| {
        let path = format!("/api/admin/content/posts/{slug}");
        match cookie {
            Some(cookie) => platform.send_as(cookie, "PUT", &path, Some(body)),
            None => platform.send("PUT", &path, &[], Some(body)),
        }
    };
    let body = json!({"document": POST});
    assert_eq!(put(None, "cache-test", &body).status, 401);
    assert_eq!(put(Some(&student), "cache-test", &body).status, 403);
    assert_eq!(platform.send_as(&student, "GET", "/api/admin/content", None).status, 403);
    assert_eq!(platform.send_as(&student, "GET", "/admin/content", None).status, 403);
    assert_eq!(platform.get("/admin/content").status, 303, "signed out: to the sign-in page");
    assert_eq!(platform.send_as(&admin, "GET", "/admin/content", None).status, 200);

    // The list: MISS, then HIT.
    let first = platform.get("/blog");
    assert_eq!(first.header("x-cache"), Some("MISS"));
    assert!(first.header("cache-control").is_some_and(|c| c.starts_with("public")));
    assert_eq!(platform.get("/blog").header("x-cache"), Some("HIT"));
    assert_eq!(
        platform.get("/blog?utm_source=x").header("x-cache"),
        Some("HIT"),
        "unrelated parameters share the entry"
    );

    // Invalid: 422 naming the field; nothing stored.
    let invalid = put(Some(&admin), "cache-test", &json!({"document": POST.replace("daniel-reyes", "nobody")}));
    assert_eq!(invalid.status, 422, "{}", invalid.body);
    assert!(invalid.json()["error"]["message"].as_str().unwrap_or_default().contains("author"), "{}", invalid.body);
    assert_eq!(put(Some(&admin), "Bad_Slug", &body).status, 422);

    let created = put(Some(&admin), "cache-test", &body);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["published"], false, "a new entry is a draft");
    assert_eq!(platform.get("/blog/cache-test").status, 404, "drafts are not served");
    let published = platform.send_as(&admin, "POST", "/api/admin/content/posts/cache-test/publish", None);
    assert_eq!(published.status, 200, "{}", published.body);

    let page = platform.get("/blog/cache-test");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-cache"), Some("MISS"));
    assert!(page.body.contains("Zanzibarquokka"));
    for bad in ["<script>alert", "onerror", "javascript:"] {
        assert!(!page.body.contains(bad), "{bad} reached the page");
    }
    let list = platform.get("/blog");
    assert_eq!(list.header("x-cache"), Some("MISS"), "publishing invalidated the list");
    assert!(list.body.contains("Cache test post"));
    assert_eq!(platform.get("/blog").header("x-cache"), Some("HIT"));
    assert!(platform.get("/blog/feed.xml").body.contains("Cache test post"));
    let found = platform.get("/api/search?q=zanzibarquokka").json();
    assert!(found.to_string().contains("site:post:cache-test"), "the assistant can cite it: {found}");

    // Editing a file's post: the page changes at once; the admin's read-back is the new document.
    let original =
        platform.send_as(&admin, "GET", "/api/admin/content/posts/transaction-vs-batch-bundles", None).json();
    let original = original["document"].as_str().expect("a document");
    let body_starts = original.find("\n+++\n").expect("closing front matter") + "\n+++\n".len();
    let document = format!("{}Edited by staff.\n\n{}", &original[..body_starts], &original[body_starts..]);
    let edited = put(Some(&admin), "transaction-vs-batch-bundles", &json!({"document": document}));
    assert_eq!(edited.status, 200, "{}", edited.body);
    let page = platform.get("/blog/transaction-vs-batch-bundles");
    assert_eq!(page.header("x-cache"), Some("MISS"));
    assert!(page.body.contains("Edited by staff."), "the edit shows");
    assert_eq!(platform.get("/blog/transaction-vs-batch-bundles").header("x-cache"), Some("HIT"));

    let unpublished = platform.send_as(&admin, "POST", "/api/admin/content/posts/cache-test/unpublish", None);
    assert_eq!(unpublished.status, 200);
    assert_eq!(platform.get("/blog/cache-test").status, 404);
    assert!(!platform.get("/blog").body.contains("Cache test post"));
    let cited = platform.get("/api/search?q=zanzibarquokka").json();
    assert!(!cited.to_string().contains("site:post:cache-test"), "unpublished content leaves the knowledge base");
}

/// A new account made a student by a completed order for a course, recorded by staff (`admin`).
fn new_student(platform: &Platform, email: &str, admin: &str) -> String {
    let (cookie, _) = platform.member(email);
    let order = json!({"email": email, "product": "course:fhir-fundamentals", "status": "completed"});
    assert_eq!(platform.send_as(admin, "POST", "/api/admin/orders", Some(&order)).status, 200);
    cookie
}

const LAST_SEAT: &str = "+++\ntitle = \"One seat\"\nsummary = \"A course with a single seat for the race test.\"\n\
    level = \"beginner\"\ninstructor = \"maya-okafor\"\ncapacity = 1\nstarts = \"2027-05-04\"\nends = \"2027-05-25\"\n\
    schedule = \"Tuesdays\"\nworkload = \"2 hours\"\n+++\nOne seat only.\n";

#[test]
fn enrolment_never_oversells_and_paid_courses_go_through_checkout() {
    let stripe = FakeStripe::start();
    let platform = Platform::start_with(Options { content: true, ..Options::default().stripe(&stripe, WHSEC) });
    let admin = platform.sign_in(ADMIN.0, ADMIN.1);
    a_course_with_one_seat_is_published(&platform, &admin);

    a_free_plan_or_a_visitor_cannot_enrol_in_a_free_course(&platform);
    a_student_enrols_once_and_the_cached_seat_count_drops(&platform);
    eight_students_race_for_the_last_seat_and_exactly_one_gets_it(&platform, &admin);
    a_full_course_says_so_and_leaves_the_open_list(&platform);
    let (buyer_id, order) = a_paid_course_holds_the_seat_while_the_checkout_is_open(&platform, &stripe);
    the_payment_takes_the_held_seat(&platform, &stripe, &buyer_id, &order);
}

fn a_course_with_one_seat_is_published(platform: &Platform, admin: &str) {
    let course = platform.send_as(
        admin,
        "PUT",
        "/api/admin/content/courses/one-seat",
        Some(&json!({"document": LAST_SEAT, "publish": true})),
    );
    assert_eq!(course.status, 201, "{}", course.body);
}

fn a_free_plan_or_a_visitor_cannot_enrol_in_a_free_course(platform: &Platform) {
    let free = platform.sign_in(FREE.0, FREE.1);
    let denied = platform.send_as(&free, "POST", "/api/courses/fhir-fundamentals/enroll", None);
    assert_eq!(denied.status, 403);
    assert!(denied.json()["error"]["message"].as_str().unwrap_or_default().contains("Student"));
    assert_eq!(platform.send("POST", "/api/courses/fhir-fundamentals/enroll", &[], None).status, 401);
}

fn a_student_enrols_once_and_the_cached_seat_count_drops(platform: &Platform) {
    let student = platform.sign_in(STUDENT.0, STUDENT.1);
    assert_eq!(platform.send_as(&student, "POST", "/api/courses/nope/enroll", None).status, 404);
    let before = platform.get("/courses/fhir-fundamentals");
    assert!(before.body.contains("200 of 200 left"));
    platform.get("/courses/fhir-fundamentals"); // cached now
    let enrolled = platform.send_as(&student, "POST", "/api/courses/fhir-fundamentals/enroll", None);
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    assert_eq!(enrolled.json()["status"], "active");
    assert_eq!(
        platform.send_as(&student, "POST", "/api/courses/fhir-fundamentals/enroll", None).status,
        200,
        "again: already"
    );
    let after = platform.get("/courses/fhir-fundamentals");
    assert_eq!(after.header("x-cache"), Some("MISS"), "an enrolment invalidates the seat count");
    assert!(after.body.contains("199 of 200 left"));
}

fn eight_students_race_for_the_last_seat_and_exactly_one_gets_it(platform: &Platform, admin: &str) {
    let racers: Vec<String> = (0..8).map(|i| new_student(platform, &format!("racer{i}@content.test"), admin)).collect();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = racers
            .iter()
            .map(|cookie| scope.spawn(|| platform.send_as(cookie, "POST", "/api/courses/one-seat/enroll", None).status))
            .collect();
        handles.into_iter().map(|h| h.join().expect("a racer")).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{statuses:?}");
    let seats = platform.query("SELECT COUNT(*) AS n FROM enrollments WHERE course_slug = 'one-seat'");
    assert_eq!(seats[0]["n"], 1);
}

fn a_full_course_says_so_and_leaves_the_open_list(platform: &Platform) {
    assert!(platform.get("/courses/one-seat").body.contains("Course full"));
    assert_eq!(
        platform.get("/api/courses?open=1").json().as_array().map(Vec::len),
        Some(3),
        "the full course is filtered out"
    );
}

/// The one-time checkout for a paid course, started by a new member: (their user id, the order id).
fn a_paid_course_holds_the_seat_while_the_checkout_is_open(
    platform: &Platform,
    stripe: &FakeStripe,
) -> (String, String) {
    let (buyer, buyer_id) = platform.member("buyer@content.test");
    let started = platform.send_as(&buyer, "POST", "/api/courses/smart-on-fhir/enroll", None);
    assert_eq!(started.status, 201, "{}", started.body);
    assert_eq!(started.json()["status"], "checkout");
    assert!(started.json()["checkoutUrl"].as_str().is_some_and(|u| u.starts_with("http")));
    let checkout = &stripe.received("/v1/checkout/sessions")[0].body;
    assert!(checkout.contains("mode=payment") && checkout.contains("expires_at="), "{checkout}");
    let held = platform.query(&format!("SELECT status FROM enrollments WHERE user_id = '{buyer_id}'"));
    assert_eq!(held[0]["status"], "reserved");
    assert!(platform.get("/courses/smart-on-fhir").body.contains("24 of 25 left"), "the hold counts");
    let order = platform.query(&format!("SELECT id FROM orders WHERE user_id = '{buyer_id}'"))[0]["id"]
        .as_str()
        .expect("order")
        .to_owned();
    (buyer_id, order)
}

fn the_payment_takes_the_held_seat(platform: &Platform, fake: &FakeStripe, buyer_id: &str, order: &str) {
    // The buyer pays on the hosted page; Stripe's event carries the session as it then is.
    let url = platform.query(&format!("SELECT checkout_url FROM enrollments WHERE user_id = '{buyer_id}'"));
    let session_id = url[0]["checkout_url"].as_str().and_then(|u| u.rsplit('/').next()).expect("a checkout").to_owned();
    fake.pay(&session_id);
    let session = fake.session(&session_id).expect("the session");
    assert_eq!(session.pointer("/metadata/order_id").and_then(Value::as_str), Some(order));
    let event = json!({"id": "evt_course_1", "object": "event", "type": "checkout.session.completed",
                       "created": now_seconds(), "data": {"object": session}});
    let delivered = platform.send(
        "POST",
        "/_functions/stripeWebhook",
        &[("stripe-signature", &stripe::sign(&event.to_string(), WHSEC, now_seconds()))],
        Some(&event),
    );
    assert_eq!(delivered.status, 200, "{}", delivered.body);
    let seat = platform.query(&format!("SELECT status, order_id FROM enrollments WHERE user_id = '{buyer_id}'"));
    assert_eq!(seat[0]["status"], "active");
    assert_eq!(seat[0]["order_id"], order);
    let events = platform.query("SELECT COUNT(*) AS n FROM user_events WHERE event_type = 'course.enrolled'");
    assert!(events[0]["n"].as_i64().unwrap_or(0) >= 2);
}

fn sign(body: &str, t: i64, key: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

const QUIZ: &str = "/api/courses/fhir-fundamentals/quizzes/fundamentals-check";

/// The quiz's questions as a student first sees them, and the right answers the first result revealed.
struct Quiz {
    questions: Vec<Value>,
    right: serde_json::Map<String, Value>,
}

#[test]
fn quizzes_are_scored_on_the_server_progress_counts_once_and_bookings_are_signed() {
    let platform = Platform::start_with(Options {
        content: true,
        ..Options::default().var("CALENDLY_WEBHOOK_SIGNING_KEY", CALENDLY_KEY)
    });
    let student = platform.sign_in(STUDENT.0, STUDENT.1);
    let free = platform.sign_in(FREE.0, FREE.1);

    quizzes_are_closed_to_free_users_and_to_students_until_they_enrol(&platform, &student, &free);
    let quiz = a_blank_attempt_scores_nothing_and_only_then_reveals_the_answers(&platform, &student);
    answers_to_unknown_questions_or_choices_are_refused(&platform, &student, &quiz.questions);
    each_lesson_counts_once_and_the_course_waits_for_its_quiz(&platform, &student);
    passing_the_quiz_completes_the_course_and_both_attempts_are_kept(&platform, &student, &quiz);
    course_downloads_are_for_students_and_up(&platform, &student, &free);
    tampered_stale_foreign_or_unsigned_bookings_are_refused(&platform);
    a_signed_booking_is_linked_to_the_student_and_its_cancellation_shows(&platform, &student);
}

/// Submits `body` as an attempt at the quiz.
fn attempt(platform: &Platform, student: &str, body: &Value) -> Reply {
    platform.send_as(student, "POST", &format!("{QUIZ}/attempts"), Some(body))
}

fn quizzes_are_closed_to_free_users_and_to_students_until_they_enrol(platform: &Platform, student: &str, free: &str) {
    assert_eq!(platform.send_as(free, "GET", QUIZ, None).status, 403, "quizzes are Student and up");
    assert_eq!(platform.send_as(student, "GET", QUIZ, None).status, 403, "enrol first");
    assert_eq!(platform.send_as(student, "POST", "/api/courses/fhir-fundamentals/enroll", None).status, 201);
}

fn a_blank_attempt_scores_nothing_and_only_then_reveals_the_answers(platform: &Platform, student: &str) -> Quiz {
    let quiz = platform.send_as(student, "GET", QUIZ, None);
    assert_eq!(quiz.status, 200, "{}", quiz.body);
    assert!(!quiz.body.contains("\"answer\"") && !quiz.body.contains("explanation"), "no answers before submitting");
    let questions = quiz.json()["questions"].as_array().cloned().expect("questions");
    // The answers are not known before submitting, so the first attempt chooses nothing.
    let blank: serde_json::Map<String, Value> =
        questions.iter().map(|q| (q["id"].as_str().unwrap_or_default().to_owned(), json!([]))).collect();
    let first = attempt(platform, student, &json!({"answers": blank}));
    assert_eq!(first.status, 201, "{}", first.body);
    let first = first.json();
    assert_eq!((first["percent"].as_i64(), first["passed"].as_bool()), (Some(0), Some(false)));
    let right = first["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or_default().to_owned(), r["answer"].clone()))
        .collect();
    Quiz { questions, right }
}

fn answers_to_unknown_questions_or_choices_are_refused(platform: &Platform, student: &str, questions: &[Value]) {
    assert_eq!(attempt(platform, student, &json!({"answers": {"no-such-question": [0]}})).status, 422);
    let first_question = questions[0]["id"].as_str().unwrap_or_default();
    assert_eq!(attempt(platform, student, &json!({"answers": {first_question: [99]}})).status, 422);
    assert_eq!(attempt(platform, student, &json!({"nope": 1})).status, 400);
}

fn each_lesson_counts_once_and_the_course_waits_for_its_quiz(platform: &Platform, student: &str) {
    let lessons = 4;
    let complete = |lesson: &str| {
        platform.send_as(student, "POST", &format!("/api/courses/fhir-fundamentals/lessons/{lesson}/complete"), None)
    };
    let one = complete("what-is-fhir").json();
    let again = complete("what-is-fhir").json();
    assert_eq!(one["percent"], again["percent"], "a reload never double-counts");
    assert_eq!(one["percent"].as_i64(), Some(100 / (lessons + 1)));
    for lesson in ["anatomy-of-a-resource", "references-and-bundles", "terminology-basics"] {
        assert_eq!(complete(lesson).status, 200);
    }
    let progress = platform.send_as(student, "GET", "/api/courses/fhir-fundamentals/progress", None).json();
    assert_eq!(progress["progress"]["complete"], false, "not complete before the required quiz is passed");
    assert_eq!(progress["progress"]["percent"].as_i64(), Some(80));
}

fn passing_the_quiz_completes_the_course_and_both_attempts_are_kept(platform: &Platform, student: &str, quiz: &Quiz) {
    let passed = attempt(platform, student, &json!({"answers": quiz.right})).json();
    assert_eq!((passed["percent"].as_i64(), passed["passed"].as_bool()), (Some(100), Some(true)));
    assert_eq!(passed["progress"]["percent"].as_i64(), Some(100));
    assert_eq!(passed["progress"]["complete"], true);
    let stored = platform.query("SELECT COUNT(*) AS n FROM quiz_attempts a JOIN users u ON u.id = a.user_id WHERE u.email = 'student@demo.fhiriq.test'");
    assert_eq!(stored[0]["n"], 2, "both attempts are kept");
    let answers = platform.query("SELECT COUNT(*) AS n FROM quiz_answers");
    assert_eq!(answers[0]["n"].as_i64(), Some(2 * quiz.questions.len() as i64));
    let completed = platform.query("SELECT COUNT(*) AS n FROM user_events WHERE event_type = 'course.completed'");
    assert_eq!(completed[0]["n"], 1);
}

fn course_downloads_are_for_students_and_up(platform: &Platform, student: &str, free: &str) {
    let path = "/api/courses/fhir-fundamentals/resources/patient-example.json";
    let download = platform.send_as(student, "GET", path, None);
    assert_eq!(download.status, 200);
    assert!(download.header("content-disposition").is_some_and(|d| d.contains("attachment")));
    assert_eq!(serde_json::from_str::<Value>(&download.body).expect("JSON")["resourceType"], "Patient");
    assert_eq!(platform.send_as(free, "GET", path, None).status, 403);
}

/// Calendly's `invitee.created` for the demo student, booked from the fhir-fundamentals course page.
fn calendly_booking() -> Value {
    json!({"event": "invitee.created", "payload": {
        "uri": "https://api.calendly.com/scheduled_events/EV1/invitees/INV1", "email": "Student@demo.fhiriq.test",
        "name": "Demo Student", "event": "https://api.calendly.com/scheduled_events/EV1",
        "cancel_url": "https://calendly.com/cancellations/INV1", "reschedule_url": "https://calendly.com/reschedulings/INV1",
        "tracking": {"utm_source": "fhiriq", "utm_campaign": "fhir-fundamentals"},
        "scheduled_event": {"start_time": "2027-01-19T16:00:00.000000Z"}}})
}

/// Delivers `body` to the Calendly webhook with `signature` as its signature header.
fn deliver_booking(platform: &Platform, signature: &str, body: &str) -> Reply {
    let value: Value = serde_json::from_str(body).expect("json");
    platform.send("POST", "/_functions/calendlyWebhook", &[("calendly-webhook-signature", signature)], Some(&value))
}

fn tampered_stale_foreign_or_unsigned_bookings_are_refused(platform: &Platform) {
    let booking = calendly_booking();
    let body = booking.to_string();
    let tampered = body.replace("fhir-fundamentals", "smart-on-fhir");
    assert_eq!(deliver_booking(platform, &sign(&body, now_seconds(), CALENDLY_KEY), &tampered).status, 400, "tampered");
    assert_eq!(deliver_booking(platform, &sign(&body, now_seconds() - 600, CALENDLY_KEY), &body).status, 400, "stale");
    assert_eq!(deliver_booking(platform, &sign(&body, now_seconds(), "another key"), &body).status, 400, "wrong key");
    assert_eq!(platform.send("POST", "/_functions/calendlyWebhook", &[], Some(&booking)).status, 400, "unsigned");
    assert_eq!(platform.query("SELECT COUNT(*) AS n FROM bookings")[0]["n"], 0, "nothing recorded from a bad delivery");
}

fn a_signed_booking_is_linked_to_the_student_and_its_cancellation_shows(platform: &Platform, student: &str) {
    let body = calendly_booking().to_string();
    let recorded = deliver_booking(platform, &sign(&body, now_seconds(), CALENDLY_KEY), &body);
    assert_eq!(recorded.status, 200, "{}", recorded.body);
    assert_eq!(recorded.json()["linkedToUser"], true);
    assert_eq!(recorded.json()["course"], "fhir-fundamentals");
    let canceled = body.replace("invitee.created", "invitee.canceled");
    assert_eq!(deliver_booking(platform, &sign(&canceled, now_seconds(), CALENDLY_KEY), &canceled).status, 200);
    let bookings =
        platform.send_as(student, "GET", "/api/courses/fhir-fundamentals/progress", None).json()["bookings"].clone();
    assert_eq!(bookings.as_array().map(Vec::len), Some(1));
    assert_eq!(bookings[0]["status"], "canceled");
    assert_eq!(bookings[0]["startTime"], "2027-01-19T16:00:00.000000Z");
}

#[test]
fn the_content_sync_refuses_invalid_files_naming_each_one() {
    let dir = tempfile::tempdir().expect("a directory");
    let write = |path: &str, text: &str| {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    };
    write("authors/ann.md", "+++\nname = \"Ann\"\ntitle = \"Writer\"\n+++\nBio.");
    write(
        "posts/ok.md",
        "+++\ntitle = \"OK\"\nsummary = \"A valid post for the sync test.\"\nauthor = \"ann\"\npublished = \"2026-10-01\"\ntags = [\"x\"]\n+++\nText.",
    );
    write(
        "posts/bad-date.md",
        "+++\ntitle = \"Bad\"\nsummary = \"A post whose date does not exist.\"\nauthor = \"ann\"\npublished = \"2026-02-30\"\ntags = [\"x\"]\n+++\nText.",
    );
    write("tools/typo.md", "+++\nnmae = \"Typo\"\n+++\nText.");
    let output = std::process::Command::new(root().join("scripts/content.sh"))
        .args(["--check", "--dir"])
        .arg(dir.path())
        .output()
        .expect("the sync runs");
    assert!(!output.status.success(), "invalid content must fail the sync");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("content/posts/bad-date.md: published"), "{stderr}");
    assert!(stderr.contains("content/tools/typo.md: front matter") && stderr.contains("nmae"), "{stderr}");
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    let valid = std::process::Command::new(root().join("scripts/content.sh")).arg("--check").output().expect("runs");
    assert!(valid.status.success(), "the repository's content is valid: {}", String::from_utf8_lossy(&valid.stderr));
}
