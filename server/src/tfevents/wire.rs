//! The hot path: `Event → Summary → Value` read straight off the protobuf wire format,
//! borrowing tags and payloads from the record instead of allocating a message tree.
//!
//! Decoding the same records into `prost`'s [`proto::Event`](super::proto::Event)
//! costs several times as long, mostly in allocating and freeing a `Vec` of values
//! and a `String` per value, only to drop them at once. The rarer, nested parts
//! (a `TensorProto`, a `SummaryMetadata`) are still decoded by `prost`.
//!
//! The walk accepts and rejects exactly what `prost` does for the messages declared
//! in [`proto`](super::proto) (the same wire-type checks, UTF-8 checks, merging of
//! repeated fields, last member of a oneof wins), and yields the same values: the
//! `parse_event_matches_prost` property tests hold it to that.

use prost::Message;
use runboard_shared::series::{Step, WallTime};

use super::proto::{SummaryMetadata, TensorProto};

/// The record is not a well-formed `Event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

impl From<prost::DecodeError> for Malformed {
    fn from(_: prost::DecodeError) -> Self {
        Malformed
    }
}

/// One field's payload.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
    /// A (deprecated) group, skipped whole.
    Group,
}

/// How deep groups may nest before the input is refused (`prost`'s recursion limit).
const MAX_DEPTH: u32 = 100;

/// Reads a base-128 varint; at most 10 bytes, the last of which may only be 0 or 1.
#[inline]
fn varint(buf: &mut &[u8]) -> Result<u64, Malformed> {
    // Keys and short lengths take one byte: the common case, kept inline.
    if let Some((&byte, rest)) = buf.split_first()
        && byte < 0x80
    {
        *buf = rest;
        return Ok(u64::from(byte));
    }
    long_varint(buf)
}

#[inline(never)]
fn long_varint(buf: &mut &[u8]) -> Result<u64, Malformed> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&byte, rest) = buf.split_first().ok_or(Malformed)?;
        *buf = rest;
        if i == 9 && byte > 1 {
            return Err(Malformed);
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Err(Malformed)
}

fn take<'a>(buf: &mut &'a [u8], len: u64) -> Result<&'a [u8], Malformed> {
    let len = usize::try_from(len).map_err(|_| Malformed)?;
    let (head, rest) = buf.split_at_checked(len).ok_or(Malformed)?;
    *buf = rest;
    Ok(head)
}

/// Reads a field key: its number and wire type.
#[inline]
fn key(buf: &mut &[u8]) -> Result<(u32, u8), Malformed> {
    let key = u32::try_from(varint(buf)?).map_err(|_| Malformed)?;
    let (number, wire_type) = (key >> 3, (key & 7) as u8);
    if number == 0 || wire_type > 5 {
        return Err(Malformed);
    }
    Ok((number, wire_type))
}

/// Reads the payload of a field whose key has been read.
#[inline]
fn payload<'a>(buf: &mut &'a [u8], number: u32, wire_type: u8) -> Result<Field<'a>, Malformed> {
    Ok(match wire_type {
        0 => Field::Varint(varint(buf)?),
        1 => Field::Fixed64(u64::from_le_bytes(
            *take(buf, 8)?.first_chunk().ok_or(Malformed)?,
        )),
        2 => {
            let len = varint(buf)?;
            Field::Bytes(take(buf, len)?)
        }
        3 => {
            skip_group(buf, number, 0)?;
            Field::Group
        }
        5 => Field::Fixed32(u32::from_le_bytes(
            *take(buf, 4)?.first_chunk().ok_or(Malformed)?,
        )),
        // An end-group key without its start.
        _ => return Err(Malformed),
    })
}

/// Skips the fields of group `number` up to its end key.
#[inline(never)]
fn skip_group(buf: &mut &[u8], number: u32, depth: u32) -> Result<(), Malformed> {
    if depth >= MAX_DEPTH {
        return Err(Malformed);
    }
    loop {
        match key(buf)? {
            (end, 4) if end == number => return Ok(()),
            (_, 4) => return Err(Malformed),
            (inner, 3) => skip_group(buf, inner, depth + 1)?,
            (inner, wire_type) => {
                payload(buf, inner, wire_type)?;
            }
        }
    }
}

/// Calls `f` with each field of a message, in order.
fn fields<'a>(
    mut buf: &'a [u8],
    mut f: impl FnMut(u32, Field<'a>) -> Result<(), Malformed>,
) -> Result<(), Malformed> {
    while !buf.is_empty() {
        let (number, wire_type) = key(&mut buf)?;
        let field = payload(&mut buf, number, wire_type)?;
        f(number, field)?;
    }
    Ok(())
}

fn bytes(field: Field<'_>) -> Result<&[u8], Malformed> {
    match field {
        Field::Bytes(b) => Ok(b),
        _ => Err(Malformed),
    }
}

fn string(field: Field<'_>) -> Result<&str, Malformed> {
    std::str::from_utf8(bytes(field)?).map_err(|_| Malformed)
}

/// A summary value, borrowed from its record.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRef<'a> {
    /// The series, as bytes: the sink checks that they are UTF-8 (a tag that is not
    /// makes the record malformed, as for prost), which a sink that has seen the tag
    /// before need not do again.
    pub tag: &'a [u8],
    /// The plugin that owns the series, when this value says.
    pub metadata: Option<SummaryMetadata>,
    /// The value; `None` when the record has none.
    pub data: Option<Data<'a>>,
}

/// The `value` oneof of a summary value, opaque members borrowed.
#[derive(Debug, Clone, PartialEq)]
pub enum Data<'a> {
    /// `simple_value`.
    Simple(f32),
    /// `obsolete_old_style_histogram`.
    OldHistogram(&'a [u8]),
    /// `image`: a `Summary.Image` message.
    Image(&'a [u8]),
    /// `histo`: a `HistogramProto` message.
    Histo(&'a [u8]),
    /// `audio`: a `Summary.Audio` message.
    Audio(&'a [u8]),
    /// `tensor`, decoded; boxed so that the common, small members stay cheap to move.
    Tensor(Box<TensorProto>),
}

/// The step and wall time of an event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventHead {
    /// When the event was written.
    pub wall_time: WallTime,
    /// The global step.
    pub step: Step,
}

/// Where [`parse_event`] puts the values of an event, as it meets them.
pub trait Sink<'a> {
    /// The next value of the event's summary; an error makes the record malformed.
    fn value(&mut self, value: ValueRef<'a>) -> Result<(), Malformed>;
    /// Forget the values given so far: a later member of the event's `what` oneof
    /// replaced the summary.
    fn clear(&mut self);
}

impl<'a> Sink<'a> for Vec<ValueRef<'a>> {
    fn value(&mut self, value: ValueRef<'a>) -> Result<(), Malformed> {
        std::str::from_utf8(value.tag).map_err(|_| Malformed)?;
        self.push(value);
        Ok(())
    }

    fn clear(&mut self) {
        Vec::clear(self);
    }
}

/// Reads an `Event` record: returns its step and wall time, and hands its summary
/// values to `sink` as it meets them. A value handed over is part of the event only
/// if the result is `Ok`: the sink must drop what it got from a malformed record.
/// The step and wall time may follow the values in the record, so they are known
/// only at the end.
pub fn parse_event<'a>(data: &'a [u8], sink: &mut impl Sink<'a>) -> Result<EventHead, Malformed> {
    let mut head = EventHead {
        wall_time: WallTime::from_secs(0.0),
        step: Step(0),
    };
    fields(data, |number, field| {
        match (number, field) {
            // The protobuf's `double wall_time = 1; int64 step = 2;`: the raw numbers
            // become the newtypes here.
            (1, Field::Fixed64(bits)) => head.wall_time = WallTime::from_secs(f64::from_bits(bits)),
            (2, Field::Varint(v)) => head.step = Step(v as i64),
            // Another member of the `what` oneof replaces the summary.
            (3, field) => {
                string(field)?;
                sink.clear();
            }
            // Repeated occurrences of a message merge: their values add up.
            (5, field) => summary(bytes(field)?, sink)?,
            (1 | 2, _) => return Err(Malformed),
            _ => {}
        }
        Ok(())
    })?;
    Ok(head)
}

fn summary<'a>(data: &'a [u8], sink: &mut impl Sink<'a>) -> Result<(), Malformed> {
    fields(data, |number, field| {
        if number == 1 {
            sink.value(value(bytes(field)?)?)?;
        }
        Ok(())
    })
}

fn value(data: &[u8]) -> Result<ValueRef<'_>, Malformed> {
    let mut value = ValueRef {
        tag: b"",
        metadata: None,
        data: None,
    };
    fields(data, |number, field| {
        match (number, field) {
            (1, field) => {
                // Only the last tag reaches the sink, which checks it; a tag it replaces
                // must be UTF-8 too, as prost checks every occurrence.
                std::str::from_utf8(value.tag).map_err(|_| Malformed)?;
                value.tag = bytes(field)?;
            }
            (9, field) => value
                .metadata
                .get_or_insert_default()
                .merge(bytes(field)?)?,
            (2, Field::Fixed32(bits)) => value.data = Some(Data::Simple(f32::from_bits(bits))),
            (2, _) => return Err(Malformed),
            (3, field) => value.data = Some(Data::OldHistogram(bytes(field)?)),
            (4, field) => value.data = Some(Data::Image(bytes(field)?)),
            (5, field) => value.data = Some(Data::Histo(bytes(field)?)),
            (6, field) => value.data = Some(Data::Audio(bytes(field)?)),
            (8, field) => {
                let b = bytes(field)?;
                match &mut value.data {
                    Some(Data::Tensor(tensor)) => tensor.merge(b)?,
                    _ => value.data = Some(Data::Tensor(Box::new(TensorProto::decode(b)?))),
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tfevents::proto::{self, PluginData, summary};
    use proptest::prelude::*;

    #[test]
    fn varints_follow_the_protobuf_rules() {
        let check = |bytes: &[u8], expect: Result<u64, Malformed>| {
            assert_eq!(varint(&mut &bytes[..]), expect, "{bytes:x?}");
        };
        check(&[0x00], Ok(0));
        check(&[0x96, 0x01], Ok(150));
        check(
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            Ok(u64::MAX),
        );
        check(
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            Err(Malformed),
        );
        check(&[0x80], Err(Malformed));
        check(&[], Err(Malformed));
    }

    #[test]
    fn groups_are_skipped_and_stray_ends_refused() {
        let mut values: Vec<ValueRef<'_>> = Vec::new();
        // Field 7 as a group holding a varint, then step 3.
        let group = [0x3b, 0x08, 0x01, 0x3c, 0x10, 0x03];
        assert_eq!(
            parse_event(&group, &mut values).map(|h| h.step),
            Ok(Step(3))
        );
        assert_eq!(parse_event(&[0x3c], &mut values), Err(Malformed));
        assert_eq!(parse_event(&[0x3b, 0x44], &mut values), Err(Malformed));
    }

    /// An event as both decoders see it: step, wall time bits, and each summary value
    /// re-encoded (bytes compare NaNs too).
    type Seen = Result<(i64, u64, Vec<Vec<u8>>), ()>;

    fn by_prost(data: &[u8]) -> Seen {
        let event = proto::Event::decode(data).map_err(|_| ())?;
        let values = match event.what {
            Some(proto::event::What::Summary(s)) => s.value,
            _ => Vec::new(),
        };
        let values = values.iter().map(Message::encode_to_vec).collect();
        Ok((event.step, event.wall_time.to_bits(), values))
    }

    fn by_walk(data: &[u8]) -> Seen {
        let mut values = Vec::new();
        let head = parse_event(data, &mut values).map_err(|_| ())?;
        let values = values
            .into_iter()
            .map(|v| {
                use summary::value::Value as V;
                summary::Value {
                    tag: String::from_utf8(v.tag.to_vec()).expect("checked by the sink"),
                    metadata: v.metadata,
                    value: v.data.map(|d| match d {
                        Data::Simple(x) => V::SimpleValue(x),
                        Data::OldHistogram(b) => V::ObsoleteOldStyleHistogram(b.to_vec()),
                        Data::Image(b) => V::Image(b.to_vec()),
                        Data::Histo(b) => V::Histo(b.to_vec()),
                        Data::Audio(b) => V::Audio(b.to_vec()),
                        Data::Tensor(t) => V::Tensor(t),
                    }),
                }
                .encode_to_vec()
            })
            .collect();
        Ok((head.step.0, head.wall_time.secs().to_bits(), values))
    }

    fn value_strategy() -> impl Strategy<Value = summary::Value> {
        use summary::value::Value as V;
        let data = prop_oneof![
            any::<f32>().prop_map(V::SimpleValue),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(V::Histo),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(V::Image),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(V::Audio),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(V::ObsoleteOldStyleHistogram),
            (
                0i32..25,
                prop::collection::vec(any::<f32>(), 0..3),
                prop::collection::vec(any::<u8>(), 0..9)
            )
                .prop_map(|(dtype, float_val, tensor_content)| V::Tensor(Box::new(
                    TensorProto {
                        dtype,
                        float_val,
                        tensor_content,
                        ..TensorProto::default()
                    }
                ))),
        ];
        (
            "[a-z/_]{0,12}",
            prop::option::of("(scalars|text|histograms|)"),
            prop::option::of(data),
        )
            .prop_map(|(tag, plugin, value)| summary::Value {
                tag,
                metadata: plugin.map(|plugin_name| SummaryMetadata {
                    plugin_data: Some(PluginData { plugin_name }),
                }),
                value,
            })
    }

    fn event_strategy() -> impl Strategy<Value = Vec<u8>> {
        let what = prop_oneof![
            Just(None),
            "[a-z.:0-9]{0,16}".prop_map(|v| Some(proto::event::What::FileVersion(v))),
            prop::collection::vec(value_strategy(), 0..4)
                .prop_map(|value| Some(proto::event::What::Summary(proto::Summary { value }))),
        ];
        (any::<f64>(), any::<i64>(), what).prop_map(|(wall_time, step, what)| {
            proto::Event {
                wall_time,
                step,
                what,
            }
            .encode_to_vec()
        })
    }

    /// Encodes fields given as (number, wire type, payload): the payload is the varint's
    /// value, the fixed bytes or the delimited bytes; a group is empty.
    fn encode_fields(fields: &[(u32, u8, Vec<u8>)]) -> Vec<u8> {
        fn varint(mut n: u64, out: &mut Vec<u8>) {
            while n >= 0x80 {
                out.push((n as u8) | 0x80);
                n >>= 7;
            }
            out.push(n as u8);
        }
        let mut out = Vec::new();
        for (number, wire_type, payload) in fields {
            varint(u64::from(number << 3 | u32::from(*wire_type)), &mut out);
            match wire_type {
                0 => varint(
                    payload.iter().fold(0, |n, &b| n << 8 | u64::from(b)),
                    &mut out,
                ),
                1 => out.extend(payload.iter().chain(&[0; 8]).take(8)),
                2 => {
                    varint(payload.len() as u64, &mut out);
                    out.extend(payload);
                }
                3 => varint(u64::from(number << 3 | 4), &mut out),
                5 => out.extend(payload.iter().chain(&[0; 4]).take(4)),
                _ => {}
            }
        }
        out
    }

    type FieldStrategy = BoxedStrategy<(u32, u8, Vec<u8>)>;

    /// Field `number` with wire type `wire_type` and a payload from `payload`.
    fn field(number: u32, wire_type: u8, payload: BoxedStrategy<Vec<u8>>) -> FieldStrategy {
        payload.prop_map(move |p| (number, wire_type, p)).boxed()
    }

    fn bytes_up_to(n: usize) -> BoxedStrategy<Vec<u8>> {
        prop::collection::vec(any::<u8>(), 0..n).boxed()
    }

    /// A message of mostly well-typed `declared` fields, with now and then a field of
    /// any number and wire type (which may be well-formed or not).
    fn message(declared: Vec<FieldStrategy>) -> BoxedStrategy<Vec<u8>> {
        let noise = (1u32..=12, 0u8..=5, bytes_up_to(6)).boxed();
        let field = prop_oneof![8 => prop::strategy::Union::new(declared), 1 => noise];
        prop::collection::vec(field, 0..5)
            .prop_map(|fields| encode_fields(&fields))
            .boxed()
    }

    /// Event-shaped bytes, nearly well-formed, with the odd wrongly typed field.
    fn random_event() -> BoxedStrategy<Vec<u8>> {
        let text = "[a-z/]{0,6}".prop_map(String::into_bytes).boxed();
        let tensor = (
            0i32..25,
            prop::collection::vec(any::<f32>(), 0..3),
            bytes_up_to(9),
        )
            .prop_map(|(dtype, float_val, tensor_content)| {
                TensorProto {
                    dtype,
                    float_val,
                    tensor_content,
                    ..TensorProto::default()
                }
                .encode_to_vec()
            })
            .boxed();
        let metadata = "(scalars|text|)"
            .prop_map(|plugin_name| {
                SummaryMetadata {
                    plugin_data: Some(PluginData { plugin_name }),
                }
                .encode_to_vec()
            })
            .boxed();
        let value = message(vec![
            field(1, 2, text.clone()),
            field(2, 5, bytes_up_to(4)),
            field(3, 2, bytes_up_to(4)),
            field(4, 2, bytes_up_to(4)),
            field(5, 2, bytes_up_to(4)),
            field(6, 2, bytes_up_to(4)),
            field(8, 2, tensor),
            field(9, 2, metadata),
        ]);
        let summary = message(vec![field(1, 2, value)]);
        message(vec![
            field(1, 1, bytes_up_to(8)),
            field(2, 0, bytes_up_to(9)),
            field(3, 2, text),
            field(5, 2, summary),
        ])
    }

    #[test]
    fn a_replaced_tag_that_is_not_utf8_makes_the_record_malformed() {
        // Event.summary { value { tag: b"\x80", tag: "" } }: the last tag is valid,
        // the first is not, and prost refuses the record.
        let event = [42, 7, 10, 5, 10, 1, 128, 10, 0];
        assert_eq!(by_prost(&event), Err(()));
        assert_eq!(by_walk(&event), Err(()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parse_event_matches_prost_on_random_fields(event in random_event()) {
            prop_assert_eq!(by_walk(&event), by_prost(&event));
        }

        #[test]
        fn parse_event_matches_prost_on_events(event in event_strategy()) {
            prop_assert_eq!(by_walk(&event), by_prost(&event));
        }

        /// Two events back to back are one event to protobuf: fields merge, the last
        /// scalar wins, summaries add up, a file version replaces a summary.
        #[test]
        fn parse_event_matches_prost_on_merged_events(a in event_strategy(), b in event_strategy()) {
            let both = [a, b].concat();
            prop_assert_eq!(by_walk(&both), by_prost(&both));
        }

        #[test]
        fn parse_event_matches_prost_on_damaged_events(
            event in event_strategy(),
            at in any::<usize>(),
            byte in any::<u8>(),
            cut in any::<usize>(),
        ) {
            let mut damaged = event;
            if !damaged.is_empty() {
                let at = at % damaged.len();
                damaged[at] = byte;
                damaged.truncate(cut % (damaged.len() + 1));
            }
            prop_assert_eq!(by_walk(&damaged), by_prost(&damaged));
        }

        #[test]
        fn parse_event_matches_prost_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(by_walk(&bytes), by_prost(&bytes));
        }
    }
}
