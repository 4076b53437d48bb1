//! The points the run page draws first: a series of any length cut into `n` slices
//! of equal count, each given by its lowest, highest and last point (so a one-point
//! spike survives), in the order logged. Unlike [`crate::series::bucketize`] these
//! are real points (step, wall time and value), so every x axis and the smoothing
//! of the chart module work on them as on live points, and points logged later are
//! simply appended.

use std::path::Path;

use runboard_shared::api::ScalarPoint;

/// The most slices one read may ask for.
pub const MAX_SLICES: usize = 10_000;

/// At most `3 n` of the `count` points that `points` yields (their indexes
/// `from..from + count` in the series): all of them when there are no more than that,
/// else the min, max and last of each of `n` slices of equal count, in order.
pub fn sample(points: impl Iterator<Item = ScalarPoint>, count: u64, n: usize) -> Vec<ScalarPoint> {
    if n == 0 {
        return Vec::new();
    }
    if count <= 3 * n as u64 {
        return points
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .collect();
    }
    let mut out = Vec::with_capacity(3 * n);
    // (index, point) of the slice's min, max and last.
    let mut slice: Option<(u64, [(u64, ScalarPoint); 3])> = None;
    let flush = |out: &mut Vec<ScalarPoint>, picked: [(u64, ScalarPoint); 3]| {
        let mut picked = picked;
        picked.sort_by_key(|(i, _)| *i);
        let mut last = None;
        for (i, p) in picked {
            if last != Some(i) {
                out.push(p);
                last = Some(i);
            }
        }
    };
    for (i, p) in (0..count).zip(points) {
        let k = (u128::from(i) * n as u128 / u128::from(count)) as u64;
        match &mut slice {
            Some((current, picked)) if *current == k => {
                if p.value < picked[0].1.value {
                    picked[0] = (i, p);
                }
                if p.value > picked[1].1.value {
                    picked[1] = (i, p);
                }
                picked[2] = (i, p);
            }
            _ => {
                if let Some((_, picked)) = slice.take() {
                    flush(&mut out, picked);
                }
                slice = Some((k, [(i, p); 3]));
            }
        }
    }
    if let Some((_, picked)) = slice {
        flush(&mut out, picked);
    }
    out
}

/// [`sample`] of points `from..upto` of a series file, read 32,768 points at a time
/// (a fixed amount of memory for any length).
pub fn sample_file(
    file: &Path,
    from: u64,
    upto: u64,
    n: usize,
) -> std::io::Result<Vec<ScalarPoint>> {
    const CHUNK: u64 = 1 << 15;
    let count = upto.saturating_sub(from);
    let mut at = from;
    let mut buffer = Vec::new().into_iter();
    let mut failed = None;
    let points = std::iter::from_fn(|| {
        loop {
            if let Some(p) = buffer.next() {
                return Some(p);
            }
            if at >= upto {
                return None;
            }
            let take = CHUNK.min(upto - at);
            match crate::series::read_range(file, at, take) {
                Ok(chunk) if !chunk.is_empty() => {
                    at += take;
                    buffer = chunk.into_iter();
                }
                Ok(_) => return None,
                Err(e) => {
                    failed = Some(e);
                    return None;
                }
            }
        }
    });
    let picked = sample(points, count, n);
    match failed {
        Some(e) => Err(e),
        None => Ok(picked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[f64]) -> Vec<ScalarPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| ScalarPoint {
                step: i as i64,
                wall_time: 100.0 + i as f64,
                value,
            })
            .collect()
    }

    fn steps(values: &[f64], n: usize) -> Vec<i64> {
        let all = points(values);
        sample(all.iter().copied(), all.len() as u64, n)
            .iter()
            .map(|p| p.step)
            .collect()
    }

    #[test]
    fn few_points_come_back_whole_and_many_as_min_max_last_per_slice() {
        assert_eq!(steps(&[1.0, 2.0, 3.0], 1), [0, 1, 2]);
        assert_eq!(steps(&[], 5), Vec::<i64>::new());
        // 8 points in 2 slices of 4: [5, 1, 9, 2] → min 1, max 2, last 3;
        // [0, 0, 7, 0] → min 4 (the first lowest), max 6, last 7.
        assert_eq!(
            steps(&[5.0, 1.0, 9.0, 2.0, 0.0, 0.0, 7.0, 0.0], 2),
            [1, 2, 3, 4, 6, 7]
        );
        // A spike in a long flat series survives.
        let mut flat = vec![1.0; 100_000];
        flat[31_337] = 50.0;
        let picked = steps(&flat, 100);
        assert!(picked.contains(&31_337));
        assert!(picked.len() <= 300);
        assert_eq!(picked.last(), Some(&99_999));
    }

    #[test]
    fn a_file_is_sampled_as_its_points_are() {
        let dir = tempfile::tempdir().unwrap();
        let file = crate::series::path(dir.path(), 1);
        let values: Vec<f64> = (0..100_000).map(|i| ((i * 7919) % 1000) as f64).collect();
        let all = points(&values);
        crate::series::append(&file, 0, &all).unwrap();
        assert_eq!(
            sample_file(&file, 0, 100_000, 500).unwrap(),
            sample(all.iter().copied(), 100_000, 500)
        );
        assert_eq!(
            sample_file(&file, 40_000, 90_000, 100).unwrap(),
            sample(all[40_000..90_000].iter().copied(), 50_000, 100)
        );
        // Asking past the end gives what is there.
        assert_eq!(
            sample_file(&file, 99_990, 200_000, 100_000).unwrap(),
            all[99_990..].to_vec()
        );
    }
}
