//! The content types and their validation (docs/content.md is the author's reference). Each parser
//! takes the slug and the document text and answers a validated entry, or an error naming the field;
//! the caller adds the file name (the sync) or the entry (the admin API).

use super::doc::{self, check_date, check_link, check_slug, check_tags, check_text, invalid, one_of};
use crate::error::Result;
use serde::{Deserialize, Serialize};

pub const TOOL_CATEGORIES: [&str; 5] = ["code-generation", "assistant", "reference", "testing", "learning"];
pub const PLANS: [&str; 4] = ["free", "student", "pro", "enterprise"];
pub const DEMOS: [&str; 3] = ["assistant", "search", "builder"];
pub const LEVELS: [&str; 3] = ["beginner", "intermediate", "advanced"];
/// A downloadable resource's size limit.
pub const MAX_RESOURCE_BYTES: usize = 256 * 1024;

/// What every entry carries besides its own fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub html: String,
    pub text: String,
    /// The document as written (the admin page edits it).
    pub document: String,
    pub hash: String,
}

fn rendered(document: &str, body: &str, field: &str, max_chars: usize) -> Result<Rendered> {
    check_text(field, body, 1, max_chars)?;
    Ok(Rendered {
        html: doc::markdown_to_html(body),
        text: doc::markdown_to_text(body),
        document: document.to_owned(),
        hash: doc::hash(document),
    })
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthorFront {
    pub name: String,
    pub title: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Author {
    pub slug: String,
    pub front: AuthorFront,
    pub bio: Rendered,
}

pub fn author(slug: &str, document: &str) -> Result<Author> {
    check_slug("slug", slug)?;
    let (front, body) = doc::split::<AuthorFront>(document)?;
    check_text("name", &front.name, 1, 80)?;
    check_text("title", &front.title, 1, 120)?;
    if let Some(url) = &front.url {
        check_link("url", url)?;
    }
    Ok(Author { slug: slug.into(), bio: rendered(document, body, "bio", 2_000)?, front })
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Screenshot {
    pub src: String,
    pub alt: String,
    pub caption: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToolFront {
    pub name: String,
    pub summary: String,
    pub category: String,
    pub tags: Vec<String>,
    #[serde(default)]
    pub featured: bool,
    pub url: String,
    pub plan: String,
    pub demo: Option<String>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub screenshots: Vec<Screenshot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub slug: String,
    pub front: ToolFront,
    pub body: Rendered,
}

/// Tool slugs that name pages of their own (`/tools/fhir-builder` is the Builder itself).
pub const RESERVED_TOOL_SLUGS: [&str; 1] = ["fhir-builder"];

pub fn tool(slug: &str, document: &str) -> Result<Tool> {
    check_slug("slug", slug)?;
    if RESERVED_TOOL_SLUGS.contains(&slug) {
        return Err(invalid("slug", format!("/tools/{slug} is a page of its own; choose another slug")));
    }
    let (front, body) = doc::split::<ToolFront>(document)?;
    check_text("name", &front.name, 1, 80)?;
    check_text("summary", &front.summary, 20, 200)?;
    one_of("category", &front.category, &TOOL_CATEGORIES)?;
    check_tags("tags", &front.tags)?;
    check_link("url", &front.url)?;
    one_of("plan", &front.plan, &PLANS)?;
    if let Some(demo) = &front.demo {
        one_of("demo", demo, &DEMOS)?;
    }
    if front.screenshots.len() > 8 {
        return Err(invalid("screenshots", "at most 8"));
    }
    for shot in &front.screenshots {
        check_link("screenshots.src", &shot.src)?;
        check_text("screenshots.alt", &shot.alt, 1, 200)?;
        if let Some(caption) = &shot.caption {
            check_text("screenshots.caption", caption, 1, 200)?;
        }
    }
    Ok(Tool { slug: slug.into(), body: rendered(document, body, "body", 40_000)?, front })
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostFront {
    pub title: String,
    pub summary: String,
    pub author: String,
    pub published: String,
    pub updated: Option<String>,
    pub tags: Vec<String>,
    #[serde(default)]
    pub draft: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub slug: String,
    pub front: PostFront,
    pub body: Rendered,
}

pub fn post(slug: &str, document: &str) -> Result<Post> {
    check_slug("slug", slug)?;
    let (front, body) = doc::split::<PostFront>(document)?;
    check_text("title", &front.title, 1, 120)?;
    check_text("summary", &front.summary, 20, 300)?;
    check_slug("author", &front.author)?;
    check_date("published", &front.published)?;
    if let Some(updated) = &front.updated {
        check_date("updated", updated)?;
        if updated < &front.published {
            return Err(invalid("updated", "is before published"));
        }
    }
    check_tags("tags", &front.tags)?;
    Ok(Post { slug: slug.into(), body: rendered(document, body, "body", 60_000)?, front })
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    pub file: String,
    pub title: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CourseFront {
    pub title: String,
    pub summary: String,
    pub level: String,
    pub instructor: String,
    pub product: Option<String>,
    pub capacity: u32,
    pub starts: String,
    pub ends: String,
    pub schedule: String,
    pub workload: String,
    pub calendly_url: Option<String>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub resources: Vec<ResourceRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Course {
    pub slug: String,
    pub front: CourseFront,
    pub body: Rendered,
}

pub fn course(slug: &str, document: &str) -> Result<Course> {
    check_slug("slug", slug)?;
    let (front, body) = doc::split::<CourseFront>(document)?;
    check_text("title", &front.title, 1, 120)?;
    check_text("summary", &front.summary, 20, 300)?;
    one_of("level", &front.level, &LEVELS)?;
    check_slug("instructor", &front.instructor)?;
    if let Some(product) = &front.product {
        check_slug("product", product)?;
    }
    if !(1..=10_000).contains(&front.capacity) {
        return Err(invalid("capacity", "give 1 to 10000 seats"));
    }
    check_date("starts", &front.starts)?;
    check_date("ends", &front.ends)?;
    if front.ends < front.starts {
        return Err(invalid("ends", "is before starts"));
    }
    check_text("schedule", &front.schedule, 1, 200)?;
    check_text("workload", &front.workload, 1, 60)?;
    if let Some(url) = &front.calendly_url {
        check_link("calendly_url", url)?;
        if !url.starts_with("https://calendly.com/") {
            return Err(invalid("calendly_url", "must be an https://calendly.com/ scheduling link"));
        }
    }
    if front.resources.len() > 10 {
        return Err(invalid("resources", "at most 10"));
    }
    for (i, r) in front.resources.iter().enumerate() {
        check_resource_file("resources.file", &r.file)?;
        check_text("resources.title", &r.title, 1, 120)?;
        if front.resources[..i].iter().any(|o| o.file == r.file) {
            return Err(invalid("resources.file", format!("{:?} is listed twice", r.file)));
        }
    }
    Ok(Course { slug: slug.into(), body: rendered(document, body, "body", 20_000)?, front })
}

/// A resource file name: a slug, a dot, an extension we can serve as text.
pub fn check_resource_file(field: &str, file: &str) -> Result<()> {
    let (stem, ext) = file.rsplit_once('.').ok_or_else(|| invalid(field, format!("{file:?} has no extension")))?;
    check_slug(field, stem)?;
    media_type(ext)
        .map(|_| ())
        .ok_or_else(|| invalid(field, format!("{file:?}: use .md, .txt, .json, .http, .csv or .xml")))
}

/// The media type a resource is served with, by extension.
pub fn media_type(ext: &str) -> Option<&'static str> {
    match ext {
        "md" => Some("text/markdown; charset=utf-8"),
        "txt" | "http" => Some("text/plain; charset=utf-8"),
        "json" => Some("application/json"),
        "csv" => Some("text/csv; charset=utf-8"),
        "xml" => Some("application/xml"),
        _ => None,
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LessonFront {
    pub title: String,
    pub minutes: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    pub slug: String,
    pub position: u32,
    pub front: LessonFront,
    pub body: Rendered,
}

/// A lesson from `NN-<slug>.md`'s stem.
pub fn lesson(stem: &str, document: &str) -> Result<Lesson> {
    let (number, slug) = stem
        .split_once('-')
        .filter(|(n, _)| n.len() == 2 && n.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| invalid("file name", format!("{stem:?} must be NN-<slug>, like 01-what-is-fhir")))?;
    check_slug("slug", slug)?;
    let (front, body) = doc::split::<LessonFront>(document)?;
    check_text("title", &front.title, 1, 120)?;
    if !(1..=240).contains(&front.minutes) {
        return Err(invalid("minutes", "give 1 to 240"));
    }
    let position = number.parse().map_err(|_| invalid("file name", "NN must be a number"))?;
    Ok(Lesson { slug: slug.into(), position, body: rendered(document, body, "body", 60_000)?, front })
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub prompt: String,
    pub kind: String,
    pub choices: Vec<String>,
    pub answer: Vec<usize>,
    pub explanation: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QuizFront {
    pub title: String,
    pub pass_mark: u32,
    pub required: bool,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quiz {
    pub slug: String,
    pub front: QuizFront,
    pub intro_html: String,
    pub hash: String,
}

pub fn quiz(slug: &str, document: &str) -> Result<Quiz> {
    check_slug("slug", slug)?;
    let (front, body) = doc::split::<QuizFront>(document)?;
    check_text("title", &front.title, 1, 120)?;
    if !(1..=100).contains(&front.pass_mark) {
        return Err(invalid("pass_mark", "give a percentage from 1 to 100"));
    }
    if front.questions.is_empty() || front.questions.len() > 30 {
        return Err(invalid("questions", "give 1 to 30 questions"));
    }
    for (i, q) in front.questions.iter().enumerate() {
        let field = |name: &str| format!("questions[{i}].{name}");
        check_slug(&field("id"), &q.id)?;
        if front.questions[..i].iter().any(|o| o.id == q.id) {
            return Err(invalid(&field("id"), format!("{:?} is used twice", q.id)));
        }
        check_text(&field("prompt"), &q.prompt, 1, 500)?;
        one_of(&field("kind"), &q.kind, &["single", "multiple"])?;
        if !(2..=8).contains(&q.choices.len()) {
            return Err(invalid(&field("choices"), "give 2 to 8 choices"));
        }
        for choice in &q.choices {
            check_text(&field("choices"), choice, 1, 300)?;
        }
        let mut answer = q.answer.clone();
        answer.sort_unstable();
        answer.dedup();
        if answer.len() != q.answer.len() || answer.is_empty() || answer.iter().any(|&a| a >= q.choices.len()) {
            return Err(invalid(&field("answer"), "give distinct indexes (from 0) of existing choices"));
        }
        if q.kind == "single" && answer.len() != 1 {
            return Err(invalid(&field("answer"), "a single-choice question has exactly one answer"));
        }
        check_text(&field("explanation"), &q.explanation, 1, 1_000)?;
    }
    Ok(Quiz { slug: slug.into(), intro_html: doc::markdown_to_html(body), hash: doc::hash(document), front })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOL: &str = "+++\nname = \"FHIR Builder\"\nsummary = \"Generate a working FHIR R4 app with tests.\"\n\
        category = \"code-generation\"\ntags = [\"typescript\"]\nurl = \"/tools/fhir-builder\"\nplan = \"pro\"\n+++\nBody.\n";

    #[test]
    fn a_valid_tool_parses_and_renders() {
        let tool = tool("builder", TOOL).expect("valid");
        assert_eq!(tool.front.plan, "pro");
        assert_eq!(tool.body.html, "<p>Body.</p>\n");
        assert!(!tool.front.featured && !tool.front.draft);
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases = [
            (TOOL.replace("code-generation", "hammers"), "category"),
            (TOOL.replace("\"pro\"", "\"gold\""), "plan"),
            (TOOL.replace("/tools/fhir-builder", "javascript:alert(1)"), "url"),
            (TOOL.replace("[\"typescript\"]", "[]"), "tags"),
            (TOOL.replace("Generate a working FHIR R4 app with tests.", "Short"), "summary"),
            (TOOL.replace("Body.\n", ""), "body"),
        ];
        let reserved = tool("fhir-builder", TOOL).expect_err("the Builder's own page");
        assert!(reserved.to_string().starts_with("slug"), "{reserved}");
        for (document, field) in cases {
            let error = tool("builder", &document).expect_err(field);
            assert!(error.to_string().starts_with(field), "{field}: {error}");
        }
    }

    fn quiz_doc(questions: &str) -> String {
        format!("+++\ntitle = \"Check\"\npass_mark = 70\nrequired = true\n{questions}+++\n")
    }
    const Q: &str = "[[questions]]\nid = \"q1\"\nprompt = \"?\"\nkind = \"single\"\nchoices = [\"a\", \"b\"]\nanswer = [1]\nexplanation = \"b.\"\n";

    #[test]
    fn quiz_answers_must_point_at_choices() {
        assert!(quiz("check", &quiz_doc(Q)).is_ok());
        let out_of_range = quiz("check", &quiz_doc(&Q.replace("answer = [1]", "answer = [2]"))).expect_err("range");
        assert!(out_of_range.to_string().contains("questions[0].answer"), "{out_of_range}");
        let two_for_single =
            quiz("check", &quiz_doc(&Q.replace("answer = [1]", "answer = [0, 1]"))).expect_err("single");
        assert!(two_for_single.to_string().contains("exactly one"), "{two_for_single}");
        let twice = quiz("check", &quiz_doc(&format!("{Q}{Q}"))).expect_err("duplicate id");
        assert!(twice.to_string().contains("used twice"), "{twice}");
    }

    #[test]
    fn lessons_take_their_order_from_the_file_name() {
        let lesson = lesson("02-bundles", "+++\ntitle = \"Bundles\"\nminutes = 10\n+++\nText.").expect("valid");
        assert_eq!((lesson.position, lesson.slug.as_str()), (2, "bundles"));
        assert!(super::lesson("bundles", "+++\ntitle = \"B\"\nminutes = 10\n+++\nText.").is_err());
    }

    #[test]
    fn courses_check_dates_seats_and_booking_links() {
        let base = "+++\ntitle = \"T\"\nsummary = \"A summary that is long enough.\"\nlevel = \"beginner\"\n\
            instructor = \"maya\"\ncapacity = 10\nstarts = \"2027-01-12\"\nends = \"2027-02-09\"\n\
            schedule = \"Tuesdays\"\nworkload = \"6 hours\"\n+++\nAbout.";
        assert!(course("c", base).is_ok());
        let backwards = course("c", &base.replace("2027-02-09", "2027-01-01")).expect_err("dates");
        assert!(backwards.to_string().starts_with("ends"), "{backwards}");
        let zero = course("c", &base.replace("capacity = 10", "capacity = 0")).expect_err("capacity");
        assert!(zero.to_string().starts_with("capacity"), "{zero}");
        let elsewhere = base.replace("workload", "calendly_url = \"https://evil.example/x\"\nworkload");
        assert!(course("c", &elsewhere).expect_err("calendly").to_string().starts_with("calendly_url"));
    }
}
