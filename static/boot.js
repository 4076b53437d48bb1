// The entry of the app's pages (index.html, notebook.html): imports the app module
// the page names in its <link rel="modulepreload"> and starts it. A file, not an
// inline script, so that the pages' Content-Security-Policy can refuse every inline
// script (see server/src/api/web.rs).

// The app imports its lazily loaded modules (the charts) through this: `import()` is
// syntax, which wasm-bindgen cannot call, and building it with `new Function` would
// need 'unsafe-eval'.
globalThis.runboardImport = (url) => import(url);
const app = document.querySelector('link[rel="modulepreload"]');
import(app.href)
  .then((module) => module.default())
  .catch((error) => {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = `Runboard could not start: ${error}`;
    document.body.replaceChildren(p);
  });
