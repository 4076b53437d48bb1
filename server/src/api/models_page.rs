//! The model registry's pages, rendered on the server like `account`'s (the portal's
//! wasm has no room left): `/models` (each model's latest version), `/models/{name}`
//! (every version, with a download of each) and `/runs/{id}/models` (the versions
//! registered from a run). Viewers, as `GET /api/models`. The data is the store's;
//! the HTML is [`body_of_models`], [`body_of_versions`] and [`body_of_run`], pure.

use axum::extract::{Path, State};
use axum::response::Response;

use super::ApiError;
use super::AppState;
use super::KnownRun;
use super::account::{error_page, page, require_page};
use crate::people::Access;
use crate::store::ModelRow;

/// The routes, for viewers.
pub fn router(state: &AppState) -> axum::Router<AppState> {
    use axum::middleware::from_fn_with_state;
    use axum::routing::get;
    let viewer = from_fn_with_state((state.clone(), Access::VIEWER), require_page);
    axum::Router::new()
        .route("/models", get(models).route_layer(viewer.clone()))
        .route("/models/{name}", get(versions).route_layer(viewer.clone()))
        .route("/runs/{id}/models", get(run_models).route_layer(viewer))
}

async fn models(State(state): State<AppState>) -> Response {
    match state.store.latest_models().await {
        Ok(rows) => page(axum::http::StatusCode::OK, "Models", &body_of_models(&rows)),
        Err(e) => error_page(&ApiError::from(e)),
    }
}

async fn versions(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match state.store.model_versions(&name).await {
        Ok(rows) if rows.is_empty() => {
            error_page(&ApiError::not_found(format!("no model called {name:?}")))
        }
        Ok(rows) => page(
            axum::http::StatusCode::OK,
            &format!("Model {}", escape(&name)),
            &body_of_versions(&rows),
        ),
        Err(e) => error_page(&ApiError::from(e)),
    }
}

async fn run_models(State(state): State<AppState>, run: Result<KnownRun, ApiError>) -> Response {
    let run = match run {
        Ok(run) => run.into_id(),
        Err(e) => return error_page(&e),
    };
    match state.store.run_models(run.as_str()).await {
        Ok(rows) => page(
            axum::http::StatusCode::OK,
            "Models from this run",
            &body_of_run(run.as_str(), &rows),
        ),
        Err(e) => error_page(&ApiError::from(e)),
    }
}

fn escape(text: &str) -> String {
    crate::sweep_view::escape(text)
}

/// A model name or run id in a link: both are `[A-Za-z0-9._-]` by their rules
/// (`models::check_name`, `RunId`), so escaping for HTML is all they need.
fn segment(text: &str) -> String {
    escape(text)
}

fn run_link(row: &ModelRow) -> String {
    match &row.run_id {
        Some(id) => format!("<a href=\"/runs/{}\">{}</a>", segment(id), escape(id)),
        None => "uploaded".to_owned(),
    }
}

fn tags(row: &ModelRow) -> String {
    row.tags
        .iter()
        .map(|(k, v)| format!("<code>{}={}</code>", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn download(row: &ModelRow) -> String {
    format!(
        "<a href=\"/api/models/{}/versions/{}/download\" download>zip</a>",
        segment(&row.name),
        row.version
    )
}

/// `/models`: each model's latest version, by name.
pub fn body_of_models(rows: &[ModelRow]) -> String {
    if rows.is_empty() {
        return "<p>No models yet. Register one from a run with \
                <code>run.register_model(model_name=..., model_path=\"outputs/...\")</code> \
                or upload one with <code>Model.register(ws, model_path, model_name)</code>.</p>\
                <p><a href=\"/\">Back to Runboard</a></p>"
            .to_owned();
    }
    let rows: String = rows
        .iter()
        .map(|r| {
            format!(
                "<tr><td><a href=\"/models/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                segment(&r.name),
                escape(&r.name),
                r.version,
                escape(&r.description),
                run_link(r),
                escape(&r.created_at),
                download(r),
            )
        })
        .collect();
    format!(
        "<table><thead><tr><th>Name</th><th>Latest version</th><th>Description</th>\
         <th>From run</th><th>Registered</th><th>Download</th></tr></thead><tbody>{rows}</tbody></table>\
         <p><a href=\"/\">Back to Runboard</a></p>"
    )
}

/// `/models/{name}`: every version, newest first.
pub fn body_of_versions(rows: &[ModelRow]) -> String {
    let rows: String = rows
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.version,
                escape(&r.path),
                escape(&r.description),
                tags(r),
                run_link(r),
                escape(&r.created_at),
                download(r),
            )
        })
        .collect();
    format!(
        "<table><thead><tr><th>Version</th><th>Path</th><th>Description</th><th>Tags</th>\
         <th>From run</th><th>Registered</th><th>Download</th></tr></thead><tbody>{rows}</tbody></table>\
         <p><a href=\"/models\">All models</a></p>"
    )
}

/// `/runs/{id}/models`: the versions registered from the run.
pub fn body_of_run(run: &str, rows: &[ModelRow]) -> String {
    let back = format!(
        "<p><a href=\"/runs/{}\">Back to run {}</a> · <a href=\"/models\">All models</a></p>",
        segment(run),
        escape(run)
    );
    if rows.is_empty() {
        return format!(
            "<p>No model was registered from run <code>{}</code>.</p>{back}",
            escape(run)
        );
    }
    let rows: String = rows
        .iter()
        .map(|r| {
            format!(
                "<tr><td><a href=\"/models/{}\">{}</a></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                segment(&r.name),
                escape(&r.name),
                r.version,
                escape(&r.path),
                escape(&r.created_at),
                download(r),
            )
        })
        .collect();
    format!(
        "<table><thead><tr><th>Model</th><th>Version</th><th>Path</th><th>Registered</th>\
         <th>Download</th></tr></thead><tbody>{rows}</tbody></table>{back}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, version: u32, run: Option<&str>) -> ModelRow {
        ModelRow {
            name: name.into(),
            version,
            path: "model.pkl".into(),
            run_id: run.map(Into::into),
            description: "<b>best</b> so far".into(),
            tags: [("stage".to_owned(), "dev & test".to_owned())].into(),
            properties: Default::default(),
            created_at: "2026-12-04T18:00:00.000Z".into(),
        }
    }

    #[test]
    fn the_models_page_links_each_model_its_run_and_its_zip_and_escapes_what_users_wrote() {
        let html = body_of_models(&[row("mnist-net", 3, Some("exp_1700000000_0000abcd"))]);
        assert!(
            html.contains("<a href=\"/models/mnist-net\">mnist-net</a>"),
            "{html}"
        );
        assert!(html.contains("<td>3</td>"));
        assert!(html.contains("&lt;b&gt;best&lt;/b&gt; so far"));
        assert!(!html.contains("<b>best</b>"));
        assert!(html.contains("<a href=\"/runs/exp_1700000000_0000abcd\">"));
        assert!(html.contains("/api/models/mnist-net/versions/3/download"));
    }

    #[test]
    fn versions_show_tags_and_uploads_say_so() {
        let html = body_of_versions(&[
            row("m", 2, None),
            row("m", 1, Some("e_1700000000_00000001")),
        ]);
        assert!(html.contains("<code>stage=dev &amp; test</code>"), "{html}");
        assert!(html.contains("uploaded"));
        assert!(html.find("<td>2</td>") < html.find("<td>1</td>"));
    }

    #[test]
    fn empty_pages_say_how_to_fill_them() {
        assert!(body_of_models(&[]).contains("run.register_model"));
        assert!(body_of_run("e_1700000000_00000001", &[]).contains("No model was registered"));
    }
}
