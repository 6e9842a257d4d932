//! The content pages, rendered from D1 with the same layout as every other page: tools, courses,
//! lessons, quizzes, the blog, the sitemap, the Atom feed and the admin's content page. Each public
//! page carries a canonical URL, Open Graph tags and JSON-LD.

use super::pages::{NAV, NavItem, Page, rendered};
use super::seo::{self, Meta};
use crate::auth::Role;
use crate::billing::catalog::{Catalog, Interval};
use crate::content::model::{LEVELS, TOOL_CATEGORIES};
use crate::content::views::{
    Author, Course, CourseFilter, Lesson, LessonLink, Post, QuizLink, SitemapRow, Tool, ToolFilter,
};
use crate::error::Result;
use askama::Template;

/// What a tool costs, from the plan that includes it: "Free" or "Included in Pro · $49/month".
pub fn plan_label(catalog: &Catalog, plan: &str) -> (String, u64) {
    match Role::parse(plan) {
        Some(Role::Free) | None => ("Free".into(), 0),
        Some(role) => match catalog.price(role, Interval::Month) {
            Ok(price) => (
                format!("Included in {} · {}/month", role.title(), catalog.format(price.amount_cents)),
                price.amount_cents,
            ),
            Err(_) => (format!("Included in {}", role.title()), 0),
        },
    }
}

/// A course's price: "Free", or the one-time product's price. `None` cents when free.
pub fn course_price(catalog: &Catalog, course: &Course) -> (String, Option<u64>) {
    match &course.product {
        None => ("Free".into(), None),
        Some(product) => match catalog.product(product) {
            Ok(p) => (catalog.format(p.amount_cents), Some(p.amount_cents)),
            Err(_) => ("Not on sale".into(), None),
        },
    }
}

#[derive(Template)]
#[template(path = "content/tools.html")]
struct ToolsTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    tools: &'a [Tool],
    filter: &'a ToolFilter,
    categories: Vec<String>,
}

pub fn tools_page(site: &str, catalog: &Catalog, tools: &mut [Tool], filter: &ToolFilter) -> Result<String> {
    for tool in tools.iter_mut() {
        tool.plan_label = plan_label(catalog, &tool.plan).0;
    }
    let list: Vec<serde_json::Value> = tools
        .iter()
        .enumerate()
        .map(|(i, t)| serde_json::json!({"@type": "ListItem", "position": i + 1, "url": format!("{site}/tools/{}", t.slug), "name": t.name}))
        .collect();
    let graph = vec![
        seo::organization(site),
        serde_json::json!({"@type": "ItemList", "name": "FHIR IQ tools", "itemListElement": list}),
    ];
    let meta = Meta::new(site, "/tools", "website", graph);
    let page = Page {
        title: "Tools",
        description: "FHIR R4 tools: the FHIR Builder, the grounded FHIR assistant and the R4 resource browser.",
        path: "/tools",
        meta: Some(&meta),
    };
    let categories = TOOL_CATEGORIES.iter().map(|c| (*c).to_owned()).collect();
    rendered(ToolsTemplate { page: &page, nav: &NAV, tools, filter, categories }.render())
}

#[derive(Template)]
#[template(path = "content/tool.html")]
struct ToolTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    tool: &'a Tool,
    price_label: &'a str,
}

pub fn tool_page(site: &str, catalog: &Catalog, tool: &Tool) -> Result<String> {
    let (price_label, cents) = plan_label(catalog, &tool.plan);
    let path = format!("/tools/{}", tool.slug);
    let mut meta = Meta::new(
        site,
        &path,
        "website",
        vec![seo::organization(site), seo::software_application(site, tool, cents, &catalog.currency)],
    );
    meta.image = tool.screenshots.first().map(|s| format!("{site}{}", s.src));
    let page = Page { title: &tool.name, description: &tool.summary, path: "/tools", meta: Some(&meta) };
    rendered(ToolTemplate { page: &page, nav: &NAV, tool, price_label: &price_label }.render())
}

pub struct CourseCard {
    pub course: Course,
    pub price: String,
}

#[derive(Template)]
#[template(path = "content/courses.html")]
struct CoursesTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    cards: &'a [CourseCard],
    filter: &'a CourseFilter,
    levels: &'a [&'a str],
}

pub fn courses_page(site: &str, catalog: &Catalog, courses: Vec<Course>, filter: &CourseFilter) -> Result<String> {
    let mut graph = vec![seo::organization(site)];
    let mut cards = Vec::new();
    for course in courses {
        let (price, cents) = course_price(catalog, &course);
        graph.push(seo::course(site, &course, None, cents, &catalog.currency));
        cards.push(CourseCard { course, price });
    }
    let meta = Meta::new(site, "/courses", "website", graph);
    let page = Page {
        title: "Courses",
        description: "FHIR R4 courses: fundamentals, search and the REST API, SMART on FHIR. Live cohorts with quizzes.",
        path: "/courses",
        meta: Some(&meta),
    };
    rendered(CoursesTemplate { page: &page, nav: &NAV, cards: &cards, filter, levels: &LEVELS }.render())
}

#[derive(Template)]
#[template(path = "content/course.html")]
struct CourseTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    course: &'a Course,
    price: &'a str,
    paid: bool,
    lessons: &'a [LessonLink],
    quizzes: &'a [QuizLink],
    instructor: Option<&'a Author>,
}

pub fn course_page(
    site: &str,
    catalog: &Catalog,
    course: &Course,
    lessons: &[LessonLink],
    quizzes: &[QuizLink],
    instructor: Option<&Author>,
) -> Result<String> {
    let (price, cents) = course_price(catalog, course);
    let path = format!("/courses/{}", course.slug);
    let meta = Meta::new(
        site,
        &path,
        "website",
        vec![seo::organization(site), seo::course(site, course, instructor, cents, &catalog.currency)],
    );
    let page = Page { title: &course.title, description: &course.summary, path: "/courses", meta: Some(&meta) };
    let paid = course.product.is_some();
    rendered(
        CourseTemplate { page: &page, nav: &NAV, course, price: &price, paid, lessons, quizzes, instructor }.render(),
    )
}

#[derive(Template)]
#[template(path = "content/lesson.html")]
struct LessonTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    course: &'a Course,
    lesson: &'a Lesson,
    total: usize,
    prev: Option<&'a LessonLink>,
    next: Option<&'a LessonLink>,
}

pub fn lesson_page(site: &str, course: &Course, lesson: &Lesson, lessons: &[LessonLink]) -> Result<String> {
    let at = lessons.iter().position(|l| l.slug == lesson.slug).unwrap_or(0);
    let path = format!("/courses/{}/{}", course.slug, lesson.slug);
    let title = format!("{} · {}", lesson.title, course.title);
    let description = format!("Lesson {} of {}: {}.", lesson.position, course.title, lesson.title);
    let graph = vec![
        seo::organization(site),
        serde_json::json!({"@type": "LearningResource", "name": lesson.title, "url": format!("{site}{path}"),
            "isPartOf": {"@type": "Course", "name": course.title, "url": format!("{site}/courses/{}", course.slug)},
            "timeRequired": format!("PT{}M", lesson.minutes), "learningResourceType": "lesson", "inLanguage": "en"}),
    ];
    let meta = Meta::new(site, &path, "article", graph);
    let page = Page { title: &title, description: &description, path: "/courses", meta: Some(&meta) };
    let prev = at.checked_sub(1).and_then(|i| lessons.get(i));
    let next = lessons.get(at + 1);
    rendered(LessonTemplate { page: &page, nav: &NAV, course, lesson, total: lessons.len(), prev, next }.render())
}

#[derive(Template)]
#[template(path = "content/quiz.html")]
struct QuizTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    course: &'a Course,
    quiz: &'a QuizLink,
}

pub fn quiz_page(site: &str, course: &Course, quiz: &QuizLink) -> Result<String> {
    let path = format!("/courses/{}/quizzes/{}", course.slug, quiz.slug);
    let title = format!("{} · {}", quiz.title, course.title);
    let description = format!("A {}-question quiz of the course {}.", quiz.questions, course.title);
    let graph = vec![
        seo::organization(site),
        serde_json::json!({"@type": "Quiz", "name": quiz.title, "url": format!("{site}{path}"),
            "isPartOf": {"@type": "Course", "name": course.title, "url": format!("{site}/courses/{}", course.slug)}}),
    ];
    let meta = Meta::new(site, &path, "website", graph);
    let page = Page { title: &title, description: &description, path: "/courses", meta: Some(&meta) };
    rendered(QuizTemplate { page: &page, nav: &NAV, course, quiz }.render())
}

#[derive(Template)]
#[template(path = "content/blog.html")]
struct BlogTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    posts: &'a [Post],
    tag: Option<&'a str>,
}

pub fn blog_page(site: &str, posts: &[Post], tag: Option<&str>) -> Result<String> {
    let list: Vec<serde_json::Value> = posts
        .iter()
        .map(|p| serde_json::json!({"@type": "BlogPosting", "headline": p.title, "url": format!("{site}/blog/{}", p.slug), "datePublished": p.published_on}))
        .collect();
    let graph = vec![
        seo::organization(site),
        serde_json::json!({"@type": "Blog", "name": "The FHIR IQ blog", "url": format!("{site}/blog"), "blogPost": list}),
    ];
    let meta = Meta::new(site, "/blog", "website", graph);
    let page = Page {
        title: "Blog",
        description: "Practical FHIR R4 for developers: search, transactions, OperationOutcome, SMART on FHIR.",
        path: "/blog",
        meta: Some(&meta),
    };
    rendered(BlogTemplate { page: &page, nav: &NAV, posts, tag }.render())
}

#[derive(Template)]
#[template(path = "content/post.html")]
struct PostTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    post: &'a Post,
    author: Option<&'a Author>,
    related: &'a [&'a Post],
    share_url: String,
    share_text: String,
}

pub fn post_page(site: &str, post: &Post, author: Option<&Author>, related: &[&Post]) -> Result<String> {
    let path = format!("/blog/{}", post.slug);
    let meta = Meta::new(site, &path, "article", vec![seo::organization(site), seo::blog_posting(site, post, author)]);
    let page = Page { title: &post.title, description: &post.summary, path: "/blog", meta: Some(&meta) };
    let share_url = super::urlencode(&meta.canonical);
    let share_text = super::urlencode(&post.title).replace('+', "%20");
    rendered(PostTemplate { page: &page, nav: &NAV, post, author, related, share_url, share_text }.render())
}

pub struct SitemapUrl {
    pub path: String,
    pub lastmod: Option<String>,
}

#[derive(Template)]
#[template(path = "content/sitemap.xml")]
struct SitemapTemplate<'a> {
    site: &'a str,
    urls: &'a [SitemapUrl],
}

/// The static pages and every published content page.
pub fn sitemap(site: &str, rows: &[SitemapRow]) -> Result<String> {
    let mut urls: Vec<SitemapUrl> =
        ["/", "/about", "/pricing", "/chat", "/tools", "/courses", "/blog", "/fhir/R4", "/status"]
            .into_iter()
            .map(|p| SitemapUrl { path: p.to_owned(), lastmod: None })
            .collect();
    urls.extend(rows.iter().map(|r| SitemapUrl {
        path: r.path.clone(),
        lastmod: Some(crate::time::to_rfc3339(r.updated_at)[..10].to_owned()),
    }));
    rendered(SitemapTemplate { site, urls: &urls }.render())
}

#[derive(Template)]
#[template(path = "content/feed.xml")]
struct FeedTemplate<'a> {
    site: &'a str,
    updated: String,
    posts: &'a [Post],
}

/// The Atom feed of the newest 20 posts.
pub fn feed(site: &str, posts: &[Post]) -> Result<String> {
    let posts = &posts[..posts.len().min(20)];
    let updated = posts
        .iter()
        .map(|p| p.updated_on.clone().unwrap_or_else(|| p.published_on.clone()))
        .max()
        .map_or_else(|| "2026-01-01T00:00:00Z".to_owned(), |d| format!("{d}T00:00:00Z"));
    rendered(FeedTemplate { site, updated, posts }.render())
}

#[derive(Template)]
#[template(path = "content/admin.html")]
struct AdminTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

pub fn admin_page() -> Result<String> {
    let page = Page {
        title: "Content admin",
        description: "Create, edit and publish content.",
        path: "/admin/content",
        meta: None,
    };
    rendered(AdminTemplate { page: &page, nav: &NAV }.render())
}
