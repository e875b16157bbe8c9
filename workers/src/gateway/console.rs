//! The operator console: three static files built into the binary.
//!
//! Plain HTML, JavaScript and CSS from `workers/console/` (no front-end
//! build step, no CDN), served without a key: the page asks for an
//! operator key, keeps it in the tab's `sessionStorage` and sends it as a
//! bearer token on every call to the `/v1` routes, which check it as they
//! check any client's. A strict content security policy keeps the page to
//! its own origin.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("../../console/index.html");
const APP_JS: &str = include_str!("../../console/app.js");
const STYLE_CSS: &str = include_str!("../../console/style.css");

/// Only this origin's scripts, styles and connections; no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// One embedded file with its content type and the console's headers.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let headers: [(HeaderName, HeaderValue); 4] = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    (headers, body).into_response()
}

/// `GET /console`: the page.
pub(super) async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

/// `GET /console/app.js`: the page's script.
pub(super) async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// `GET /console/style.css`: the page's styles.
pub(super) async fn style_css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_its_script_and_styles_by_the_served_paths() {
        assert!(INDEX_HTML.contains(r#"src="/console/app.js""#));
        assert!(INDEX_HTML.contains(r#"href="/console/style.css""#));
    }

    #[test]
    fn nothing_is_loaded_from_another_origin() {
        for attribute in [r#"src=""#, r#"href=""#] {
            for (at, _) in INDEX_HTML.match_indices(attribute) {
                let target = &INDEX_HTML[at + attribute.len()..];
                assert!(
                    target.starts_with("/console/"),
                    "index.html loads {:?}: the console must work offline from its own origin",
                    target.split('"').next().unwrap_or_default()
                );
            }
        }
        for (name, text) in [("app.js", APP_JS), ("style.css", STYLE_CSS)] {
            assert!(!text.contains("https://"), "{name} names another origin");
        }
    }
}
