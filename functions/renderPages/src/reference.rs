//! The reference pages FHIR developers keep open: `/search`, `/fhir/R4` and `/fhir/R4/<Resource>`,
//! server-rendered from the knowledge base in D1.

use shared::Error;
use shared::knowledge::{browse, search};
use shared::web::pages;
use shared::web::routes::{Target, param};
use shared::workers::{self, respond};
use worker::{Env, Request, Response, Result};

pub async fn page(target: Target, request: &Request, env: &Env, params: &[(&'static str, String)]) -> Result<Response> {
    match render(target, request, env, params).await {
        // The specification does not change between deployments of the knowledge base.
        Ok(Some(html)) => respond::html(Ok(html), "public, max-age=300"),
        Ok(None) => not_found(request),
        Err(e) => respond::error(&e),
    }
}

async fn render(
    target: Target,
    request: &Request,
    env: &Env,
    params: &[(&'static str, String)],
) -> shared::Result<Option<String>> {
    let db = workers::knowledge(env)?;
    match target {
        Target::SearchPage => {
            let url = request.url().map_err(|e| Error::BadRequest(format!("bad URL: {e}")))?;
            let query = url.query_pairs().find(|(k, _)| k == "q").map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
            let hits = if query.is_empty() {
                Vec::new()
            } else {
                let (q, k) = search::parse_request(Some(&query), Some("20"))?;
                search::passages(&db, &q, k).await?
            };
            pages::search_page(&query, &hits).map(Some)
        }
        Target::ResourceIndex => pages::resources_page(&browse::index(&db).await?).map(Some),
        Target::ResourcePage => {
            let name = param(params, "resource");
            match browse::resource(&db, name).await? {
                Some(view) => pages::resource_page(&view).map(Some),
                None => Ok(None),
            }
        }
        _ => Err(Error::internal("rendering a reference page", "not a reference page")),
    }
}

/// A page that does not exist: 404, which the site answers with its own 404 page.
pub(crate) fn not_found(request: &Request) -> Result<Response> {
    respond::error(&Error::NotFound(format!("{} is not a page", request.path())))
}
