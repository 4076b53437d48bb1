//! The command line's [`Transport`] of the REST client (`runboard-client`): reqwest,
//! with the endpoint's bearer token.

use runboard_client::{Body, Error, Method, Request, Response, Transport};

use crate::config::Endpoint;

/// Sends the client's requests to one server with reqwest.
#[derive(Debug, Clone)]
pub struct Http {
    endpoint: Endpoint,
    http: reqwest::Client,
}

impl Http {
    /// A transport to `endpoint`.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            http: reqwest::Client::new(),
        }
    }

    /// The server.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The reqwest request of `request`: for the answers the CLI streams (a download)
    /// and the bodies it streams (a submission), which [`Transport::send`] does not.
    pub fn builder(&self, request: Request) -> reqwest::RequestBuilder {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .http
            .request(method, format!("{}{}", self.endpoint.url, request.path))
            .bearer_auth(&self.endpoint.token);
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        match request.body {
            Some(Body::Json(text)) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(text),
            Some(Body::Text(text)) => builder.body(text),
            None => builder,
        }
    }

    /// Sends a built request; a server that does not answer is explained
    /// ([`Endpoint::unreachable`]) as an [`Error::Network`].
    pub async fn start(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Error> {
        builder.send().await.map_err(|e| {
            Error::Network(match unreachable_cause(&e) {
                Some(cause) => self.endpoint.unreachable(&cause),
                None => format!("reaching {}: {e}", self.endpoint.url),
            })
        })
    }
}

impl Transport for Http {
    async fn send(&self, request: Request) -> Result<Response, Error> {
        let response = self.start(self.builder(request)).await?;
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::Network(format!("reading the answer: {e}")))?;
        Ok(Response {
            status: status.as_u16(),
            status_text: status.canonical_reason().unwrap_or_default().to_owned(),
            headers,
            body: body.to_vec(),
        })
    }
}

/// The innermost cause of a request error when the server could not be reached at
/// all (refused, no route, name not found, timed out); `None` for other errors.
pub fn unreachable_cause(error: &reqwest::Error) -> Option<String> {
    if !(error.is_connect() || error.is_timeout()) {
        return None;
    }
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    Some(cause.to_string())
}
