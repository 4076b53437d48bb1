//! The OpenAPI 3.1 document of the API, generated from the endpoint table
//! (`runboard_shared::endpoints`), which `GET /api/openapi.json` serves. Pure: the
//! table in, the document out.
//!
//! Our own generator rather than `utoipa`: the table already names every route's
//! method, path, parameters, bodies and statuses (and is checked against the router),
//! so what remains is a loop that writes them in OpenAPI's layout. `utoipa` would
//! have the routes described a second time in attributes on the handlers, and its
//! schema derives on the shared types would be compiled into the browser bundles
//! unless each carried a `cfg_attr`. The bodies' schemas come from `schemars` derives
//! on the shared types (behind the same feature as the table), so they follow the
//! serde attributes that shape the JSON.

use std::collections::BTreeMap;

use runboard_shared::endpoints::{Body, ENDPOINTS, Endpoint, ParamKind};
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// The document, as JSON.
pub fn document() -> Value {
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    for e in ENDPOINTS {
        let (path, operation) = operation(e, &mut generator);
        paths
            .entry(path)
            .or_default()
            .insert(e.method.to_ascii_lowercase(), operation);
    }
    let mut schemas: BTreeMap<String, Value> =
        generator.take_definitions(true).into_iter().collect();
    schemas.insert("Error".into(), error_schema());
    schemas.insert("MlflowError".into(), mlflow_error_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Runboard API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Runboard's REST API: runs, their files, metrics and logs, \
                the files area, models, datastores, people, and MLflow's tracking API. \
                Generated from the endpoint table (shared/src/endpoints.rs).",
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The server's token, a person's API token, or (for a \
                        run's metrics and MLflow) a run's own token.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "runboard-session-PORT",
                    "description": "A browser session (password login or share link); \
                        the cookie's name ends with the server's port.",
                },
            },
            "schemas": schemas,
        },
    })
}

/// The path in OpenAPI's templating and the operation object of one endpoint.
fn operation(e: &Endpoint, schemas: &mut SchemaGenerator) -> (String, Value) {
    let mut parameters = Vec::new();
    let mut path = String::new();
    for segment in e.path.split('/').skip(1) {
        path.push('/');
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let rest = name.starts_with('*');
            let name = name.trim_start_matches('*');
            path.push_str(&format!("{{{name}}}"));
            let description = if rest {
                "the rest of the path: may hold `/`"
            } else {
                "one path segment"
            };
            parameters.push(json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": description,
                "schema": {"type": "string"},
            }));
        } else {
            path.push_str(segment);
        }
    }
    for p in e.query {
        let schema = match p.kind {
            ParamKind::Text => json!({"type": "string"}),
            ParamKind::Count => json!({"type": "integer", "minimum": 0}),
            ParamKind::Number => json!({"type": "number", "minimum": 0}),
            ParamKind::Flag => json!({"type": "boolean"}),
        };
        parameters.push(json!({
            "name": p.name,
            "in": "query",
            "required": p.required,
            "schema": schema,
        }));
    }
    let mut responses = Map::new();
    responses.insert(
        e.status.to_string(),
        response("the answer", e.response, schemas),
    );
    if matches!(e.response, Body::WebSocket) {
        responses.insert(
            "101".into(),
            json!({"description": "switching to the websocket"}),
        );
    }
    let error = if e.mlflow { "MlflowError" } else { "Error" };
    for code in [401, 403].iter().chain(e.errors) {
        let entry = if (200..300).contains(code) {
            response("the answer", e.response, schemas)
        } else {
            json!({
                "description": reason(*code),
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{error}")}}},
            })
        };
        responses.insert(code.to_string(), entry);
    }
    let id: String = format!("{}{}", e.method.to_ascii_lowercase(), e.path)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut op = json!({
        "operationId": id,
        "summary": e.summary,
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = request(e.request, schemas) {
        op["requestBody"] = body;
    }
    (path, op)
}

/// The request body object, if the endpoint takes a body.
fn request(body: Body, schemas: &mut SchemaGenerator) -> Option<Value> {
    let content = match body {
        Body::Empty | Body::WebSocket => return None,
        Body::Bytes => json!({"application/octet-stream": {"schema": {}}}),
        Body::Multipart => json!({"multipart/form-data": {"schema": {"type": "object"}}}),
        Body::Json(_) | Body::AnyJson(_) => {
            json!({"application/json": {"schema": schema(body, schemas)}})
        }
    };
    Some(json!({"required": true, "content": content}))
}

/// A response object with `body`.
fn response(description: &str, body: Body, schemas: &mut SchemaGenerator) -> Value {
    match body {
        Body::Empty | Body::Multipart => json!({"description": description}),
        Body::Bytes => {
            json!({"description": "the file's bytes", "content": {"*/*": {"schema": {}}}})
        }
        Body::WebSocket => json!({
            "description": "without `Upgrade: websocket`, a long poll: the events after `after`",
            "content": {"application/json": {"schema": {}}},
        }),
        Body::Json(_) | Body::AnyJson(_) => json!({
            "description": description,
            "content": {"application/json": {"schema": schema(body, schemas)}},
        }),
    }
}

/// The schema of a JSON body: for a shared type, a reference to its component.
fn schema(body: Body, schemas: &mut SchemaGenerator) -> Value {
    match body {
        Body::Json(t) => (t.schema)(schemas).to_value(),
        Body::AnyJson(what) => json!({"description": what}),
        _ => json!({}),
    }
}

/// Runboard's error body (`runboard_shared::api::ErrorBody`).
fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                }},
            },
        }},
    })
}

/// MLflow's error body.
fn mlflow_error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error_code", "message"],
        "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
    })
}

fn reason(code: u16) -> &'static str {
    match code {
        400 => "bad request: the message names the field",
        401 => "no valid credentials",
        403 => "the caller's role or share link does not reach this",
        404 => "not found",
        409 => "conflicts with the current state",
        413 => "the body is too large",
        415 => "the body is not JSON",
        416 => "the range is outside the file",
        502 => "the package index did not answer",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_is_one_operation_with_its_parameters() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let count: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum();
        assert_eq!(count, ENDPOINTS.len());
        let file = &doc["paths"]["/api/runs/{id}/files/{path}"]["get"];
        let names: Vec<&str> = file["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["id", "path"]);
        let list = &doc["paths"]["/api/runs"]["get"];
        assert_eq!(
            list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/RunList"
        );
        assert_eq!(
            list["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error"
        );
        assert!(doc["components"]["schemas"]["RunList"].is_object());
        let ingest = &doc["paths"]["/api/runs/{id}/metrics"]["post"];
        assert_eq!(
            ingest["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/MetricsBatch"
        );
    }

    #[test]
    fn query_parameters_have_the_kind_the_server_parses() {
        let doc = document();
        let schema = |path: &str, method: &str, name: &str| {
            doc["paths"][path][method]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .map(|p| p["schema"].clone())
                .unwrap()
        };
        let list = "/api/runs";
        assert_eq!(schema(list, "get", "experiment"), json!({"type": "string"}));
        assert_eq!(
            schema(list, "get", "limit"),
            json!({"type": "integer", "minimum": 0})
        );
        let events = "/api/runs/{id}/events";
        assert_eq!(
            schema(events, "get", "wait"),
            json!({"type": "number", "minimum": 0})
        );
        let upload = "/api/datastores/{name}/files/{path}";
        assert_eq!(
            schema(upload, "put", "overwrite"),
            json!({"type": "boolean"})
        );
    }

    #[test]
    fn every_reference_names_a_component() {
        let doc = document();
        let text = doc.to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{name} is referenced but not defined"
            );
        }
    }
}
