//! One content document: TOML front matter between `+++` lines, then Markdown. The Markdown becomes
//! sanitized HTML here, once, when a document is stored; pages only ever print the stored HTML.

use crate::error::{Error, Result};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// Documents larger than this are refused (a lesson is a few thousand words).
pub const MAX_DOCUMENT_BYTES: usize = 128 * 1024;

/// A rule broken by a document: the field and what is wrong. The caller adds the file or entry.
pub fn invalid(field: &str, message: impl std::fmt::Display) -> Error {
    Error::Unprocessable(format!("{field}: {message}"))
}

/// Splits `+++\n<toml>\n+++\n<markdown>` and deserializes the front matter (unknown keys are errors
/// when `T` denies them).
pub fn split<T: DeserializeOwned>(text: &str) -> Result<(T, &str)> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::PayloadTooLarge(format!(
            "the document is {} bytes; the limit is {MAX_DOCUMENT_BYTES}",
            text.len()
        )));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or_else(|| invalid("front matter", "the document must start with a line of +++"))?;
    let end = rest
        .match_indices("+++")
        .find(|(i, _)| *i == 0 || rest[..*i].ends_with('\n'))
        .map(|(i, _)| i)
        .ok_or_else(|| invalid("front matter", "no closing line of +++"))?;
    let front = &rest[..end];
    let body = rest[end + 3..].trim_start_matches(['\r', '\n']);
    let parsed = toml::from_str::<T>(front).map_err(|e| invalid("front matter", e.message().trim_end()))?;
    Ok((parsed, body))
}

/// Hex SHA-256 of the document: what the sync compares to know whether a file changed.
pub fn hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Markdown (CommonMark with tables and strikethrough) to sanitized HTML.
pub fn markdown_to_html(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    sanitize(&html)
}

/// Removes everything but an allow-list of tags and attributes: no `<script>`, `<style>`, `<iframe>`,
/// no event handlers, no `javascript:` URLs. Links get `rel="noopener noreferrer"`; code blocks keep
/// only their `language-*` class.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .add_tag_attributes("code", &["class"])
        .attribute_filter(|element, attribute, value| {
            if element == "code" && attribute == "class" {
                let ok = value.strip_prefix("language-").is_some_and(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '+')
                });
                return ok.then(|| value.into());
            }
            Some(value.into())
        })
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string()
}

/// The Markdown's words without markup: for search, meta descriptions and the knowledge base.
pub fn markdown_to_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock | TagEnd::TableRow,
            ) => {
                text.push('\n');
            }
            Event::Start(Tag::TableCell) | Event::End(TagEnd::TableCell) => text.push(' '),
            _ => {}
        }
    }
    text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// Lower-case letters, digits and `-`, 1 to 64 characters, not starting or ending with `-`.
pub fn check_slug(field: &str, slug: &str) -> Result<()> {
    let ok = (1..=64).contains(&slug.len())
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(field, format!("{slug:?} must be a slug: a-z, 0-9 and '-', 1 to 64 characters")))
    }
}

/// A required text of `min..=max` characters (trimmed).
pub fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let n = value.trim().chars().count();
    if n < min.max(1) {
        return Err(invalid(
            field,
            if min <= 1 { "is required".to_owned() } else { format!("needs at least {min} characters") },
        ));
    }
    if n > max {
        return Err(invalid(field, format!("is {n} characters; at most {max}")));
    }
    Ok(())
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn check_date(field: &str, value: &str) -> Result<()> {
    let parsed = crate::time::parse_rfc3339(&format!("{value}T00:00:00Z"));
    let canonical = parsed.map(|ms| crate::time::to_rfc3339(ms)[..10].to_owned());
    if value.len() == 10 && canonical.as_deref() == Some(value) {
        Ok(())
    } else {
        Err(invalid(field, format!("{value:?} is not a date like 2027-01-31")))
    }
}

/// A site path (`/tools/x`) or an `https://` URL.
pub fn check_link(field: &str, value: &str) -> Result<()> {
    let path = value.starts_with('/') && !value.starts_with("//");
    let https = value.strip_prefix("https://").is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    let safe = !value.chars().any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>' || c == '\\');
    if (path || https) && safe && value.len() <= 500 {
        Ok(())
    } else {
        Err(invalid(field, format!("{value:?} must be a site path starting with / or an https:// URL")))
    }
}

pub fn check_tags(field: &str, tags: &[String]) -> Result<()> {
    if tags.is_empty() || tags.len() > 8 {
        return Err(invalid(field, format!("has {} tags; give 1 to 8", tags.len())));
    }
    for tag in tags {
        check_slug(field, tag)?;
    }
    Ok(())
}

pub fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(invalid(field, format!("{value:?} is not one of {}", allowed.join(", "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Front {
        title: String,
    }

    #[test]
    fn front_matter_and_body_are_split() {
        let (front, body) = split::<Front>("+++\ntitle = \"Hi\"\n+++\n\n# Body\n").expect("valid");
        assert_eq!(front.title, "Hi");
        assert_eq!(body, "# Body\n");
    }

    #[test]
    fn broken_front_matter_says_what_is_wrong() {
        let no_start = split::<Front>("title = 1\n").expect_err("no +++");
        assert!(no_start.to_string().contains("must start with a line of +++"), "{no_start}");
        let unclosed = split::<Front>("+++\ntitle = \"x\"\n").expect_err("unclosed");
        assert!(unclosed.to_string().contains("closing"), "{unclosed}");
        let unknown = split::<Front>("+++\ntitle = \"x\"\ntitel = \"y\"\n+++\n").expect_err("unknown key");
        assert!(unknown.to_string().contains("titel"), "{unknown}");
        let missing = split::<Front>("+++\n+++\n").expect_err("missing title");
        assert!(missing.to_string().contains("title"), "{missing}");
        assert_eq!(missing.status_code(), 422);
    }

    #[test]
    fn markdown_renders_and_script_never_survives() {
        let html = markdown_to_html(
            "## Search\n\n`_count`\n\n```json\n{\"a\": 1}\n```\n\n<script>alert(1)</script>\n\n\
             <img src=x onerror=\"alert(2)\">\n\n[x](javascript:alert(3)) [ok](https://hl7.org/fhir/R4/)\n\n\
             <code class=\"evil language-json\">c</code>",
        );
        assert!(html.contains("<h2>Search</h2>"), "{html}");
        assert!(html.contains("<code class=\"language-json\">"), "{html}");
        assert!(html.contains("href=\"https://hl7.org/fhir/R4/\" rel=\"noopener noreferrer\""), "{html}");
        for bad in ["<script", "alert(1)", "onerror", "javascript:", "evil"] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
    }

    #[test]
    fn text_keeps_words_and_drops_markup() {
        let text = markdown_to_text("## Title\n\nSome **bold** and `code`.\n\n- one\n- two\n");
        assert_eq!(text, "Title\nSome bold and code.\none\ntwo");
    }

    #[test]
    fn field_checks() {
        assert!(check_slug("slug", "fhir-search-101").is_ok());
        for bad in ["", "Caps", "a b", "-x", "x-", &"a".repeat(65), "ü"] {
            assert!(check_slug("slug", bad).is_err(), "{bad:?}");
        }
        assert!(check_date("starts", "2027-02-28").is_ok());
        for bad in ["2027-02-30", "2027-2-1", "27-01-01", "tomorrow"] {
            assert!(check_date("starts", bad).is_err(), "{bad:?}");
        }
        assert!(check_link("url", "/chat").is_ok());
        assert!(check_link("url", "https://calendly.com/x").is_ok());
        for bad in ["javascript:alert(1)", "//evil.example", "http://insecure.example", "/a b", "https://"] {
            assert!(check_link("url", bad).is_err(), "{bad:?}");
        }
        assert!(check_text("summary", "  ", 1, 10).is_err());
        assert!(check_text("summary", "short", 20, 300).expect_err("an error").to_string().contains("at least 20"));
        assert!(check_tags("tags", &[]).is_err());
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Lesson {
        title: String,
        minutes: i64,
        tags: Vec<String>,
    }

    /// A TOML basic string: quotes, backslashes and control characters escaped, all else as it is.
    fn toml_string(value: &str) -> String {
        let mut out = String::from("\"");
        for c in value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    /// Text with what the splitter looks for: `+++` (alone, in a line, at a line's start), line ends.
    fn text() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            Just("+++".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("\n+++\n".to_owned()),
            Just("\u{feff}".to_owned()),
            Just("title = ".to_owned()),
            Just("\"".to_owned()),
            ".{0,10}",
        ];
        vec(fragment, 0..12).prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(crate::testing::properties(2_000))]

        #[test]
        fn written_front_matter_and_any_body_read_back_unchanged(
            title in text(),
            minutes in any::<i64>(),
            tags in vec(text(), 0..4),
            body in text(),
            crlf in any::<bool>(),
            bom in any::<bool>(),
        ) {
            // The body keeps everything after the closing line except the line ends that start it.
            let body = body.trim_start_matches(['\r', '\n']);
            let eol = if crlf { "\r\n" } else { "\n" };
            let tag_list = tags.iter().map(|t| toml_string(t)).collect::<Vec<_>>().join(", ");
            let document = format!(
                "{}+++{eol}title = {}{eol}minutes = {minutes}{eol}tags = [{tag_list}]{eol}+++{eol}{body}",
                if bom { "\u{feff}" } else { "" },
                toml_string(&title),
            );
            let (front, read_body) = split::<Lesson>(&document).expect("a valid document");
            prop_assert_eq!(&front.title, &title);
            prop_assert_eq!(front.minutes, minutes);
            prop_assert_eq!(&front.tags, &tags);
            prop_assert_eq!(read_body, body);
        }

        #[test]
        fn any_text_splits_or_is_refused_with_422_and_a_body_is_what_follows_a_plus_line(text in text()) {
            match split::<toml::Table>(&text) {
                Ok((_, body)) => {
                    let unmarked = text.strip_prefix('\u{feff}').unwrap_or(&text);
                    prop_assert!(unmarked.starts_with("+++\n") || unmarked.starts_with("+++\r\n"), "{:?}", text);
                    prop_assert!(text.ends_with(body), "the body is the document's end");
                    let head = &text[..text.len() - body.len()];
                    let head = head.trim_end_matches(['\r', '\n']);
                    prop_assert!(head.ends_with("+++"), "{:?}", head);
                }
                Err(error) => prop_assert_eq!(error.status_code(), 422, "{}", error),
            }
        }
    }
}
