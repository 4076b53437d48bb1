//! `cargo xtask frontend [--release]`: builds the browser app into `static/pkg/`.
//!
//! The pipeline: `cargo build -p runboard-frontend --target wasm32-unknown-unknown`,
//! then wasm-bindgen, run in this process through `wasm-bindgen-cli-support` (so no
//! `wasm-bindgen` binary has to be installed), then a bundle step that gives every file
//! a content-hashed name and writes it with `.gz` and `.br` siblings.
//!
//! The bundle, `static/pkg/`, is the folder the server serves:
//! - `index.html`, made from the template `static/index.html` by replacing each
//!   `{{name}}` with the absolute URL of that file's hashed copy. It is the only file
//!   whose name does not change, so it must not be cached for long (`no-cache`), and
//!   the server answers every path that is not a file (a deep link such as
//!   `/runs/<id>`) with it; the app's router then shows the page.
//! - `runboard-<hash>.js` and `runboard-<hash>_bg.wasm`: the app. Every other file of
//!   `static/` is copied as `<stem>-<hash>.<ext>` (`style-<hash>.css`). Hashed files
//!   never change, so they may be cached for a year (`immutable`).
//! - `<file>.gz` and `<file>.br` beside each text or wasm file, for servers that serve
//!   precompressed files (tower-http's `ServeDir::precompressed_gzip/br`).
//! - `manifest.json`: each source name (`runboard.js`, `style.css`) to its hashed name.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// The target the browser app is compiled for.
const TARGET: &str = "wasm32-unknown-unknown";
/// The cargo profile of `--release` builds (in the workspace's Cargo.toml).
const RELEASE_PROFILE: &str = "wasm-release";
/// The portal's logical file names: wasm-bindgen writes `<STEM>.js` and `<STEM>_bg.wasm`.
const STEM: &str = "runboard";

/// One wasm module of the web app: a crate, and the stem of its files in the bundle.
#[derive(Debug, Clone, Copy)]
struct WasmApp {
    package: &'static str,
    stem: &'static str,
}

/// The two wasm modules, each built by its own `cargo build` so that features do not
/// unify across them: the portal (`runboard-frontend`) and the notebook pages
/// (`runboard-notebook`, which links the portal's crate without its entry point).
const APPS: [WasmApp; 2] = [
    WasmApp {
        package: "runboard-frontend",
        stem: STEM,
    },
    WasmApp {
        package: "runboard-notebook",
        stem: "notebook",
    },
];

/// The templates filled with hashed names: the portal's page and the notebook pages'.
const TEMPLATES: [&str; 2] = ["index.html", "notebook.html"];
/// Extensions of the files worth precompressing (images and fonts are compressed).
const COMPRESSIBLE: &[&str] = &[
    "js", "mjs", "wasm", "css", "html", "svg", "json", "txt", "map", "py",
];

/// The chart module's name in the bundle (see [`charts_module`]).
const CHARTS: &str = "charts.js";

/// The chart module, `charts.js`: uPlot's IIFE build (from `frontend/node_modules`,
/// installed from `frontend/package-lock.json`), its stylesheet as the string
/// `UPLOT_CSS`, and `frontend/js/charts.js`, which exports `create`. One ES module, so
/// one request; the app imports it only when a chart tab opens, and it is not part of
/// the measured app size (`bundle_size_gzipped`).
fn charts_module(frontend: &Path) -> Result<Vec<u8>> {
    npm_ci(frontend)?;
    let read = |rel: &str| {
        let path = frontend.join(rel);
        fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let uplot = read("node_modules/uplot/dist/uPlot.iife.min.js")?;
    let css = read("node_modules/uplot/dist/uPlot.min.css")?;
    let glue = read("js/charts.js")?;
    Ok(format!(
        "{uplot}\nconst UPLOT_CSS = {};\n{glue}",
        serde_json::to_string(&css)?
    )
    .into_bytes())
}

/// binaryen's `wasm-opt` passes for release builds: `-Os` without binaryen's inlining.
/// Measured on the portal's module after wasm-bindgen (gzip -9 of the wasm, 2026-11-27):
/// none 396,943 B; `-Oz` 435,125 B and `-Os` 433,310 B (smaller files that compress
/// worse: inlining copies code); `-O1` 389,795 B; `-Os --skip-pass=inlining-optimizing`
/// 383,527 B. The notebook's module: 336,113 → 324,595 B; the kernel's: 421,370 →
/// 415,873 B.
///
/// Measured again on the portal's module (gzip -9 of wasm + terser's glue, 2026-12-04):
/// `-Os --skip-pass=inlining-optimizing` 398,774 B; `-Oz` and `-O2` (same skip) 399,950
/// and 399,572 B; `--merge-similar-functions` 400,007 B; `--converge` 398,391 B; `-O3`
/// with `--converge` 398,180 B; adding `--ignore-implicit-traps` 397,498 B and
/// `--low-memory-unused` 396,864 B. Both assumptions hold for Rust's output: safe Rust
/// never makes a load or store trap (bounds and division are checked before, and a
/// panic is an explicit `unreachable`, which binaryen keeps), and rustc links
/// wasm32 with the stack first, so the lowest 1,024 bytes are only reached by a
/// stack overflow. Rebuilding the crates with `opt-level = "s"` instead of `"z"`:
/// 435,223 B.
const WASM_OPT_PASSES: [&str; 5] = [
    "-O3",
    "--skip-pass=inlining-optimizing",
    "--converge",
    "--ignore-implicit-traps",
    "--low-memory-unused",
];

/// The wasm features rustc 1.95 enables by default for `wasm32-unknown-unknown`, which
/// wasm-opt must be told (wasm-bindgen's output carries no `target_features` section).
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
];

/// terser's options for the wasm-bindgen glue of release builds: an ES module,
/// compressed and with local names mangled; strings keep their quotes, so that
/// [`rewrite_wasm_path`] finds `'<stem>_bg.wasm'`. Measured on the portal's glue
/// (2026-11-27): 10,324 → 7,861 B gzipped.
const TERSER_ARGS: [&str; 5] = [
    "--module",
    "--compress",
    "--mangle",
    "--format",
    "quote_style=3",
];

/// Shrinks what wasm-bindgen wrote into `generated`, in place, every file side by
/// side: each module's wasm through wasm-opt (npm's `binaryen`; Debian's binaryen 108
/// emits wasm that fails in Chromium) and its JS glue through terser, both from
/// `frontend/package-lock.json`.
fn optimise(frontend: &Path, generated: &Path) -> Result<()> {
    crate::step("frontend: wasm-opt and terser");
    let bin = frontend.join("node_modules/.bin");
    let mut running = Vec::new();
    for app in APPS {
        let dir = generated.join(app.stem);
        let wasm = dir.join(format!("{}_bg.wasm", app.stem));
        let js = dir.join(format!("{}.js", app.stem));
        let jobs: [(&str, Vec<&str>, &Path); 2] = [
            (
                "wasm-opt",
                [&WASM_OPT_PASSES[..], &WASM_FEATURES[..]].concat(),
                &wasm,
            ),
            ("terser", TERSER_ARGS.to_vec(), &js),
        ];
        for (tool, args, file) in jobs {
            let child = Command::new("node")
                .arg(bin.join(tool))
                .arg(file)
                .args(args)
                .arg("-o")
                .arg(file)
                .spawn()
                .with_context(|| format!("starting {tool} from {}", bin.display()))?;
            running.push((tool, file.to_owned(), child));
        }
    }
    for (tool, file, mut child) in running {
        let status = child.wait()?;
        if !status.success() {
            bail!("{tool} failed on {} ({status})", file.display());
        }
    }
    Ok(())
}

/// Runs `npm ci` in `dir` when its `node_modules` is missing or older than its
/// `package-lock.json` (as `setup::e2e_setup` does for `e2e/`).
fn npm_ci(dir: &Path) -> Result<()> {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let lock = modified(&dir.join("package-lock.json"));
    // npm writes this file on every install: its age is the age of node_modules.
    let installed = modified(&dir.join("node_modules/.package-lock.json"));
    if installed.is_some() && installed >= lock {
        return Ok(());
    }
    if !crate::setup::has("npm", &["--version"]) {
        crate::setup::apt_install(&["nodejs", "npm"])?;
    }
    crate::step(&format!("frontend: npm ci in {}", dir.display()));
    let status = Command::new("npm")
        .args(["ci", "--ignore-scripts"])
        .current_dir(dir)
        .status()?;
    if !status.success() {
        bail!("`npm ci` in {} failed ({status})", dir.display());
    }
    Ok(())
}

/// Builds the app (a `release` build is optimised for size) and writes the bundle to
/// `static/pkg/`, then prints its size.
pub(crate) fn build(release: bool) -> Result<()> {
    let root = crate::project_root();
    crate::step(&format!(
        "frontend: wasm build ({})",
        if release { RELEASE_PROFILE } else { "dev" }
    ));
    wasm_target()?;
    check_wasm_bindgen_versions(
        &fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?,
    )?;
    let profile_dir = if release { RELEASE_PROFILE } else { "debug" };
    let generated = crate::target_dir().join("frontend-bindgen");
    if generated.exists() {
        fs::remove_dir_all(&generated)
            .with_context(|| format!("removing {}", generated.display()))?;
    }
    for app in APPS {
        let mut args = vec!["build", "--package", app.package, "--target", TARGET];
        if release {
            args.extend(["--profile", RELEASE_PROFILE]);
        }
        crate::cargo(&args)?;
        let wasm = crate::target_dir()
            .join(TARGET)
            .join(profile_dir)
            .join(format!("{}.wasm", app.package.replace('-', "_")));
        crate::step(&format!("frontend: wasm-bindgen {}", app.package));
        wasm_bindgen_cli_support::Bindgen::new()
            .input_path(&wasm)
            .out_name(app.stem)
            .web(true)?
            .typescript(false)
            .omit_default_module_path(false)
            // Both sections go in every build: the issue's bundle carries neither.
            // (Panic messages keep their file and line without the name section; only
            // stack traces lose function names.)
            .remove_name_section(true)
            .remove_producers_section(true)
            .generate(generated.join(app.stem))
            .with_context(|| format!("running wasm-bindgen on {}", wasm.display()))?;
    }
    // Before wasm-opt, terser and the chart module, all from `frontend/node_modules`.
    npm_ci(&root.join("frontend"))?;
    if release {
        optimise(&root.join("frontend"), &generated)?;
    }
    crate::step("frontend: bundle");

    let compression = if release {
        Compression::Best
    } else {
        Compression::Fast
    };
    let static_dir = root.join("static");
    let charts = charts_module(&root.join("frontend"))?;
    let manifest = bundle(
        &generated,
        &[(CHARTS.to_owned(), charts)],
        &static_dir,
        &static_dir.join("pkg"),
        compression,
    )?;
    print_sizes(&static_dir.join("pkg"), &manifest)
}

/// The gzipped size in bytes of the portal in `static/pkg/` (its JS and wasm), as
/// written by the last [`build`]; call `build(true)` first to measure what users
/// download.
pub(crate) fn bundle_size_gzipped() -> Result<u64> {
    wasm_app_size_gzipped(STEM)
}

/// The gzipped size in bytes of one wasm module's JS and wasm (`runboard`,
/// `notebook`), as written by the last [`build`].
pub(crate) fn wasm_app_size_gzipped(stem: &str) -> Result<u64> {
    let pkg = crate::project_root().join("static/pkg");
    let manifest = read_manifest(&pkg)?;
    app_files(&manifest, stem)?
        .iter()
        .map(|name| file_size(&pkg.join(format!("{name}.gz"))))
        .sum()
}

/// The gzipped size in bytes of one bundle file, by its source name (`style.css`,
/// `bench/baseline.html`), as written by the last [`build`].
pub(crate) fn gzipped_size_of(name: &str) -> Result<u64> {
    let pkg = crate::project_root().join("static/pkg");
    let manifest = read_manifest(&pkg)?;
    let hashed = manifest
        .get(name)
        .with_context(|| format!("manifest.json names no {name}"))?;
    file_size(&pkg.join(format!("{hashed}.gz")))
}

/// Installs the wasm target with rustup when it is missing.
fn wasm_target() -> Result<()> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let Ok(listed) = listed
        .as_ref()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    else {
        // Without rustup (a distribution's Rust) the target is whatever is installed.
        eprintln!("rustup not found: assuming the {TARGET} standard library is installed");
        return Ok(());
    };
    if listed.lines().any(|t| t.trim() == TARGET) {
        return Ok(());
    }
    eprintln!("==> installing the {TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()?;
    if !status.success() {
        bail!("`rustup target add {TARGET}` failed ({status})");
    }
    Ok(())
}

/// Fails unless every `wasm-bindgen` in Cargo.lock has the version of the
/// `wasm-bindgen-cli-support` that this xtask links: the two must match exactly, as
/// the `wasm-bindgen` CLI's own version check demands.
fn check_wasm_bindgen_versions(cargo_lock: &str) -> Result<()> {
    let support = locked_versions(cargo_lock, "wasm-bindgen-cli-support");
    let macro_versions = locked_versions(cargo_lock, "wasm-bindgen");
    let [support] = support.as_slice() else {
        bail!("Cargo.lock should hold one wasm-bindgen-cli-support, and holds {support:?}");
    };
    if macro_versions.iter().any(|v| v != support) || macro_versions.is_empty() {
        bail!(
            "wasm-bindgen versions diverge: Cargo.lock has wasm-bindgen {macro_versions:?} but \
             wasm-bindgen-cli-support {support}. Pin both to the same version with `=` in the \
             workspace's Cargo.toml ([workspace.dependencies]) and run `cargo update -p wasm-bindgen`."
        );
    }
    Ok(())
}

/// The versions of package `name` in a Cargo.lock.
fn locked_versions(cargo_lock: &str, name: &str) -> Vec<String> {
    let mut versions = Vec::new();
    let mut current = None;
    for line in cargo_lock.lines() {
        if line == "[[package]]" {
            current = None;
        } else if let Some(n) = line.strip_prefix("name = ") {
            current = Some(n.trim_matches('"'));
        } else if let Some(v) = line.strip_prefix("version = ")
            && current == Some(name)
        {
            versions.push(v.trim_matches('"').to_owned());
        }
    }
    versions
}

/// How hard to compress the `.gz` and `.br` copies.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Compression {
    /// Smallest files (brotli 11, gzip 9), for release builds: a few seconds.
    Best,
    /// Quick (brotli 5, gzip 6), for the large dev builds.
    Fast,
}

/// Writes the bundle to `out` (see the module doc) from wasm-bindgen's output in
/// `generated` and the files of `static_dir`, and removes the files of earlier
/// bundles. Returns the manifest.
fn bundle(
    generated: &Path,
    made: &[(String, Vec<u8>)],
    static_dir: &Path,
    out: &Path,
    compression: Compression,
) -> Result<BTreeMap<String, String>> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut manifest = BTreeMap::new();
    for entry in fs::read_dir(generated)? {
        let stem = entry?.file_name().to_string_lossy().into_owned();
        bundle_wasm_app(&generated.join(&stem), &stem, out, &mut manifest)?;
    }
    // The Python kernel: Pyodide, the cell runner and the worker (notebook pages only).
    // Its memory snapshot comes with its `.gz` and `.br` made once (see `pykernel`).
    let precompressed = crate::pykernel::bundle(&crate::project_root(), out, &mut manifest)?;

    let mut assets = Vec::new();
    for rel in asset_files(static_dir)? {
        let bytes = fs::read(static_dir.join(&rel))?;
        assets.push((rel, bytes));
    }
    assets.extend(made.iter().cloned());
    for (rel, bytes) in assets {
        let hashed = hashed_name(&rel, &content_hash(&[&bytes]));
        let dest = out.join(&hashed);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        write_new(&dest, &bytes)?;
        manifest.insert(rel, hashed);
    }

    let mut pages = Vec::new();
    for name in TEMPLATES {
        let path = static_dir.join(name);
        let template =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let page =
            fill_template(&template, &manifest).with_context(|| format!("in static/{name}"))?;
        pages.push((name, page));
    }
    let manifest_json = serde_json::to_string_pretty(&manifest)? + "\n";

    let mut written: Vec<String> = manifest.values().cloned().collect();
    written.extend(precompressed);
    for name in manifest.values().filter(|n| is_compressible(n)) {
        let bytes = fs::read(out.join(name))?;
        written.extend(write_compressed(out, name, &bytes, compression)?);
    }
    // These keep their names: each is replaced by a rename, so that a running server
    // never serves half a file. The pages come last, once all they name is there.
    let mut named = vec![("manifest.json", manifest_json)];
    named.extend(pages);
    for (name, text) in &named {
        let tmp = out.join(format!(".{name}.tmp"));
        fs::write(&tmp, text)?;
        written.extend(write_compressed(out, name, text.as_bytes(), compression)?);
        fs::rename(&tmp, out.join(name))?;
        written.push((*name).to_owned());
    }
    remove_stale(out, out, &written)?;
    Ok(manifest)
}

/// Writes one wasm-bindgen output (`<stem>.js`, `<stem>_bg.wasm` in `generated`)
/// under hashed names, and notes them in `manifest`.
fn bundle_wasm_app(
    generated: &Path,
    stem: &str,
    out: &Path,
    manifest: &mut BTreeMap<String, String>,
) -> Result<()> {
    let js_name = format!("{stem}.js");
    let wasm_name = format!("{stem}_bg.wasm");
    let js = fs::read_to_string(generated.join(&js_name)).context("reading wasm-bindgen's JS")?;
    let wasm = fs::read(generated.join(&wasm_name)).context("reading wasm-bindgen's wasm")?;
    let extra: Vec<_> = fs::read_dir(generated)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()?;
    if let Some(other) = extra.iter().find(|n| **n != js_name && **n != wasm_name) {
        // `snippets/` (from `#[wasm_bindgen(inline_js)]` or `module = "..."`) would need
        // hashed names of their own; nothing uses them yet.
        bail!("wasm-bindgen wrote {other:?}, which the bundle step does not handle yet");
    }
    // One hash for the pair, so the two names go together.
    let hash = content_hash(&[&wasm, js.as_bytes()]);
    let hashed_wasm = format!("{stem}-{hash}_bg.wasm");
    let hashed_js = format!("{stem}-{hash}.js");
    let js = rewrite_wasm_path(&js, &wasm_name, &hashed_wasm)?;
    write_new(&out.join(&hashed_wasm), &wasm)?;
    write_new(&out.join(&hashed_js), js.as_bytes())?;
    manifest.insert(wasm_name, hashed_wasm);
    manifest.insert(js_name, hashed_js);
    Ok(())
}

/// First 16 hex digits of the SHA-256 of the concatenated `parts`.
pub(crate) fn content_hash(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `dir/name.ext` → `dir/name-<hash>.ext` (a name without extension gets `-<hash>`).
pub(crate) fn hashed_name(rel: &str, hash: &str) -> String {
    let (dir, file) = rel.rsplit_once('/').map_or(("", rel), |(d, f)| (d, f));
    let file = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{hash}.{ext}"),
        _ => format!("{file}-{hash}"),
    };
    if dir.is_empty() {
        file
    } else {
        format!("{dir}/{file}")
    }
}

/// Points wasm-bindgen's default module path (`new URL('<STEM>_bg.wasm',
/// import.meta.url)`) at the hashed wasm file.
fn rewrite_wasm_path(js: &str, wasm_name: &str, hashed_wasm: &str) -> Result<String> {
    let needle = format!("'{wasm_name}'");
    match js.matches(&needle).count() {
        1 => Ok(js.replace(&needle, &format!("'{hashed_wasm}'"))),
        n => bail!("expected wasm-bindgen's JS to name {needle} once, found it {n} times"),
    }
}

/// Replaces each `{{name}}` in `template` by `/` and the hashed name of `name`; an
/// unknown name is an error, so a typo in the template fails the build.
pub(crate) fn fill_template(template: &str, manifest: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            bail!("unclosed {{{{ in the template");
        };
        let name = rest[start + 2..start + len].trim();
        let Some(hashed) = manifest.get(name) else {
            let known: Vec<&str> = manifest.keys().map(String::as_str).collect();
            bail!(
                "the template names {{{{{name}}}}}, which is not a bundle file; known: {}",
                known.join(", ")
            );
        };
        out.push_str(&rest[..start]);
        out.push('/');
        out.push_str(hashed);
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The files of `static/` that are copied into the bundle: all but the [`TEMPLATES`],
/// the bundle folder `pkg/` and hidden files, as `/`-separated paths.
fn asset_files(static_dir: &Path) -> Result<Vec<String>> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<()> {
        for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            if name.starts_with('.') || rel == "pkg" || TEMPLATES.contains(&rel.as_str()) {
                continue;
            }
            if entry.file_type()?.is_dir() {
                walk(&entry.path(), &format!("{rel}/"), out)?;
            } else {
                out.push(rel);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(static_dir, "", &mut files)?;
    files.sort();
    Ok(files)
}

fn is_compressible(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| COMPRESSIBLE.contains(&ext))
}

/// Writes `<rel>.gz` and `<rel>.br` under `out` with `bytes` compressed; returns
/// their paths relative to `out`.
pub(crate) fn write_compressed(
    out: &Path,
    rel: &str,
    bytes: &[u8],
    compression: Compression,
) -> Result<[String; 2]> {
    let (gzip_level, brotli_quality) = match compression {
        Compression::Best => (flate2::Compression::best(), 11),
        Compression::Fast => (flate2::Compression::default(), 5),
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), gzip_level);
    gz.write_all(bytes)?;
    let gz = gz.finish()?;
    let params = brotli::enc::BrotliEncoderParams {
        quality: brotli_quality,
        lgwin: 22,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut br = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)?;
    let names = [format!("{rel}.gz"), format!("{rel}.br")];
    for (name, data) in names.iter().zip([gz, br]) {
        let path = out.join(name);
        fs::write(&path, data).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(names)
}

/// Writes a hashed file unless it is already there: same name, same content.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    if fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64) {
        return Ok(());
    }
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Removes the files under `dir` that the new bundle did not write (earlier bundles),
/// and the folders left empty.
fn remove_stale(root: &Path, dir: &Path, keep: &[String]) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let rel = path
            .strip_prefix(root)?
            .to_string_lossy()
            .replace('\\', "/");
        if path.is_dir() {
            remove_stale(root, &path, keep)?;
            if fs::read_dir(&path)?.next().is_none() {
                fs::remove_dir(&path)?;
            }
        } else if !keep.contains(&rel) {
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

fn read_manifest(pkg: &Path) -> Result<BTreeMap<String, String>> {
    let path = pkg.join("manifest.json");
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {}: build the frontend first (`cargo xtask frontend --release`)",
            path.display()
        )
    })?;
    Ok(serde_json::from_str(&text)?)
}

/// The hashed names of one wasm module's JS and wasm.
fn app_files<'m>(manifest: &'m BTreeMap<String, String>, stem: &str) -> Result<[&'m str; 2]> {
    let get = |name: String| {
        manifest
            .get(&name)
            .map(String::as_str)
            .with_context(|| format!("manifest.json names no {name}"))
    };
    Ok([get(format!("{stem}.js"))?, get(format!("{stem}_bg.wasm"))?])
}

fn file_size(path: &Path) -> Result<u64> {
    Ok(fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len())
}

/// Prints the raw, gzip and brotli sizes of the app's JS and wasm.
fn print_sizes(pkg: &Path, manifest: &BTreeMap<String, String>) -> Result<()> {
    for app in APPS {
        for name in app_files(manifest, app.stem)? {
            let size = |suffix: &str| file_size(&pkg.join(format!("{name}{suffix}")));
            eprintln!(
                "  {name:<36} {:>9} B   gzip {:>8} B   br {:>8} B",
                size("")?,
                size(".gz")?,
                size(".br")?
            );
        }
        eprintln!(
            "  {}: gzipped wasm + js {} B",
            app.package,
            wasm_app_size_gzipped(app.stem)?
        );
    }
    eprintln!("  the notebook page's Python kernel (Pyodide, loaded when a notebook opens):");
    let mut kernel_gz = 0;
    let kernel_files = crate::pykernel::PYODIDE_FILES
        .iter()
        .map(|f| format!("pyodide/{f}"))
        .chain([
            crate::pykernel::SNAPSHOT.to_owned(),
            "runboard_kernel.py".to_owned(),
            crate::pykernel::WORKER.to_owned(),
        ]);
    for source in kernel_files {
        let name = manifest
            .get(&source)
            .with_context(|| format!("manifest.json names no {source}"))?;
        let raw = file_size(&pkg.join(name))?;
        let gz = file_size(&pkg.join(format!("{name}.gz"))).unwrap_or(raw);
        kernel_gz += gz;
        eprintln!("  {name:<44} {raw:>9} B   gzip {gz:>8} B");
    }
    eprintln!("  Python kernel: gzipped {kernel_gz} B (the SDK's wheel comes from /simple/)");
    eprintln!("  in {}", pkg.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_versions_reads_every_entry_of_a_package() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n\n\
                    [[package]]\nname = \"wasm-bindgen-cli-support\"\nversion = \"0.2.130\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.99\"\n";
        assert_eq!(locked_versions(lock, "wasm-bindgen"), ["0.2.130", "0.2.99"]);
        assert_eq!(
            locked_versions(lock, "wasm-bindgen-cli-support"),
            ["0.2.130"]
        );
        let err = check_wasm_bindgen_versions(lock).unwrap_err().to_string();
        assert!(err.contains("diverge"), "{err}");
        let same = lock.replace("0.2.99", "0.2.130");
        check_wasm_bindgen_versions(&same).unwrap();
    }

    #[test]
    fn the_workspace_lock_pins_matching_wasm_bindgen_versions() {
        let lock = fs::read_to_string(crate::project_root().join("Cargo.lock")).unwrap();
        check_wasm_bindgen_versions(&lock).unwrap();
    }

    #[test]
    fn hashed_names_keep_folder_and_extension() {
        let check = |rel: &str, expect: &str| assert_eq!(hashed_name(rel, "ab12"), expect);
        check("style.css", "style-ab12.css");
        check("icons/run.svg", "icons/run-ab12.svg");
        check("archive.tar.gz", "archive.tar-ab12.gz");
        check("LICENSE", "LICENSE-ab12");
        check(".hidden", ".hidden-ab12");
    }

    #[test]
    fn the_template_gets_absolute_hashed_urls() {
        let manifest = BTreeMap::from([("runboard.js".to_owned(), "runboard-ab12.js".to_owned())]);
        let filled = fill_template(
            r#"<script src="{{ runboard.js }}"></script>{{runboard.js}}"#,
            &manifest,
        )
        .unwrap();
        assert_eq!(
            filled,
            r#"<script src="/runboard-ab12.js"></script>/runboard-ab12.js"#
        );
        let err = fill_template("{{style.css}}", &manifest)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("style.css") && err.contains("runboard.js"),
            "{err}"
        );
        assert!(fill_template("{{runboard.js", &manifest).is_err());
    }

    #[test]
    fn the_js_is_pointed_at_the_hashed_wasm() {
        let js = "module_or_path = new URL('runboard_bg.wasm', import.meta.url);";
        let out = rewrite_wasm_path(js, "runboard_bg.wasm", "runboard-ab12_bg.wasm").unwrap();
        assert_eq!(
            out,
            "module_or_path = new URL('runboard-ab12_bg.wasm', import.meta.url);"
        );
        assert!(rewrite_wasm_path("no path", "runboard_bg.wasm", "x").is_err());
    }
}
