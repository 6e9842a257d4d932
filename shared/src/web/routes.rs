//! The platform's public paths in one place. The site worker routes with [`resolve`]; the OpenAPI
//! test checks [`PUBLIC_PATHS`] against `docs/openapi.yaml`; the monitor's defaults come from here.

/// A function worker reached at `/_functions/<name>` through a service binding of the site worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// The Velo-style public name: `/_functions/<name>`.
    pub name: &'static str,
    /// The service binding in the site worker's `wrangler.toml`.
    pub binding: &'static str,
}

pub const HEALTH: Function = Function {
    name: "health",
    binding: "HEALTH",
};
pub const PROCESS_AI_QUERY: Function = Function {
    name: "processAIQuery",
    binding: "PROCESS_AI_QUERY",
};
pub const CREATE_GITHUB_REPO: Function = Function {
    name: "createGitHubRepo",
    binding: "CREATE_GITHUB_REPO",
};
pub const STRIPE_WEBHOOK: Function = Function {
    name: "stripeWebhook",
    binding: "STRIPE_WEBHOOK",
};
pub const CREATE_VECTOR_EMBEDDING: Function = Function {
    name: "createVectorEmbedding",
    binding: "CREATE_VECTOR_EMBEDDING",
};

pub const FUNCTIONS: [Function; 5] = [
    HEALTH,
    PROCESS_AI_QUERY,
    CREATE_GITHUB_REPO,
    STRIPE_WEBHOOK,
    CREATE_VECTOR_EMBEDDING,
];

/// The static pages in `site/` (rendered from `shared/templates/`).
pub const STATIC_PAGES: [&str; 3] = ["/", "/about", "/pricing"];

/// The server-rendered status page.
pub const STATUS_PAGE: &str = "/status";

/// Each function's own liveness path (`/_functions/health` is the platform's full health check).
pub fn liveness_path(function: &Function) -> String {
    if *function == HEALTH {
        "/_functions/health".to_owned()
    } else {
        format!("/_functions/{}/health", function.name)
    }
}

/// Every public path, in the form `docs/openapi.yaml` writes them.
pub fn public_paths() -> Vec<String> {
    let mut paths: Vec<String> = STATIC_PAGES.iter().map(|p| (*p).to_owned()).collect();
    paths.push(STATUS_PAGE.to_owned());
    for function in FUNCTIONS {
        paths.push(format!("/_functions/{}", function.name));
        if function != HEALTH {
            paths.push(liveness_path(&function));
        }
    }
    paths
}

/// What the site worker does with a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Forward to a function worker over its service binding.
    Function(Function),
    /// `/_functions/<unknown>`: a JSON 404.
    UnknownFunction(String),
    StatusPage,
    /// Everything else: a static asset, or the 404 page.
    Asset,
}

pub fn resolve(path: &str) -> Route {
    if let Some(rest) = path.strip_prefix("/_functions/") {
        let name = rest.split('/').next().unwrap_or_default();
        return match FUNCTIONS.iter().find(|f| f.name == name) {
            Some(function) => Route::Function(*function),
            None => Route::UnknownFunction(name.to_owned()),
        };
    }
    match path {
        STATUS_PAGE | "/status/" => Route::StatusPage,
        _ => Route::Asset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_paths_route_to_their_binding() {
        assert_eq!(resolve("/_functions/health"), Route::Function(HEALTH));
        assert_eq!(
            resolve("/_functions/processAIQuery"),
            Route::Function(PROCESS_AI_QUERY)
        );
        assert_eq!(
            resolve("/_functions/stripeWebhook/health"),
            Route::Function(STRIPE_WEBHOOK)
        );
    }

    #[test]
    fn unknown_functions_and_pages_are_told_apart() {
        assert_eq!(
            resolve("/_functions/nope"),
            Route::UnknownFunction("nope".into())
        );
        // Names are case-sensitive, as Velo's were.
        assert_eq!(
            resolve("/_functions/Health"),
            Route::UnknownFunction("Health".into())
        );
        assert_eq!(resolve("/status"), Route::StatusPage);
        assert_eq!(resolve("/pricing"), Route::Asset);
        assert_eq!(resolve("/_functionsX"), Route::Asset);
    }

    #[test]
    fn every_function_has_a_public_path_and_a_liveness_path() {
        let paths = public_paths();
        for function in FUNCTIONS {
            assert!(paths.contains(&format!("/_functions/{}", function.name)));
            assert!(paths.contains(&liveness_path(&function)));
        }
    }
}
