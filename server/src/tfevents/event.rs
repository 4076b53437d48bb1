//! From decoded summary values to scalar points and named non-scalar kinds.
//!
//! Scalars come in two shapes:
//! - `simple_value`, as TensorFlow 1, PyTorch's `SummaryWriter` and tensorboardX
//!   write them;
//! - a single-element tensor owned by the `scalars` plugin, as TensorFlow 2 writes
//!   them: any float, integer or boolean type, with the value in its typed list or
//!   in `tensor_content` (little-endian).
//!
//! TensorFlow 2 writes a tag's plugin only with its first value in a file, so the
//! reader remembers the plugin of each tag (see `TagTable`); a tensor whose tag has
//! no known plugin is taken as a scalar when it holds exactly one number.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::proto::{DataType, TensorProto};

/// The kind of a summary value that is not a scalar: Runboard counts and lists
/// these but does not store their contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SummaryKind {
    /// `histo`, or a tensor of the `histograms` plugin.
    Histogram,
    /// `image`, or a tensor of the `images` plugin.
    Image,
    /// `audio`, or a tensor of the `audio` plugin.
    Audio,
    /// A tensor of the `text` plugin.
    Text,
    /// Any other tensor: another plugin's (`hparams`, `pr_curves`, ...) or none.
    Tensor,
}

impl SummaryKind {
    /// A lowercase name: `histogram`, `image`, `audio`, `text`, `tensor`.
    pub fn as_str(self) -> &'static str {
        match self {
            SummaryKind::Histogram => "histogram",
            SummaryKind::Image => "image",
            SummaryKind::Audio => "audio",
            SummaryKind::Text => "text",
            SummaryKind::Tensor => "tensor",
        }
    }

    /// The kind of a tensor owned by `plugin` (`""` when unknown).
    pub fn of_plugin(plugin: &str) -> Self {
        match plugin {
            "histograms" => SummaryKind::Histogram,
            "images" => SummaryKind::Image,
            "audio" => SummaryKind::Audio,
            "text" => SummaryKind::Text,
            _ => SummaryKind::Tensor,
        }
    }
}

impl std::fmt::Display for SummaryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a reader knows of each tag of its file: its name, shared by all its points,
/// and the plugin that owns it, as first declared (TensorBoard's rule: the first
/// metadata of a tag wins).
///
/// Tags are looked up by their raw bytes, once per value, so a tag's UTF-8 is checked
/// only the first time it is seen.
#[derive(Debug, Clone, Default)]
pub(crate) struct TagTable {
    index: HashMap<Box<[u8]>, usize, BuildHasherDefault<TagHasher>>,
    tags: Vec<TagInfo>,
}

/// One tag of a [`TagTable`].
#[derive(Debug, Clone)]
pub(crate) struct TagInfo {
    /// The tag.
    pub(crate) name: Arc<str>,
    /// The plugin that owns the tag; `""` until one is declared.
    pub(crate) plugin: String,
    /// Where the tag's series is in the batch being filled: the batch's number (see
    /// `EventFileReader`) and the series' index in it.
    pub(crate) series: Option<(u64, usize)>,
}

impl TagTable {
    /// The tag whose UTF-8 is `raw`; `None` if `raw` is not UTF-8.
    pub(crate) fn get(&mut self, raw: &[u8]) -> Option<&mut TagInfo> {
        let i = match self.index.get(raw) {
            Some(&i) => i,
            None => {
                let name = std::str::from_utf8(raw).ok()?;
                self.tags.push(TagInfo {
                    name: name.into(),
                    plugin: String::new(),
                    series: None,
                });
                self.index.insert(raw.into(), self.tags.len() - 1);
                self.tags.len() - 1
            }
        };
        Some(&mut self.tags[i])
    }
}

impl TagInfo {
    /// Records `plugin` as the tag's owner unless it already has one.
    pub(crate) fn declare(&mut self, plugin: &str) {
        if self.plugin.is_empty() {
            plugin.clone_into(&mut self.plugin);
        }
    }
}

/// The multiply-and-rotate hash of rustc's `FxHasher`, a word at a time. A tag is
/// looked up once per value, and SipHash, the standard library's default, costs
/// several times as much on strings this short. Its weakness to chosen collisions
/// does not matter here: the tags come from the job's own files.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TagHasher(u64);

impl TagHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for TagHasher {
    fn write(&mut self, bytes: &[u8]) {
        let (words, rest) = bytes.as_chunks::<8>();
        for word in words {
            self.add(u64::from_le_bytes(*word));
        }
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The value of a tensor that holds exactly one number, as an `f64`; `None` for an
/// empty or larger tensor, a string, or a type that is not a number.
///
/// Integers beyond 2⁵³ lose precision, as they would in any chart.
pub fn tensor_scalar(tensor: &TensorProto) -> Option<f64> {
    if let Some(shape) = &tensor.tensor_shape
        && (shape.unknown_rank || shape.dim.iter().any(|d| d.size != 1))
    {
        return None;
    }
    let content = tensor.tensor_content.as_slice();
    let from_content = !content.is_empty();
    // A typed list shorter than the shape repeats its last element, so for a
    // one-element tensor the value is the list's first.
    let value = match tensor.dtype() {
        DataType::DtFloat if from_content => f64::from(f32::from_le_bytes(exactly(content)?)),
        DataType::DtFloat => f64::from(*tensor.float_val.first()?),
        DataType::DtDouble if from_content => f64::from_le_bytes(exactly(content)?),
        DataType::DtDouble => *tensor.double_val.first()?,
        DataType::DtHalf if from_content => f16_to_f64(u16::from_le_bytes(exactly(content)?)),
        DataType::DtHalf => f16_to_f64(*tensor.half_val.first()? as u16),
        DataType::DtBfloat16 if from_content => bf16_to_f64(u16::from_le_bytes(exactly(content)?)),
        DataType::DtBfloat16 => bf16_to_f64(*tensor.half_val.first()? as u16),
        DataType::DtInt32 if from_content => f64::from(i32::from_le_bytes(exactly(content)?)),
        DataType::DtInt16 if from_content => f64::from(i16::from_le_bytes(exactly(content)?)),
        DataType::DtUint16 if from_content => f64::from(u16::from_le_bytes(exactly(content)?)),
        DataType::DtInt8 if from_content => f64::from(i8::from_le_bytes(exactly(content)?)),
        DataType::DtUint8 if from_content => f64::from(u8::from_le_bytes(exactly(content)?)),
        DataType::DtInt32
        | DataType::DtInt16
        | DataType::DtUint16
        | DataType::DtInt8
        | DataType::DtUint8 => f64::from(*tensor.int_val.first()?),
        DataType::DtInt64 if from_content => i64::from_le_bytes(exactly(content)?) as f64,
        DataType::DtInt64 => *tensor.int64_val.first()? as f64,
        DataType::DtUint32 if from_content => f64::from(u32::from_le_bytes(exactly(content)?)),
        DataType::DtUint32 => f64::from(*tensor.uint32_val.first()?),
        DataType::DtUint64 if from_content => u64::from_le_bytes(exactly(content)?) as f64,
        DataType::DtUint64 => *tensor.uint64_val.first()? as f64,
        DataType::DtBool if from_content => f64::from(u8::from(exactly::<1>(content)?[0] != 0)),
        DataType::DtBool => f64::from(u8::from(*tensor.bool_val.first()?)),
        DataType::DtInvalid | DataType::DtString => return None,
    };
    Some(value)
}

/// `bytes` as an array, if it has exactly `N` of them: the content of a one-element
/// tensor is exactly one element.
fn exactly<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

/// An IEEE 754 half-precision number.
pub fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    let magnitude = match exponent {
        0 => fraction * 2f64.powi(-24),
        0x1f if fraction == 0.0 => f64::INFINITY,
        0x1f => f64::NAN,
        _ => (1.0 + fraction / 1024.0) * 2f64.powi(exponent - 15),
    };
    sign * magnitude
}

/// A bfloat16: the upper half of an `f32`.
pub fn bf16_to_f64(bits: u16) -> f64 {
    f64::from(f32::from_bits(u32::from(bits) << 16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tfevents::proto::{TensorShapeProto, tensor_shape_proto::Dim};

    fn tensor(dtype: DataType) -> TensorProto {
        TensorProto {
            dtype: dtype as i32,
            tensor_shape: Some(TensorShapeProto::default()),
            ..TensorProto::default()
        }
    }

    fn check(t: TensorProto, expect: Option<f64>) {
        assert_eq!(tensor_scalar(&t), expect, "{t:?}");
    }

    #[test]
    fn one_element_tensors_of_every_number_type_are_scalars() {
        use DataType::*;
        check(
            TensorProto {
                float_val: vec![0.5],
                ..tensor(DtFloat)
            },
            Some(0.5),
        );
        check(
            TensorProto {
                tensor_content: 0.5f32.to_le_bytes().to_vec(),
                ..tensor(DtFloat)
            },
            Some(0.5),
        );
        check(
            TensorProto {
                double_val: vec![0.1],
                ..tensor(DtDouble)
            },
            Some(0.1),
        );
        check(
            TensorProto {
                tensor_content: 0.1f64.to_le_bytes().to_vec(),
                ..tensor(DtDouble)
            },
            Some(0.1),
        );
        // 0x3c00 is 1.0 in half precision, 0x3f80 is 1.0 in bfloat16.
        check(
            TensorProto {
                half_val: vec![0x3c00],
                ..tensor(DtHalf)
            },
            Some(1.0),
        );
        check(
            TensorProto {
                tensor_content: vec![0x00, 0xc0],
                ..tensor(DtHalf)
            },
            Some(-2.0),
        );
        check(
            TensorProto {
                half_val: vec![0x3f80],
                ..tensor(DtBfloat16)
            },
            Some(1.0),
        );
        check(
            TensorProto {
                tensor_content: vec![0x40, 0x40],
                ..tensor(DtBfloat16)
            },
            Some(3.0),
        );
        check(
            TensorProto {
                int_val: vec![-7],
                ..tensor(DtInt32)
            },
            Some(-7.0),
        );
        check(
            TensorProto {
                tensor_content: (-7i32).to_le_bytes().to_vec(),
                ..tensor(DtInt32)
            },
            Some(-7.0),
        );
        check(
            TensorProto {
                int_val: vec![200],
                ..tensor(DtUint8)
            },
            Some(200.0),
        );
        check(
            TensorProto {
                tensor_content: vec![0xff],
                ..tensor(DtInt8)
            },
            Some(-1.0),
        );
        check(
            TensorProto {
                tensor_content: vec![0xff, 0xff],
                ..tensor(DtUint16)
            },
            Some(65535.0),
        );
        check(
            TensorProto {
                int64_val: vec![1 << 40],
                ..tensor(DtInt64)
            },
            Some((1u64 << 40) as f64),
        );
        check(
            TensorProto {
                tensor_content: 9i64.to_le_bytes().to_vec(),
                ..tensor(DtInt64)
            },
            Some(9.0),
        );
        check(
            TensorProto {
                uint32_val: vec![4_000_000_000],
                ..tensor(DtUint32)
            },
            Some(4e9),
        );
        check(
            TensorProto {
                uint64_val: vec![5],
                ..tensor(DtUint64)
            },
            Some(5.0),
        );
        check(
            TensorProto {
                bool_val: vec![true],
                ..tensor(DtBool)
            },
            Some(1.0),
        );
        check(
            TensorProto {
                tensor_content: vec![0],
                ..tensor(DtBool)
            },
            Some(0.0),
        );
        // A shape of ones is one element too; an absent shape is rank 0.
        let shape = TensorShapeProto {
            dim: vec![Dim { size: 1 }, Dim { size: 1 }],
            unknown_rank: false,
        };
        check(
            TensorProto {
                float_val: vec![2.0],
                tensor_shape: Some(shape),
                ..tensor(DtFloat)
            },
            Some(2.0),
        );
        check(
            TensorProto {
                float_val: vec![2.0],
                tensor_shape: None,
                ..tensor(DtFloat)
            },
            Some(2.0),
        );
    }

    #[test]
    fn other_tensors_are_not_scalars() {
        use DataType::*;
        // No value at all, or content of the wrong size.
        check(tensor(DtFloat), None);
        check(
            TensorProto {
                tensor_content: vec![0; 8],
                ..tensor(DtFloat)
            },
            None,
        );
        // More than one element.
        let shape = TensorShapeProto {
            dim: vec![Dim { size: 3 }],
            unknown_rank: false,
        };
        check(
            TensorProto {
                float_val: vec![1.0, 2.0, 3.0],
                tensor_shape: Some(shape),
                ..tensor(DtFloat)
            },
            None,
        );
        let unknown = TensorShapeProto {
            dim: vec![],
            unknown_rank: true,
        };
        check(
            TensorProto {
                float_val: vec![1.0],
                tensor_shape: Some(unknown),
                ..tensor(DtFloat)
            },
            None,
        );
        // Not a number.
        check(
            TensorProto {
                tensor_content: b"hello".to_vec(),
                ..tensor(DtString)
            },
            None,
        );
        check(
            TensorProto {
                dtype: 8,
                float_val: vec![1.0],
                ..TensorProto::default()
            },
            None,
        ); // complex64
    }

    #[test]
    fn half_precision_edge_cases() {
        assert_eq!(f16_to_f64(0x0000), 0.0);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24)); // smallest subnormal
        assert_eq!(f16_to_f64(0x7bff), 65504.0); // largest finite
        assert_eq!(f16_to_f64(0xfc00), f64::NEG_INFINITY);
        assert!(f16_to_f64(0x7e00).is_nan());
        assert_eq!(bf16_to_f64(0xbf80), -1.0);
    }

    #[test]
    fn the_first_plugin_of_a_tag_wins() {
        let mut tags = TagTable::default();
        assert_eq!(tags.get(b"loss").map(|t| t.plugin.as_str()), Some(""));
        tags.get(b"loss").expect("utf-8").declare("scalars");
        tags.get(b"loss").expect("utf-8").declare("text");
        let loss = tags.get(b"loss").expect("utf-8");
        assert_eq!((&*loss.name, loss.plugin.as_str()), ("loss", "scalars"));
        assert!(tags.get(b"\xff").is_none());
        assert_eq!(SummaryKind::of_plugin("histograms"), SummaryKind::Histogram);
        assert_eq!(SummaryKind::of_plugin("hparams").as_str(), "tensor");
    }
}
