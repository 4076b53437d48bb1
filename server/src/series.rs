//! Scalar series on disk: one append-only file of fixed 24-byte points per series
//! (`<run>/metrics/<id>.bin`: step i64, wall time f64, value f64, little-endian), and
//! downsampling into buckets that keep min, max and last.
//!
//! Why files and not rows: a million points is 24 MB written in one `write`, read
//! back in one `read`, where SQLite would need a million row inserts (see the
//! `metrics` benchmark). SQLite keeps the index of series (names, counts, last
//! values); this module keeps the points.

use std::io::Write;
use std::path::{Path, PathBuf};

use runboard_shared::api::{Bucket, ScalarPoint};

/// Size of one point on disk.
pub const POINT_BYTES: usize = 24;

/// The file of series `id` of a run.
pub fn path(run_dir: &Path, id: i64) -> PathBuf {
    run_dir.join("metrics").join(format!("{id}.bin"))
}

/// Appends points to a series file (creating it) after its first `count` points:
/// anything beyond them (a write the store never recorded, before a crash) is cut
/// off first.
pub fn append(file: &Path, count: u64, points: &[ScalarPoint]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let committed = count * POINT_BYTES as u64;
    if std::fs::metadata(file).is_ok_and(|m| m.len() != committed) {
        std::fs::OpenOptions::new()
            .write(true)
            .open(file)?
            .set_len(committed)?;
    }
    let mut buf = Vec::with_capacity(points.len() * POINT_BYTES);
    for p in points {
        buf.extend_from_slice(&p.step.to_le_bytes());
        buf.extend_from_slice(&p.wall_time.to_le_bytes());
        buf.extend_from_slice(&p.value.to_le_bytes());
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    f.write_all(&buf)
}

/// Reads the first `count` points of a series file (fewer if the file is shorter;
/// `count` comes from the store, so a write that the store never recorded is not
/// seen).
pub fn read(file: &Path, count: u64) -> std::io::Result<Vec<ScalarPoint>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Some(f) = open(file)? {
        f.take(count.saturating_mul(POINT_BYTES as u64))
            .read_to_end(&mut bytes)?;
    }
    Ok(decode(&bytes)
        .take(usize::try_from(count).unwrap_or(usize::MAX))
        .collect())
}

/// Points `from..from + count` of a series file (fewer where the file ends first).
pub fn read_range(file: &Path, from: u64, count: u64) -> std::io::Result<Vec<ScalarPoint>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut bytes = Vec::new();
    if let Some(mut f) = open(file)? {
        f.seek(SeekFrom::Start(from.saturating_mul(POINT_BYTES as u64)))?;
        f.take(count.saturating_mul(POINT_BYTES as u64))
            .read_to_end(&mut bytes)?;
    }
    Ok(decode(&bytes).collect())
}

/// Opens a series file for reading; `None` when there is none. The run folder is the
/// job's to write, so the file is opened as [`crate::confined::open`] does: a
/// regular file, never a link out, a FIFO or a device.
fn open(file: &Path) -> std::io::Result<Option<std::fs::File>> {
    use crate::confined::{ConfinedError, open};
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return Ok(None);
    };
    match open(dir, Path::new(name)) {
        Ok(opened) => Ok(Some(opened.file)),
        Err(ConfinedError::NotFound) => Ok(None),
        Err(ConfinedError::Io(e)) => Err(e),
        Err(e) => Err(std::io::Error::other(format!("{}: {e}", file.display()))),
    }
}

/// The points in a byte buffer of whole 24-byte records.
pub fn decode(bytes: &[u8]) -> impl Iterator<Item = ScalarPoint> + '_ {
    bytes.chunks_exact(POINT_BYTES).map(|c| {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&c[i * 8..i * 8 + 8]);
            w
        };
        ScalarPoint {
            step: i64::from_le_bytes(word(0)),
            wall_time: f64::from_le_bytes(word(1)),
            value: f64::from_le_bytes(word(2)),
        }
    })
}

/// What the x axis of a series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XAxis {
    /// The step.
    Step,
    /// Seconds since the series' first point.
    Relative,
    /// Seconds since the Unix epoch.
    Wall,
}

impl XAxis {
    /// Parses `step`, `relative` or `wall`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "step" => Some(Self::Step),
            "relative" => Some(Self::Relative),
            "wall" => Some(Self::Wall),
            _ => None,
        }
    }

    /// The name of the axis.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Step => "step",
            Self::Relative => "relative",
            Self::Wall => "wall",
        }
    }
}

/// Downsamples points into at most `n` buckets of equal width along x, each with
/// the min, max and last value of its points (so a one-point spike survives). Points
/// are taken in the order logged; empty buckets are left out.
pub fn bucketize(points: &[ScalarPoint], n: usize, x: XAxis) -> Vec<Bucket> {
    bucketize_with(|| points.iter().copied(), n, x)
}

/// [`bucketize`] of the first `count` points of a series file, read in chunks (two
/// passes over the file, which the page cache serves), so a series of any length is
/// bucketed in a fixed amount of memory.
pub fn bucketize_file(file: &Path, count: u64, n: usize, x: XAxis) -> std::io::Result<Vec<Bucket>> {
    use std::io::{Read, Seek, SeekFrom};
    const CHUNK_POINTS: usize = 1 << 15;
    let Some(mut f) = open(file)? else {
        return Ok(Vec::new());
    };
    let total = usize::try_from(count).unwrap_or(usize::MAX);
    let mut buf = vec![0u8; CHUNK_POINTS * POINT_BYTES];
    // Reads the points in chunks, handing each chunk's bytes to `each`.
    let mut pass = |f: &mut std::fs::File, each: &mut dyn FnMut(&[u8])| -> std::io::Result<()> {
        f.seek(SeekFrom::Start(0))?;
        let mut left = total;
        while left > 0 {
            let want = left.min(CHUNK_POINTS) * POINT_BYTES;
            let mut got = 0;
            while got < want {
                let k = f.read(&mut buf[got..want])?;
                if k == 0 {
                    break;
                }
                got += k;
            }
            let whole = got / POINT_BYTES * POINT_BYTES;
            each(&buf[..whole]);
            if got < want {
                break;
            }
            left -= whole / POINT_BYTES;
        }
        Ok(())
    };
    let mut first: Option<ScalarPoint> = None;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    pass(&mut f, &mut |bytes| {
        for p in decode(bytes) {
            let origin = first.get_or_insert(p).wall_time;
            let v = match x {
                XAxis::Step => p.step as f64,
                XAxis::Relative => p.wall_time - origin,
                XAxis::Wall => p.wall_time,
            };
            lo = lo.min(v);
            hi = hi.max(v);
        }
    })?;
    let Some(first) = first else {
        return Ok(Vec::new());
    };
    if n == 0 {
        return Ok(Vec::new());
    }
    let scale = if hi > lo { n as f64 / (hi - lo) } else { 0.0 };
    let mut buckets: Vec<Option<Bucket>> = vec![None; n];
    pass(&mut f, &mut |bytes| {
        for p in decode(bytes) {
            let v = match x {
                XAxis::Step => p.step as f64,
                XAxis::Relative => p.wall_time - first.wall_time,
                XAxis::Wall => p.wall_time,
            };
            let i = (((v - lo) * scale) as usize).min(n - 1);
            add(&mut buckets[i], v, p.value);
        }
    })?;
    Ok(buckets.into_iter().flatten().collect())
}

fn add(slot: &mut Option<Bucket>, x: f64, value: f64) {
    match slot {
        Some(b) => {
            b.x_start = b.x_start.min(x);
            b.x_end = b.x_end.max(x);
            b.min = b.min.min(value);
            b.max = b.max.max(value);
            b.last = value;
            b.count += 1;
        }
        None => {
            *slot = Some(Bucket {
                x_start: x,
                x_end: x,
                min: value,
                max: value,
                last: value,
                count: 1,
            });
        }
    }
}

/// [`bucketize`] over points that `points()` yields afresh for each of its two
/// passes (the first finds the x range), so a series need not be decoded into memory.
pub fn bucketize_with<I: Iterator<Item = ScalarPoint>>(
    points: impl Fn() -> I,
    n: usize,
    x: XAxis,
) -> Vec<Bucket> {
    let Some(first) = points().next() else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    let origin = first.wall_time;
    let x_of = |p: &ScalarPoint| match x {
        XAxis::Step => p.step as f64,
        XAxis::Relative => p.wall_time - origin,
        XAxis::Wall => p.wall_time,
    };
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in points() {
        let v = x_of(&p);
        lo = lo.min(v);
        hi = hi.max(v);
    }
    // Buckets per unit of x; 0 puts everything in the first bucket when x is constant.
    let scale = if hi > lo { n as f64 / (hi - lo) } else { 0.0 };
    let mut buckets: Vec<Option<Bucket>> = vec![None; n];
    for p in points() {
        let v = x_of(&p);
        let i = (((v - lo) * scale) as usize).min(n - 1);
        add(&mut buckets[i], v, p.value);
    }
    buckets.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(step: i64, value: f64) -> ScalarPoint {
        ScalarPoint {
            step,
            wall_time: 1000.0 + step as f64 / 10.0,
            value,
        }
    }

    #[test]
    fn points_round_trip_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), 3);
        append(&file, 0, &[pt(0, 1.5), pt(1, -2.0)]).unwrap();
        append(&file, 2, &[pt(2, f64::NAN)]).unwrap();
        let got = read(&file, 3).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1], pt(1, -2.0));
        assert!(got[2].value.is_nan());
        assert_eq!(
            read(&file, 2).unwrap().len(),
            2,
            "only what the store counted"
        );
        assert!(read(&path(dir.path(), 9), 5).unwrap().is_empty());
        // A write the store did not count is cut off by the next append.
        append(&file, 1, &[pt(5, 5.0)]).unwrap();
        let got = read(&file, 9).unwrap();
        assert_eq!(got, [pt(0, 1.5), pt(5, 5.0)]);
    }

    #[test]
    fn buckets_keep_spikes_and_the_last_value() {
        let mut points: Vec<ScalarPoint> = (0..1000).map(|s| pt(s, 1.0)).collect();
        points[500].value = 99.0;
        points[999].value = 0.5;
        let buckets = bucketize(&points, 10, XAxis::Step);
        assert_eq!(buckets.len(), 10);
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 1000);
        assert_eq!(buckets[4].max, 1.0);
        assert_eq!(buckets[5].max, 99.0, "the spike survives");
        assert_eq!(buckets[9].last, 0.5);
        assert_eq!(buckets[9].min, 0.5);
        assert_eq!((buckets[0].x_start, buckets[9].x_end), (0.0, 999.0));
    }

    #[test]
    fn bucketing_a_file_in_chunks_agrees_with_bucketing_its_points() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), 1);
        let points: Vec<ScalarPoint> = (0..70_000)
            .map(|s| pt((s * 7) % 70_000, ((s * 31) % 97) as f64))
            .collect();
        append(&file, 0, &points).unwrap();
        for axis in [XAxis::Step, XAxis::Relative, XAxis::Wall] {
            assert_eq!(
                bucketize_file(&file, 70_000, 37, axis).unwrap(),
                bucketize(&points, 37, axis)
            );
        }
        assert_eq!(
            bucketize_file(&file, 10, 5, XAxis::Step).unwrap(),
            bucketize(&points[..10], 5, XAxis::Step)
        );
        assert!(
            bucketize_file(&path(dir.path(), 2), 5, 5, XAxis::Step)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn relative_and_wall_axes() {
        let points = [pt(0, 1.0), pt(10, 2.0)];
        let rel = bucketize(&points, 2, XAxis::Relative);
        assert_eq!((rel[0].x_start, rel[1].x_end), (0.0, 1.0));
        let wall = bucketize(&points, 1, XAxis::Wall);
        assert_eq!((wall[0].x_start, wall[0].count), (1000.0, 2));
        assert!(bucketize(&[], 5, XAxis::Step).is_empty());
        let single = bucketize(&[pt(7, 3.0)], 5, XAxis::Step);
        assert_eq!(single.len(), 1);
    }
}
