//! The Metrics and TensorBoard tabs.
//!
//! The page of each tab is the bundle's `charts.js` module (`frontend/js/charts.js`
//! and uPlot: canvas charts, 100k points without jank, hover values in the legend,
//! drag to zoom, double-click to reset, smoothing, log scale, x axis choice), which
//! [`load_module`] imports only when such a tab opens, so the app's own download does
//! not grow by it. The data lives here: the run page appends every `scalars` event's
//! points to [`Scalars`] and every `metric_value` event to its values map (replayed
//! from the first event, then live), and [`ChartsTab`] hands the module what it has
//! not seen yet, as `Float64Array`s. The module makes no request of its own: what it
//! reads from the server (the points before the page started, TensorBoard's other
//! summaries, the comparison's metrics) it asks of [`data_source`], which sends the
//! REST client's requests through [`crate::api`].

use std::collections::BTreeMap;

use js_sys::{Array, Float64Array, Function, Object, Promise, Reflect};
use leptos::html::Div;
use leptos::prelude::*;
use runboard_client::requests;
use runboard_shared::api::ScalarPoint;
use runboard_shared::run::RunId;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::api;

/// Which series: its source (`metric` or `tensorboard`), TensorBoard run and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// `metric` (`Run.log`) or `tensorboard` (event files).
    pub source: String,
    /// The TensorBoard run; empty for metrics.
    pub run: String,
    /// The metric name or TensorBoard tag.
    pub name: String,
}

/// One series' points, column by column (what uPlot takes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Steps.
    pub steps: Vec<f64>,
    /// Seconds since the Unix epoch.
    pub walls: Vec<f64>,
    /// Values.
    pub values: Vec<f64>,
    /// How many points the mounted tab has been given (one tab is mounted at a time).
    sent: usize,
}

/// Every scalar series of a run. `Copy`: handles. The points are kept outside the
/// reactive graph (a replay brings thousands of events); `version` changes with each
/// append.
#[derive(Debug, Clone, Copy)]
pub struct Scalars {
    data: StoredValue<BTreeMap<SeriesKey, Series>>,
    /// Where the page started following the run (`GET /api/runs/{id}/view`): the
    /// module reads each series' points up to there from the server, sampled, and
    /// `data` holds what came after; its values in brief too.
    view: StoredValue<serde_json::Value>,
    /// Bumped on every append.
    pub version: RwSignal<u64>,
}

impl Default for Scalars {
    fn default() -> Self {
        Self::new()
    }
}

impl Scalars {
    /// No series yet.
    pub fn new() -> Self {
        Self {
            data: StoredValue::new(BTreeMap::new()),
            view: StoredValue::new(serde_json::Value::Null),
            version: RwSignal::new(0),
        }
    }

    /// Sets where the page started (the answer of `GET /api/runs/{id}/view`).
    pub fn start(&self, view: serde_json::Value) {
        self.view.set_value(view);
        self.version.update(|v| *v += 1);
    }

    /// Appends points to a series.
    pub fn push(&self, key: SeriesKey, points: &[ScalarPoint]) {
        self.data.update_value(|all| {
            let series = all.entry(key).or_default();
            for p in points {
                series.steps.push(p.step as f64);
                series.walls.push(p.wall_time);
                series.values.push(p.value);
            }
        });
        self.version.update(|v| *v += 1);
    }
}

/// A metric value that is not a number series (`log_list`, `log_row`, `log_table`,
/// `log_image`, a string): its kind, last value and how many were logged.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// `list`, `row`, `table`, `image` or `value`.
    pub kind: String,
    /// The last value logged.
    pub last: serde_json::Value,
    /// How many were logged.
    pub count: usize,
}

/// What a mounted tab module has been given.
struct Mounted {
    handle: JsValue,
    /// The module's [`data_source`], kept alive while it is mounted.
    _data: Data,
    /// Each value's count when it was handed over.
    values: BTreeMap<String, u64>,
    /// Whether the series' starts were handed over.
    started: bool,
}

/// The Metrics (`kind = "metrics"`) or TensorBoard (`"tensorboard"`) tab: mounts the
/// chart module's page and feeds it each new point and value.
#[component]
pub fn ChartsTab(
    /// `metrics` or `tensorboard`.
    kind: &'static str,
    /// The run (the TensorBoard tab asks the server for the non-scalar summaries).
    run: String,
    /// The run's series.
    scalars: Scalars,
    /// The run's non-series metric values, by name.
    values: RwSignal<BTreeMap<String, MetricValue>>,
) -> impl IntoView {
    let node = NodeRef::<Div>::new();
    let error = RwSignal::new(None::<String>);
    let mounted = StoredValue::new_local(None::<Mounted>);
    let module = LocalResource::new(load_module);
    let run_id = RunId::parse(&run).ok();
    Effect::new(move |_| {
        scalars.version.track();
        values.track();
        let module = match module.get() {
            None => return,
            Some(Err(e)) => return error.set(Some(e)),
            Some(Ok(m)) => m,
        };
        let Some(el) = node.get() else { return };
        let target = [el.into(), kind.into(), run.as_str().into()];
        let result =
            mounted.try_update_value(|m| feed(m, &module, target, run_id.clone(), scalars, values));
        if let Some(Err(e)) = result {
            error.set(Some(format!("{e:?}")));
        }
    });
    on_cleanup(move || {
        mounted.try_update_value(|m| {
            if let Some(m) = m.take() {
                let _ = call(&m.handle, "destroy", &[]);
            }
        });
    });
    view! {
        {move || error.get().map(|e| view! { <p class="error" role="alert">"The charts could not be shown: " {e}</p> })}
        <div class="charts-tab" node_ref=node></div>
    }
}

/// The experiment page's comparison of its runs: the chart module's `compare` (metric
/// columns with last values, one metric overlaid across the ticked runs), mounted
/// while it is shown and told the page's runs whenever they change. It reads the runs'
/// metrics through its [`data_source`] (`GET /api/experiments/{name}/metrics`).
#[component]
pub fn CompareRuns(
    /// The experiment.
    experiment: String,
    /// The ids of the runs on the page, in the page's order.
    runs: Signal<Vec<String>>,
) -> impl IntoView {
    let node = NodeRef::<Div>::new();
    let error = RwSignal::new(None::<String>);
    let handle = StoredValue::new_local(None::<(JsValue, Data)>);
    let module = LocalResource::new(load_module);
    Effect::new(move |_| {
        let ids: Array = runs.with(|r| r.iter().map(|id| JsValue::from_str(id)).collect());
        let module = match module.get() {
            None => return,
            Some(Err(e)) => return error.set(Some(e)),
            Some(Ok(m)) => m,
        };
        let Some(el) = node.get() else { return };
        let result = handle.try_update_value(|h| -> Result<(), JsValue> {
            if h.is_none() {
                let data = data_source(None, experiment.clone());
                let args = [el.into(), experiment.as_str().into(), data.as_ref().clone()];
                *h = Some((call(&module, "compare", &args)?, data));
            }
            if let Some((h, _)) = h {
                call(h, "runs", &[ids.into()])?;
            }
            Ok(())
        });
        if let Some(Err(e)) = result {
            error.set(Some(format!("{e:?}")));
        }
    });
    on_cleanup(move || {
        handle.try_update_value(|h| {
            if let Some((h, _data)) = h.take() {
                let _ = call(&h, "destroy", &[]);
            }
        });
    });
    view! {
        {move || error.get().map(|e| view! { <p class="error" role="alert">"The comparison could not be shown: " {e}</p> })}
        <div class="compare-runs" node_ref=node></div>
    }
}

/// Mounts the module's page once, then hands it what it has not seen.
fn feed(
    mounted: &mut Option<Mounted>,
    module: &JsValue,
    target: [JsValue; 3],
    run: Option<RunId>,
    scalars: Scalars,
    values: RwSignal<BTreeMap<String, MetricValue>>,
) -> Result<(), JsValue> {
    if mounted.is_none() {
        let data = data_source(run, String::new());
        let [root, kind, run] = target;
        let handle = call(module, "mount", &[root, kind, run, data.as_ref().clone()])?;
        *mounted = Some(Mounted {
            handle,
            _data: data,
            values: BTreeMap::new(),
            started: false,
        });
        scalars
            .data
            .update_value(|all| all.values_mut().for_each(|s| s.sent = 0));
    }
    let Some(m) = mounted.as_mut() else {
        return Ok(());
    };
    if !m.started {
        scalars.view.with_value(|view| -> Result<(), JsValue> {
            if !view.is_null() {
                call(
                    &m.handle,
                    "start",
                    &[to_js(&view["series"]), to_js(&view["values"])],
                )?;
                m.started = true;
            }
            Ok(())
        })?;
    }
    scalars
        .data
        .try_update_value(|all| -> Result<(), JsValue> {
            for (key, s) in all.iter_mut() {
                let sent = s.sent;
                if s.values.len() <= sent {
                    continue;
                }
                call(
                    &m.handle,
                    "append",
                    &[
                        key.source.as_str().into(),
                        key.run.as_str().into(),
                        key.name.as_str().into(),
                        Float64Array::from(&s.steps[sent..]).into(),
                        Float64Array::from(&s.walls[sent..]).into(),
                        Float64Array::from(&s.values[sent..]).into(),
                    ],
                )?;
                s.sent = s.values.len();
            }
            Ok(())
        })
        .unwrap_or(Ok(()))?;
    values.with_untracked(|all| -> Result<(), JsValue> {
        for (name, v) in all {
            if m.values.get(name) == Some(&(v.count as u64)) {
                continue;
            }
            call(
                &m.handle,
                "value",
                &[
                    name.as_str().into(),
                    v.kind.as_str().into(),
                    to_js(&v.last),
                    (v.count as u32).into(),
                ],
            )?;
            m.values.insert(name.clone(), v.count as u64);
        }
        Ok(())
    })
}

/// The chart module's data source: `data(what, args, done)` sends one of the REST
/// client's requests and calls `done(answer, error)` with its JSON answer (or `null` and
/// the error's sentence): `"scalars"` (`GET /api/runs/{run}/scalars`),
/// `"series", [source, run, name, upto]` (`GET /api/runs/{run}/series`, sampled into
/// 1,000 slices), `"metrics", [ids]` (`GET /api/experiments/{experiment}/metrics`),
/// `"buckets", [id, name]` (`GET /api/runs/{id}/metrics/{name}?buckets=1000`). Its
/// requests are sent under the reactive owner it was made under (its session: a `401`
/// shows the login page).
type Data = Closure<dyn Fn(String, Array, Function)>;

fn data_source(run: Option<RunId>, experiment: String) -> Data {
    let owner = Owner::current();
    Closure::new(move |what: String, args: Array, done: Function| {
        let text = |i: u32| args.get(i).as_string().unwrap_or_default();
        let request = match what.as_str() {
            "scalars" => run.as_ref().map(requests::scalars),
            "series" => run.as_ref().map(|id| {
                let upto = args.get(3).as_f64().unwrap_or(0.0) as u64;
                requests::series(id, &text(0), &text(1), &text(2), upto, 1000)
            }),
            "metrics" => {
                let ids: Vec<String> = Array::from(&args.get(0))
                    .iter()
                    .filter_map(|id| id.as_string())
                    .collect();
                Some(requests::experiment_metrics(&experiment, &ids))
            }
            "buckets" => RunId::parse(&text(0))
                .ok()
                .map(|id| requests::metric_buckets(&id, &text(1), 1000)),
            _ => None,
        };
        if let Some(request) = request {
            match &owner {
                Some(owner) => owner.with(|| api::json_to(request, done)),
                None => api::json_to(request, done),
            }
        }
    })
}

/// A JSON value as the JavaScript value (without serde_json's printer).
fn to_js(value: &serde_json::Value) -> JsValue {
    use serde_json::Value;
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN).into(),
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => items.iter().map(to_js).collect::<Array>().into(),
        Value::Object(fields) => {
            let o = Object::new();
            for (k, v) in fields {
                let _ = Reflect::set(&o, &k.as_str().into(), &to_js(v));
            }
            o.into()
        }
    }
}

/// Calls `target[name](...args)`.
fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &name.into())?.dyn_into()?;
    let args: Array = args.iter().collect();
    f.apply(target, &args)
}

/// Imports the bundle's chart module (its URL is in `index.html`'s
/// `<meta name="runboard-charts">`) through `runboardImport`, which `boot.js` sets.
/// The browser imports a module once, so charts may each ask.
async fn load_module() -> Result<SendWrapper<JsValue>, String> {
    let url = document()
        .query_selector("meta[name=runboard-charts]")
        .ok()
        .flatten()
        .and_then(|m| m.get_attribute("content"))
        .ok_or("this page names no chart module")?;
    // `import()` is syntax, not a function wasm-bindgen can bind; `boot.js` lends the
    // page its own (`new Function("url", "return import(url)")` would need the
    // `'unsafe-eval'` that the pages' Content-Security-Policy does not give).
    let import: Function = js_sys::Reflect::get(&js_sys::global(), &"runboardImport".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("this page has no module loader (boot.js)")?;
    let promise: Promise = import
        .call1(&JsValue::NULL, &url.into())
        .and_then(|p| p.dyn_into())
        .map_err(|e| format!("{e:?}"))?;
    let module = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| format!("loading the chart module failed: {e:?}"))?;
    Ok(SendWrapper::new(module))
}
