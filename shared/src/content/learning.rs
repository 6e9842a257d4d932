//! Quizzes (`take_quizzes`) and progress (`user_progress`). Quizzes are scored here, on the server:
//! the right answers and explanations are read only by [`submit`] and leave only in its answer. A
//! course's percentage counts lessons and required quizzes as equal steps; it is complete only when
//! every lesson is done and every required quiz is passed.

use super::model::Question;
use crate::error::{Error, Result};
use crate::events::{self, EventType};
use crate::ids;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
struct QuizRow {
    title: String,
    pass_mark: i64,
    required: i64,
    intro_html: String,
    questions: String,
}

async fn quiz_row(db: &impl Database, course: &str, quiz: &str) -> Result<(QuizRow, Vec<Question>)> {
    let row: QuizRow = db
        .query_first(
            Statement::new(
                "SELECT title, pass_mark, required, intro_html, questions FROM content_quizzes
                 WHERE course_slug = ?1 AND slug = ?2",
            )
            .bind(course)
            .bind(quiz),
        )
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no quiz {quiz:?} in {course:?}.")))?;
    let questions: Vec<Question> =
        serde_json::from_str(&row.questions).map_err(|e| Error::internal("reading a quiz", e))?;
    Ok((row, questions))
}

/// A question as the browser sees it before submitting: no answer, no explanation.
#[derive(Debug, Serialize)]
pub struct AskedQuestion {
    pub id: String,
    pub prompt: String,
    pub kind: String,
    pub choices: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuizView {
    pub title: String,
    pub pass_mark: i64,
    pub required: bool,
    pub intro_html: String,
    pub questions: Vec<AskedQuestion>,
    pub attempts: Vec<AttemptSummary>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct AttemptSummary {
    pub percent: i64,
    #[serde(deserialize_with = "super::views::flag")]
    pub passed: bool,
    pub created_at: i64,
}

pub async fn view(db: &impl Database, user_id: &str, course: &str, quiz: &str) -> Result<QuizView> {
    let (row, questions) = quiz_row(db, course, quiz).await?;
    let attempts: Vec<AttemptSummary> = db
        .query(
            Statement::new(
                "SELECT percent, passed, created_at FROM quiz_attempts
                 WHERE user_id = ?1 AND course_slug = ?2 AND quiz_slug = ?3 ORDER BY created_at DESC LIMIT 20",
            )
            .bind(user_id)
            .bind(course)
            .bind(quiz),
        )
        .await?;
    Ok(QuizView {
        title: row.title,
        pass_mark: row.pass_mark,
        required: row.required == 1,
        intro_html: row.intro_html,
        questions: questions
            .into_iter()
            .map(|q| AskedQuestion { id: q.id, prompt: q.prompt, kind: q.kind, choices: q.choices })
            .collect(),
        attempts,
    })
}

/// `{"answers": {"<question id>": [choice indexes]}}`. An unanswered question counts as wrong.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub answers: BTreeMap<String, Vec<usize>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionResult {
    pub id: String,
    pub chosen: Vec<usize>,
    pub correct: bool,
    pub answer: Vec<usize>,
    pub explanation: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scored {
    pub attempt_id: String,
    pub correct: usize,
    pub total: usize,
    pub percent: i64,
    pub pass_mark: i64,
    pub passed: bool,
    pub results: Vec<QuestionResult>,
    pub progress: Progress,
}

/// Scores `submission` against the stored answers. Pure: the rules in one place.
pub fn score(questions: &[Question], submission: &Submission) -> Result<Vec<QuestionResult>> {
    for (id, chosen) in &submission.answers {
        let question = questions
            .iter()
            .find(|q| &q.id == id)
            .ok_or_else(|| Error::Unprocessable(format!("answers: there is no question {id:?} in this quiz")))?;
        if chosen.iter().any(|&c| c >= question.choices.len()) {
            return Err(Error::Unprocessable(format!("answers.{id}: choose from 0 to {}", question.choices.len() - 1)));
        }
        if question.kind == "single" && chosen.len() > 1 {
            return Err(Error::Unprocessable(format!("answers.{id}: this question takes one choice")));
        }
    }
    Ok(questions
        .iter()
        .map(|q| {
            let mut chosen = submission.answers.get(&q.id).cloned().unwrap_or_default();
            chosen.sort_unstable();
            chosen.dedup();
            let mut answer = q.answer.clone();
            answer.sort_unstable();
            QuestionResult {
                id: q.id.clone(),
                correct: chosen == answer,
                chosen,
                answer,
                explanation: q.explanation.clone(),
            }
        })
        .collect())
}

fn percent(correct: usize, total: usize) -> i64 {
    (correct * 100).checked_div(total).unwrap_or(0) as i64
}

/// Scores and stores one attempt (its answers in the same batch), then the course progress.
pub async fn submit(
    db: &impl Database,
    user_id: &str,
    course: &str,
    quiz: &str,
    submission: &Submission,
    now: Millis,
) -> Result<Scored> {
    let (row, questions) = quiz_row(db, course, quiz).await?;
    let results = score(&questions, submission)?;
    let correct = results.iter().filter(|r| r.correct).count();
    let total = results.len();
    let pct = percent(correct, total);
    let passed = pct >= row.pass_mark;
    let before = progress(db, user_id, course).await?;
    let attempt_id = ids::new_id()?;
    let mut statements = vec![
        Statement::new(
            "INSERT INTO quiz_attempts (id, user_id, course_slug, quiz_slug, correct, total, percent, passed, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(attempt_id.as_str())
        .bind(user_id)
        .bind(course)
        .bind(quiz)
        .bind(correct as i64)
        .bind(total as i64)
        .bind(pct)
        .bind(passed)
        .bind(now),
    ];
    for r in &results {
        statements.push(
            Statement::new(
                "INSERT INTO quiz_answers (attempt_id, question_id, chosen, correct) VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(attempt_id.as_str())
            .bind(r.id.as_str())
            .bind(json!(r.chosen).to_string())
            .bind(r.correct),
        );
    }
    statements.push(events::statement(
        Some(user_id),
        &EventType::parse("quiz.submitted")?,
        &json!({"course": course, "quiz": quiz, "percent": pct, "passed": passed}),
        now,
    )?);
    db.batch(statements).await?;
    let progress = progress(db, user_id, course).await?;
    log_completion(db, user_id, course, &before, &progress, now).await?;
    Ok(Scored { attempt_id, correct, total, percent: pct, pass_mark: row.pass_mark, passed, results, progress })
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuizProgress {
    pub slug: String,
    pub title: String,
    pub required: bool,
    pub passed: bool,
    pub best_percent: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub lessons_completed: Vec<String>,
    pub lessons_total: usize,
    pub quizzes: Vec<QuizProgress>,
    pub percent: i64,
    pub complete: bool,
}

#[derive(Debug, Deserialize)]
struct Slug {
    slug: String,
}

#[derive(Debug, Deserialize)]
struct QuizBest {
    slug: String,
    title: String,
    required: i64,
    best: Option<i64>,
    passed: i64,
}

pub async fn progress(db: &impl Database, user_id: &str, course: &str) -> Result<Progress> {
    let lessons: Vec<Slug> = db
        .query(Statement::new("SELECT slug FROM content_lessons WHERE course_slug = ?1 ORDER BY position").bind(course))
        .await?;
    // Only lessons that still exist count (a lesson removed from content leaves its rows behind).
    let done: Vec<Slug> = db
        .query(
            Statement::new(
                "SELECT p.lesson_slug AS slug FROM user_progress p
                 JOIN content_lessons l ON l.course_slug = p.course_slug AND l.slug = p.lesson_slug
                 WHERE p.user_id = ?1 AND p.course_slug = ?2 ORDER BY l.position",
            )
            .bind(user_id)
            .bind(course),
        )
        .await?;
    let quizzes: Vec<QuizBest> = db
        .query(
            Statement::new(
                "SELECT q.slug, q.title, q.required,
                        (SELECT MAX(a.percent) FROM quiz_attempts a
                         WHERE a.user_id = ?1 AND a.course_slug = q.course_slug AND a.quiz_slug = q.slug) AS best,
                        EXISTS (SELECT 1 FROM quiz_attempts a WHERE a.user_id = ?1 AND a.course_slug = q.course_slug
                                AND a.quiz_slug = q.slug AND a.passed = 1) AS passed
                 FROM content_quizzes q WHERE q.course_slug = ?2 ORDER BY q.required DESC, q.slug",
            )
            .bind(user_id)
            .bind(course),
        )
        .await?;
    let required: Vec<&QuizBest> = quizzes.iter().filter(|q| q.required == 1).collect();
    let steps = lessons.len() + required.len();
    let done_steps = done.len() + required.iter().filter(|q| q.passed == 1).count();
    let complete = steps > 0 && done_steps == steps;
    Ok(Progress {
        lessons_completed: done.into_iter().map(|s| s.slug).collect(),
        lessons_total: lessons.len(),
        percent: (done_steps * 100).checked_div(steps).unwrap_or(0) as i64,
        complete,
        quizzes: quizzes
            .into_iter()
            .map(|q| QuizProgress {
                slug: q.slug,
                title: q.title,
                required: q.required == 1,
                passed: q.passed == 1,
                best_percent: q.best,
            })
            .collect(),
    })
}

async fn log_completion(
    db: &impl Database,
    user_id: &str,
    course: &str,
    before: &Progress,
    after: &Progress,
    now: Millis,
) -> Result<()> {
    if after.complete && !before.complete {
        events::log(db, Some(user_id), &EventType::parse("course.completed")?, &json!({"course": course}), now).await?;
    }
    Ok(())
}

/// Marks a lesson done. Again is a no-op (one row per lesson), so a reload never double-counts.
pub async fn complete_lesson(
    db: &impl Database,
    user_id: &str,
    course: &str,
    lesson: &str,
    now: Millis,
) -> Result<Progress> {
    let before = progress(db, user_id, course).await?;
    let changed = db
        .execute(
            Statement::new(
                "INSERT INTO user_progress (user_id, course_slug, lesson_slug, completed_at)
                 SELECT ?1, course_slug, slug, ?4 FROM content_lessons WHERE course_slug = ?2 AND slug = ?3
                 ON CONFLICT (user_id, course_slug, lesson_slug) DO NOTHING",
            )
            .bind(user_id)
            .bind(course)
            .bind(lesson)
            .bind(now),
        )
        .await?;
    if changed == 0 && !before.lessons_completed.iter().any(|l| l == lesson) {
        return Err(Error::NotFound(format!("There is no lesson {lesson:?} in {course:?}.")));
    }
    let after = progress(db, user_id, course).await?;
    if changed == 1 {
        let properties = json!({"course": course, "lesson": lesson, "percent": after.percent});
        events::log(db, Some(user_id), &EventType::parse("lesson.completed")?, &properties, now).await?;
    }
    log_completion(db, user_id, course, &before, &after, now).await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::enroll::tests::db_with_course;
    use futures::executor::block_on;

    fn answers(pairs: &[(&str, &[usize])]) -> Submission {
        Submission { answers: pairs.iter().map(|(k, v)| ((*k).to_owned(), v.to_vec())).collect() }
    }

    #[test]
    fn the_view_never_carries_answers() {
        let db = db_with_course();
        let view = block_on(view(&db, "u1", "basics", "check")).expect("quiz");
        let json = serde_json::to_string(&view).expect("json");
        assert!(!json.contains("answer") && !json.contains("explanation"), "{json}");
        assert_eq!(view.questions[0].choices, ["a", "b"]);
    }

    #[test]
    fn scoring_needs_exactly_the_right_choices_and_rejects_unknown_ones() {
        let db = db_with_course();
        let wrong = block_on(submit(&db, "u1", "basics", "check", &answers(&[("q1", &[0])]), 1)).expect("scored");
        assert_eq!((wrong.correct, wrong.percent, wrong.passed), (0, 0, false));
        assert_eq!(wrong.results[0].answer, [1], "the answer is revealed after submitting");
        let bad = block_on(submit(&db, "u1", "basics", "check", &answers(&[("q9", &[0])]), 2)).expect_err("unknown");
        assert_eq!(bad.status_code(), 422);
        let out = block_on(submit(&db, "u1", "basics", "check", &answers(&[("q1", &[5])]), 2)).expect_err("range");
        assert_eq!(out.status_code(), 422);
        let right = block_on(submit(&db, "u1", "basics", "check", &answers(&[("q1", &[1])]), 3)).expect("retake");
        assert!(right.passed && right.percent == 100);
        let count: Vec<Slug> =
            block_on(db.query(Statement::new("SELECT id AS slug FROM quiz_attempts"))).expect("attempts");
        assert_eq!(count.len(), 2, "both attempts are kept");
    }

    #[test]
    fn progress_counts_each_lesson_once_and_completes_only_with_the_required_quiz() {
        let db = db_with_course(); // two lessons, one required quiz: three steps
        let p = block_on(complete_lesson(&db, "u1", "basics", "intro", 1)).expect("lesson");
        assert_eq!(p.percent, 33);
        let again = block_on(complete_lesson(&db, "u1", "basics", "intro", 2)).expect("reload");
        assert_eq!(again.percent, 33, "a reload does not count twice");
        let p = block_on(complete_lesson(&db, "u1", "basics", "more", 3)).expect("lesson");
        assert_eq!((p.percent, p.complete), (66, false), "not complete before the required quiz");
        block_on(submit(&db, "u1", "basics", "check", &answers(&[("q1", &[1])]), 4)).expect("pass");
        let p = block_on(progress(&db, "u1", "basics")).expect("progress");
        assert_eq!((p.percent, p.complete), (100, true));
        assert!(block_on(complete_lesson(&db, "u1", "basics", "nope", 5)).is_err());
    }
}
