//! The whole of `content/`, validated together: every file on its own, then the references between
//! them (a post's author, a course's instructor, a course's listed resources). Every problem is
//! reported, each line naming its file, so an author fixes them in one pass.

use super::model::{self, Author, Course, Lesson, Post, Quiz, Tool};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceFile {
    pub file: String,
    pub title: String,
    pub media_type: &'static str,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CourseBundle {
    pub course: Course,
    pub lessons: Vec<Lesson>,
    pub quizzes: Vec<Quiz>,
    pub resources: Vec<ResourceFile>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bundle {
    pub authors: Vec<Author>,
    pub tools: Vec<Tool>,
    pub posts: Vec<Post>,
    pub courses: Vec<CourseBundle>,
}

/// `a/b/c.md` → `c`.
fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

impl Bundle {
    /// Builds the bundle from `(path relative to content/, text)` pairs.
    pub fn from_files(files: &[(String, String)]) -> Result<Self> {
        let mut bundle = Bundle::default();
        let mut errors: Vec<String> = Vec::new();
        let mut note = |path: &str, e: Error| errors.push(format!("content/{path}: {e}"));
        let mut course_files: Vec<(&str, &str, &str)> = Vec::new(); // (course, rest, text)
        for (path, text) in files {
            let parts: Vec<&str> = path.split('/').collect();
            match parts.as_slice() {
                ["authors", file] if file.ends_with(".md") => match model::author(stem(file), text) {
                    Ok(a) => bundle.authors.push(a),
                    Err(e) => note(path, e),
                },
                ["tools", file] if file.ends_with(".md") => match model::tool(stem(file), text) {
                    Ok(t) => bundle.tools.push(t),
                    Err(e) => note(path, e),
                },
                ["posts", file] if file.ends_with(".md") => match model::post(stem(file), text) {
                    Ok(p) => bundle.posts.push(p),
                    Err(e) => note(path, e),
                },
                ["courses", course, _, ..] => {
                    course_files.push((course, &path[("courses/".len() + course.len() + 1)..], text));
                }
                _ if parts.last().is_some_and(|f| f.starts_with('.') || *f == "README.md") => {}
                _ => note(path, Error::Unprocessable("is not where content goes (see docs/content.md)".into())),
            }
        }
        let mut slugs: Vec<&str> = course_files.iter().map(|(c, _, _)| *c).collect();
        slugs.dedup();
        for slug in slugs {
            let mine: Vec<(&str, &str)> =
                course_files.iter().filter(|(c, _, _)| *c == slug).map(|(_, rest, text)| (*rest, *text)).collect();
            let path = |rest: &str| format!("courses/{slug}/{rest}");
            let Some((_, text)) = mine.iter().find(|(rest, _)| *rest == "course.md") else {
                note(&path("course.md"), Error::Unprocessable("is missing".into()));
                continue;
            };
            let course = match model::course(slug, text) {
                Ok(course) => course,
                Err(e) => {
                    note(&path("course.md"), e);
                    continue;
                }
            };
            let mut lessons = Vec::new();
            let mut quizzes = Vec::new();
            let mut resources = Vec::new();
            for (rest, text) in &mine {
                match rest.split_once('/') {
                    None if *rest == "course.md" => {}
                    Some(("lessons", file)) if file.ends_with(".md") => match model::lesson(stem(file), text) {
                        Ok(l) => lessons.push(l),
                        Err(e) => note(&path(rest), e),
                    },
                    Some(("quizzes", file)) if file.ends_with(".md") => match model::quiz(stem(file), text) {
                        Ok(q) => quizzes.push(q),
                        Err(e) => note(&path(rest), e),
                    },
                    Some(("resources", file)) => match course.front.resources.iter().find(|r| r.file == *file) {
                        Some(_) if text.len() > model::MAX_RESOURCE_BYTES => note(
                            &path(rest),
                            Error::PayloadTooLarge(format!("is larger than {} KiB", model::MAX_RESOURCE_BYTES / 1024)),
                        ),
                        Some(listed) => resources.push(ResourceFile {
                            file: listed.file.clone(),
                            title: listed.title.clone(),
                            media_type: file
                                .rsplit_once('.')
                                .and_then(|(_, ext)| model::media_type(ext))
                                .unwrap_or("text/plain"),
                            body: (*text).to_owned(),
                        }),
                        None => {
                            note(&path(rest), Error::Unprocessable("is not listed in course.md's [[resources]]".into()))
                        }
                    },
                    _ => note(&path(rest), Error::Unprocessable("is not where course content goes".into())),
                }
            }
            for listed in &course.front.resources {
                if !resources.iter().any(|r| r.file == listed.file) {
                    note(
                        &path("course.md"),
                        Error::Unprocessable(format!("resources: {:?} is not in resources/", listed.file)),
                    );
                }
            }
            lessons.sort_by_key(|l| l.position);
            for pair in lessons.windows(2) {
                if pair[0].position == pair[1].position || pair[0].slug == pair[1].slug {
                    note(
                        &path("lessons"),
                        Error::Unprocessable(format!("two lessons share {:02} or a slug", pair[1].position)),
                    );
                }
            }
            if lessons.is_empty() {
                note(&path("lessons"), Error::Unprocessable("a course needs at least one lesson".into()));
            }
            quizzes.sort_by(|a, b| a.slug.cmp(&b.slug));
            bundle.courses.push(CourseBundle { course, lessons, quizzes, resources });
        }
        let authors: Vec<&str> = bundle.authors.iter().map(|a| a.slug.as_str()).collect();
        for post in &bundle.posts {
            if !authors.contains(&post.front.author.as_str()) {
                note(
                    &format!("posts/{}.md", post.slug),
                    Error::Unprocessable(format!("author: no author {:?} in content/authors", post.front.author)),
                );
            }
        }
        for c in &bundle.courses {
            if !authors.contains(&c.course.front.instructor.as_str()) {
                note(
                    &format!("courses/{}/course.md", c.course.slug),
                    Error::Unprocessable(format!(
                        "instructor: no author {:?} in content/authors",
                        c.course.front.instructor
                    )),
                );
            }
        }
        if errors.is_empty() {
            Ok(bundle)
        } else {
            errors.sort();
            Err(Error::Unprocessable(format!("{} problem(s) in content/:\n{}", errors.len(), errors.join("\n"))))
        }
    }
}

/// Reads every file under `dir` (natively: the sync and the tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn read_dir(dir: &std::path::Path) -> Result<Vec<(String, String)>> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, String)>) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::internal(format!("reading {}", dir.display()), e))?;
        for entry in entries {
            let path = entry.map_err(|e| Error::internal("listing content", e))?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let relative = path.strip_prefix(root).map_err(|e| Error::internal("content path", e))?;
                let name = relative.to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::Unprocessable(format!("content/{name}: is not UTF-8 text ({e})")))?;
                out.push((name, text));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    Ok(files)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Vec<(String, String)> {
        let f = |p: &str, t: &str| (p.to_owned(), t.to_owned());
        vec![
            f("authors/maya.md", "+++\nname = \"Maya\"\ntitle = \"Architect\"\n+++\nBio."),
            f(
                "posts/search.md",
                "+++\ntitle = \"Search\"\nsummary = \"How FHIR search prefixes work.\"\nauthor = \"maya\"\n\
                 published = \"2026-10-01\"\ntags = [\"search\"]\n+++\nPost body about _count.",
            ),
            f(
                "courses/basics/course.md",
                "+++\ntitle = \"Basics\"\nsummary = \"The basics of FHIR resources.\"\nlevel = \"beginner\"\n\
                 instructor = \"maya\"\ncapacity = 2\nstarts = \"2027-01-12\"\nends = \"2027-02-09\"\n\
                 schedule = \"Tuesdays\"\nworkload = \"6 hours\"\n[[resources]]\nfile = \"sheet.md\"\ntitle = \"Sheet\"\n+++\nAbout.",
            ),
            f("courses/basics/lessons/01-intro.md", "+++\ntitle = \"Intro\"\nminutes = 5\n+++\nHello."),
            f("courses/basics/lessons/02-more.md", "+++\ntitle = \"More\"\nminutes = 5\n+++\nMore."),
            f(
                "courses/basics/quizzes/check.md",
                "+++\ntitle = \"Check\"\npass_mark = 50\nrequired = true\n[[questions]]\nid = \"q1\"\nprompt = \"?\"\n\
                 kind = \"single\"\nchoices = [\"a\", \"b\"]\nanswer = [1]\nexplanation = \"b.\"\n+++\n",
            ),
            f("courses/basics/resources/sheet.md", "# Sheet"),
        ]
    }

    #[test]
    fn a_consistent_tree_loads() {
        let bundle = Bundle::from_files(&sample()).expect("valid");
        assert_eq!(bundle.courses.len(), 1);
        let course = &bundle.courses[0];
        assert_eq!(course.lessons.iter().map(|l| l.slug.as_str()).collect::<Vec<_>>(), ["intro", "more"]);
        assert_eq!(course.resources[0].media_type, "text/markdown; charset=utf-8");
    }

    #[test]
    fn every_problem_is_reported_with_its_file() {
        let mut files = sample();
        files[1].1 = files[1].1.replace("author = \"maya\"", "author = \"nobody\"");
        files[3].1 = files[3].1.replace("minutes = 5", "minutes = 0");
        files.push(("courses/basics/resources/extra.json".into(), "{}".into()));
        files.push(("stray.md".into(), "x".into()));
        let error = Bundle::from_files(&files).expect_err("four problems").to_string();
        for expected in [
            "content/posts/search.md: author: no author \"nobody\"",
            "content/courses/basics/lessons/01-intro.md: minutes",
            "content/courses/basics/resources/extra.json: is not listed",
            "content/stray.md: is not where content goes",
        ] {
            assert!(error.contains(expected), "missing {expected:?} in {error}");
        }
        assert!(error.starts_with("4 problem(s)"), "{error}");
    }

    #[test]
    fn the_repository_content_is_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
        let bundle = Bundle::from_files(&read_dir(&dir).expect("content/ is readable")).expect("content/ validates");
        // The floor: three tools, three courses with lessons and quizzes, five posts.
        assert!(bundle.tools.len() >= 3 && bundle.posts.len() >= 5 && bundle.courses.len() >= 3);
        assert!(bundle.courses.iter().all(|c| !c.lessons.is_empty() && !c.quizzes.is_empty()));
        // Every tool shows screenshots, and each one is a file the site serves.
        let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../site");
        for tool in &bundle.tools {
            assert!(!tool.front.screenshots.is_empty(), "{} has no screenshots", tool.slug);
            for shot in &tool.front.screenshots {
                assert!(site.join(shot.src.trim_start_matches('/')).is_file(), "{} is not under site/", shot.src);
            }
        }
    }
}
