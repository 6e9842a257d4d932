//! The content routes and their policies, decided here and tested natively; the site worker only
//! carries them out: which API calls need a seat in the course, and how each page is cached (the
//! key's query parameters, how long KV keeps it, what browsers are told, whether seat counts show).

/// The content API (functions/site/src/content.rs matches every one of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentApi {
    /// `GET /api/tools?category=&tag=&featured=1`.
    Tools,
    /// `GET /api/courses?level=&open=1`, with seats left.
    Courses,
    CourseEnroll,
    /// The caller's enrolment, progress and bookings in one course.
    CourseProgress,
    LessonComplete,
    /// A quiz's questions without their answers, and the caller's attempts.
    Quiz,
    QuizAttempt,
    CourseResource,
    AdminContentList,
    AdminContentGet,
    AdminContentPut,
    AdminContentPublish,
    AdminContentUnpublish,
}

/// The server-rendered content pages (cached in KV by content generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentPage {
    Tools,
    Tool,
    Courses,
    Course,
    Lesson,
    Quiz,
    Blog,
    Post,
    Feed,
    Sitemap,
    Robots,
}

impl ContentApi {
    /// A course's lessons, quizzes and downloads are for the students with an active seat in it.
    pub fn needs_seat(self) -> bool {
        matches!(self, Self::LessonComplete | Self::Quiz | Self::QuizAttempt | Self::CourseResource)
    }

    /// The calls that take a JSON body.
    pub fn takes_body(self) -> bool {
        matches!(self, Self::QuizAttempt | Self::AdminContentPut)
    }
}

/// Which seat counts a page shows: its cache key carries their fingerprint, so an enrolment changes
/// the key of the pages that show it and of no other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seats {
    None,
    /// Every course's (the course list).
    AllCourses,
    /// The course of the page's `{slug}`.
    OneCourse,
}

/// `"1"`, `"true"` or `"yes"`.
pub fn flag(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "true" | "yes"))
}

impl ContentPage {
    /// The cache key's path: the page and only the query parameters it reads, in a fixed order, so
    /// `?utm_source=...` and the like neither bust nor pollute the cache. `query` reads one
    /// parameter (trimmed; None when absent or empty).
    pub fn cache_path(self, path: &str, query: impl Fn(&str) -> Option<String>) -> String {
        let q = |name: &str| query(name).unwrap_or_default();
        let f = |name: &str| flag(query(name).as_deref());
        match self {
            Self::Tools => format!("{path}?c={}&t={}&f={}", q("category"), q("tag"), f("featured")),
            Self::Courses => format!("{path}?l={}&o={}", q("level"), f("open")),
            Self::Blog => format!("{path}?t={}", q("tag")),
            _ => path.to_owned(),
        }
    }

    pub fn seats(self) -> Seats {
        match self {
            Self::Courses => Seats::AllCourses,
            Self::Course => Seats::OneCourse,
            _ => Seats::None,
        }
    }

    /// How long KV keeps the rendered page: pages with seat counts expire sooner (a lapsed checkout
    /// hold frees a seat without a content change).
    pub fn ttl_seconds(self) -> u64 {
        if self.seats() == Seats::None { super::cache::PAGE_TTL_SECONDS } else { super::cache::COURSE_TTL_SECONDS }
    }

    /// What browsers and CDNs are told: seats change with every enrolment, so pages showing them are
    /// revalidated; the rest may be reused for five minutes.
    pub fn cache_control(self) -> &'static str {
        if self.seats() == Seats::None { "public, max-age=300" } else { "public, max-age=0, must-revalidate" }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Feed => "application/atom+xml; charset=utf-8",
            Self::Sitemap => "application/xml; charset=utf-8",
            Self::Robots => "text/plain; charset=utf-8",
            _ => "text/html; charset=utf-8",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_quizzes_and_downloads_need_a_seat_and_nothing_else_does() {
        use ContentApi::*;
        let all = [
            Tools,
            Courses,
            CourseEnroll,
            CourseProgress,
            LessonComplete,
            Quiz,
            QuizAttempt,
            CourseResource,
            AdminContentList,
            AdminContentGet,
            AdminContentPut,
            AdminContentPublish,
            AdminContentUnpublish,
        ];
        let seated: Vec<ContentApi> = all.into_iter().filter(|a| a.needs_seat()).collect();
        assert_eq!(seated, [LessonComplete, Quiz, QuizAttempt, CourseResource]);
        let bodies: Vec<ContentApi> = all.into_iter().filter(|a| a.takes_body()).collect();
        assert_eq!(bodies, [QuizAttempt, AdminContentPut]);
    }

    #[test]
    fn a_cache_key_holds_only_the_parameters_its_page_reads_in_a_fixed_order() {
        let query = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let tools = ContentPage::Tools
            .cache_path("/tools", query(&[("utm_source", "x"), ("tag", "smart"), ("featured", "yes")]));
        assert_eq!(tools, "/tools?c=&t=smart&f=true");
        let courses = ContentPage::Courses.cache_path("/courses", query(&[("open", "1"), ("level", "beginner")]));
        assert_eq!(courses, "/courses?l=beginner&o=true");
        assert_eq!(ContentPage::Blog.cache_path("/blog", query(&[("tag", "r4"), ("page", "2")])), "/blog?t=r4");
        assert_eq!(ContentPage::Post.cache_path("/blog/a", query(&[("tag", "r4")])), "/blog/a");
        assert!(!flag(Some("0")) && !flag(None) && flag(Some("true")));
    }

    #[test]
    fn pages_with_seat_counts_expire_sooner_and_are_revalidated() {
        for page in [ContentPage::Courses, ContentPage::Course] {
            assert_ne!(page.seats(), Seats::None);
            assert_eq!(page.ttl_seconds(), super::super::cache::COURSE_TTL_SECONDS);
            assert_eq!(page.cache_control(), "public, max-age=0, must-revalidate");
        }
        assert_eq!(ContentPage::Lesson.seats(), Seats::None);
        assert_eq!(ContentPage::Lesson.ttl_seconds(), super::super::cache::PAGE_TTL_SECONDS);
        assert_eq!(ContentPage::Post.cache_control(), "public, max-age=300");
        assert!(ContentPage::Feed.content_type().starts_with("application/atom+xml"));
        assert!(ContentPage::Quiz.content_type().starts_with("text/html"));
    }
}
