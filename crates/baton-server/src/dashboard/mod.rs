//! The dashboard: plain HTML, CSS and JavaScript compiled into the binary (no front-end build).
//!
//! The page reaches the API with a cookie, because `EventSource` cannot send an `Authorization`
//! header: opening `/?token=…` (the address `baton serve` prints) sets an `HttpOnly`,
//! `SameSite=Strict` cookie and redirects to `/`, so the token leaves the address bar and history.
//! A strict Content-Security-Policy allows only this server's own scripts, styles and requests.

use crate::security::{cookie_name, token_matches};
use crate::state::Ctx;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;

const INDEX_HTML: &str = include_str!("index.html");

/// The static files: path, content type, contents.
const ASSETS: &[(&str, &str, &str)] = &[
    ("/app.css", "text/css; charset=utf-8", include_str!("app.css")),
    ("/diff.css", "text/css; charset=utf-8", include_str!("diff.css")),
    ("/favicon.svg", "image/svg+xml", include_str!("favicon.svg")),
    ("/js/app.js", JS, include_str!("js/app.js")),
    ("/js/api.js", JS, include_str!("js/api.js")),
    ("/js/assignment.js", JS, include_str!("js/assignment.js")),
    ("/js/charts.js", JS, include_str!("js/charts.js")),
    ("/js/diff.js", JS, include_str!("js/diff.js")),
    ("/js/filters.js", JS, include_str!("js/filters.js")),
    ("/js/job.js", JS, include_str!("js/job.js")),
    ("/js/links.js", JS, include_str!("js/links.js")),
    ("/js/list.js", JS, include_str!("js/list.js")),
    ("/js/prompt.js", JS, include_str!("js/prompt.js")),
    ("/js/state.js", JS, include_str!("js/state.js")),
    ("/js/totals.js", JS, include_str!("js/totals.js")),
    ("/js/ui.js", JS, include_str!("js/ui.js")),
];
const JS: &str = "text/javascript; charset=utf-8";

/// Only this server's own resources; no inline script, no frames, no foreign connections.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
    img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub(crate) fn routes() -> Router<Ctx> {
    ASSETS.iter().fold(Router::new().route("/", get(index)), |router, (path, content_type, body)| {
        router.route(path, get(move || async move { asset(body, content_type) }))
    })
}

/// `GET /` (and `/?token=…`, which trades the token for the cookie).
async fn index(State(ctx): State<Ctx>, query: Result<Query<HashMap<String, String>>, QueryRejection>) -> Response {
    let presented = query.ok().and_then(|Query(mut q)| q.remove("token"));
    let Some(presented) = presented else {
        let mut page = asset(INDEX_HTML, "text/html; charset=utf-8");
        page.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        return page;
    };
    let mut redirect = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    let Some(secret) = ctx.app.token.as_deref() else {
        return redirect;
    };
    if !token_matches(&presented, secret) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "the token in this address is wrong: open the address `baton serve` printed\n",
        )
            .into_response();
    }
    let cookie = format!("{}={secret}; Path=/; HttpOnly; SameSite=Strict", cookie_name(ctx.app.bound));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        redirect.headers_mut().insert(header::SET_COOKIE, value);
    }
    redirect
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// Any other path outside `/api/`.
pub(crate) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found; the dashboard is at /\n")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module a script imports is served: a missing one would break the page silently.
    #[test]
    fn every_imported_module_is_served() {
        let served: Vec<&str> = ASSETS.iter().map(|(path, _, _)| *path).collect();
        assert!(INDEX_HTML.contains(r#"src="/js/app.js""#));
        for (path, _, body) in ASSETS.iter().filter(|(p, _, _)| p.ends_with(".js")) {
            for import in body.lines().filter_map(|l| l.split(" from './").nth(1)) {
                let module = format!("/js/{}", import.trim_end_matches(['\'', ';']));
                assert!(served.contains(&module.as_str()), "{path} imports {module}, which is not served");
            }
        }
    }
}
