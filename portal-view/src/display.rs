//! How the portal shows times, durations, sizes, a run's status timeline, where a
//! run was submitted from and what it ran. Pure functions: the browser passes in the
//! current time and its time zone.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use runboard_shared::api::StatusChange;
use runboard_shared::run::RunStatus;

/// Milliseconds since the Unix epoch of an RFC 3339 time such as
/// `2026-11-27T05:47:04.622Z` or `2026-11-27T06:47:04+01:00`; `None` if it is not one.
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        // Milliseconds: the first three digits, padded.
        let first3: String = fraction[..digits]
            .chars()
            .chain("000".chars())
            .take(3)
            .collect();
        millis = first3.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest[1..].split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-11-27 06:47:04`: a time in the viewer's zone, `utc_offset_minutes` ahead of
/// UTC (JavaScript's `-Date.getTimezoneOffset()`).
pub fn format_time(millis: i64, utc_offset_minutes: i64) -> String {
    let seconds = millis.div_euclid(1000) + utc_offset_minutes * 60;
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// A status as a badge says it: its name, and for a run waiting in `Queued` its
/// place in line: `Queued (2nd in line)`.
pub fn status_label(status: RunStatus, queue_position: Option<u32>) -> String {
    match queue_position {
        Some(n) if status == RunStatus::Queued => {
            let suffix = match (n % 10, n % 100) {
                (_, 11..=13) => "th",
                (1, _) => "st",
                (2, _) => "nd",
                (3, _) => "rd",
                _ => "th",
            };
            format!("Queued ({n}{suffix} in line)")
        }
        _ => status.as_str().to_owned(),
    }
}

/// A duration for people: `850 ms`, `4.2 s`, `3m 04s`, `1h 02m`, `2d 03h`.
pub fn format_duration(millis: i64) -> String {
    let millis = millis.max(0);
    if millis < 1000 {
        return format!("{millis} ms");
    }
    if millis < 60_000 {
        return format!("{}.{} s", millis / 1000, millis % 1000 / 100);
    }
    let seconds = millis / 1000;
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86_400);
    if hours == 0 {
        format!("{minutes}m {:02}s", seconds % 60)
    } else if days == 0 {
        format!("{hours}h {:02}m", minutes % 60)
    } else {
        format!("{days}d {:02}h", hours % 24)
    }
}

/// How long ago, for people: `just now`, `5 min ago`, `3 h ago`, `2 days ago`.
pub fn format_ago(millis: i64) -> String {
    let seconds = millis / 1000;
    match seconds {
        ..=44 => "just now".to_owned(),
        45..=3599 => format!("{} min ago", (seconds + 30) / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        86_400..=172_799 => "1 day ago".to_owned(),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// A size for people, in binary units: `512 B`, `1.5 KiB`, `20.0 MiB`. (Integer
/// arithmetic: it keeps float formatting out of the browser app.)
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 0;
    let mut scale: u128 = 1024;
    while u128::from(bytes) >= scale * 1024 && unit + 1 < UNITS.len() {
        scale *= 1024;
        unit += 1;
    }
    // Tenths, rounded half up.
    let tenths = (u128::from(bytes) * 10 + scale / 2) / scale;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// How long a run has run: from its start to its end, or to `now` while it runs;
/// `None` before it starts or when a time cannot be read.
pub fn run_duration(start: Option<&str>, end: Option<&str>, now: i64) -> Option<i64> {
    let start = parse_time(start?)?;
    let end = match end {
        Some(end) => parse_time(end)?,
        None => now,
    };
    Some((end - start).max(0))
}

/// One step of a run's status timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The status entered.
    pub status: RunStatus,
    /// When, in milliseconds since the epoch.
    pub start: i64,
    /// How long the run stayed in it (to `now` for the current status); `None` for a
    /// terminal status.
    pub duration: Option<i64>,
    /// True for the status the run is in now, unless it is terminal.
    pub current: bool,
}

/// The status history as timeline steps (entries whose time cannot be read are left
/// out).
pub fn timeline(history: &[StatusChange], now: i64) -> Vec<Step> {
    let parsed: Vec<(RunStatus, i64)> = history
        .iter()
        .filter_map(|c| Some((c.status, parse_time(&c.time)?)))
        .collect();
    parsed
        .iter()
        .enumerate()
        .map(|(i, &(status, start))| {
            let next = parsed.get(i + 1).map(|&(_, t)| t);
            let current = next.is_none() && !status.is_terminal();
            let duration = match next {
                Some(t) => Some((t - start).max(0)),
                None if current => Some((now - start).max(0)),
                None => None,
            };
            Step {
                status,
                start,
                duration,
                current,
            }
        })
        .collect()
}

/// A run's status history from two sources that may overlap (the details fetched
/// once, and the status events that arrive live): each status once, at its earliest
/// time, in time order. A run enters each status at most once, so the status alone
/// identifies an entry.
pub fn merge_history(fetched: &[StatusChange], live: &[StatusChange]) -> Vec<StatusChange> {
    let mut merged: Vec<StatusChange> = Vec::with_capacity(fetched.len() + live.len());
    for change in fetched.iter().chain(live) {
        match merged.iter_mut().find(|c| c.status == change.status) {
            Some(known) => {
                if parse_time(&change.time) < parse_time(&known.time) {
                    known.time.clone_from(&change.time);
                }
            }
            None => merged.push(change.clone()),
        }
    }
    // Stable: entries with the same (or an unreadable) time keep their order.
    merged.sort_by_key(|c| parse_time(&c.time).unwrap_or(i64::MAX));
    merged
}

/// Where a run was submitted from, from the git properties the CLI records:
/// `main @ 1a2b3c4`, `main @ 1a2b3c4 (dirty)`, `@ 1a2b3c4`, or `None` when unknown.
pub fn git_source(properties: &BTreeMap<String, String>) -> Option<String> {
    let get = |key: &str| {
        properties
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let branch = get("azureml.git.branch").or_else(|| get("mlflow.source.git.branch"));
    let commit = get("azureml.git.commit").or_else(|| get("mlflow.source.git.commit"));
    let dirty = get("azureml.git.dirty").is_some_and(|d| d.eq_ignore_ascii_case("true"));
    let short = commit.map(|c| c.get(..7).unwrap_or(c));
    let mut out = match (branch, short) {
        (None, None) => return None,
        (Some(b), None) => b.to_owned(),
        (None, Some(c)) => format!("@ {c}"),
        (Some(b), Some(c)) => format!("{b} @ {c}"),
    };
    if dirty {
        out.push_str(" (dirty)");
    }
    Some(out)
}

/// The fields of a JSON object (a submitted estimator) as rows for a table: unset
/// fields (`null`, `[]`, `{}`, `""`) are left out, lists of scalars are joined with
/// `, `, objects become `key=value` pairs, anything deeper is compact JSON.
pub fn json_rows(value: &serde_json::Value) -> Vec<(String, String)> {
    let Some(object) = value.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .filter(|(_, v)| !is_unset(v))
        .map(|(k, v)| (k.clone(), json_cell(v)))
        .collect()
}

fn is_unset(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

fn json_cell(value: &serde_json::Value) -> String {
    use serde_json::Value;
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some("None".to_owned()),
        Value::Bool(true) => Some("True".to_owned()),
        Value::Bool(false) => Some("False".to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => None,
    };
    if let Some(s) = scalar(value) {
        return s;
    }
    match value {
        Value::Array(items) if items.iter().all(|v| scalar(v).is_some()) => items
            .iter()
            .filter_map(scalar)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(map) if map.values().all(|v| scalar(v).is_some()) => {
            let mut out = String::new();
            for (k, v) in map {
                if !out.is_empty() {
                    out.push_str(", ");
                }
                let _ = write!(out, "{k}={}", scalar(v).unwrap_or_default());
            }
            out
        }
        other => other.to_string(),
    }
}

/// A command line as a shell would need it typed: arguments with spaces or shell
/// characters are single-quoted.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_status_says_its_place_in_line() {
        let check = |status, position, expect: &str| {
            assert_eq!(
                status_label(status, position),
                expect,
                "{status} {position:?}"
            );
        };
        check(RunStatus::Queued, Some(1), "Queued (1st in line)");
        check(RunStatus::Queued, Some(2), "Queued (2nd in line)");
        check(RunStatus::Queued, Some(3), "Queued (3rd in line)");
        check(RunStatus::Queued, Some(4), "Queued (4th in line)");
        check(RunStatus::Queued, Some(11), "Queued (11th in line)");
        check(RunStatus::Queued, Some(12), "Queued (12th in line)");
        check(RunStatus::Queued, Some(13), "Queued (13th in line)");
        check(RunStatus::Queued, Some(21), "Queued (21st in line)");
        check(RunStatus::Queued, Some(102), "Queued (102nd in line)");
        check(RunStatus::Queued, Some(111), "Queued (111th in line)");
        check(RunStatus::Queued, None, "Queued");
        // A position left over from before the run started is not shown.
        check(RunStatus::Preparing, Some(1), "Preparing");
        check(RunStatus::Running, None, "Running");
    }

    #[test]
    fn times_parse_and_format() {
        let check = |text: &str, expect: Option<&str>| {
            let parsed = parse_time(text);
            assert_eq!(
                parsed.map(|ms| format_time(ms, 0)).as_deref(),
                expect,
                "{text}"
            );
        };
        check("2026-11-27T05:47:04.622Z", Some("2026-11-27 05:47:04"));
        check("2026-11-27T05:47:04Z", Some("2026-11-27 05:47:04"));
        check("2026-11-27T06:47:04+01:00", Some("2026-11-27 05:47:04"));
        check("2026-11-27T00:30:00.5-02:30", Some("2026-11-27 03:00:00"));
        check("1970-01-01T00:00:00Z", Some("1970-01-01 00:00:00"));
        check(
            "2000-02-29T23:59:59.999999999Z",
            Some("2000-02-29 23:59:59"),
        );
        check("1969-12-31T23:59:59Z", Some("1969-12-31 23:59:59"));
        for bad in [
            "",
            "2026-11-27",
            "2026-11-27T05:47:04",
            "2026-13-01T00:00:00Z",
            "2026-11-27T24:00:00Z",
            "2026-11-27T05:47:04.Z",
            "2026-11-27T05:47:04+0100",
            "2026/11/27T05:47:04Z",
            "2026-11-27T05:47:0xZ",
        ] {
            check(bad, None);
        }
        assert_eq!(parse_time("1970-01-01T00:00:01.25Z"), Some(1250));
        assert_eq!(format_time(0, 90), "1970-01-01 01:30:00");
        assert_eq!(format_time(0, -60), "1969-12-31 23:00:00");
    }

    #[test]
    fn durations() {
        let check = |ms: i64, expect: &str| assert_eq!(format_duration(ms), expect, "{ms}");
        check(-5, "0 ms");
        check(0, "0 ms");
        check(850, "850 ms");
        check(1000, "1.0 s");
        check(4_260, "4.2 s");
        check(59_999, "59.9 s");
        check(60_000, "1m 00s");
        check(184_000, "3m 04s");
        check(3_600_000, "1h 00m");
        check(3_720_000, "1h 02m");
        check(86_399_000, "23h 59m");
        check(86_400_000 * 2 + 3_600_000 * 3, "2d 03h");
    }

    #[test]
    fn ages() {
        let check = |s: i64, expect: &str| assert_eq!(format_ago(s * 1000), expect, "{s}");
        check(-3, "just now");
        check(10, "just now");
        check(50, "1 min ago");
        check(5 * 60 + 10, "5 min ago");
        check(3 * 3600, "3 h ago");
        check(86_400 + 5, "1 day ago");
        check(86_400 * 9, "9 days ago");
    }

    #[test]
    fn sizes() {
        let check = |b: u64, expect: &str| assert_eq!(format_bytes(b), expect, "{b}");
        check(0, "0 B");
        check(1023, "1023 B");
        check(1024, "1.0 KiB");
        check(1536, "1.5 KiB");
        check(20 * 1024 * 1024, "20.0 MiB");
        check(3 * 1024 * 1024 * 1024, "3.0 GiB");
        check(u64::MAX, "16384.0 PiB");
    }

    #[test]
    fn run_durations() {
        let now = parse_time("2026-11-27T05:00:10Z").unwrap();
        let start = Some("2026-11-27T05:00:00Z");
        assert_eq!(run_duration(start, None, now), Some(10_000));
        assert_eq!(
            run_duration(start, Some("2026-11-27T05:00:02.5Z"), now),
            Some(2_500)
        );
        assert_eq!(run_duration(None, None, now), None);
        assert_eq!(run_duration(Some("garbage"), None, now), None);
    }

    #[test]
    fn the_timeline_gives_each_status_its_time() {
        let change = |status, time: &str| StatusChange {
            status,
            time: time.into(),
        };
        let history = [
            change(RunStatus::Queued, "2026-11-27T05:00:00Z"),
            change(RunStatus::Preparing, "2026-11-27T05:00:00.250Z"),
            change(RunStatus::Running, "2026-11-27T05:00:01Z"),
        ];
        let now = parse_time("2026-11-27T05:01:01Z").unwrap();
        let steps: Vec<(RunStatus, Option<i64>, bool)> = timeline(&history, now)
            .into_iter()
            .map(|s| (s.status, s.duration, s.current))
            .collect();
        assert_eq!(
            steps,
            [
                (RunStatus::Queued, Some(250), false),
                (RunStatus::Preparing, Some(750), false),
                (RunStatus::Running, Some(60_000), true),
            ]
        );
        let mut ended = history.to_vec();
        ended.push(change(RunStatus::Failed, "2026-11-27T05:00:03Z"));
        ended.push(change(RunStatus::Failed, "not a time"));
        let last = timeline(&ended, now).pop().unwrap();
        assert_eq!(
            (last.status, last.duration, last.current),
            (RunStatus::Failed, None, false)
        );
        assert_eq!(timeline(&ended, now).len(), 4);
        assert!(timeline(&[], now).is_empty());
    }

    #[test]
    fn histories_merge_without_duplicates() {
        let change = |status, time: &str| StatusChange {
            status,
            time: time.into(),
        };
        let fetched = [
            change(RunStatus::Queued, "2026-11-27T05:00:00Z"),
            change(RunStatus::Preparing, "2026-11-27T05:00:01Z"),
        ];
        let live = [
            change(RunStatus::Queued, "2026-11-27T05:00:00Z"),
            change(RunStatus::Preparing, "2026-11-27T05:00:01Z"),
            change(RunStatus::Running, "2026-11-27T05:00:02Z"),
            change(RunStatus::Canceled, "2026-11-27T05:00:09Z"),
            change(RunStatus::CancelRequested, "2026-11-27T05:00:05Z"),
        ];
        let names = |h: Vec<StatusChange>| h.into_iter().map(|c| c.status).collect::<Vec<_>>();
        use RunStatus::*;
        assert_eq!(
            names(merge_history(&fetched, &live)),
            [Queued, Preparing, Running, CancelRequested, Canceled]
        );
        assert_eq!(
            names(merge_history(&live[..3], &[])),
            [Queued, Preparing, Running]
        );
        assert_eq!(names(merge_history(&[], &fetched)), [Queued, Preparing]);
        // The earliest time of a status wins.
        let later = [change(RunStatus::Queued, "2026-11-27T05:00:03Z")];
        assert_eq!(
            merge_history(&later, &fetched)[0].time,
            "2026-11-27T05:00:00Z"
        );
    }

    #[test]
    fn git_sources() {
        let check = |pairs: &[(&str, &str)], expect: Option<&str>| {
            let props: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(git_source(&props).as_deref(), expect, "{pairs:?}");
        };
        check(&[], None);
        check(
            &[
                ("azureml.git.branch", "main"),
                ("azureml.git.commit", "1a2b3c4d5e6f"),
            ],
            Some("main @ 1a2b3c4"),
        );
        check(
            &[
                ("azureml.git.branch", "dev"),
                ("azureml.git.commit", "abc"),
                ("azureml.git.dirty", "True"),
            ],
            Some("dev @ abc (dirty)"),
        );
        check(&[("azureml.git.commit", "0123456789")], Some("@ 0123456"));
        check(
            &[("mlflow.source.git.branch", "feature/x")],
            Some("feature/x"),
        );
        check(&[("azureml.git.branch", " ")], None);
        check(&[("azureml.git.dirty", "false")], None);
    }

    #[test]
    fn json_objects_become_readable_rows() {
        let value = serde_json::json!({
            "entry_script": "train.py",
            "framework": null,
            "node_count": 1,
            "use_gpu": false,
            "pip_packages": ["torch", "numpy==2.0"],
            "conda_packages": [],
            "script_params": {"--lr": 0.1, "--flag": ""},
            "inputs": [{"datastore": "ws", "path": "data"}],
            "custom_docker_image": "",
            "environment_variables": {}
        });
        let rows = json_rows(&value);
        let rows: Vec<(&str, &str)> = rows.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            rows,
            [
                ("entry_script", "train.py"),
                ("node_count", "1"),
                ("use_gpu", "False"),
                ("pip_packages", "torch, numpy==2.0"),
                ("script_params", "--lr=0.1, --flag="),
                ("inputs", r#"[{"datastore":"ws","path":"data"}]"#),
            ]
        );
        assert!(json_rows(&serde_json::json!([1, 2])).is_empty());
    }

    #[test]
    fn command_lines_are_quoted_for_a_shell() {
        let argv = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            shell_join(&argv(&["python3", "train.py", "--lr", "0.1"])),
            "python3 train.py --lr 0.1"
        );
        assert_eq!(
            shell_join(&argv(&["echo", "two words", "", "it's", "$HOME"])),
            r"echo 'two words' '' 'it'\''s' '$HOME'"
        );
    }
}
