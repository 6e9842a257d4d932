//! What search engines and link previews read: canonical URLs, Open Graph, and JSON-LD
//! (schema.org Organization, SoftwareApplication, Course with CourseInstance and Offer, BlogPosting).

use crate::content::views::{Author, Course, Post, Tool};
use serde_json::{Value, json};

/// The head of a server-rendered content page.
#[derive(Debug, Clone)]
pub struct Meta {
    /// Absolute: `SITE_URL` + path.
    pub canonical: String,
    /// `website` or `article`.
    pub og_type: &'static str,
    pub image: Option<String>,
    /// Ready for a `<script type="application/ld+json">`: `<`, `>` and `&` are escaped as JSON
    /// unicode escapes, so no value can close the script element.
    pub json_ld: String,
}

impl Meta {
    pub fn new(site: &str, path: &str, og_type: &'static str, graph: Vec<Value>) -> Self {
        Meta { canonical: format!("{site}{path}"), og_type, image: None, json_ld: script_json(&graph) }
    }
}

pub fn script_json(graph: &[Value]) -> String {
    let document = json!({"@context": "https://schema.org", "@graph": graph});
    document.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

pub fn organization(site: &str) -> Value {
    json!({
        "@type": "Organization",
        "@id": format!("{site}/#organization"),
        "name": "FHIR IQ",
        "url": format!("{site}/"),
        "logo": format!("{site}/favicon.svg"),
        "description": "Learn and build with HL7 FHIR R4: a grounded assistant, code generation, courses and guides.",
    })
}

fn organization_ref(site: &str) -> Value {
    json!({"@id": format!("{site}/#organization")})
}

fn absolute(site: &str, link: &str) -> String {
    if link.starts_with('/') { format!("{site}{link}") } else { link.to_owned() }
}

/// Amount in cents as schema.org wants a price: "49.00".
fn price(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `price`: the plan's monthly price in cents (0 for free).
pub fn software_application(site: &str, tool: &Tool, price_cents: u64, currency: &str) -> Value {
    let mut offer = json!({
        "@type": "Offer",
        "price": price(price_cents),
        "priceCurrency": currency.to_uppercase(),
        "url": format!("{site}/pricing"),
        "category": if price_cents == 0 { "Free" } else { "Subscription" },
    });
    if price_cents > 0 {
        offer["priceSpecification"] = json!({
            "@type": "UnitPriceSpecification", "price": price(price_cents),
            "priceCurrency": currency.to_uppercase(), "unitCode": "MON", "referenceQuantity": {"@type": "QuantitativeValue", "value": 1, "unitCode": "MON"}
        });
    }
    json!({
        "@type": "SoftwareApplication",
        "name": tool.name,
        "description": tool.summary,
        "url": format!("{site}/tools/{}", tool.slug),
        "applicationCategory": "DeveloperApplication",
        "applicationSubCategory": tool.category,
        "operatingSystem": "Web browser",
        "keywords": tool.tags.join(", "),
        "screenshot": tool.screenshots.iter().map(|s| absolute(site, &s.src)).collect::<Vec<_>>(),
        "offers": offer,
        "publisher": organization_ref(site),
    })
}

/// "6 hours" → "PT6H"; anything else is left out (schema.org wants an ISO 8601 duration).
fn iso_duration(workload: &str) -> Option<String> {
    let mut words = workload.split_whitespace();
    let n: u32 = words.next()?.parse().ok()?;
    let unit = words.next()?;
    match unit.trim_end_matches('s') {
        "hour" => Some(format!("PT{n}H")),
        "minute" => Some(format!("PT{n}M")),
        "week" => Some(format!("P{n}W")),
        _ => None,
    }
}

pub fn person(site: &str, author: &Author) -> Value {
    let mut person = json!({"@type": "Person", "name": author.name, "jobTitle": author.title});
    if let Some(url) = &author.url {
        person["url"] = json!(absolute(site, url));
    }
    person
}

/// `price`: the course's one-time price in cents, `None` when free.
pub fn course(
    site: &str,
    course: &Course,
    instructor: Option<&Author>,
    price_cents: Option<u64>,
    currency: &str,
) -> Value {
    let url = format!("{site}/courses/{}", course.slug);
    let mut instance = json!({
        "@type": "CourseInstance",
        "courseMode": "Online",
        "startDate": course.starts_on,
        "endDate": course.ends_on,
        "location": {"@type": "VirtualLocation", "url": url},
        "maximumAttendeeCapacity": course.capacity,
        "remainingAttendeeCapacity": course.seats_left,
        "description": course.schedule,
    });
    if let Some(workload) = iso_duration(&course.workload) {
        instance["courseWorkload"] = json!(workload);
    }
    if let Some(instructor) = instructor {
        instance["instructor"] = json!([person(site, instructor)]);
    }
    let cents = price_cents.unwrap_or(0);
    json!({
        "@type": "Course",
        "name": course.title,
        "description": course.summary,
        "url": url,
        "educationalLevel": course.level,
        "inLanguage": "en",
        "provider": organization_ref(site),
        "hasCourseInstance": [instance],
        "offers": [{
            "@type": "Offer",
            "category": if cents == 0 { "Free" } else { "Paid" },
            "price": price(cents),
            "priceCurrency": currency.to_uppercase(),
            "availability": if course.seats_left > 0 { "https://schema.org/InStock" } else { "https://schema.org/SoldOut" },
            "url": url,
        }],
    })
}

pub fn blog_posting(site: &str, post: &Post, author: Option<&Author>) -> Value {
    let url = format!("{site}/blog/{}", post.slug);
    let author = author.map_or_else(|| json!({"@type": "Person", "name": post.author_name}), |a| person(site, a));
    json!({
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.summary,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": post.published_on,
        "dateModified": post.updated_on.as_deref().unwrap_or(&post.published_on),
        "author": [author],
        "publisher": organization_ref(site),
        "keywords": post.tags.join(", "),
        "inLanguage": "en",
    })
}

/// `/robots.txt`: everything public may be crawled; the API, accounts and admin may not.
pub fn robots(site: &str) -> String {
    format!(
        "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /_functions/\nDisallow: /account\nDisallow: /admin\n\
         Disallow: /billing/\nDisallow: /signin\nDisallow: /signup\nDisallow: /reset\nDisallow: /verify-email\n\nSitemap: {site}/sitemap.xml\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        let script = script_json(&[json!({"name": "</script><script>alert(1)</script>"})]);
        assert!(!script.contains("</script"), "{script}");
        let back: Value = serde_json::from_str(&script).expect("still JSON");
        assert_eq!(back["@graph"][0]["name"], "</script><script>alert(1)</script>");
    }

    #[test]
    fn workloads_become_durations_when_they_can() {
        assert_eq!(iso_duration("6 hours").as_deref(), Some("PT6H"));
        assert_eq!(iso_duration("1 hour").as_deref(), Some("PT1H"));
        assert_eq!(iso_duration("about a day"), None);
    }

    #[test]
    fn robots_points_at_the_sitemap_and_keeps_crawlers_out_of_the_api() {
        let robots = robots("https://fhiriq.dev");
        assert!(robots.contains("Sitemap: https://fhiriq.dev/sitemap.xml"));
        assert!(robots.contains("Disallow: /api/"));
    }
}
