//! Cell magics: `%%writefile [-a] path` (with IPython's `$name` and `{expr}`
//! expansion of its line); every other magic fails with a clear message.

use super::display::Output;
use super::error::PyError;
use super::eval::Interp;
use super::host::{FileKind, Host, HostError};
use super::os::{dirname, file_error};

/// A cell that starts with `%%name`: the name, the rest of that line, and the body.
pub(crate) fn cell_magic(source: &str) -> Option<(&str, &str, &str)> {
    // IPython drops leading blank lines before it looks for a cell magic.
    let start = source
        .split_inclusive('\n')
        .take_while(|l| l.trim().is_empty())
        .map(str::len)
        .sum::<usize>();
    let rest = source[start..].strip_prefix("%%")?;
    let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
    let line = line.trim_end_matches('\r');
    let (name, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    Some((name, args.trim(), body))
}

/// Splits a magic's arguments like a shell: whitespace separates, quotes group.
fn split_args(line: &str) -> Result<Vec<String>, PyError> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(PyError::value_error("No closing quotation"));
    }
    if in_word {
        args.push(current);
    }
    Ok(args)
}

impl<H: Host> Interp<'_, H> {
    /// Runs a cell magic; the line numbers of its errors are 1 (the magic's line).
    pub async fn run_cell_magic(
        &mut self,
        name: &str,
        line: &str,
        body: &str,
    ) -> Result<(), PyError> {
        match name {
            "writefile" => self.writefile(line, body).await.map_err(|e| e.at(1)),
            other => Err(
                PyError::unsupported(&format!("the `%%{other}` cell magic is"))
                    .with_hint("the only cell magic is %%writefile")
                    .at(1),
            ),
        }
    }

    async fn writefile(&mut self, line: &str, body: &str) -> Result<(), PyError> {
        let line = self.expand(line).await;
        let mut append = false;
        let mut path = None;
        for arg in split_args(&line)? {
            match arg.as_str() {
                "-a" | "--append" => append = true,
                a if a.starts_with('-') && path.is_none() => {
                    return Err(PyError::new(
                        "UsageError",
                        format!("unrecognized arguments: {a}"),
                    ));
                }
                _ if path.is_some() => {
                    return Err(PyError::new(
                        "UsageError",
                        format!("unrecognized arguments: {arg}"),
                    ));
                }
                _ => path = Some(arg),
            }
        }
        let path = path.ok_or_else(|| {
            PyError::new(
                "UsageError",
                "the following arguments are required: filename",
            )
        })?;
        let area = self.resolve(&path)?;
        let parent = dirname(&area);
        if self
            .host
            .stat(&parent)
            .await
            .map_err(|e| file_error(e, &path))?
            != Some(FileKind::Dir)
        {
            return Err(file_error(HostError::NotFound(String::new()), &path));
        }
        let exists = match self
            .host
            .stat(&area)
            .await
            .map_err(|e| file_error(e, &path))?
        {
            Some(FileKind::Dir) => {
                return Err(PyError::new(
                    "IsADirectoryError",
                    format!("[Errno 21] Is a directory: '{path}'"),
                ));
            }
            Some(FileKind::File) => true,
            None => false,
        };
        let message = match (exists, append) {
            (true, true) => format!("Appending to {path}\n"),
            (true, false) => format!("Overwriting {path}\n"),
            (false, _) => format!("Writing {path}\n"),
        };
        // IPython runs the cell with a final newline added, so the file ends with one.
        let mut text = body.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        self.host
            .write_file(&area, text.as_bytes(), append)
            .await
            .map_err(|e| file_error(e, &path))?;
        self.host.output(Output::Stdout { text: message });
        Ok(())
    }

    /// IPython's expansion of a magic's line: `$name` and `$name.attr` become the
    /// value's `str`, `{expr}` the expression's, `$$` a `$`, `{{` and `}}` braces. If
    /// anything fails to evaluate, the line is used as written, as IPython does.
    pub async fn expand(&mut self, line: &str) -> String {
        match self.try_expand(line).await {
            Ok(expanded) => expanded,
            Err(_) => line.to_owned(),
        }
    }

    async fn try_expand(&mut self, line: &str) -> Result<String, PyError> {
        let chars: Vec<char> = line.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match (c, chars.get(i + 1).copied()) {
                ('$', Some('$')) | ('{', Some('{')) | ('}', Some('}')) => {
                    out.push(c);
                    i += 2;
                }
                ('$', Some(n)) if n.is_alphabetic() || n == '_' => {
                    let start = i + 1;
                    let mut end = start;
                    while end < chars.len()
                        && (chars[end].is_alphanumeric() || chars[end] == '_' || chars[end] == '.')
                    {
                        end += 1;
                    }
                    let name: String = chars[start..end].iter().collect();
                    let name = name.trim_end_matches('.');
                    let mut parts = name.split('.');
                    let mut value = self.lookup(parts.next().unwrap_or_default())?;
                    for attr in parts {
                        value = self.get_attr(value, attr).await?;
                    }
                    out.push_str(&value.to_str());
                    i = start + name.chars().count();
                }
                ('{', _) => {
                    let close = chars[i..]
                        .iter()
                        .position(|&c| c == '}')
                        .ok_or_else(|| PyError::value_error("unmatched '{'"))?;
                    let expr: String = chars[i + 1..i + close].iter().collect();
                    let parsed = ruff_python_parser::parse_expression(&expr)
                        .map_err(|e| PyError::new("SyntaxError", e.error.to_string()))?;
                    let value = self.eval(parsed.expr()).await?;
                    out.push_str(&value.to_str());
                    i += close + 1;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        Ok(out)
    }
}
