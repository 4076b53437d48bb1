//! Python package indexes, sans I/O: the upstream's project listing in PEP 691's JSON
//! form parsed, wheel file names (PEP 427) parsed, the pure-Python wheels chosen, and
//! the PEP 503 page that the server's `/simple/{project}/` answers with. The requests
//! are [`crate::api::pip_proxy`]'s.

use serde::Deserialize;

/// The `Accept` of a PEP 691 listing request.
pub const JSON_ACCEPT: &str = "application/vnd.pypi.simple.v1+json";

/// One file of an upstream listing that can be checked: it has a SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamFile {
    /// The file's name; only `[A-Za-z0-9._+!-]` (see [`safe_file_name`]).
    pub filename: String,
    /// Where the upstream serves it, as the listing says (may be relative to the
    /// listing's own URL).
    pub url: String,
    /// Its SHA-256: 64 lower-case hex digits.
    pub sha256: String,
    /// PEP 345's `Requires-Python`, when the listing gives it.
    pub requires_python: Option<String>,
    /// `Some(reason)` when the file is yanked (PEP 592); the reason may be empty.
    pub yanked: Option<String>,
}

/// Why an upstream answer is not a listing.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    /// The body is not the JSON of PEP 691.
    #[error("the answer is not a PEP 691 JSON listing ({0})")]
    Json(#[from] serde_json::Error),
    /// The listing's major API version is not 1.
    #[error("the listing's api-version is {0}; only 1.x is understood")]
    Version(String),
}

#[derive(Deserialize)]
struct Listing {
    meta: Meta,
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "api-version")]
    api_version: String,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: Option<serde_json::Value>,
}

/// The files of a PEP 691 listing that have a usable name and a SHA-256; the others
/// are left out, as nothing could check them.
pub fn parse_listing(body: &[u8]) -> Result<Vec<UpstreamFile>, ListingError> {
    let listing: Listing = serde_json::from_slice(body)?;
    if listing.meta.api_version.split('.').next() != Some("1") {
        return Err(ListingError::Version(listing.meta.api_version));
    }
    Ok(listing
        .files
        .into_iter()
        .filter_map(|f| {
            let sha256 = f.hashes.get("sha256")?.to_ascii_lowercase();
            let hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex || !safe_file_name(&f.filename) {
                return None;
            }
            let yanked = match f.yanked {
                Some(serde_json::Value::Bool(true)) => Some(String::new()),
                Some(serde_json::Value::String(reason)) => Some(reason),
                _ => None,
            };
            Some(UpstreamFile {
                filename: f.filename,
                url: f.url,
                sha256,
                requires_python: f.requires_python.filter(|r| !r.trim().is_empty()),
                yanked,
            })
        })
        .collect())
}

/// Whether `name` can be a file name in a path and a link without escaping.
pub fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+!-".contains(&b))
}

/// Whether `name` is a valid project name (PEP 508: letters, digits, `.`, `_`, `-`,
/// beginning and ending with a letter or digit).
pub fn valid_project(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 200
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(b))
}

/// PEP 503's name normalisation: runs of `-`, `_` and `.` become one `-`, lower case.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim_end_matches('/').chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A wheel's file name, `{distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName<'a> {
    /// The distribution, as written (underscores for other punctuation).
    pub distribution: &'a str,
    /// The version.
    pub version: &'a str,
    /// The Python tags (`py3`, `py2.py3`, `cp311`).
    pub python: &'a str,
    /// The ABI tag (`none`, `abi3`, `cp311`).
    pub abi: &'a str,
    /// The platform tag (`any`, `manylinux_2_17_x86_64`).
    pub platform: &'a str,
}

/// The parts of a wheel's file name; `None` for anything else (an sdist, a typo).
pub fn parse_wheel_name(filename: &str) -> Option<WheelName<'_>> {
    let stem = filename.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    let (distribution, version, tags) = match parts.as_slice() {
        [d, v, py, abi, plat] | [d, v, _, py, abi, plat] => (*d, *v, [*py, *abi, *plat]),
        _ => return None,
    };
    if distribution.is_empty() || version.is_empty() || tags.iter().any(|t| t.is_empty()) {
        return None;
    }
    Some(WheelName {
        distribution,
        version,
        python: tags[0],
        abi: tags[1],
        platform: tags[2],
    })
}

impl WheelName<'_> {
    /// A wheel any Python 3 can unpack: no ABI, any platform, a generic Python 3 tag
    /// (`py3`, `py2.py3`, `py38`).
    pub fn is_pure_python3(&self) -> bool {
        self.abi == "none"
            && self.platform == "any"
            && self.python.split('.').any(|t| t.starts_with("py3"))
    }
}

/// The files of `project`'s listing that the proxy serves: pure-Python 3 wheels of
/// that very project.
pub fn pure_wheels(project: &str, files: Vec<UpstreamFile>) -> Vec<UpstreamFile> {
    let project = normalize(project);
    files
        .into_iter()
        .filter(|f| {
            parse_wheel_name(&f.filename)
                .is_some_and(|w| w.is_pure_python3() && normalize(w.distribution) == project)
        })
        .collect()
}

/// `project`'s PEP 503 page: one link per file, back to this server
/// (`/simple/{project}/{file}`), with the upstream's `#sha256=`, `Requires-Python`
/// and yank.
pub fn render_page(project: &str, files: &[UpstreamFile]) -> String {
    let project = normalize(project);
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><title>Links for {project}</title></head><body>\n\
         <h1>Links for {project}</h1>\n"
    );
    for f in files {
        page += &format!(
            "<a href=\"/simple/{project}/{name}#sha256={sha}\"",
            name = f.filename,
            sha = f.sha256
        );
        if let Some(requires) = &f.requires_python {
            page += &format!(" data-requires-python=\"{}\"", escape(requires));
        }
        if let Some(reason) = &f.yanked {
            page += &format!(" data-yanked=\"{}\"", escape(reason));
        }
        page += &format!(">{}</a><br>\n", f.filename);
    }
    page + "</body></html>\n"
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> UpstreamFile {
        UpstreamFile {
            filename: name.into(),
            url: format!("../../files/{name}"),
            sha256: "a".repeat(64),
            requires_python: None,
            yanked: None,
        }
    }

    #[test]
    fn names_are_normalised_as_pep_503_says() {
        for (given, expected) in [
            ("runboard-azureml", "runboard-azureml"),
            ("Runboard_AzureML", "runboard-azureml"),
            ("runboard.__azureml", "runboard-azureml"),
            ("numpy", "numpy"),
        ] {
            assert_eq!(normalize(given), expected, "{given}");
        }
    }

    #[test]
    fn project_names_are_pep_508_names() {
        for (name, ok) in [
            ("six", true),
            ("zope.interface", true),
            ("typing_extensions", true),
            ("a", true),
            ("", false),
            ("-x", false),
            ("x-", false),
            ("../etc", false),
            ("a/b", false),
            ("a b", false),
            ("a%2Fb", false),
        ] {
            assert_eq!(valid_project(name), ok, "{name:?}");
        }
    }

    #[test]
    fn wheel_names_are_parsed_and_pure_ones_recognised() {
        for (name, pure) in [
            ("six-1.17.0-py2.py3-none-any.whl", Some(true)),
            ("attrs-24.2.0-py3-none-any.whl", Some(true)),
            ("pkg-1.0-1build-py3-none-any.whl", Some(true)),
            ("old-1.0-py38-none-any.whl", Some(true)),
            ("legacy-1.0-py2-none-any.whl", Some(false)),
            (
                "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                Some(false),
            ),
            ("cffi-1.0-cp311-abi3-any.whl", Some(false)),
            ("x-1.0-py3-none-win_amd64.whl", Some(false)),
            ("six-1.17.0.tar.gz", None),
            ("broken-py3-none-any.whl", None),
            ("a-b-c-d-e-f-g.whl", None),
        ] {
            assert_eq!(
                parse_wheel_name(name).map(|w| w.is_pure_python3()),
                pure,
                "{name}"
            );
        }
        let w = parse_wheel_name("Foo_Bar-2.0rc1-py3-none-any.whl").unwrap();
        assert_eq!((w.distribution, w.version), ("Foo_Bar", "2.0rc1"));
    }

    #[test]
    fn a_pep_691_listing_keeps_the_files_that_can_be_checked() {
        let body = serde_json::json!({
            "meta": {"api-version": "1.1"},
            "name": "six",
            "files": [
                {"filename": "six-1.0-py3-none-any.whl", "url": "https://files/six-1.0-py3-none-any.whl",
                 "hashes": {"sha256": "AB".repeat(32)}, "requires-python": ">=3.8", "yanked": false},
                {"filename": "six-0.9-py3-none-any.whl", "url": "x", "hashes": {"sha256": "c".repeat(64)},
                 "yanked": "broken metadata"},
                {"filename": "six-0.8-py3-none-any.whl", "url": "x", "hashes": {"md5": "0"}},
                {"filename": "six-0.7-py3-none-any.whl", "url": "x", "hashes": {"sha256": "short"}},
                {"filename": "../evil-1.0-py3-none-any.whl", "url": "x", "hashes": {"sha256": "c".repeat(64)}},
                {"filename": "six-1.0.tar.gz", "url": "x", "hashes": {"sha256": "d".repeat(64)}, "requires-python": ""}
            ]
        });
        let files = parse_listing(body.to_string().as_bytes()).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            [
                "six-1.0-py3-none-any.whl",
                "six-0.9-py3-none-any.whl",
                "six-1.0.tar.gz"
            ]
        );
        assert_eq!(files[0].sha256, "ab".repeat(32));
        assert_eq!(files[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(files[0].yanked, None);
        assert_eq!(files[1].yanked.as_deref(), Some("broken metadata"));
        assert_eq!(files[2].requires_python, None);
    }

    #[test]
    fn html_or_another_api_version_is_not_a_listing() {
        assert!(matches!(
            parse_listing(b"<html><body>six</body></html>"),
            Err(ListingError::Json(_))
        ));
        let v2 = br#"{"meta": {"api-version": "2.0"}, "files": []}"#;
        assert!(matches!(parse_listing(v2), Err(ListingError::Version(v)) if v == "2.0"));
    }

    #[test]
    fn only_the_projects_own_pure_wheels_are_served() {
        let files = [
            "Six-1.0-py2.py3-none-any.whl",
            "six-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "six-1.0.tar.gz",
            "other-1.0-py3-none-any.whl",
        ]
        .map(file)
        .to_vec();
        let kept = pure_wheels("SIX", files);
        assert_eq!(kept, vec![file("Six-1.0-py2.py3-none-any.whl")]);
    }

    #[test]
    fn the_page_links_back_to_this_server_with_hash_and_attributes() {
        let mut a = file("x-1.0-py3-none-any.whl");
        a.requires_python = Some(">=3.8, <4".into());
        let mut b = file("x-0.9-py3-none-any.whl");
        b.yanked = Some("bad \"release\"".into());
        let page = render_page("X", &[a, b]);
        let sha = "a".repeat(64);
        assert!(page.contains(&format!(
            "<a href=\"/simple/x/x-1.0-py3-none-any.whl#sha256={sha}\" \
             data-requires-python=\"&gt;=3.8, &lt;4\">x-1.0-py3-none-any.whl</a>"
        )));
        assert!(page.contains(&format!(
            "<a href=\"/simple/x/x-0.9-py3-none-any.whl#sha256={sha}\" \
             data-yanked=\"bad &quot;release&quot;\">x-0.9-py3-none-any.whl</a>"
        )));
        assert!(!page.contains("files/"), "no upstream URL leaks: {page}");
    }
}
