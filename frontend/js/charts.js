// The portal's chart module: the Metrics and TensorBoard tabs, and the experiment
// page's comparison of runs (`compare`), drawn with uPlot.
//
// `cargo xtask frontend` writes `charts.js` into the bundle as uPlot's IIFE build
// (frontend/node_modules/uplot, from frontend/package-lock.json), then
// `const UPLOT_CSS = "..."` (uPlot's stylesheet), then this file: one ES module, one
// request, imported by the app only when a chart tab opens (frontend/src/components/
// chart.rs), so the app's measured download does not carry it. The app owns the
// data (it follows the run's websocket) and hands it over with `append` and `value`;
// this module owns the tab's page: settings, the values table, groups and charts. It
// makes no request of its own: what it needs from the server it asks of the app's data
// source (`data(what, args, done)`, which calls `done(answer, error)`; see
// frontend/src/components/chart.rs `data_source`), through `ask`.

const PALETTE = ["#1f6feb", "#d9480f", "#2b8a3e", "#ae3ec9", "#e67700", "#0b7285", "#c2255c", "#5c940d"];
const HEIGHT = 240;

/** Settings per tab kind, kept while the page lives (tab switches remount). */
const SETTINGS = {
  metrics: { x: "step", smoothing: 60, log: false },
  tensorboard: { x: "step", smoothing: 60, log: false },
};

let styled = false;
function addStyle() {
  if (styled || typeof UPLOT_CSS === "undefined") return;
  styled = true;
  const style = document.createElement("style");
  style.textContent = UPLOT_CSS;
  document.head.append(style);
}

/**
 * TensorBoard's smoothing: an exponential moving average, debiased so the first points
 * are not pulled towards 0 (`1 - weight^n` divides it). Non-finite values pass
 * through; a constant series stays as it is.
 */
export function smooth(values, weight) {
  const out = new Float64Array(values.length);
  const first = values[0];
  let constant = true;
  for (const v of values) if (v !== first) constant = false;
  if (constant) {
    out.set(values);
    return out;
  }
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    count++;
    const debias = weight === 1 ? 1 : 1 - Math.pow(weight, count);
    out[i] = last / debias;
  }
  return out;
}

export function formatNumber(v) {
  if (v == null || !Number.isFinite(v)) return v == null ? "—" : String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(3) : String(+v.toPrecision(6));
}

/** A growing column of numbers. */
class Column {
  constructor() {
    this.data = new Float64Array(64);
    this.length = 0;
  }
  push(values) {
    if (this.length + values.length > this.data.length) {
      const bigger = new Float64Array(Math.max(this.data.length * 2, this.length + values.length));
      bigger.set(this.view());
      this.data = bigger;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
  view() {
    return this.data.subarray(0, this.length);
  }
}

/** The app's answer to `data(what, args, done)`, as a promise. */
function ask(data, what, args) {
  return new Promise((resolve, reject) => data(what, args, (answer, error) => (error ? reject(error) : resolve(answer))));
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

/**
 * Mounts a tab in `root`. `kind`: `metrics` (source `metric`: a table of values
 * logged once and non-numbers, a chart per series) or `tensorboard` (a chart per tag,
 * grouped by the tag's prefix, one line per TensorBoard run). Returns
 * `{start(series, values), append(source, run, name, steps, walls, values),
 * value(name, kind, value, count), destroy()}`. The TensorBoard tab also lists the non-scalar summaries (histograms,
 * images, text) that the server counted (`data("scalars")`).
 */
export function mount(root, kind, runId, data) {
  addStyle();
  const settings = SETTINGS[kind];
  const wanted = kind === "metrics" ? "metric" : "tensorboard";
  /** key → {run, name, steps, walls, values} */
  const series = new Map();
  /** name → {kind, value, count} */
  const values = new Map();
  /** name → how many values were logged before the page started following */
  const base = new Map();
  /** chart id → {figure, plot, lines: [key], uplot, shape, drawn, zoomed} */
  const charts = new Map();
  let frame = 0;
  let structureChanged = true;

  const empty = el("p", {
    class: "empty",
    text:
      kind === "metrics"
        ? "No metrics yet. A script logs them with `from azureml.core import Run; run = Run.get_context(); run.log('loss', 0.5)`; they appear here as they are logged."
        : "No TensorBoard scalars yet. Event files written under the run's logs/ (tensorboardX, torch.utils.tensorboard, tf.summary) are read as they are written; each folder below logs/ is a TensorBoard run.",
  });
  const valuesSection = el("section", { class: "metric-values-section", hidden: "" }, [
    el("h2", { text: "Values" }),
  ]);
  const valuesBody = el("tbody");
  valuesSection.append(
    el("table", { class: "metric-values" }, [
      el("thead", {}, [
        el("tr", {}, [
          el("th", { scope: "col", text: "Name" }),
          el("th", { scope: "col", text: "Kind" }),
          el("th", { scope: "col", text: "Value" }),
        ]),
      ]),
      valuesBody,
    ]),
  );
  const controls = controlsOf(settings, () => {
    for (const c of charts.values()) c.drawn = -1;
    schedule();
  });
  controls.hidden = true;
  const groupsRoot = el("div", { class: "chart-groups" });
  const otherSection = el("section", { class: "other-summaries", hidden: "" });
  root.replaceChildren(empty, valuesSection, controls, groupsRoot, otherSection);
  let otherAsked = 0;
  let otherPending = 0;
  let destroyed = false;

  // Non-scalar summaries are only counted by the server: read the list when the tab
  // opens and then at most every 2 s while points arrive.
  function refreshOther() {
    if (kind !== "tensorboard" || !runId || otherPending || destroyed) return;
    const wait = Math.max(0, otherAsked + 2000 - Date.now());
    otherPending = setTimeout(readOther, wait);
  }
  function readOther() {
    otherPending = 0;
    otherAsked = Date.now();
    ask(data, "scalars", [])
      .then((list) => {
        if (destroyed || !list || !Array.isArray(list.other)) return;
        otherSection.hidden = list.other.length === 0;
        otherSection.replaceChildren(
          el("h2", { text: "Other summaries" }),
          el("table", { class: "metric-values" }, [
            el("thead", {}, [
              el("tr", {}, ["Run", "Tag", "Kind", "Count"].map((t) => el("th", { scope: "col", text: t }))),
            ]),
            el(
              "tbody",
              {},
              list.other.map((o) =>
                el("tr", {}, [o.run, o.tag, o.kind, String(o.count)].map((t) => el("td", { text: t }))),
              ),
            ),
          ]),
        );
      })
      .catch(() => {});
  }
  refreshOther();

  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function chartIdOf(s) {
    return kind === "metrics" ? s.name : s.name;
  }

  function render() {
    frame = 0;
    if (structureChanged) {
      structureChanged = false;
      rebuildStructure();
    }
    refreshOther();
    for (const chart of charts.values()) draw(chart);
  }

  function rebuildStructure() {
    // Values table (metrics): numbers logged once, and non-numbers.
    const rows = [];
    if (kind === "metrics") {
      for (const s of series.values()) {
        if (s.values.length === 1 && !(s.total > 1)) rows.push([s.name, "number", formatNumber(s.values.data[0])]);
      }
      for (const [name, v] of values) {
        let text = v.kind === "image" ? "(image)" : typeof v.value === "string" ? v.value : JSON.stringify(v.value);
        if (text.length > 300) text = text.slice(0, 300) + "…";
        if (v.count > 1) text += ` (last of ${v.count})`;
        rows.push([name, v.kind, text]);
      }
      rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      valuesBody.replaceChildren(
        ...rows.map(([n, k, t]) =>
          el("tr", {}, [el("th", { scope: "row", text: n }), el("td", { text: k }), el("td", { class: "value", text: t })]),
        ),
      );
    }
    valuesSection.hidden = rows.length === 0;

    // Charts: which exist, in which group.
    const wantedCharts = new Map();
    for (const [key, s] of series) {
      if (kind === "metrics" && s.values.length < 2 && !(s.total > 1)) continue;
      const id = chartIdOf(s);
      const prefix = kind === "metrics" ? "" : s.name.includes("/") ? s.name.slice(0, s.name.indexOf("/")) : "";
      if (!wantedCharts.has(id)) wantedCharts.set(id, { prefix, lines: [] });
      wantedCharts.get(id).lines.push(key);
    }
    for (const [id, c] of charts) {
      if (!wantedCharts.has(id)) {
        c.uplot?.destroy();
        c.figure.remove();
        charts.delete(id);
      }
    }
    const groups = new Map();
    for (const [id, w] of [...wantedCharts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      let chart = charts.get(id);
      if (!chart) {
        const plot = el("div", { class: "chart-plot", "data-points": "0" });
        const figure = el("figure", { class: "chart" }, [el("figcaption", { text: id }), plot]);
        chart = { id, figure, plot, lines: [], uplot: null, shape: "", drawn: -1, zoomed: false };
        charts.set(id, chart);
      }
      w.lines.sort();
      if (chart.lines.join("\n") !== w.lines.join("\n")) {
        chart.lines = w.lines;
        chart.drawn = -1;
      }
      if (!groups.has(w.prefix)) groups.set(w.prefix, []);
      groups.get(w.prefix).push(chart.figure);
    }
    const sections = [];
    for (const [prefix, figures] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const title = kind === "metrics" ? "Series" : prefix || "(no prefix)";
      const section = el("section", { class: "chart-group", "aria-label": title, "data-prefix": prefix }, [
        el("h2", { text: title }),
        el("div", { class: "charts" }, figures),
      ]);
      sections.push(section);
    }
    groupsRoot.replaceChildren(...sections);
    controls.hidden = charts.size === 0;
    empty.hidden = charts.size > 0 || rows.length > 0;
  }

  function xsOf(s) {
    if (settings.x === "step") return s.steps.view();
    if (settings.x === "wall") return s.walls.view();
    const walls = s.walls.view();
    const first = walls[0] ?? 0;
    return walls.map((w) => w - first);
  }

  function draw(chart) {
    const lines = chart.lines.map((k) => series.get(k));
    const total = lines.reduce((n, s) => n + s.values.length, 0);
    const shape = `${settings.x}|${settings.log}|${settings.smoothing > 0}|${chart.lines.join("\n")}`;
    if (chart.drawn === total && chart.shape === shape) return;
    const weight = settings.smoothing / 100;
    const labels = [];
    const tables = lines.map((s, i) => {
      const label = kind === "metrics" ? s.name : s.run;
      const ys = s.values.view();
      if (settings.smoothing > 0) {
        labels.push({ label: `${label} (raw)`, color: i, faint: true }, { label, color: i, faint: false });
        return [xsOf(s), ys, smooth(ys, weight)];
      }
      labels.push({ label, color: i, faint: false });
      return [xsOf(s), ys];
    });
    let data = join(tables);
    if (settings.log) data = data.map((c, i) => (i === 0 ? c : Array.from(c, (v) => (v > 0 ? v : null))));
    if (chart.uplot && chart.shape === shape) {
      chart.uplot.setData(data, !chart.zoomed);
    } else {
      chart.uplot?.destroy();
      chart.zoomed = false;
      chart.uplot = create(chart, labels, data);
    }
    chart.shape = shape;
    chart.drawn = total;
    chart.plot.setAttribute("data-points", String(total));
    // How many points the lines stand for (a sampled start counts what it samples).
    const logged = lines.reduce((n, s) => n + s.values.length + (s.total || 0) - (s.sampled || 0), 0);
    chart.plot.setAttribute("data-logged", String(logged));
  }

  function create(chart, labels, data) {
    const series = [
      {
        label: settings.x === "wall" ? "time" : settings.x === "relative" ? "seconds" : "step",
        value: settings.x === "wall" ? "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" : (u, v) => (v == null ? "—" : String(v)),
      },
    ];
    for (const s of labels) {
      const color = PALETTE[s.color % PALETTE.length];
      series.push({
        label: s.label,
        stroke: s.faint ? color + "55" : color,
        width: s.faint ? 1 : 1.5,
        spanGaps: true,
        points: { show: false },
        value: (u, v) => formatNumber(v),
      });
    }
    const width = () => Math.max(200, chart.plot.clientWidth || 600);
    const u = new uPlot(
      {
        width: width(),
        height: HEIGHT,
        series,
        scales: { x: { time: settings.x === "wall" }, y: settings.log ? { distr: 3 } : {} },
        axes: [{}, { size: 60, values: (u, vals) => vals.map(formatNumber) }],
        cursor: { drag: { x: true, y: false } },
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width > 0) chart.zoomed = true;
            },
          ],
        },
      },
      data,
      chart.plot,
    );
    // Double-click resets the zoom; new points then move the view again.
    u.over.addEventListener("dblclick", () => {
      chart.zoomed = false;
    });
    return u;
  }

  const observer = new ResizeObserver(() => {
    for (const c of charts.values()) {
      if (!c.uplot) continue;
      const w = Math.max(200, c.plot.clientWidth || 600);
      if (w !== c.uplot.width) c.uplot.setSize({ width: w, height: HEIGHT });
    }
  });
  observer.observe(root);

  return {
    append(source, run, name, steps, walls, vals) {
      if (source !== wanted) return;
      const key = `${run}\u0000${name}`;
      let s = series.get(key);
      if (!s) {
        s = { run, name, steps: new Column(), walls: new Column(), values: new Column() };
        series.set(key, s);
        structureChanged = true;
      }
      const before = s.values.length;
      s.steps.push(steps);
      s.walls.push(walls);
      s.values.push(vals);
      // A metric moves from the table to a chart at its second point.
      if (kind === "metrics" && before < 2) structureChanged = true;
      schedule();
    },
    // Where the page started following the run (`GET /api/runs/{id}/view`): each
    // series' first `count` points, asked of the app sampled (`data("series")`: min,
    // max and last of each of 1,000 slices) and put before the points appended live;
    // each value in brief, which live values count on from.
    start(starts, briefs) {
      for (const v of briefs ?? []) {
        if (kind !== "metrics") break;
        base.set(v.name, v.count);
        values.set(v.name, { kind: v.kind, value: v.last, count: v.count });
        structureChanged = true;
      }
      for (const { source, run, name, count } of starts ?? []) {
        if (source !== wanted || !runId || count < 1) continue;
        const key = `${run}\u0000${name}`;
        ask(data, "series", [source, run, name, count])
          .then((body) => {
            if (destroyed || !body || !Array.isArray(body.points)) return;
            const live = series.get(key);
            const s = { run, name, steps: new Column(), walls: new Column(), values: new Column(), total: count, sampled: body.points.length };
            s.steps.push(body.points.map((p) => p.step));
            s.walls.push(body.points.map((p) => p.wall_time));
            s.values.push(body.points.map((p) => p.value));
            if (live) {
              s.steps.push(live.steps.view());
              s.walls.push(live.walls.view());
              s.values.push(live.values.view());
            }
            series.set(key, s);
            for (const c of charts.values()) c.drawn = -1;
            structureChanged = true;
            schedule();
          })
          .catch(() => {});
      }
      schedule();
    },
    value(name, valueKind, value, count) {
      if (kind !== "metrics") return;
      values.set(name, { kind: valueKind, value, count: count + (base.get(name) ?? 0) });
      structureChanged = true;
      schedule();
    },
    destroy() {
      destroyed = true;
      clearTimeout(otherPending);
      if (frame) cancelAnimationFrame(frame);
      observer.disconnect();
      for (const c of charts.values()) c.uplot?.destroy();
      charts.clear();
      root.replaceChildren();
    },
  };
}

function controlsOf(settings, changed) {
  const select = el("select", { "data-testid": "x-axis" }, [
    el("option", { value: "step", text: "Step" }),
    el("option", { value: "relative", text: "Relative (s)" }),
    el("option", { value: "wall", text: "Wall time" }),
  ]);
  select.value = settings.x;
  select.addEventListener("change", () => {
    settings.x = select.value;
    changed();
  });
  const range = el("input", { type: "range", min: "0", max: "99", step: "1" });
  range.value = String(settings.smoothing);
  const output = el("output", { text: (settings.smoothing / 100).toFixed(2) });
  range.addEventListener("input", () => {
    settings.smoothing = Number(range.value);
    output.textContent = (settings.smoothing / 100).toFixed(2);
    changed();
  });
  const log = el("input", { type: "checkbox" });
  log.checked = settings.log;
  log.addEventListener("change", () => {
    settings.log = log.checked;
    changed();
  });
  return el("div", { class: "chart-controls", role: "group", "aria-label": "Chart settings" }, [
    el("label", {}, ["X axis ", select]),
    el("label", {}, ["Smoothing ", range, output]),
    el("label", {}, [log, " Log scale"]),
  ]);
}

function join(tables) {
  if (tables.length === 1) return tables[0];
  if (tables.length === 0) return [[]];
  return uPlot.join(tables.map((t) => t.map((c) => Array.from(c))));
}

/** A metric's last value as the comparison table shows it. */
function lastText(brief) {
  if (!brief) return "";
  const v = brief.last;
  let text = typeof v === "number" ? formatNumber(v) : typeof v === "string" ? v : JSON.stringify(v);
  if (text.length > 80) text = text.slice(0, 80) + "…";
  return text;
}

/**
 * The experiment page's comparison of runs, in `root` (MLflow's "compare runs"): a
 * column per chosen metric with each run's last value (one request of the app's
 * `data("metrics", [ids])`), and one numeric metric overlaid across the runs ticked in
 * the table (each run's points, downsampled: `data("buckets", [id, name])`). Returns
 * `{runs(ids), destroy()}`: `runs` shows the runs of the page (again when they change).
 */
export function compare(root, experiment, data) {
  addStyle();
  let destroyed = false;
  let ids = [];
  /** run id → Map(name → {name, series, count, last}) */
  let briefs = new Map();
  const chosen = new Set();
  let chosenOnce = false;
  const ticked = new Set();
  const seen = new Set();
  let overlay = "";
  let uplot = null;
  let drawing = 0;

  const status = el("p", { class: "empty", text: "Loading metrics…" });
  const columns = el("fieldset", { class: "metric-columns", hidden: "" });
  const table = el("table", { class: "metric-values compare-table" });
  const select = el("select", { "data-testid": "overlay-metric" });
  select.addEventListener("change", () => {
    overlay = select.value;
    drawOverlay();
  });
  const plot = el("div", { class: "chart-plot", "data-points": "0", "data-lines": "0" });
  const caption = el("figcaption");
  const overlaySection = el("section", { class: "overlay", hidden: "" }, [
    el("label", {}, ["Overlay ", select]),
    el("figure", { class: "chart" }, [caption, plot]),
  ]);
  root.replaceChildren(status, columns, table, overlaySection);

  async function load() {
    const wanted = ids.slice();
    let body = null;
    if (wanted.length) {
      try {
        body = await ask(data, "metrics", [wanted]);
      } catch (e) {
        status.textContent = `Could not load the metrics: ${e}`;
      }
    }
    if (destroyed || wanted.join() !== ids.join()) return;
    if (!body && wanted.length) return;
    briefs = new Map((body?.runs ?? []).map((r) => [r.run_id, new Map(r.metrics.map((m) => [m.name, m]))]));
    for (const id of ids) {
      if (!seen.has(id)) {
        seen.add(id);
        ticked.add(id);
      }
    }
    render();
  }

  function names() {
    const all = new Set();
    for (const m of briefs.values()) for (const n of m.keys()) all.add(n);
    return [...all].sort();
  }

  function render() {
    const all = names();
    if (!chosenOnce && all.length) {
      all.slice(0, 4).forEach((n) => chosen.add(n));
      chosenOnce = true;
    }
    status.hidden = all.length > 0;
    status.textContent = ids.length ? "These runs have logged no metrics yet." : "No runs on this page.";
    columns.hidden = all.length === 0;
    columns.replaceChildren(
      el("legend", { text: "Metric columns" }),
      ...all.map((n) => {
        const box = el("input", { type: "checkbox", value: n });
        box.checked = chosen.has(n);
        box.addEventListener("change", () => {
          if (box.checked) chosen.add(n);
          else chosen.delete(n);
          renderTable();
        });
        return el("label", {}, [box, " " + n]);
      }),
    );
    renderTable();
    const numeric = all.filter((n) => [...briefs.values()].some((m) => m.get(n)?.series && m.get(n).count > 1));
    if (!numeric.includes(overlay)) overlay = numeric[0] ?? "";
    select.replaceChildren(...numeric.map((n) => el("option", { value: n, text: n })));
    select.value = overlay;
    overlaySection.hidden = numeric.length === 0;
    drawOverlay();
  }

  function renderTable() {
    const shown = names().filter((n) => chosen.has(n));
    table.hidden = briefs.size === 0 || shown.length === 0;
    table.replaceChildren(
      el("thead", {}, [
        el("tr", {}, [
          el("th", { scope: "col", text: "Overlay" }),
          el("th", { scope: "col", text: "Run" }),
          ...shown.map((n) => el("th", { scope: "col", class: "num", text: n })),
        ]),
      ]),
      el(
        "tbody",
        {},
        ids.map((id) => {
          const box = el("input", { type: "checkbox", "aria-label": `Overlay ${id}` });
          box.checked = ticked.has(id);
          box.addEventListener("change", () => {
            if (box.checked) ticked.add(id);
            else ticked.delete(id);
            drawOverlay();
          });
          const metrics = briefs.get(id) ?? new Map();
          return el("tr", { "data-run": id }, [
            el("td", {}, [box]),
            el("th", { scope: "row" }, [el("a", { href: `/runs/${id}` }, [el("code", { text: id })])]),
            ...shown.map((n) => el("td", { class: "num", "data-metric": n, text: lastText(metrics.get(n)) })),
          ]);
        }),
      ),
    );
  }

  async function drawOverlay() {
    const name = overlay;
    const runs = ids.filter((id) => ticked.has(id) && briefs.get(id)?.get(name)?.series);
    const mine = ++drawing;
    const answers = await Promise.all(
      runs.map((id) =>
        ask(data, "buckets", [id, name]).catch(() => null),
      ),
    );
    if (destroyed || mine !== drawing) return;
    const lines = [];
    answers.forEach((a, i) => {
      if (a?.buckets?.length) lines.push({ label: runs[i], xs: a.buckets.map((b) => b.x_end), ys: a.buckets.map((b) => b.last) });
    });
    uplot?.destroy();
    uplot = null;
    caption.textContent = name;
    plot.setAttribute("data-lines", String(lines.length));
    plot.setAttribute("data-points", String(lines.reduce((n, l) => n + l.xs.length, 0)));
    if (!name || lines.length === 0) return;
    uplot = new uPlot(
      {
        width: Math.max(200, plot.clientWidth || 600),
        height: HEIGHT,
        series: [
          { label: "step" },
          ...lines.map((l, i) => ({
            label: l.label,
            stroke: PALETTE[i % PALETTE.length],
            width: 1.5,
            spanGaps: true,
            points: { show: false },
            value: (u, v) => formatNumber(v),
          })),
        ],
        axes: [{}, { size: 60, values: (u, vals) => vals.map(formatNumber) }],
        cursor: { drag: { x: true, y: false } },
      },
      join(lines.map((l) => [l.xs, l.ys])),
      plot,
    );
  }

  return {
    runs(next) {
      ids = Array.from(next);
      load();
    },
    destroy() {
      destroyed = true;
      uplot?.destroy();
      root.replaceChildren();
    },
  };
}
