//! TFRecord framing, sans-IO: bytes in, records out.
//!
//! A TFRecord stream is a sequence of
//!
//! ```text
//! u64 length (little-endian) | u32 masked CRC-32C of the 8 length bytes
//! data[length]               | u32 masked CRC-32C of the data
//! ```
//!
//! [`RecordReader::step`] looks at the bytes that start at the reader's position and
//! says what they hold: a whole record, a record to skip, garbage to skip, or not
//! enough bytes yet. It never consumes part of a record, so a writer that is halfway
//! through a record is simply waited for: hand the same bytes again, with whatever
//! has been appended since, and reading resumes exactly there.
//!
//! Damage is never fatal:
//! - a record whose *data* checksum fails has a trustworthy length (its length
//!   checksum held), so it alone is skipped;
//! - a *length* checksum that fails means the position is no longer trustworthy, so
//!   the reader resynchronises: it scans forward one byte at a time for the next
//!   offset where a length, its checksum and the data checksum all verify, and
//!   reports the bytes before it as garbage.

/// Bytes before a record's data: the length and its checksum.
pub const HEADER_LEN: usize = 12;
/// Bytes after a record's data: its checksum.
pub const FOOTER_LEN: usize = 4;
/// The largest record accepted. Event protos cannot exceed protobuf's 2 GiB limit;
/// a larger length whose checksum happens to hold is treated as a bad header, so a
/// chance match in garbage cannot make the reader wait for gigabytes that will
/// never come.
pub const MAX_DATA_LEN: u64 = 1 << 31;

const MASK_DELTA: u32 = 0xa282_ead8;

/// TensorFlow's masked CRC-32C: the checksum rotated right by 15 bits plus a
/// constant, so that a checksum of data that itself holds checksums stays unlikely
/// to collide.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// [`masked_crc32c`] of a record's 8 length bytes, by table. Checked once per record
/// (and at every byte while resynchronising), it is worth its own routine: for 8
/// bytes a table is several times quicker than setting up the accelerated one.
fn masked_crc32c_of_length(bytes: &[u8; 8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc = CRC32C_TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    (!crc).rotate_right(15).wrapping_add(MASK_DELTA)
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), one byte at a time.
const CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Appends `data` to `out` as one framed record, as TensorFlow's writer does.
pub fn write_record(data: &[u8], out: &mut Vec<u8>) {
    let len = (data.len() as u64).to_le_bytes();
    out.reserve(HEADER_LEN + data.len() + FOOTER_LEN);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
}

/// What the bytes at a reader's position hold. Every variant but `NeedMore`
/// consumes [`Step::consumed`] bytes: the caller drops them and calls again with the
/// bytes that follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// A record whose two checksums hold: its data.
    Record(&'a [u8]),
    /// A record whose length checksum held but whose data checksum did not: the
    /// record is skipped whole. `len` counts its header and footer too.
    BadData {
        /// Bytes skipped.
        len: usize,
    },
    /// Bytes at which no record starts, skipped while resynchronising after a bad
    /// length checksum.
    Garbage {
        /// Bytes skipped.
        len: usize,
    },
    /// The bytes end inside a record (or there are none): nothing is consumed. Call
    /// again with the same bytes and more appended.
    NeedMore,
}

impl Step<'_> {
    /// How many bytes this step consumes.
    pub fn consumed(&self) -> usize {
        match *self {
            Step::Record(data) => HEADER_LEN + data.len() + FOOTER_LEN,
            Step::BadData { len } | Step::Garbage { len } => len,
            Step::NeedMore => 0,
        }
    }
}

/// A resumable TFRecord reader that holds no bytes: the caller keeps them (a read
/// buffer, an `mmap`, a slice of a file) and hands over the unconsumed part each time.
///
/// Its only state is whether it is resynchronising, so it is cheap to clone; a
/// reader that is recreated at a stored offset (after a restart) starts out trusting
/// that offset, which is what an offset it reported always deserves except in the
/// rare case of one reported mid-resynchronisation (see [`RecordReader::step`]).
#[derive(Debug, Clone, Default)]
pub struct RecordReader {
    /// True after a bad length checksum, until a record verifies again: while it is
    /// set, a position is only trusted if both of its checksums hold.
    resyncing: bool,
}

/// The parse of the bytes at one position.
enum Frame<'a> {
    /// Not enough bytes to know.
    Short,
    /// The length checksum fails, or the length is impossibly large.
    BadHeader,
    /// A whole record.
    Whole { data: &'a [u8], data_ok: bool },
}

fn frame(bytes: &[u8]) -> Frame<'_> {
    let Some((len_bytes, rest)) = bytes.split_first_chunk::<8>() else {
        return Frame::Short;
    };
    let Some((len_crc, rest)) = rest.split_first_chunk::<4>() else {
        return Frame::Short;
    };
    if masked_crc32c_of_length(len_bytes) != u32::from_le_bytes(*len_crc) {
        return Frame::BadHeader;
    }
    let len = u64::from_le_bytes(*len_bytes);
    if len > MAX_DATA_LEN {
        return Frame::BadHeader;
    }
    // Fits: MAX_DATA_LEN is below usize::MAX on every 64-bit and 32-bit target.
    let len = len as usize;
    let Some((data, rest)) = rest.split_at_checked(len) else {
        return Frame::Short;
    };
    let Some((data_crc, _)) = rest.split_first_chunk::<4>() else {
        return Frame::Short;
    };
    let data_ok = masked_crc32c(data) == u32::from_le_bytes(*data_crc);
    Frame::Whole { data, data_ok }
}

impl RecordReader {
    /// A reader at the start of a stream, or at an offset known to start a record.
    pub fn new() -> Self {
        Self::default()
    }

    /// True while the reader is looking for the next trustworthy record after a
    /// bad length checksum.
    pub fn is_resyncing(&self) -> bool {
        self.resyncing
    }

    /// Says what `bytes`, which start at this reader's position, begin with.
    ///
    /// While resynchronising, garbage is reported only up to the first offset that
    /// might still start a record: one with fewer than 12 bytes after it, or whose
    /// length checksum holds but whose data has not all arrived. A chance match of a
    /// length and its checksum inside garbage (odds of 1 in 2³² per byte) therefore
    /// makes the reader wait for that record's length in bytes, or for at most
    /// [`MAX_DATA_LEN`].
    pub fn step<'a>(&mut self, bytes: &'a [u8]) -> Step<'a> {
        if !self.resyncing {
            match frame(bytes) {
                Frame::Short => return Step::NeedMore,
                Frame::Whole {
                    data,
                    data_ok: true,
                } => return Step::Record(data),
                Frame::Whole {
                    data,
                    data_ok: false,
                } => {
                    return Step::BadData {
                        len: HEADER_LEN + data.len() + FOOTER_LEN,
                    };
                }
                Frame::BadHeader => self.resyncing = true,
            }
        }
        let mut at = 0;
        loop {
            match frame(&bytes[at..]) {
                Frame::Short if at == 0 => return Step::NeedMore,
                Frame::Short => return Step::Garbage { len: at },
                Frame::Whole {
                    data,
                    data_ok: true,
                } if at == 0 => {
                    self.resyncing = false;
                    return Step::Record(data);
                }
                Frame::Whole { data_ok: true, .. } => return Step::Garbage { len: at },
                Frame::BadHeader | Frame::Whole { data_ok: false, .. } => at += 1,
            }
        }
    }

    /// Every step `bytes` holds, up to the first `NeedMore`; afterwards
    /// [`Records::consumed`] tells how many bytes were used.
    pub fn records<'r, 'a>(&'r mut self, bytes: &'a [u8]) -> Records<'r, 'a> {
        Records {
            reader: self,
            bytes,
            consumed: 0,
        }
    }
}

/// The iterator of [`RecordReader::records`]: it yields every step except
/// `NeedMore`, at which it stops.
#[derive(Debug)]
pub struct Records<'r, 'a> {
    reader: &'r mut RecordReader,
    bytes: &'a [u8],
    /// Bytes consumed by the steps yielded so far.
    consumed: usize,
}

impl Records<'_, '_> {
    /// Bytes consumed by the steps yielded so far.
    pub fn consumed(&self) -> usize {
        self.consumed
    }
}

impl<'a> Iterator for Records<'_, 'a> {
    type Item = Step<'a>;

    fn next(&mut self) -> Option<Step<'a>> {
        let rest = self.bytes.get(self.consumed..)?;
        match self.reader.step(rest) {
            Step::NeedMore => None,
            step => {
                self.consumed += step.consumed();
                Some(step)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(records: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            write_record(r, &mut out);
        }
        out
    }

    /// Reads `bytes` to the first `NeedMore` and describes each step.
    fn steps(bytes: &[u8]) -> (Vec<String>, usize) {
        let mut reader = RecordReader::new();
        let mut records = reader.records(bytes);
        let got = records
            .by_ref()
            .map(|step| match step {
                Step::Record(data) => format!("record {}", String::from_utf8_lossy(data)),
                Step::BadData { len } => format!("bad data {len}"),
                Step::Garbage { len } => format!("garbage {len}"),
                Step::NeedMore => "need more".to_owned(),
            })
            .collect();
        (got, records.consumed())
    }

    fn check(bytes: &[u8], expect: &[&str], consumed: usize) {
        assert_eq!(
            steps(bytes),
            (expect.iter().map(|s| s.to_string()).collect(), consumed)
        );
    }

    #[test]
    fn masked_crc_matches_tensorflow() {
        // From TensorFlow's own event files: the length 24 and the data checksum of
        // an `Event { wall_time, file_version: "brain.Event:2" }`.
        assert_eq!(masked_crc32c(&24u64.to_le_bytes()), 0x224b_7fa3);
        assert_eq!(
            masked_crc32c(b"\x09\x00\x00\x80\x38\x99\xd6\xd7\x41\x1a\x0dbrain.Event:2"),
            0xab36_4b12
        );
        // The checksum of nothing is the mask's constant rotated in.
        assert_eq!(masked_crc32c(b""), MASK_DELTA);
    }

    #[test]
    fn the_length_checksum_table_agrees_with_the_accelerated_routine() {
        for n in [0u64, 1, 24, 255, 256, 65_537, 1 << 40, u64::MAX] {
            let bytes = n.to_le_bytes();
            assert_eq!(
                masked_crc32c_of_length(&bytes),
                masked_crc32c(&bytes),
                "{n}"
            );
        }
    }

    #[test]
    fn whole_records_are_read_and_a_cut_one_waits() {
        let file = framed(&[b"one", b"two"]);
        check(&file, &["record one", "record two"], file.len());
        check(&file[..file.len() - 1], &["record one"], 19);
        check(&file[..5], &[], 0);
        check(b"", &[], 0);
        check(&framed(&[b""]), &["record "], 16);
    }

    #[test]
    fn a_bad_data_checksum_skips_that_record_only() {
        let mut file = framed(&[b"one", b"two", b"three"]);
        file[19 + HEADER_LEN] ^= 0x01; // "two" becomes "uwo"
        check(
            &file,
            &["record one", "bad data 19", "record three"],
            file.len(),
        );
    }

    #[test]
    fn a_bad_length_checksum_resynchronises_on_the_next_record() {
        let mut file = framed(&[b"one", b"two", b"three"]);
        file[19] ^= 0x01; // the length of "two"
        check(
            &file,
            &["record one", "garbage 19", "record three"],
            file.len(),
        );

        // Garbage between records, and a reader that stays in step afterwards.
        let mut file = framed(&[b"one"]);
        file.extend_from_slice(b"\x00\xffnot a record at all");
        file.extend(framed(&[b"two", b"three"]));
        check(
            &file,
            &["record one", "garbage 21", "record two", "record three"],
            file.len(),
        );
    }

    #[test]
    fn resynchronising_waits_at_a_record_that_is_still_arriving() {
        let mut file = b"garbage!".to_vec();
        let start = file.len();
        file.extend(framed(&[b"one"]));
        // The record is cut: the garbage before it goes, the record waits.
        check(&file[..file.len() - 1], &["garbage 8"], start);
        // Fewer than 12 bytes left: they might start a record, so they wait too.
        check(&file[..start + 11], &["garbage 8"], start);
        check(&file, &["garbage 8", "record one"], file.len());
    }

    #[test]
    fn while_resynchronising_a_header_whose_data_fails_is_garbage() {
        let mut file = b"xx".to_vec();
        let mut fake = framed(&[b"fake"]);
        *fake.last_mut().expect("footer") ^= 0xff;
        file.extend(&fake);
        file.extend(framed(&[b"real"]));
        check(&file, &["garbage 22", "record real"], file.len());
    }

    #[test]
    fn an_impossible_length_is_a_bad_header() {
        let len = (MAX_DATA_LEN + 1).to_le_bytes();
        let mut file = len.to_vec();
        file.extend(masked_crc32c(&len).to_le_bytes());
        file.extend(framed(&[b"one"]));
        check(&file, &["garbage 12", "record one"], file.len());
    }
}
