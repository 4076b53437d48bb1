//! The grammars of what an environment names and the server passes to installers
//! and Docker as arguments: pip requirements (PEP 508), conda match specs, Docker
//! image references. Checked when an estimator is validated, so a value starting
//! with `-` can never reach `uv`, `pip`, `conda` or `docker` as an option.
//!
//! Each check answers `None` when the text is well formed, else a sentence saying
//! what is wrong, for a field error.

/// The longest requirement, conda spec or image reference accepted, in bytes.
pub const MAX_SPEC_BYTES: usize = 1024;

/// PEP 508's environment marker variables.
const MARKER_VARIABLES: [&str; 13] = [
    "python_version",
    "python_full_version",
    "os_name",
    "sys_platform",
    "platform_release",
    "platform_system",
    "platform_version",
    "platform_machine",
    "platform_python_implementation",
    "implementation_name",
    "implementation_version",
    "extra",
    "os.name",
];

/// What is wrong with a pip requirement, if anything. Accepted: PEP 508 —
/// `name`, `name[extra,…]`, version specifiers (`>=1.2,<2`, `==2.3.*`, `~=1.4`,
/// `===x`, also in parentheses), `name @ url`, and `; marker` after either.
pub fn pip_requirement_problem(text: &str) -> Option<String> {
    common_problem(text).or_else(|| {
        Pep508 {
            s: text.as_bytes(),
            at: 0,
        }
        .requirement()
        .err()
        .map(|why| format!("'{text}' is not a pip requirement (PEP 508, such as numpy>=1.21 or name @ https://…): {why}"))
    })
}

/// What is wrong with a conda package spec, if anything. Accepted: conda's match
/// specs as environment files write them — `[channel::]name[=version[=build]]`,
/// `name>=1.2,<2`, `name 1.2.* build`.
pub fn conda_spec_problem(text: &str) -> Option<String> {
    if let Some(p) = common_problem(text) {
        return Some(p);
    }
    let bad = |why: &str| {
        Some(format!(
            "'{text}' is not a conda package spec (such as numpy=1.21 or conda-forge::numpy>=1.21): {why}"
        ))
    };
    let (channel, rest) = match text.rsplit_once("::") {
        Some((c, r)) => (Some(c), r),
        None => (None, text),
    };
    if let Some(c) = channel
        && let Some(p) = conda_channel_problem(c)
    {
        return bad(&p);
    }
    let name_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(rest.len());
    let name = &rest[..name_end];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return bad("it must start with a package name (a letter, digit or _)");
    }
    let version = &rest[name_end..];
    if !version.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '.' | '*' | '=' | '<' | '>' | '!' | ',' | '|' | '+' | '_' | '-' | ' ' | '~'
            )
    }) {
        return bad(
            "the version part holds a character other than letters, digits and . * = < > ! , | + _ - ~ or a space",
        );
    }
    if version.starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return bad("the name must be followed by a version constraint");
    }
    None
}

/// What is wrong with a conda channel (`conda-forge`, `https://host/channel`).
pub fn conda_channel_problem(text: &str) -> Option<String> {
    if let Some(p) = common_problem(text) {
        return Some(p);
    }
    if !text.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        || !text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '~' | '%')
        })
    {
        return Some(format!(
            "'{text}' is not a conda channel (a name such as conda-forge, or a URL)"
        ));
    }
    None
}

/// What is wrong with a Docker image reference, if anything. Accepted: Docker's
/// reference grammar — `[registry[:port]/]path[:tag][@algorithm:hex]`, path
/// components in lower case (`ubuntu`, `pytorch/pytorch:2.3.0-cuda12.1`,
/// `localhost:5000/team/img@sha256:…`).
pub fn docker_image_problem(text: &str) -> Option<String> {
    if let Some(p) = common_problem(text) {
        return Some(p);
    }
    let bad = |why: &str| {
        Some(format!(
            "'{text}' is not a Docker image reference (such as python:3.12-slim or registry.example.com/team/image:tag): {why}"
        ))
    };
    let (rest, digest) = match text.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (text, None),
    };
    if let Some(d) = digest {
        let Some((algorithm, hex)) = d.split_once(':') else {
            return bad("a digest is algorithm:hex");
        };
        let algorithm_ok = algorithm.starts_with(|c: char| c.is_ascii_alphabetic())
            && algorithm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '.'));
        if !algorithm_ok || hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return bad("a digest is algorithm:hex, with at least 32 hex digits");
        }
    }
    // A tag follows the last ':' after the last '/' (a ':' before it is a port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let ok = tag.len() <= 128
            && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            return bad(
                "a tag is 1–128 letters, digits, _ . - and starts with a letter, digit or _",
            );
        }
    }
    if name.len() > 255 {
        return bad("the name is longer than 255 characters");
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first part is a registry when it looks like a host: a '.', a ':' or
    // `localhost`.
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let registry = parts.remove(0);
        let (host, port) = match registry.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        };
        let host_ok = host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        let port_ok = port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
        if !host_ok || !port_ok {
            return bad("the registry is a host name with an optional :port");
        }
    }
    for part in &parts {
        if !is_path_component(part) {
            return bad(&format!(
                "'{part}' is not a name component (lower-case letters and digits, separated by one . or _, two _ or dashes)"
            ));
        }
    }
    None
}

/// Docker's `path-component`: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_path_component(part: &str) -> bool {
    let b = part.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-')) {
            return false;
        }
    }
    true
}

/// The checks every grammar shares: not empty, not too long, no control
/// characters, and never starting with `-` (an option to the tool).
fn common_problem(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        Some("must not be empty".to_owned())
    } else if text.len() > MAX_SPEC_BYTES {
        Some(format!(
            "is {} bytes long, more than the limit of {MAX_SPEC_BYTES}",
            text.len()
        ))
    } else if text.chars().any(char::is_control) {
        Some(format!("{text:?} holds a control character"))
    } else if text.trim_start().starts_with('-') {
        Some(format!(
            "'{text}' starts with '-', which the installer would read as an option"
        ))
    } else {
        None
    }
}

/// A PEP 508 parser that only says whether the text is well formed.
struct Pep508<'a> {
    s: &'a [u8],
    at: usize,
}

impl Pep508<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn spaces(&mut self) -> bool {
        let start = self.at;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
        self.at > start
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.s[self.at..].starts_with(token.as_bytes()) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn take_while(&mut self, ok: impl Fn(u8) -> bool) -> &str {
        let start = self.at;
        while self.peek().is_some_and(&ok) {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at]).unwrap_or_default()
    }

    fn requirement(&mut self) -> Result<(), String> {
        self.spaces();
        let name =
            self.take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'));
        if name.is_empty() {
            return Err("it must start with a package name".into());
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "the name '{name}' must start with a letter or digit"
            ));
        }
        if !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(format!("the name '{name}' must end with a letter or digit"));
        }
        self.spaces();
        if self.eat("[") {
            self.spaces();
            if !self.eat("]") {
                loop {
                    self.spaces();
                    let extra = self.take_while(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_')
                    });
                    if extra.is_empty() {
                        return Err("an extra must be a name".into());
                    }
                    self.spaces();
                    if self.eat("]") {
                        break;
                    }
                    if !self.eat(",") {
                        return Err("extras are names separated by commas, in [ ]".into());
                    }
                }
            }
            self.spaces();
        }
        if self.eat("@") {
            self.spaces();
            let url = self.take_while(|c| !matches!(c, b' ' | b'\t'));
            if !url.contains(':') {
                return Err(format!("'{url}' is not a URL"));
            }
            // A marker after a URL needs a space before its ';'.
            let spaced = self.spaces();
            if self.peek().is_some() && !spaced {
                return Err("a URL must be followed by a space before ; marker".into());
            }
        } else if self.peek().is_some_and(|c| c != b';') {
            let parens = self.eat("(");
            self.versions()?;
            if parens {
                self.spaces();
                if !self.eat(")") {
                    return Err("a '(' is not closed".into());
                }
            }
            self.spaces();
        }
        if self.eat(";") {
            self.spaces();
            self.marker_or()?;
            self.spaces();
        }
        match self.peek() {
            None => Ok(()),
            Some(c) => Err(format!(
                "unexpected '{}' at position {}",
                char::from(c),
                self.at + 1
            )),
        }
    }

    fn versions(&mut self) -> Result<(), String> {
        loop {
            self.spaces();
            let ok = ["===", "<=", ">=", "==", "!=", "~=", "<", ">"]
                .iter()
                .any(|op| self.eat(op));
            if !ok {
                return Err(
                    "a version must follow an operator (==, >=, <=, !=, ~=, <, >, ===)".into(),
                );
            }
            self.spaces();
            let v = self.take_while(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'.' | b'*' | b'+' | b'!' | b'-' | b'_')
            });
            if v.is_empty() {
                return Err("a version is missing after its operator".into());
            }
            self.spaces();
            if !self.eat(",") {
                return Ok(());
            }
        }
    }

    fn marker_or(&mut self) -> Result<(), String> {
        self.marker_and()?;
        while self.keyword("or") {
            self.marker_and()?;
        }
        Ok(())
    }

    fn marker_and(&mut self) -> Result<(), String> {
        self.marker_expr()?;
        while self.keyword("and") {
            self.marker_expr()?;
        }
        Ok(())
    }

    fn keyword(&mut self, word: &str) -> bool {
        let save = self.at;
        self.spaces();
        if self.eat(word)
            && self
                .peek()
                .is_none_or(|c| matches!(c, b' ' | b'\t' | b'(' | b'"' | b'\''))
        {
            self.spaces();
            return true;
        }
        self.at = save;
        false
    }

    fn marker_expr(&mut self) -> Result<(), String> {
        self.spaces();
        if self.eat("(") {
            self.marker_or()?;
            self.spaces();
            return if self.eat(")") {
                Ok(())
            } else {
                Err("a '(' in the marker is not closed".into())
            };
        }
        self.marker_value()?;
        self.spaces();
        let op = ["===", "<=", ">=", "==", "!=", "~=", "<", ">"]
            .iter()
            .any(|op| self.eat(op))
            || self.keyword("in")
            || (self.keyword("not") && self.keyword("in"));
        if !op {
            return Err("a marker compares two values (python_version >= \"3.8\")".into());
        }
        self.spaces();
        self.marker_value()
    }

    fn marker_value(&mut self) -> Result<(), String> {
        if let Some(quote @ (b'"' | b'\'')) = self.peek() {
            self.at += 1;
            self.take_while(|c| c != quote);
            return if self.peek() == Some(quote) {
                self.at += 1;
                Ok(())
            } else {
                Err("a quoted string in the marker is not closed".into())
            };
        }
        let name = self.take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.'));
        if MARKER_VARIABLES.contains(&name) {
            Ok(())
        } else {
            Err(format!(
                "'{name}' is not a marker variable (python_version, sys_platform, …) or a quoted string"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(problem: fn(&str) -> Option<String>, cases: &[(&str, Option<&str>)]) {
        for (text, expect) in cases {
            let got = problem(text);
            match (expect, &got) {
                (None, None) => {}
                (Some(part), Some(msg)) => assert!(msg.contains(part), "{text:?}: {msg}"),
                _ => panic!("{text:?}: expected {expect:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn pip_requirements_follow_pep_508() {
        check(
            pip_requirement_problem,
            &[
                ("numpy", None),
                ("scikit-learn==1.5.2", None),
                ("Scikit_Learn >= 1.2, < 2", None),
                ("numpy>=1.21,<2", None),
                ("torch==2.3.0+cpu", None),
                ("tensorflow[and-cuda]", None),
                ("requests[security, socks]>=2.8.1", None),
                ("name[]", None),
                ("pkg (>=1.0,<2.0)", None),
                ("pkg~=1.4.2", None),
                ("pkg===weird-1", None),
                ("pkg==1.*", None),
                ("pkg==1.0.dev1", None),
                ("pkg==1!2.0", None),
                ("pywin32>=1.0; sys_platform == 'win32'", None),
                (
                    "pkg; python_version < \"3.8\" and (os_name == 'posix' or extra == 'x')",
                    None,
                ),
                ("pkg ; 'linux' in sys_platform", None),
                ("pkg; platform_machine not in 'arm64 aarch64'", None),
                (
                    "pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee",
                    None,
                ),
                (
                    "pkg[extra] @ git+https://example.com/pkg.git@v1 ; python_version >= '3.9'",
                    None,
                ),
                ("-r", Some("starts with '-'")),
                (
                    "--index-url=https://evil.example/simple",
                    Some("starts with '-'"),
                ),
                ("-e .", Some("starts with '-'")),
                (" --pre", Some("starts with '-'")),
                ("", Some("must not be empty")),
                ("numpy\n--index-url x", Some("control character")),
                ("numpy --index-url x", Some("operator")),
                ("numpy; rm -rf /", Some("marker variable")),
                ("numpy==", Some("version is missing")),
                ("numpy 1.0", Some("must follow an operator")),
                ("numpy[x", Some("extras")),
                ("pkg @ notaurl", Some("is not a URL")),
                ("git+https://github.com/x/y.git", Some("operator")),
                ("./local/path", Some("start with a letter or digit")),
                ("pkg-", Some("must end with a letter or digit")),
                ("pkg; python_version >= '3.8", Some("not closed")),
                ("$(touch x)", Some("package name")),
            ],
        );
        let long = "a".repeat(MAX_SPEC_BYTES + 1);
        check(
            pip_requirement_problem,
            &[(&long, Some("more than the limit"))],
        );
    }

    #[test]
    fn conda_specs_follow_match_spec() {
        check(
            conda_spec_problem,
            &[
                ("numpy", None),
                ("numpy=1.21", None),
                ("numpy=1.21.*=py39_0", None),
                ("numpy>=1.21,<2", None),
                ("numpy 1.21.* py39*", None),
                ("conda-forge::numpy=1.21", None),
                ("python=3.11", None),
                ("_libgcc_mutex", None),
                ("pytorch::pytorch>=2|<1", None),
                ("--override-channels", Some("starts with '-'")),
                ("-c", Some("starts with '-'")),
                ("numpy;touch", Some("version part")),
                ("numpy$(x)", Some("version part")),
                ("=1.2", Some("package name")),
                ("--x::numpy", Some("starts with '-'")),
                ("chan nel::numpy", Some("conda channel")),
            ],
        );
        check(
            conda_channel_problem,
            &[
                ("conda-forge", None),
                ("https://conda.example.com/channel", None),
                ("--insecure", Some("starts with '-'")),
                ("a b", Some("not a conda channel")),
            ],
        );
    }

    #[test]
    fn docker_images_follow_the_reference_grammar() {
        let digest = format!("ubuntu@sha256:{}", "a".repeat(64));
        check(
            docker_image_problem,
            &[
                ("ubuntu", None),
                ("python:3.12-slim", None),
                ("pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime", None),
                ("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04", None),
                ("localhost:5000/team/image:v1", None),
                ("registry.example.com/a/b/c", None),
                ("my_org/my__img:latest", None),
                ("a-b---c/d.e", None),
                (&digest, None),
                ("--privileged", Some("starts with '-'")),
                ("-v/:/host", Some("starts with '-'")),
                ("Ubuntu", Some("name component")),
                ("ubuntu:", Some("a tag is")),
                ("ubuntu:-x", Some("a tag is")),
                ("ubuntu --privileged", Some("name component")),
                ("ubuntu@sha256:abc", Some("digest")),
                ("ubuntu@md5", Some("digest")),
                ("bad host:5000/x", Some("registry")),
                ("host.example:port/x", Some("registry")),
                ("a//b", Some("name component")),
                ("a/.b", Some("name component")),
                ("$(id)", Some("name component")),
                ("", Some("must not be empty")),
            ],
        );
    }
}
