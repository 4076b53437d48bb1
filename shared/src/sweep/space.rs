//! The parameter space: the SDK's parameter expressions, and how a child's values are
//! drawn from them (random, seeded per child) or enumerated (grid).

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One parameter expression, as the SDK v1 writes it: `["uniform", [0.05, 0.1]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fn", content = "args", rename_all = "lowercase")]
pub enum Expr {
    /// One of these values (numbers, strings or booleans).
    Choice(Vec<Value>),
    /// A whole number in `[0, upper)`.
    Randint(u64),
    /// Uniform in `[low, high)`.
    Uniform(f64, f64),
    /// `round(uniform(low, high) / q) * q`.
    Quniform(f64, f64, f64),
    /// `exp(uniform(low, high))`.
    Loguniform(f64, f64),
    /// `round(exp(uniform(low, high)) / q) * q`.
    Qloguniform(f64, f64, f64),
    /// Normal with mean `mu` and standard deviation `sigma`.
    Normal(f64, f64),
    /// `round(normal(mu, sigma) / q) * q`.
    Qnormal(f64, f64, f64),
    /// `exp(normal(mu, sigma))`.
    Lognormal(f64, f64),
    /// `round(exp(normal(mu, sigma)) / q) * q`.
    Qlognormal(f64, f64, f64),
}

/// The expression functions' names, in the SDK's order.
pub const FUNCTIONS: [&str; 10] = [
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
];

impl Expr {
    /// Reads the SDK's `[name, [args...]]` form; the error says what is wrong, in
    /// words (the caller names the field).
    pub fn parse(value: &Value) -> Result<Self, String> {
        let form = || {
            format!(
                "expected [name, [arguments]] with name one of {}, e.g. [\"uniform\", [0.1, 0.5]] or [\"choice\", [[1, 2, 3]]]",
                FUNCTIONS.join(", ")
            )
        };
        let Some([name, args]) = value.as_array().map(Vec::as_slice) else {
            return Err(form());
        };
        let (Some(name), Some(args)) = (name.as_str(), args.as_array()) else {
            return Err(form());
        };
        let numbers = |n: usize| -> Result<Vec<f64>, String> {
            let got: Option<Vec<f64>> = args.iter().map(Value::as_f64).collect();
            match got {
                Some(v) if v.len() == n && v.iter().all(|x| x.is_finite()) => Ok(v),
                _ => Err(format!(
                    "{name} takes {n} numbers, got {}",
                    Value::from(args.clone())
                )),
            }
        };
        let positive = |what: &str, x: f64| {
            if x > 0.0 {
                Ok(())
            } else {
                Err(format!("{name}: {what} must be greater than 0, got {x}"))
            }
        };
        let ordered = |lo: f64, hi: f64| {
            if lo < hi {
                Ok(())
            } else {
                Err(format!("{name}: low ({lo}) must be less than high ({hi})"))
            }
        };
        match name {
            "choice" => {
                // The SDK writes choice(1, 2, 3) and choice([1, 2, 3]) both as [[1, 2, 3]].
                let options = match args.as_slice() {
                    [Value::Array(options)] => options.clone(),
                    _ => args.clone(),
                };
                if options.is_empty() {
                    return Err("choice needs at least one option".into());
                }
                if let Some(bad) = options
                    .iter()
                    .find(|v| !(v.is_number() || v.is_string() || v.is_boolean()))
                {
                    return Err(format!(
                        "choice options must be numbers, strings or booleans, got {bad}"
                    ));
                }
                Ok(Self::Choice(options))
            }
            "randint" => match args.as_slice() {
                [upper] if upper.as_u64().is_some_and(|u| u > 0) => {
                    Ok(Self::Randint(upper.as_u64().unwrap_or(1)))
                }
                _ => Err(format!(
                    "randint takes one whole number upper > 0, got {}",
                    Value::from(args.clone())
                )),
            },
            "uniform" | "loguniform" => {
                let v = numbers(2)?;
                ordered(v[0], v[1])?;
                Ok(if name == "uniform" {
                    Self::Uniform(v[0], v[1])
                } else {
                    Self::Loguniform(v[0], v[1])
                })
            }
            "quniform" | "qloguniform" => {
                let v = numbers(3)?;
                ordered(v[0], v[1])?;
                positive("q", v[2])?;
                Ok(if name == "quniform" {
                    Self::Quniform(v[0], v[1], v[2])
                } else {
                    Self::Qloguniform(v[0], v[1], v[2])
                })
            }
            "normal" | "lognormal" => {
                let v = numbers(2)?;
                positive("sigma", v[1])?;
                Ok(if name == "normal" {
                    Self::Normal(v[0], v[1])
                } else {
                    Self::Lognormal(v[0], v[1])
                })
            }
            "qnormal" | "qlognormal" => {
                let v = numbers(3)?;
                positive("sigma", v[1])?;
                positive("q", v[2])?;
                Ok(if name == "qnormal" {
                    Self::Qnormal(v[0], v[1], v[2])
                } else {
                    Self::Qlognormal(v[0], v[1], v[2])
                })
            }
            _ => Err(form()),
        }
    }

    /// Draws one value.
    pub fn sample(&self, rng: &mut impl RngCore) -> Value {
        let q = |x: f64, q: f64| (x / q).round() * q;
        let number = |x: f64| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number);
        match self {
            Self::Choice(options) => {
                let i = below(rng, options.len() as u64) as usize;
                options[i].clone()
            }
            Self::Randint(upper) => Value::from(below(rng, *upper)),
            Self::Uniform(lo, hi) => number(uniform(rng, *lo, *hi)),
            Self::Quniform(lo, hi, step) => number(q(uniform(rng, *lo, *hi), *step)),
            Self::Loguniform(lo, hi) => number(uniform(rng, *lo, *hi).exp()),
            Self::Qloguniform(lo, hi, step) => number(q(uniform(rng, *lo, *hi).exp(), *step)),
            Self::Normal(mu, sigma) => number(normal(rng, *mu, *sigma)),
            Self::Qnormal(mu, sigma, step) => number(q(normal(rng, *mu, *sigma), *step)),
            Self::Lognormal(mu, sigma) => number(normal(rng, *mu, *sigma).exp()),
            Self::Qlognormal(mu, sigma, step) => number(q(normal(rng, *mu, *sigma).exp(), *step)),
        }
    }
}

/// A float in `[0, 1)` from the top 53 bits of a draw.
fn unit(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn uniform(rng: &mut impl RngCore, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * unit(rng)
}

/// Box–Muller: two uniform draws, one normal value (the second is not kept, so each
/// value costs the same draws and a child's values do not depend on draw parity).
fn normal(rng: &mut impl RngCore, mu: f64, sigma: f64) -> f64 {
    let u1 = 1.0 - unit(rng); // (0, 1]: ln is finite
    let u2 = unit(rng);
    mu + sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A whole number in `[0, n)` without modulo bias (rejection sampling).
fn below(rng: &mut impl RngCore, n: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % n;
        }
    }
}

/// Random sampling: child `k`'s values depend only on `(seed, k)` — the ChaCha stream
/// `k` of the seed — so a restarted server draws the same values for the same child.
pub fn random_child(space: &[(String, Expr)], seed: u64, k: u64) -> Vec<(String, Value)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(k);
    space
        .iter()
        .map(|(name, expr)| (name.clone(), expr.sample(&mut rng)))
        .collect()
}

/// How many children a grid over `space` has (every expression a `choice`); `None`
/// when an expression is not a choice.
pub fn grid_size(space: &[(String, Expr)]) -> Option<u64> {
    space.iter().try_fold(1u64, |n, (_, expr)| match expr {
        Expr::Choice(options) => Some(n.saturating_mul(options.len() as u64)),
        _ => None,
    })
}

/// Grid sampling: child `k` of the grid, counting like an odometer with the last
/// parameter turning fastest. `None` past the end (or for a non-choice space).
pub fn grid_child(space: &[(String, Expr)], k: u64) -> Option<Vec<(String, Value)>> {
    if k >= grid_size(space)? {
        return None;
    }
    let mut rest = k;
    let mut out = Vec::with_capacity(space.len());
    for (name, expr) in space.iter().rev() {
        let Expr::Choice(options) = expr else {
            return None;
        };
        let n = options.len() as u64;
        out.push((name.clone(), options[(rest % n) as usize].clone()));
        rest /= n;
    }
    out.reverse();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn space(pairs: &[(&str, Value)]) -> Vec<(String, Expr)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), Expr::parse(v).unwrap()))
            .collect()
    }

    #[test]
    fn expressions_read_the_sdk_form_and_refuse_bad_arguments_in_words() {
        let check = |v: Value, expect: Result<Expr, &str>| {
            assert_eq!(Expr::parse(&v), expect.map_err(str::to_owned), "{v}");
        };
        check(
            json!(["choice", [[1, 2, 3]]]),
            Ok(Expr::Choice(vec![json!(1), json!(2), json!(3)])),
        );
        check(
            json!(["choice", ["a", "b"]]),
            Ok(Expr::Choice(vec![json!("a"), json!("b")])),
        );
        check(json!(["uniform", [0.1, 0.5]]), Ok(Expr::Uniform(0.1, 0.5)));
        check(
            json!(["qnormal", [1, 2, 0.5]]),
            Ok(Expr::Qnormal(1.0, 2.0, 0.5)),
        );
        check(json!(["randint", [5]]), Ok(Expr::Randint(5)));
        check(
            json!(["uniform", [0.5, 0.1]]),
            Err("uniform: low (0.5) must be less than high (0.1)"),
        );
        check(
            json!(["normal", [0, 0]]),
            Err("normal: sigma must be greater than 0, got 0"),
        );
        check(
            json!(["quniform", [0, 1]]),
            Err("quniform takes 3 numbers, got [0,1]"),
        );
        check(
            json!(["randint", [0]]),
            Err("randint takes one whole number upper > 0, got [0]"),
        );
        check(
            json!(["choice", [[]]]),
            Err("choice needs at least one option"),
        );
        assert!(
            Expr::parse(&json!(["gamma", [1]]))
                .unwrap_err()
                .starts_with("expected [name, [arguments]]")
        );
    }

    #[test]
    fn a_child_draws_the_same_values_from_the_same_seed_and_index_and_stays_in_range() {
        let s = space(&[
            ("--lr", json!(["loguniform", [-6, -1]])),
            ("--k", json!(["choice", [[1, 2, 3]]])),
            ("--n", json!(["randint", [10]])),
            ("--q", json!(["quniform", [0, 10, 2]])),
            ("--m", json!(["normal", [5, 1]])),
        ]);
        for k in 0..50 {
            let a = random_child(&s, 42, k);
            assert_eq!(a, random_child(&s, 42, k), "child {k} replays");
            let lr = a[0].1.as_f64().unwrap();
            assert!(((-6.0f64).exp()..(-1.0f64).exp()).contains(&lr), "{lr}");
            assert!([json!(1), json!(2), json!(3)].contains(&a[1].1));
            assert!(a[2].1.as_u64().unwrap() < 10);
            let q = a[3].1.as_f64().unwrap();
            assert!(q % 2.0 == 0.0 && (0.0..=10.0).contains(&q), "{q}");
        }
        assert_ne!(
            random_child(&s, 42, 0),
            random_child(&s, 42, 1),
            "children differ"
        );
        assert_ne!(
            random_child(&s, 42, 0),
            random_child(&s, 43, 0),
            "seeds differ"
        );
    }

    #[test]
    fn uniform_draws_cover_the_range_evenly_enough() {
        // 10,000 draws of uniform(0, 1) into 10 bins: each bin holds about 1,000.
        let s = space(&[("x", json!(["uniform", [0, 1]]))]);
        let mut bins = [0u32; 10];
        for k in 0..10_000 {
            let x = random_child(&s, 7, k)[0].1.as_f64().unwrap();
            bins[(x * 10.0) as usize] += 1;
        }
        assert!(bins.iter().all(|&b| (850..1150).contains(&b)), "{bins:?}");
    }

    #[test]
    fn a_grid_visits_every_combination_once_last_parameter_fastest() {
        let s = space(&[
            ("--a", json!(["choice", [[1, 2]]])),
            ("--b", json!(["choice", [["x", "y", "z"]]])),
        ]);
        assert_eq!(grid_size(&s), Some(6));
        let all: Vec<String> = (0..6)
            .map(|k| {
                let c = grid_child(&s, k).unwrap();
                format!("{}{}", c[0].1, c[1].1.as_str().unwrap())
            })
            .collect();
        assert_eq!(all, ["1x", "1y", "1z", "2x", "2y", "2z"]);
        assert_eq!(grid_child(&s, 6), None);
        let not_grid = space(&[("--c", json!(["uniform", [0, 1]]))]);
        assert_eq!(grid_size(&not_grid), None);
    }
}
