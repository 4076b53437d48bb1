//! The few TensorFlow protobuf messages an event file reader needs, written by hand
//! with `prost`'s derive so that no `protoc` and no build script are needed.
//!
//! Field numbers follow TensorFlow's `event.proto`, `summary.proto`, `tensor.proto`,
//! `tensor_shape.proto` and `types.proto`. Only the fields Runboard reads are declared:
//! protobuf skips every other field as unknown, which is also what keeps decoding
//! cheap (a graph definition or a `LogMessage` is stepped over, not parsed). Images,
//! audio clips and histograms are declared as opaque bytes for the same reason: only
//! their presence matters here.

/// One record of an event file (`tensorflow.Event`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch when the event was written.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step of the summary.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event holds; `None` for the kinds Runboard does not read (graphs,
    /// log messages, session logs, run metadata).
    #[prost(oneof = "event::What", tags = "3, 5")]
    pub what: Option<event::What>,
}

/// Nested types of [`Event`].
pub mod event {
    /// The `what` oneof of `tensorflow.Event`, limited to the members Runboard reads.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum What {
        /// The first event of a file: `"brain.Event:2"`.
        #[prost(string, tag = "3")]
        FileVersion(String),
        /// Summary values.
        #[prost(message, tag = "5")]
        Summary(super::Summary),
    }
}

/// A set of summary values written at one step (`tensorflow.Summary`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values, each with its tag.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<summary::Value>,
}

/// Nested types of [`Summary`].
pub mod summary {
    /// One tagged value (`tensorflow.Summary.Value`).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Value {
        /// The series this value belongs to, e.g. `train/loss`.
        #[prost(string, tag = "1")]
        pub tag: String,
        /// Which plugin owns the series. TensorFlow 2 writes it only with the first
        /// value of each tag in a file.
        #[prost(message, optional, tag = "9")]
        pub metadata: Option<super::SummaryMetadata>,
        /// The value itself.
        #[prost(oneof = "value::Value", tags = "2, 3, 4, 5, 6, 8")]
        pub value: Option<value::Value>,
    }

    /// Nested types of [`Value`].
    pub mod value {
        /// The `value` oneof of `tensorflow.Summary.Value`.
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            /// A scalar, as TensorFlow 1, PyTorch and tensorboardX write them.
            #[prost(float, tag = "2")]
            SimpleValue(f32),
            /// A serialized histogram from TensorFlow's first releases.
            #[prost(bytes = "vec", tag = "3")]
            ObsoleteOldStyleHistogram(Vec<u8>),
            /// A `Summary.Image` message, kept opaque.
            #[prost(bytes = "vec", tag = "4")]
            Image(Vec<u8>),
            /// A `HistogramProto` message, kept opaque.
            #[prost(bytes = "vec", tag = "5")]
            Histo(Vec<u8>),
            /// A `Summary.Audio` message, kept opaque.
            #[prost(bytes = "vec", tag = "6")]
            Audio(Vec<u8>),
            /// A tensor, as TensorFlow 2 writes every summary; boxed, as it is ten
            /// times the size of the other members.
            #[prost(message, boxed, tag = "8")]
            Tensor(Box<super::super::TensorProto>),
        }
    }
}

/// Which plugin a series belongs to (`tensorflow.SummaryMetadata`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    /// The owning plugin.
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
}

/// `tensorflow.SummaryMetadata.PluginData`; its `content` (field 2) is not read.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    /// `scalars`, `histograms`, `images`, `audio`, `text`, `hparams`, ...
    #[prost(string, tag = "1")]
    pub plugin_name: String,
}

/// A tensor (`tensorflow.TensorProto`).
///
/// A value lives either in `tensor_content` (the raw little-endian bytes of every
/// element, as TensorFlow 2 writes most tensors) or in the typed list that matches
/// `dtype`; a list shorter than the shape repeats its last element.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// Element type.
    #[prost(enumeration = "DataType", tag = "1")]
    pub dtype: i32,
    /// Shape; absent or without dimensions for a rank-0 tensor.
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// Every element, little-endian, packed.
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    /// `DT_FLOAT` values.
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    /// `DT_DOUBLE` values.
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
    /// `DT_INT32`, `DT_INT16`, `DT_INT8`, `DT_UINT8`, `DT_UINT16` values.
    #[prost(int32, repeated, tag = "7")]
    pub int_val: Vec<i32>,
    /// `DT_INT64` values.
    #[prost(int64, repeated, tag = "10")]
    pub int64_val: Vec<i64>,
    /// `DT_BOOL` values.
    #[prost(bool, repeated, tag = "11")]
    pub bool_val: Vec<bool>,
    /// `DT_HALF` and `DT_BFLOAT16` values: the 16 bits of each, in an `int32`.
    #[prost(int32, repeated, tag = "13")]
    pub half_val: Vec<i32>,
    /// `DT_UINT32` values.
    #[prost(uint32, repeated, tag = "16")]
    pub uint32_val: Vec<u32>,
    /// `DT_UINT64` values.
    #[prost(uint64, repeated, tag = "17")]
    pub uint64_val: Vec<u64>,
}

/// A tensor's shape (`tensorflow.TensorShapeProto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// Dimensions, outermost first; none for a scalar.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<tensor_shape_proto::Dim>,
    /// True when even the rank is unknown.
    #[prost(bool, tag = "3")]
    pub unknown_rank: bool,
}

/// Nested types of [`TensorShapeProto`].
pub mod tensor_shape_proto {
    /// One dimension; its `name` (field 2) is not read.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dim {
        /// Size of the dimension; -1 when unknown.
        #[prost(int64, tag = "1")]
        pub size: i64,
    }
}

/// Element types (`tensorflow.DataType`), the ones a scalar can have plus string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataType {
    /// Not set.
    DtInvalid = 0,
    /// 32-bit float.
    DtFloat = 1,
    /// 64-bit float.
    DtDouble = 2,
    /// 32-bit signed integer.
    DtInt32 = 3,
    /// 8-bit unsigned integer.
    DtUint8 = 4,
    /// 16-bit signed integer.
    DtInt16 = 5,
    /// 8-bit signed integer.
    DtInt8 = 6,
    /// Byte string (text, encoded images).
    DtString = 7,
    /// 64-bit signed integer.
    DtInt64 = 9,
    /// Boolean.
    DtBool = 10,
    /// bfloat16: the upper 16 bits of a 32-bit float.
    DtBfloat16 = 14,
    /// 16-bit unsigned integer.
    DtUint16 = 17,
    /// IEEE 754 half precision.
    DtHalf = 19,
    /// 32-bit unsigned integer.
    DtUint32 = 22,
    /// 64-bit unsigned integer.
    DtUint64 = 23,
}
