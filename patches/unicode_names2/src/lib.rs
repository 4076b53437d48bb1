//! Stands in for `unicode_names2` 1.3.0, whose only use in Runboard is
//! `ruff_python_parser` resolving `\N{NAME}` escapes in string literals. The real
//! crate carries every Unicode character name (about 1 MB in the kernel's wasm);
//! here no name resolves, so a notebook cell with `\N{...}` fails to parse, and the
//! kernel says so: "SyntaxError: `\N{...}` escapes are not supported in Runboard
//! notebooks; write the character itself or its code point as `\u....`".

/// The character named `name`: never found (see the crate's docs).
pub fn character(_name: &str) -> Option<char> {
    None
}
