//! The sweep page's pure half (sans-IO): a sweep's children sorted by its primary
//! metric, one scatter chart (inline SVG) of the metric against each parameter, and
//! the page's HTML. The HTTP half, which reads the children and serves the page at
//! `/runs/{id}/sweep`, is `api::sweep_page`.
//!
//! The page is drawn on the server because the portal's wasm has no room left (see
//! docs/decisions.md, "Build"); it has no script, so the charts are SVG built here.

use std::cmp::Ordering;
use std::fmt::Write;

use runboard_shared::api::{ChildList, ChildRun};
use runboard_shared::run::RunStatus;
use serde_json::Value;

/// A chart's size in SVG units (and CSS pixels).
const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 200.0;
/// Room for the axes' labels: left, right, top, bottom.
const MARGIN: (f64, f64, f64, f64) = (52.0, 12.0, 12.0, 34.0);

/// HTML-escapes text for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Whether the goal (`maximize` or `minimize`, as `ChildList` names it) maximizes;
/// anything else is read as maximize, the SDK's default.
fn maximizes(goal: Option<&str>) -> bool {
    goal != Some("minimize")
}

/// The children best first by the primary metric (highest first when the goal is to
/// maximize, lowest first when to minimize); children without a value yet come last,
/// in the order given (oldest first). Stable, so equal values keep their order.
pub fn sorted<'a>(children: &'a [ChildRun], goal: Option<&str>) -> Vec<&'a ChildRun> {
    let maximize = maximizes(goal);
    let mut rows: Vec<&ChildRun> = children.iter().collect();
    rows.sort_by(|a, b| match (a.primary_metric, b.primary_metric) {
        (Some(x), Some(y)) if maximize => y.total_cmp(&x),
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
    rows
}

/// The parameter names of the children, in the order they first appear.
pub fn parameter_names(children: &[ChildRun]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for child in children {
        if let Some(Value::Object(map)) = &child.parameters {
            for name in map.keys() {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
    }
    names
}

/// A parameter's value as shown: strings without quotes, numbers as JSON writes them.
fn show_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A number, short: up to 4 decimals without trailing zeros, or scientific notation
/// for very small and very large magnitudes (a learning rate of 1e-5).
pub fn short(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        return format!("{v:.2e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Maps `v` from `[lo, hi]` onto `[out_lo, out_hi]`; a range of one value maps to the
/// middle.
pub fn scale(v: f64, (lo, hi): (f64, f64), (out_lo, out_hi): (f64, f64)) -> f64 {
    if hi > lo {
        out_lo + (v - lo) / (hi - lo) * (out_hi - out_lo)
    } else {
        (out_lo + out_hi) / 2.0
    }
}

/// One point of a scatter: the parameter's value, the metric, and whether the sweep
/// stopped that child (drawn hollow).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The run, named in the point's tooltip.
    pub run_id: String,
    /// The parameter's value.
    pub x: Value,
    /// The child's primary metric.
    pub y: f64,
    /// The sweep's policy stopped it.
    pub stopped: bool,
}

/// The points of parameter `name`: the children that have both a value of it and a
/// primary metric.
pub fn points(children: &[ChildRun], name: &str) -> Vec<Point> {
    children
        .iter()
        .filter_map(|c| {
            let x = c.parameters.as_ref()?.get(name)?.clone();
            Some(Point {
                run_id: c.run.run_id.to_string(),
                x,
                y: c.primary_metric.filter(|y| y.is_finite())?,
                stopped: c.stopped.is_some(),
            })
        })
        .collect()
}

/// The x positions of the points (in SVG units) and the x axis's labels (position,
/// text): numbers on a linear axis labelled at its ends; otherwise (a `choice` of
/// strings, or of mixed kinds) one evenly spaced column per distinct value, each
/// labelled.
pub fn x_positions(points: &[Point]) -> (Vec<f64>, Vec<(f64, String)>) {
    let (left, right) = (MARGIN.0, WIDTH - MARGIN.1);
    let numbers: Option<Vec<f64>> = points.iter().map(|p| p.x.as_f64()).collect();
    match numbers {
        Some(xs) if !xs.is_empty() => {
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let at: Vec<f64> = xs
                .iter()
                .map(|&x| scale(x, (lo, hi), (left, right)))
                .collect();
            let labels = if hi > lo {
                vec![(left, short(lo)), (right, short(hi))]
            } else {
                vec![((left + right) / 2.0, short(lo))]
            };
            (at, labels)
        }
        _ => {
            let mut values: Vec<String> = points.iter().map(|p| show_value(&p.x)).collect();
            values.sort();
            values.dedup();
            let n = values.len() as f64;
            let column = |v: &str| {
                let i = values.iter().position(|x| x == v).unwrap_or(0) as f64;
                left + (i + 0.5) / n * (right - left)
            };
            let at = points.iter().map(|p| column(&show_value(&p.x))).collect();
            let labels = values.iter().map(|v| (column(v), v.clone())).collect();
            (at, labels)
        }
    }
}

/// One scatter chart, inline SVG: `metric` (y) against parameter `name` (x), a dot per
/// child with a metric, hollow for a stopped child, each with a tooltip. `None` when
/// no child has a metric yet.
pub fn scatter(name: &str, metric: &str, points: &[Point]) -> Option<String> {
    if points.is_empty() {
        return None;
    }
    let (xs, x_labels) = x_positions(points);
    let (top, bottom) = (MARGIN.2, HEIGHT - MARGIN.3);
    let lo = points.iter().map(|p| p.y).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.y).fold(f64::NEG_INFINITY, f64::max);
    // Higher values up: y grows downwards in SVG.
    let y_at = |y: f64| scale(y, (lo, hi), (bottom, top));
    let (left, right) = (MARGIN.0, WIDTH - MARGIN.1);
    let mut svg = format!(
        "<svg class=\"scatter\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         role=\"img\" aria-label=\"{} against {}\"><title>{} against {}</title>\
         <path d=\"M{left} {top}V{bottom}H{right}\" fill=\"none\" stroke=\"#888\"/>",
        escape(metric),
        escape(name),
        escape(metric),
        escape(name),
    );
    for (x, label) in &x_labels {
        let _ = write!(
            svg,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
            bottom + 14.0,
            escape(label)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
        (left + right) / 2.0,
        HEIGHT - 4.0,
        escape(name)
    );
    let y_labels = if hi > lo {
        vec![(bottom, lo), (top, hi)]
    } else {
        vec![((top + bottom) / 2.0, lo)]
    };
    for (y, v) in y_labels {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
            left - 4.0,
            y + 4.0,
            short(v)
        );
    }
    for (p, x) in points.iter().zip(xs) {
        let fill = if p.stopped { "none" } else { "#1f6feb" };
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{fill}\" stroke=\"#1f6feb\">\
             <title>{}: {} = {}, {} = {}{}</title></circle>",
            y_at(p.y),
            escape(&p.run_id),
            escape(name),
            escape(&show_value(&p.x)),
            escape(metric),
            short(p.y),
            if p.stopped { " (stopped)" } else { "" },
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// The page's body: the sweep's children best first (parameters, primary metric,
/// status, why stopped), the charts, and the stopped children with why. `parent` is
/// the sweep's run id (valid, so it needs no escaping beyond [`escape`]), `status`
/// its status.
pub fn body(parent: &str, status: RunStatus, list: &ChildList) -> String {
    let metric = list.primary_metric_name.as_deref().unwrap_or("metric");
    let goal = list.primary_metric_goal.as_deref().unwrap_or("maximize");
    let names = parameter_names(&list.children);
    let parent = escape(parent);
    let mut html = format!(
        "<p><a href=\"/runs/{parent}\">Back to the run</a></p>\
         <p>Sweep <code>{parent}</code>: <strong class=\"status\">{}</strong>; \
         {} children; primary metric <code>{}</code>, goal: {}. {}</p>",
        status.as_str(),
        list.children.len(),
        escape(metric),
        escape(goal),
        if status.is_terminal() {
            "The sweep has ended."
        } else {
            "This page reloads every 2 seconds while the sweep runs."
        }
    );
    html.push_str("<h2>Children, best first</h2>");
    if list.children.is_empty() {
        html.push_str("<p class=\"empty\">No children yet.</p>");
    } else {
        html.push_str(
            "<div class=\"scroll\"><table class=\"children\"><thead><tr><th scope=\"col\">#</th>\
             <th scope=\"col\">Run</th><th scope=\"col\">Status</th>",
        );
        for name in &names {
            let _ = write!(html, "<th scope=\"col\">{}</th>", escape(name));
        }
        let _ = write!(
            html,
            "<th scope=\"col\" aria-sort=\"{}\">{}</th><th scope=\"col\">Stopped because</th></tr></thead><tbody>",
            if maximizes(Some(goal)) {
                "descending"
            } else {
                "ascending"
            },
            escape(metric)
        );
        for (i, child) in sorted(&list.children, Some(goal)).into_iter().enumerate() {
            let id = escape(child.run.run_id.as_str());
            let _ = write!(
                html,
                "<tr><td>{}</td><td><a href=\"/runs/{id}\"><code>{id}</code></a></td><td>{}</td>",
                i + 1,
                child.run.status.as_str()
            );
            for name in &names {
                let value = child
                    .parameters
                    .as_ref()
                    .and_then(|p| p.get(name))
                    .map(show_value)
                    .unwrap_or_default();
                let _ = write!(html, "<td>{}</td>", escape(&value));
            }
            let _ = write!(
                html,
                "<td class=\"num\">{}</td><td>{}</td></tr>",
                child
                    .primary_metric
                    .map(short)
                    .unwrap_or_else(|| "—".into()),
                escape(child.stopped.as_deref().unwrap_or(""))
            );
        }
        html.push_str("</tbody></table></div>");
    }
    let _ = write!(html, "<h2>{} against each parameter</h2>", escape(metric));
    let charts: Vec<String> = names
        .iter()
        .filter_map(|name| scatter(name, metric, &points(&list.children, name)))
        .collect();
    if charts.is_empty() {
        html.push_str("<p class=\"empty\">No child has logged the primary metric yet.</p>");
    } else {
        html.push_str("<div class=\"charts\">");
        for chart in charts {
            html.push_str(&chart);
        }
        html.push_str(
            "</div><p class=\"note\">A hollow dot is a child the sweep's policy stopped.</p>",
        );
    }
    html.push_str("<h2>Stopped children</h2>");
    let stopped: Vec<&ChildRun> = list
        .children
        .iter()
        .filter(|c| c.stopped.is_some())
        .collect();
    if stopped.is_empty() {
        html.push_str("<p class=\"empty\">The sweep has stopped no child.</p>");
    } else {
        html.push_str("<ul class=\"stopped\">");
        for child in stopped {
            let id = escape(child.run.run_id.as_str());
            let _ = write!(
                html,
                "<li><a href=\"/runs/{id}\"><code>{id}</code></a>: {}</li>",
                escape(child.stopped.as_deref().unwrap_or(""))
            );
        }
        html.push_str("</ul>");
    }
    html
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use runboard_shared::api::RunSummary;
    use runboard_shared::run::RunId;
    use serde_json::json;

    use super::*;

    fn child(n: u32, parameters: Value, metric: Option<f64>, stopped: Option<&str>) -> ChildRun {
        ChildRun {
            run: RunSummary {
                run_id: RunId::parse(&format!("sweep-e_{n}_0000000{n}")).unwrap(),
                experiment: "sweep-e".into(),
                status: if stopped.is_some() {
                    RunStatus::Canceled
                } else {
                    RunStatus::Completed
                },
                target: "local".into(),
                created_utc: "2026-12-04T00:00:00Z".into(),
                start_time_utc: None,
                end_time_utc: None,
                tags: BTreeMap::new(),
                properties: BTreeMap::new(),
                queue_position: None,
                submitted_by: None,
                parent_run_id: None,
            },
            parameters: Some(parameters),
            primary_metric: metric,
            stopped: stopped.map(Into::into),
        }
    }

    fn order(children: &[ChildRun], goal: Option<&str>) -> Vec<Option<f64>> {
        sorted(children, goal)
            .iter()
            .map(|c| c.primary_metric)
            .collect()
    }

    #[test]
    fn sorted_puts_the_best_first_per_goal_and_children_without_a_value_last() {
        let children = [
            child(1, json!({}), Some(0.5), None),
            child(2, json!({}), None, None),
            child(3, json!({}), Some(0.9), None),
            child(4, json!({}), Some(0.1), Some("x")),
        ];
        assert_eq!(
            order(&children, Some("maximize")),
            [Some(0.9), Some(0.5), Some(0.1), None]
        );
        assert_eq!(
            order(&children, Some("minimize")),
            [Some(0.1), Some(0.5), Some(0.9), None]
        );
        assert_eq!(
            order(&children, None),
            [Some(0.9), Some(0.5), Some(0.1), None]
        );
    }

    #[test]
    fn short_numbers() {
        for (v, expect) in [
            (0.93, "0.93"),
            (0.9300001, "0.93"),
            (1.0, "1"),
            (0.0, "0"),
            (-0.00001, "-1.00e-5"),
            (12.5, "12.5"),
            (2.5e7, "2.50e7"),
        ] {
            assert_eq!(short(v), expect, "{v}");
        }
    }

    #[test]
    fn scale_maps_linearly_and_a_single_value_to_the_middle() {
        assert_eq!(scale(5.0, (0.0, 10.0), (100.0, 200.0)), 150.0);
        assert_eq!(scale(0.0, (0.0, 10.0), (200.0, 100.0)), 200.0);
        assert_eq!(scale(3.0, (3.0, 3.0), (0.0, 10.0)), 5.0);
    }

    #[test]
    fn numeric_parameters_get_a_linear_axis_and_strings_one_column_each() {
        let children = [
            child(1, json!({"--lr": 1.0, "--opt": "sgd"}), Some(0.5), None),
            child(2, json!({"--lr": 3.0, "--opt": "adam"}), Some(0.7), None),
            child(3, json!({"--lr": 2.0, "--opt": "sgd"}), Some(0.6), None),
            child(4, json!({"--lr": 2.0, "--opt": "sgd"}), None, None),
        ];
        let lr = points(&children, "--lr");
        assert_eq!(lr.len(), 3, "the child without a metric has no point");
        let (xs, labels) = x_positions(&lr);
        let (left, right) = (MARGIN.0, WIDTH - MARGIN.1);
        assert_eq!(xs, [left, right, (left + right) / 2.0]);
        assert_eq!(labels, [(left, "1".into()), (right, "3".into())]);

        let opt = points(&children, "--opt");
        let (xs, labels) = x_positions(&opt);
        let quarter = (right - left) / 4.0;
        // Columns sorted by value: adam, sgd.
        assert_eq!(
            xs,
            [left + 3.0 * quarter, left + quarter, left + 3.0 * quarter]
        );
        assert_eq!(
            labels,
            [
                (left + quarter, "adam".into()),
                (left + 3.0 * quarter, "sgd".into())
            ]
        );
    }

    #[test]
    fn scatter_draws_a_dot_per_point_higher_values_up_and_stopped_ones_hollow() {
        let children = [
            child(1, json!({"--a": 1}), Some(0.9), None),
            child(
                2,
                json!({"--a": 2}),
                Some(0.3),
                Some("BanditPolicy at interval 3"),
            ),
        ];
        let svg = scatter("--a", "score", &points(&children, "--a")).unwrap();
        assert_eq!(svg.matches("<circle").count(), 2);
        let top = format!("cx=\"{:.1}\" cy=\"{:.1}\"", MARGIN.0, MARGIN.2);
        let bottom = format!(
            "cx=\"{:.1}\" cy=\"{:.1}\"",
            WIDTH - MARGIN.1,
            HEIGHT - MARGIN.3
        );
        assert!(
            svg.contains(&format!("{top} r=\"4\" fill=\"#1f6feb\"")),
            "{svg}"
        );
        assert!(
            svg.contains(&format!("{bottom} r=\"4\" fill=\"none\"")),
            "{svg}"
        );
        assert!(svg.contains("aria-label=\"score against --a\""));
        assert!(svg.contains("score = 0.3 (stopped)"));
        assert_eq!(scatter("--a", "score", &[]), None);
    }

    #[test]
    fn body_lists_children_best_first_with_why_they_were_stopped_escaped() {
        let list = ChildList {
            children: vec![
                child(1, json!({"--a": 1}), Some(0.5), None),
                child(
                    2,
                    json!({"--a": 2}),
                    Some(0.3),
                    Some("best < 0.9 - 0.15 & \"so\""),
                ),
                child(3, json!({"--a": 3}), Some(0.8), None),
            ],
            primary_metric_name: Some("score".into()),
            primary_metric_goal: Some("maximize".into()),
        };
        let html = body("sweep-e_1_00000000", RunStatus::Running, &list);
        let rows: Vec<usize> = ["0.8", "0.5", "0.3"]
            .iter()
            .map(|v| html.find(&format!("<td class=\"num\">{v}</td>")).unwrap())
            .collect();
        assert!(rows[0] < rows[1] && rows[1] < rows[2], "{html}");
        let why = "best &lt; 0.9 - 0.15 &amp; &quot;so&quot;";
        assert_eq!(html.matches(why).count(), 2, "in the table and the list");
        assert!(html.contains(&format!(
            "<li><a href=\"/runs/sweep-e_2_00000002\"><code>sweep-e_2_00000002</code></a>: {why}</li>"
        )));
        assert!(html.contains("reloads every 2 seconds"));
        assert!(html.contains("<svg"));
        let ended = body("sweep-e_1_00000000", RunStatus::Completed, &list);
        assert!(ended.contains("The sweep has ended."));

        let empty = ChildList {
            children: vec![],
            primary_metric_name: Some("loss".into()),
            primary_metric_goal: Some("minimize".into()),
        };
        let html = body("sweep-e_1_00000000", RunStatus::Running, &empty);
        assert!(html.contains("No children yet."));
        assert!(html.contains("No child has logged the primary metric yet."));
        assert!(html.contains("The sweep has stopped no child."));
    }
}
