//! Where a point of a series is: its [`Step`] and its [`WallTime`], as TensorBoard's
//! data server types them (`tensorboard/data/server/types.rs`).
//!
//! Both serialize as the bare number (`#[serde(transparent)]`), so a body holding them
//! reads and writes the same JSON as the raw `i64`/`f64` did. Raw numbers remain only
//! at the edges: the tfevents protobuf (`server/src/tfevents/wire.rs`), the series file
//! and the store's columns (`server/src/series.rs`, `server/src/store.rs`), MLflow's
//! wire format, and the fields of [`crate::api::ScalarPoint`], which the behaviour tests
//! read as numbers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The step a training script gave a point (TensorBoard's global step; the SDK counts
/// `log` calls when no step is given). Steps order the points of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Step(pub i64);

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// When a point was written: seconds since the Unix epoch, with a fraction. Any `f64`
/// is kept as given (an event file may hold any bits); it is not ordered, as NaN
/// would break the order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WallTime(f64);

impl WallTime {
    /// The time `secs` seconds after the epoch.
    pub fn from_secs(secs: f64) -> Self {
        Self(secs)
    }

    /// The time `millis` milliseconds after the epoch (MLflow's timestamps).
    pub fn from_millis(millis: i64) -> Self {
        Self(millis as f64 / 1000.0)
    }

    /// Seconds since the epoch.
    pub fn secs(self) -> f64 {
        self.0
    }

    /// Milliseconds since the epoch, rounded to the nearest (saturating, NaN as 0).
    pub fn millis(self) -> i64 {
        (self.0 * 1000.0).round() as i64
    }
}

/// The JSON schema of the bare number, written out because the derive would add the
/// doc comment as a description (it is fully transparent only without one), and the
/// OpenAPI document should say what the JSON holds: an `int64` or a `double`.
#[cfg(feature = "endpoints")]
macro_rules! schema_of_the_number {
    ($newtype:ty, $number:ty) => {
        impl schemars::JsonSchema for $newtype {
            fn inline_schema() -> bool {
                <$number>::inline_schema()
            }

            fn schema_name() -> std::borrow::Cow<'static, str> {
                <$number>::schema_name()
            }

            fn schema_id() -> std::borrow::Cow<'static, str> {
                <$number>::schema_id()
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                <$number>::json_schema(generator)
            }
        }
    };
}

#[cfg(feature = "endpoints")]
schema_of_the_number!(Step, i64);
#[cfg(feature = "endpoints")]
schema_of_the_number!(WallTime, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn they_are_the_bare_numbers_in_json() {
        let json = r#"[[-3,9007199254740993],[1795000000.125,0.0,-1.5e-7]]"#;
        let (steps, times): (Vec<Step>, Vec<WallTime>) = serde_json::from_str(json).unwrap();
        assert_eq!(steps, [Step(-3), Step(9_007_199_254_740_993)]);
        assert_eq!(times[0].secs(), 1_795_000_000.125);
        assert_eq!(serde_json::to_string(&(steps, times)).unwrap(), json);
        assert!(serde_json::from_str::<Step>("1.5").is_err());
        assert!(serde_json::from_str::<WallTime>(r#""1""#).is_err());
    }

    #[cfg(feature = "endpoints")]
    #[test]
    fn the_schemas_are_the_bare_numbers() {
        use schemars::{SchemaGenerator, generate::SchemaSettings};
        let schema = |f: fn(&mut SchemaGenerator) -> schemars::Schema| {
            f(&mut SchemaGenerator::new(SchemaSettings::draft2020_12()))
        };
        let step = schema(|g| g.subschema_for::<Option<Step>>());
        assert_eq!(step, schema(|g| g.subschema_for::<Option<i64>>()));
        assert_eq!(
            step.get("format").map(|f| f.to_string()),
            Some("\"int64\"".into())
        );
        let times = schema(|g| g.subschema_for::<Vec<WallTime>>());
        assert_eq!(times, schema(|g| g.subschema_for::<Vec<f64>>()));
    }

    #[test]
    fn steps_order_and_print_as_numbers() {
        let mut steps = [Step(10), Step(-1), Step(2)];
        steps.sort();
        assert_eq!(steps, [Step(-1), Step(2), Step(10)]);
        assert_eq!(
            format!("{} {}", Step(-1), Step(i64::MAX)),
            "-1 9223372036854775807"
        );
    }

    #[test]
    fn milliseconds_convert_both_ways() {
        for (millis, secs) in [
            (0, 0.0),
            (1500, 1.5),
            (1_700_000_000_123, 1_700_000_000.123),
            (-250, -0.25),
        ] {
            assert_eq!(WallTime::from_millis(millis).secs(), secs, "{millis}");
            assert_eq!(WallTime::from_millis(millis).millis(), millis);
        }
        assert_eq!(WallTime::from_secs(2.0004).millis(), 2000);
        assert_eq!(WallTime::from_secs(2.0006).millis(), 2001);
        assert_eq!(WallTime::from_secs(f64::NAN).millis(), 0);
    }
}
