//! The tfevents reader on real event files (written by tensorboardX and TensorBoard's
//! protobufs, see `server/tests/fixtures/tfevents/README.md`) and on files built here to
//! be cut, grown and damaged.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use proptest::prelude::*;
use prost::Message;
use runboard_server::tfevents::proto::{
    self, DataType, PluginData, Summary, SummaryMetadata, TensorProto, summary::Value,
    summary::value::Value as Kind,
};
use runboard_server::tfevents::{Batch, EventFileReader, read_file, record};

/// The fixtures, in the checkout (their README says what a correct reader finds).
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tfevents");

/// The one event file in a fixture folder.
fn fixture(folder: &str) -> PathBuf {
    let dir = PathBuf::from(FIXTURES).join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("tfevents"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

/// A readable account of a batch: each scalar tag with its count and steps, the
/// non-scalar values, and anything skipped. A point read twice shows as a count
/// larger than the number of steps.
fn describe(batch: &Batch) -> String {
    let mut steps: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for p in batch.points() {
        steps.entry(p.tag).or_default().push(p.step);
    }
    let mut out = String::new();
    for (tag, mut steps) in steps {
        let n = steps.len();
        steps.sort();
        steps.dedup();
        let stride = steps.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(1);
        let (first, last) = (steps[0], steps[steps.len() - 1]);
        let missing: Vec<String> = (first..=last)
            .step_by(stride as usize)
            .filter(|s| steps.binary_search(s).is_err())
            .map(|s| s.to_string())
            .collect();
        let range = match missing.as_slice() {
            _ if first == last => format!("{first}"),
            [] => format!("{first}..={last} by {stride}"),
            _ => format!(
                "{first}..={last} by {stride} without {}",
                missing.join(", ")
            ),
        };
        out += &format!("{tag}: {n} points, steps {range}\n");
    }
    for o in &batch.other {
        out += &format!("{} {} at step {}\n", o.tag, o.kind, o.step);
    }
    if batch.skipped_records > 0 {
        out += &format!("skipped {} records\n", batch.skipped_records);
    }
    if batch.undecodable_records > 0 {
        out += &format!("undecodable {} records\n", batch.undecodable_records);
    }
    if batch.garbage_bytes > 0 {
        out += &format!("garbage {} bytes\n", batch.garbage_bytes);
    }
    out
}

/// Reads `bytes` as one new reader would.
fn read_whole(bytes: &[u8]) -> Batch {
    EventFileReader::new().read_available(bytes)
}

/// Where the last record of a fixture starts.
fn last_record_start(folder: &str) -> usize {
    let ends = record_ends(&std::fs::read(fixture(folder)).unwrap());
    ends[ends.len() - 2]
}

const SIMPLE: &str = "\
accuracy: 200 points, steps 0..=199 by 1
loss: 200 points, steps 0..=199 by 1
note/text_summary text at step 0
weights histogram at step 0
";

#[test]
fn every_fixture_gives_the_counts_its_readme_states() {
    let cases = [
        ("simple", SIMPLE),
        (
            "tensor",
            "train/loss: 100 points, steps 0..=99 by 1\ntrain/lr: 100 points, steps 0..=99 by 1\n",
        ),
        ("nested/train", "loss: 100 points, steps 0..=297 by 3\n"),
        ("nested/eval", "loss: 100 points, steps 0..=297 by 3\n"),
        // The last record (the histogram) is cut: it waits, the rest is read.
        (
            "truncated",
            "accuracy: 200 points, steps 0..=199 by 1\nloss: 200 points, steps 0..=199 by 1\nnote/text_summary text at step 0\n",
        ),
        // One flipped byte costs one point.
        (
            "corrupt",
            "accuracy: 200 points, steps 0..=199 by 1\nloss: 199 points, steps 0..=199 by 1 without 103\n\
             note/text_summary text at step 0\nweights histogram at step 0\nskipped 1 records\n",
        ),
    ];
    for (folder, expect) in cases {
        let bytes = std::fs::read(fixture(folder)).unwrap();
        let batch = read_whole(&bytes);
        assert_eq!(describe(&batch), expect, "{folder}");
        let read_to = match folder {
            "truncated" => last_record_start("simple"),
            _ => bytes.len(),
        };
        assert_eq!(batch.consumed, read_to, "{folder}: bytes read");
    }
}

#[test]
fn tensor_scalars_keep_their_values() {
    let batch = read_whole(&std::fs::read(fixture("tensor")).unwrap());
    let value = |tag: &str, step: i64| {
        batch
            .points()
            .find(|p| p.tag == tag && p.step == step)
            .map(|p| p.value)
    };
    // `train/lr` is a DT_DOUBLE in `tensor_content`, 0.1 * 0.99^step.
    assert_eq!(value("train/lr", 0), Some(0.1));
    assert_eq!(value("train/lr", 2), Some(0.1 * 0.99 * 0.99));
    // `train/loss` is a DT_FLOAT in `float_val`: exp(-step / 100) + 0.01 sin(step).
    assert_eq!(value("train/loss", 0), Some(1.0));
    let expect = ((-0.5f64).exp() + 0.01 * 50f64.sin()) as f32;
    assert_eq!(value("train/loss", 50), Some(f64::from(expect)));
    // Every point carries the writer's wall time.
    assert!(batch.points().all(|p| p.wall_time > 1.7e9));
}

#[test]
fn a_truncated_file_is_read_once_the_rest_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.out.tfevents.1.test");
    let cut = std::fs::read(fixture("truncated")).unwrap();
    let whole = std::fs::read(fixture("simple")).unwrap();
    assert_eq!(
        &whole[..cut.len()],
        &cut[..],
        "truncated/ is a prefix of simple/"
    );
    std::fs::write(&path, &cut).unwrap();

    let cut_record = last_record_start("simple") as u64;

    let mut reader = EventFileReader::new();
    let mut seen = read_file(&path, &mut reader).unwrap();
    assert_eq!(seen.point_count(), 400);
    assert_eq!(reader.offset(), cut_record, "the cut record waits");
    // Reading again before the writer goes on finds nothing new.
    assert_eq!(read_file(&path, &mut reader).unwrap(), Batch::default());

    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(&whole[cut.len()..]).unwrap();
    let rest = read_file(&path, &mut reader).unwrap();
    assert_eq!(describe(&rest), "weights histogram at step 0\n");
    seen.append(rest);
    assert_eq!(describe(&seen), SIMPLE);
    assert_eq!(reader.offset(), whole.len() as u64);

    // A reader made from the stored offset (a restarted server) goes on from there.
    let mut resumed = EventFileReader::at_offset(cut_record);
    assert_eq!(
        describe(&read_file(&path, &mut resumed).unwrap()),
        "weights histogram at step 0\n"
    );
}

/// The offsets at which each record of a clean file ends.
fn record_ends(bytes: &[u8]) -> Vec<usize> {
    let mut reader = record::RecordReader::new();
    let mut records = reader.records(bytes);
    let mut ends = Vec::new();
    while records.next().is_some() {
        ends.push(records.consumed());
    }
    assert_eq!(records.consumed(), bytes.len());
    ends
}

#[test]
fn a_file_grown_record_by_record_and_cut_at_every_byte_yields_each_point_once() {
    for folder in ["simple", "tensor"] {
        let file = std::fs::read(fixture(folder)).unwrap();
        let mut reader = EventFileReader::new();
        let mut seen = Batch::default();
        let mut start = 0;
        for end in record_ends(&file) {
            let record = &file[start..end];
            let expect = reader.clone().read_available(record);
            for cut in 0..record.len() {
                // The writer has flushed `cut` bytes of the record: nothing yet...
                let mut r = reader.clone();
                let early = r.read_available(&record[..cut]);
                assert_eq!(
                    early,
                    Batch::default(),
                    "{folder}: record at {start}, cut {cut}"
                );
                // ...then the rest: the record, once.
                assert_eq!(
                    r.read_available(record),
                    expect,
                    "{folder}: record at {start}, cut {cut}"
                );
                assert_eq!(r.offset(), end as u64);
            }
            seen.append(reader.read_available(record));
            start = end;
        }
        assert_eq!(describe(&seen), describe(&read_whole(&file)), "{folder}");
    }
}

#[test]
fn a_file_that_grows_one_byte_at_a_time_yields_each_point_once() {
    let file = std::fs::read(fixture("tensor")).unwrap();
    let mut reader = EventFileReader::new();
    let mut seen = Batch::default();
    for len in 0..=file.len() {
        seen.append(reader.read_available(&file[reader.offset() as usize..len]));
    }
    assert_eq!(reader.offset(), file.len() as u64);
    assert_eq!(
        describe(&seen),
        "train/loss: 100 points, steps 0..=99 by 1\ntrain/lr: 100 points, steps 0..=99 by 1\n"
    );
}

// Files built here.

fn value(tag: &str, plugin: Option<&str>, kind: Kind) -> Value {
    Value {
        tag: tag.to_owned(),
        metadata: plugin.map(|name| SummaryMetadata {
            plugin_data: Some(PluginData {
                plugin_name: name.to_owned(),
            }),
        }),
        value: Some(kind),
    }
}

/// One framed event record holding `values` at `step`.
fn event(step: i64, values: Vec<Value>) -> Vec<u8> {
    let event = proto::Event {
        wall_time: 1_795_000_000.0 + step as f64,
        step,
        what: Some(proto::event::What::Summary(Summary { value: values })),
    };
    let mut out = Vec::new();
    record::write_record(&event.encode_to_vec(), &mut out);
    out
}

fn loss_event(step: i64) -> proto::Event {
    proto::Event {
        wall_time: 1_795_000_000.0 + step as f64,
        step,
        what: Some(proto::event::What::Summary(Summary {
            value: vec![value("loss", None, Kind::SimpleValue(step as f32))],
        })),
    }
}

fn loss(step: i64) -> Vec<u8> {
    let mut out = Vec::new();
    record::write_record(&loss_event(step).encode_to_vec(), &mut out);
    out
}

fn tensor(dtype: DataType, content: &[u8]) -> Kind {
    Kind::Tensor(Box::new(TensorProto {
        dtype: dtype as i32,
        tensor_content: content.to_vec(),
        ..TensorProto::default()
    }))
}

#[test]
fn a_bad_length_checksum_resynchronises_on_the_next_record() {
    let records: Vec<Vec<u8>> = (0..10).map(loss).collect();
    let check = |damage: &dyn Fn(&mut Vec<Vec<u8>>), expect: &str| {
        let mut records = records.clone();
        damage(&mut records);
        assert_eq!(describe(&read_whole(&records.concat())), expect);
    };
    let len = records[3].len();
    // A flipped bit in a length: that record's bytes are garbage, the next is found.
    check(
        &|r| r[3][0] ^= 0x04,
        &format!("loss: 9 points, steps 0..=9 by 1 without 3\ngarbage {len} bytes\n"),
    );
    // The same in the length's checksum, of the very first record.
    check(
        &|r| r[0][9] ^= 0x80,
        &format!(
            "loss: 9 points, steps 1..=9 by 1\ngarbage {} bytes\n",
            records[0].len()
        ),
    );
    // Junk written between records (a crashed writer, a stray write) is stepped over.
    check(
        &|r| {
            r.insert(
                5,
                b"\x00\x00\x00\x00junk\xff\xff\xff\xff\xff\xff\xff\xff\xff".to_vec(),
            )
        },
        "loss: 10 points, steps 0..=9 by 1\ngarbage 17 bytes\n",
    );
    // A length whose checksum holds but whose data does not: skipped whole, as the
    // corrupt/ fixture shows, without losing the way.
    check(
        &|r| *r[7].last_mut().unwrap() ^= 0x01,
        "loss: 9 points, steps 0..=9 by 1 without 7\nskipped 1 records\n",
    );
    // A record whose checksums hold but which is no event.
    check(
        &|r| {
            let mut junk = Vec::new();
            record::write_record(b"\xff\xff\xff", &mut junk);
            r.insert(2, junk);
        },
        "loss: 10 points, steps 0..=9 by 1\nundecodable 1 records\n",
    );
    // An event whose summary is followed by a file version: protobuf's last member of
    // a oneof wins, so it holds no summary.
    check(
        &|r| {
            let file_version = proto::Event {
                what: Some(proto::event::What::FileVersion("brain.Event:2".into())),
                ..proto::Event::default()
            };
            let mut replaced = Vec::new();
            let data = [
                loss_event(100).encode_to_vec(),
                file_version.encode_to_vec(),
            ]
            .concat();
            record::write_record(&data, &mut replaced);
            r.push(replaced);
        },
        "loss: 10 points, steps 0..=9 by 1\n",
    );
    // An event whose value reads well but whose last field is malformed (field 3 as
    // a varint) gives back the point it had begun to add.
    check(
        &|r| {
            let event = proto::Event {
                wall_time: 1.0,
                step: 100,
                what: Some(proto::event::What::Summary(Summary {
                    value: vec![value("loss", None, Kind::SimpleValue(1.0))],
                })),
            };
            let mut bad = Vec::new();
            record::write_record(
                &[event.encode_to_vec(), vec![0x18, 0x01]].concat(),
                &mut bad,
            );
            r.push(bad);
        },
        "loss: 10 points, steps 0..=9 by 1\nundecodable 1 records\n",
    );
}

#[test]
fn non_scalar_values_are_listed_by_tag_and_kind() {
    let scalars = Some("scalars");
    let file = [
        event(
            0,
            vec![
                value("photo", None, Kind::Image(vec![8, 1])),
                value("speech", None, Kind::Audio(vec![])),
                value(
                    "weights",
                    None,
                    Kind::Histo(vec![9, 0, 0, 0, 0, 0, 0, 0, 0]),
                ),
                // TensorFlow 2 names a tag's plugin only with its first value.
                value(
                    "w2",
                    Some("histograms"),
                    tensor(DataType::DtDouble, &[0; 24]),
                ),
                value("note", Some("text"), tensor(DataType::DtString, b"hi")),
                value(
                    "hp",
                    Some("hparams"),
                    tensor(DataType::DtFloat, &1f32.to_le_bytes()),
                ),
                value(
                    "acc",
                    scalars,
                    tensor(DataType::DtFloat, &0.5f32.to_le_bytes()),
                ),
                // A one-number tensor of no known plugin is a scalar too.
                value("lr", None, tensor(DataType::DtHalf, &[0x00, 0x3c])),
            ],
        ),
        event(
            1,
            vec![
                value("w2", None, tensor(DataType::DtDouble, &[0; 24])),
                value("note", None, tensor(DataType::DtString, b"again")),
                value(
                    "acc",
                    None,
                    tensor(DataType::DtFloat, &0.75f32.to_le_bytes()),
                ),
                // A scalars tensor that holds no single number is listed, not lost.
                value("acc", None, tensor(DataType::DtFloat, &[])),
            ],
        ),
    ]
    .concat();
    let batch = read_whole(&file);
    assert_eq!(
        describe(&batch),
        "acc: 2 points, steps 0..=1 by 1\nlr: 1 points, steps 0\n\
         photo image at step 0\nspeech audio at step 0\nweights histogram at step 0\n\
         w2 histogram at step 0\nnote text at step 0\nhp tensor at step 0\n\
         w2 histogram at step 1\nnote text at step 1\nacc tensor at step 1\n"
    );
    let plugins: Vec<&str> = batch.other.iter().map(|o| o.plugin.as_str()).collect();
    assert_eq!(
        plugins,
        [
            "",
            "",
            "",
            "histograms",
            "text",
            "hparams",
            "histograms",
            "text",
            "scalars"
        ]
    );
    let values: Vec<(&str, f64)> = batch.points().map(|p| (p.tag, p.value)).collect();
    assert_eq!(values, [("acc", 0.5), ("acc", 0.75), ("lr", 1.0)]);
}

/// A file made of valid records and junk, and the loss steps it holds.
fn mixed_file(parts: &[Result<i64, Vec<u8>>]) -> (Vec<u8>, Vec<i64>) {
    let mut file = Vec::new();
    let mut steps = Vec::new();
    for part in parts {
        match part {
            Ok(step) => {
                file.extend(loss(*step));
                steps.push(*step);
            }
            Err(junk) => file.extend(junk),
        }
    }
    (file, steps)
}

/// Hands `file` to a reader as it would grow: cut at each of `cuts`, then whole.
fn read_growing(file: &[u8], cuts: &[usize]) -> Batch {
    let mut reader = EventFileReader::new();
    let mut seen = Batch::default();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (file.len() + 1)).collect();
    cuts.sort();
    cuts.push(file.len());
    for cut in cuts {
        let offset = reader.offset() as usize;
        let batch = reader.read_available(&file[offset..cut.max(offset)]);
        assert!(reader.offset() as usize <= cut.max(offset));
        seen.append(batch);
    }
    seen
}

proptest! {
    #[test]
    fn random_bytes_cut_anywhere_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        read_growing(&bytes, &cuts);
    }

    #[test]
    fn every_valid_record_is_found_among_junk(
        parts in prop::collection::vec(
            prop_oneof![
                3 => (0i64..1000).prop_map(Ok),
                1 => prop::collection::vec(any::<u8>(), 1..64).prop_map(Err),
            ],
            0..24,
        ),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let (file, steps) = mixed_file(&parts);
        let seen = read_growing(&file, &cuts);
        let got: Vec<i64> = seen.points().map(|p| p.step).collect();
        prop_assert_eq!(got, steps);
        let junk: usize = parts.iter().map(|p| p.as_ref().err().map_or(0, Vec::len)).sum();
        prop_assert!(seen.garbage_bytes <= junk as u64);
    }
}
