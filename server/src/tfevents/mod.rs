//! TensorBoard event files: a resumable reader over bytes.
//!
//! An event file (`events.out.tfevents.*`) is a TFRecord stream ([`record`]) of
//! `tensorflow.Event` protos ([`proto`]). Training jobs append to it while Runboard
//! reads it, so the reader is built for a file that grows:
//!
//! - **Sans-IO.** [`EventFileReader::read_available`] takes the bytes of the file from
//!   the reader's offset on and returns a [`Batch`]: the scalar points of every whole
//!   record, and how many bytes it used. It holds no bytes itself. [`read_file`] is the
//!   thin helper that does the reading from disk.
//! - **Resumable.** A record that is cut off (the writer has not finished it) is not an
//!   error: it is left unconsumed, and the next call, with the same bytes and whatever
//!   has been appended, resumes exactly there. Each point is read exactly once.
//! - **Damage costs only what is damaged.** A record whose data checksum fails is
//!   skipped and counted; a bad length checksum makes the reader resynchronise on the
//!   next record whose checksums both hold. A file is never given up on.
//!
//! Scalars are read from `simple_value` (TensorFlow 1, PyTorch, tensorboardX) and from
//! single-element tensors (TensorFlow 2's `scalars` plugin, any number type; see
//! [`event::tensor_scalar`]). Histograms, images, audio, text and other tensors are
//! listed by tag and kind in [`Batch::other`], not stored.
//!
//! The hot path reads `Event → Summary → Value` straight off the protobuf wire format
//! (`wire`), borrowing from the record instead of building `prost` messages: that is
//! what makes the reader several times faster than TensorBoard's own data server
//! (`cargo bench -p runboard-server --bench tfevents`). `prost` still decodes the
//! rarer nested messages (tensors, plugin metadata), the [`proto`] messages are the
//! schema, and property tests hold the wire walk to exactly `prost`'s results.
//!
//! ```
//! use runboard_server::tfevents::{EventFileReader, proto, record};
//! use prost::Message;
//!
//! // An event file with one scalar, written the way tensorboardX writes it.
//! let event = proto::Event {
//!     wall_time: 1.5,
//!     step: 7,
//!     what: Some(proto::event::What::Summary(proto::Summary {
//!         value: vec![proto::summary::Value {
//!             tag: "loss".into(),
//!             metadata: None,
//!             value: Some(proto::summary::value::Value::SimpleValue(0.25)),
//!         }],
//!     })),
//! };
//! let mut file = Vec::new();
//! record::write_record(&event.encode_to_vec(), &mut file);
//!
//! // The writer has flushed all but the last 3 bytes: nothing to read yet.
//! let mut reader = EventFileReader::new();
//! let batch = reader.read_available(&file[..file.len() - 3]);
//! assert_eq!(batch.point_count(), 0);
//! assert_eq!(batch.consumed, 0);
//!
//! // The rest arrives: hand over the file from the reader's offset on.
//! let batch = reader.read_available(&file[reader.offset() as usize..]);
//! let points: Vec<_> = batch.points().map(|p| (p.tag, p.step, p.value)).collect();
//! assert_eq!(points, [("loss", 7, 0.25)]);
//! assert_eq!(reader.offset(), file.len() as u64);
//! ```

pub mod event;
pub mod proto;
pub mod record;
mod wire;

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

pub use event::SummaryKind;
use event::{TagTable, tensor_scalar};
use record::RecordReader;
use runboard_shared::series::{Step, WallTime};
use wire::{Data, EventHead, Malformed, ValueRef};

/// The points of one scalar series that a batch holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series, e.g. `train/loss`.
    pub tag: Arc<str>,
    /// Its points, in file order; never empty.
    pub points: Vec<Point>,
}

/// One point of a scalar series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The step the training script gave.
    pub step: Step,
    /// When the point was written.
    pub wall_time: WallTime,
    /// The value; `simple_value` floats are widened exactly.
    pub value: f64,
}

/// A point with its series' tag, as [`Batch::points`] lists them: a flat view with the
/// raw numbers, as the wire's `ScalarPoint` has them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalarPoint<'a> {
    /// The series.
    pub tag: &'a str,
    /// The step the training script gave.
    pub step: i64,
    /// Seconds since the Unix epoch when the point was written.
    pub wall_time: f64,
    /// The value.
    pub value: f64,
}

/// A summary value that is not a scalar: listed, not stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherValue {
    /// The series.
    pub tag: Arc<str>,
    /// Histogram, image, audio, text or other tensor.
    pub kind: SummaryKind,
    /// The plugin that owns the series (`""` when the file does not say).
    pub plugin: String,
    /// The step the training script gave.
    pub step: Step,
    /// When the value was written.
    pub wall_time: WallTime,
}

/// What one call to [`EventFileReader::read_available`] found.
///
/// Scalars come grouped by series, which is how they are stored and charted, and
/// what keeps reading cheap: a file has a handful of tags and can have millions of
/// points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Scalar series, each tag once, in the order this batch first met them.
    pub scalars: Vec<Series>,
    /// Non-scalar values, in file order.
    pub other: Vec<OtherValue>,
    /// Bytes of the input used: whole records and skipped bytes. The bytes after them
    /// (a record still being written) must be handed over again with the next call.
    pub consumed: usize,
    /// Records read whole and decoded, including those without any summary (the
    /// file-version record, graphs, log messages).
    pub records: u64,
    /// Records skipped because their data checksum failed.
    pub skipped_records: u32,
    /// Records whose checksums held but which are not `Event` protos.
    pub undecodable_records: u32,
    /// Bytes skipped while resynchronising after a bad length checksum.
    pub garbage_bytes: u64,
}

impl Batch {
    /// Every scalar point with its tag: series by series, each in file order.
    pub fn points(&self) -> impl Iterator<Item = ScalarPoint<'_>> {
        self.scalars.iter().flat_map(|series| {
            series.points.iter().map(|p| ScalarPoint {
                tag: &series.tag,
                step: p.step.0,
                wall_time: p.wall_time.secs(),
                value: p.value,
            })
        })
    }

    /// How many scalar points the batch holds.
    pub fn point_count(&self) -> usize {
        self.scalars.iter().map(|s| s.points.len()).sum()
    }

    /// Adds `later`, read after `self`, to `self`.
    pub fn append(&mut self, later: Batch) {
        for series in later.scalars {
            match self.scalars.iter_mut().find(|s| s.tag == series.tag) {
                Some(mine) => mine.points.extend(series.points),
                None => self.scalars.push(series),
            }
        }
        self.other.extend(later.other);
        self.consumed += later.consumed;
        self.records += later.records;
        self.skipped_records += later.skipped_records;
        self.undecodable_records += later.undecodable_records;
        self.garbage_bytes += later.garbage_bytes;
    }
}

/// A resumable reader of one event file.
///
/// It remembers its offset in the file, whether it is resynchronising, and each tag
/// seen so far with its plugin (TensorFlow 2 names it only on a tag's first value).
/// To resume after a restart, store [`offset`](Self::offset) and start again with
/// [`EventFileReader::at_offset`]: points are never read twice, and the only thing
/// lost is the plugins of the tags, so a later TensorFlow 2 image or histogram of a
/// tag first seen before the restart is listed as a plain tensor.
#[derive(Debug, Clone, Default)]
pub struct EventFileReader {
    records: RecordReader,
    /// Offset in the file of the first byte not yet consumed.
    offset: u64,
    tags: TagTable,
    /// Numbers the batches this reader fills, so that a tag can tell whether it has a
    /// series in the current one (see `TagInfo::series`).
    batch_number: u64,
}

impl EventFileReader {
    /// A reader at the start of a file.
    pub fn new() -> Self {
        Self::default()
    }

    /// A reader resuming at `offset`, an offset an earlier reader reported.
    pub fn at_offset(offset: u64) -> Self {
        Self {
            offset,
            ..Self::default()
        }
    }

    /// Offset in the file of the first byte not yet consumed: where the bytes of the
    /// next [`read_available`](Self::read_available) must start.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads every whole record in `bytes`, which must be the file's bytes from
    /// [`offset`](Self::offset) on, and advances the offset by [`Batch::consumed`].
    /// Give as many bytes as are available: a record cut at the end is left for the
    /// next call.
    pub fn read_available(&mut self, bytes: &[u8]) -> Batch {
        let mut batch = Batch::default();
        self.batch_number += 1;
        self.read_into(bytes, &mut batch);
        batch.scalars.retain(|s| !s.points.is_empty());
        batch
    }

    /// Adds what `bytes` hold to `batch`, which this reader has been filling since
    /// `batch_number` last changed; returns the bytes consumed.
    fn read_into(&mut self, bytes: &[u8], batch: &mut Batch) -> usize {
        let mut added = Vec::new();
        let mut records = self.records.records(bytes);
        for step in records.by_ref() {
            match step {
                record::Step::Record(data) => {
                    let other_from = batch.other.len();
                    let mut event = Collector {
                        tags: &mut self.tags,
                        batch_number: self.batch_number,
                        batch,
                        added: &mut added,
                        other_from,
                    };
                    match wire::parse_event(data, &mut event) {
                        Ok(head) => {
                            event.finish(head);
                            batch.records += 1;
                        }
                        Err(Malformed) => {
                            event.take_back();
                            batch.undecodable_records += 1;
                        }
                    }
                }
                record::Step::BadData { .. } => batch.skipped_records += 1,
                record::Step::Garbage { len } => batch.garbage_bytes += len as u64,
                record::Step::NeedMore => break,
            }
        }
        let consumed = records.consumed();
        batch.consumed += consumed;
        self.offset += consumed as u64;
        consumed
    }
}

/// Files the values of one event into a batch as they are read.
///
/// The event's step and wall time are known only once the whole record has been read
/// (they may follow the summary), so the points and values it adds carry zeros until
/// [`Collector::finish`] fills them in; a record that turns out malformed takes back
/// what it added. (A plugin it declared stays declared: harmless, as only a record
/// whose checksums hold gets this far.)
struct Collector<'b> {
    tags: &'b mut TagTable,
    batch_number: u64,
    batch: &'b mut Batch,
    /// The points this event added: (series, index in its points). Empty between
    /// events; kept by the caller to reuse its allocation.
    added: &'b mut Vec<(usize, usize)>,
    /// Where this event's values start in `batch.other`.
    other_from: usize,
}

impl Collector<'_> {
    fn finish(self, head: EventHead) {
        let EventHead { step, wall_time } = head;
        for (series, i) in self.added.drain(..) {
            let point = &mut self.batch.scalars[series].points[i];
            (point.step, point.wall_time) = (step, wall_time);
        }
        for o in &mut self.batch.other[self.other_from..] {
            (o.step, o.wall_time) = (step, wall_time);
        }
    }

    /// Takes back every point and value added since the event began.
    fn take_back(&mut self) {
        // Latest first, so that each point is the last of its series when it goes.
        while let Some((series, i)) = self.added.pop() {
            self.batch.scalars[series].points.truncate(i);
        }
        self.batch.other.truncate(self.other_from);
    }
}

impl<'a> wire::Sink<'a> for Collector<'_> {
    fn value(&mut self, value: ValueRef<'a>) -> Result<(), Malformed> {
        // A tag that is not UTF-8 makes the record malformed, as it does for prost.
        let tag = self.tags.get(value.tag).ok_or(Malformed)?;
        if let Some(plugin) = value.metadata.and_then(|m| m.plugin_data)
            && !plugin.plugin_name.is_empty()
        {
            tag.declare(&plugin.plugin_name);
        }
        let plugin = tag.plugin.as_str();
        let (kind, scalar) = match value.data {
            Some(Data::Simple(v)) => (SummaryKind::Tensor, Some(f64::from(v))),
            Some(Data::Tensor(tensor)) => {
                let scalar = match plugin {
                    "" | "scalars" => tensor_scalar(&tensor),
                    _ => None,
                };
                (SummaryKind::of_plugin(plugin), scalar)
            }
            Some(Data::Histo(_) | Data::OldHistogram(_)) => (SummaryKind::Histogram, None),
            Some(Data::Image(_)) => (SummaryKind::Image, None),
            Some(Data::Audio(_)) => (SummaryKind::Audio, None),
            // Metadata without a value: nothing to list.
            None => return Ok(()),
        };
        let Some(value) = scalar else {
            self.batch.other.push(OtherValue {
                tag: Arc::clone(&tag.name),
                kind,
                plugin: plugin.to_owned(),
                step: Step(0),
                wall_time: WallTime::from_secs(0.0),
            });
            return Ok(());
        };
        let series = match tag.series {
            Some((batch, series)) if batch == self.batch_number => series,
            _ => {
                self.batch.scalars.push(Series {
                    tag: Arc::clone(&tag.name),
                    points: Vec::new(),
                });
                let series = self.batch.scalars.len() - 1;
                tag.series = Some((self.batch_number, series));
                series
            }
        };
        let points = &mut self.batch.scalars[series].points;
        self.added.push((series, points.len()));
        points.push(Point {
            step: Step(0),
            wall_time: WallTime::from_secs(0.0),
            value,
        });
        Ok(())
    }

    fn clear(&mut self) {
        self.take_back();
    }
}

/// How much of a file [`read_file`] reads at a time.
const CHUNK: u64 = 4 << 20;

/// Reads what the file at `path` holds past `reader.offset()`, in chunks of a few
/// megabytes, and returns everything found. A record cut at the end of the file stays
/// unread until a later call finds it whole. A file shorter than the offset (replaced
/// or truncated, which TensorFlow's writers never do) reads as empty.
pub fn read_file(path: &Path, reader: &mut EventFileReader) -> io::Result<Batch> {
    read_open(&mut std::fs::File::open(path)?, reader)
}

/// [`read_file`] of a file already open (the server opens a run's files with
/// [`crate::confined::open`]).
pub fn read_open(file: &mut std::fs::File, reader: &mut EventFileReader) -> io::Result<Batch> {
    file.seek(SeekFrom::Start(reader.offset()))?;
    let mut batch = Batch::default();
    reader.batch_number += 1;
    let mut buf = Vec::new();
    loop {
        let read = (&mut *file).take(CHUNK).read_to_end(&mut buf)?;
        if read == 0 {
            batch.scalars.retain(|s| !s.points.is_empty());
            return Ok(batch);
        }
        let consumed = reader.read_into(&buf, &mut batch);
        buf.drain(..consumed);
    }
}
