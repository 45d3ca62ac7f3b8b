//! Byte-level reading and writing shared by the binary formats. Every read is bounds-checked and
//! names the field it was reading, so a decoder never panics and its errors say where it stopped.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::DecodeError;

/// A cursor over an input that only moves forward.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated { field });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, field)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// Unsigned LEB128, at most 10 bytes, minimal encoding only.
    pub(crate) fn varint(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let byte = self.u8(field)?;
            let low = u64::from(byte & 0x7f);
            if i == 9 && low > 1 {
                return Err(DecodeError::VarintOverflow { field });
            }
            value |= low << (7 * i);
            if byte & 0x80 == 0 {
                if i > 0 && byte == 0 {
                    return Err(DecodeError::NonCanonicalVarint { field });
                }
                return Ok(value);
            }
        }
        Err(DecodeError::VarintOverflow { field })
    }

    /// A string with a one-byte length prefix; `max` bytes at most, valid UTF-8, no control
    /// characters, not empty.
    pub(crate) fn text(&mut self, field: &'static str, max: usize) -> Result<String, DecodeError> {
        let len = usize::from(self.u8(field)?);
        if len > max {
            return Err(DecodeError::LengthTooLarge { field, len, max });
        }
        let raw = self.bytes(len, field)?;
        let s = core::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8 { field })?;
        check_text(field, s, max)?;
        Ok(String::from(s))
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { count }),
        }
    }
}

/// The rules every signed text field obeys: 1..=max bytes, no control characters.
pub(crate) fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), DecodeError> {
    if s.is_empty() {
        return Err(DecodeError::EmptyText { field });
    }
    if s.len() > max {
        return Err(DecodeError::LengthTooLarge {
            field,
            len: s.len(),
            max,
        });
    }
    if s.chars().any(char::is_control) {
        return Err(DecodeError::ControlCharacter { field });
    }
    Ok(())
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends a one-byte-length-prefixed string; the caller has checked it with [`check_text`].
pub(crate) fn put_text(out: &mut Vec<u8>, s: &str) {
    out.push(s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

/// Lowercase hex, for digests in messages and JSON.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// Parses exactly `N` bytes of hex (either case); `None` otherwise.
pub fn from_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let nib = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nib(b[2 * i])? << 4) | nib(b[2 * i + 1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varint_round_trip(v in any::<u64>()) {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.varint("v").ok(), Some(v));
            prop_assert!(r.finish().is_ok());
        }
    }

    #[test]
    fn varint_rejects_padding_and_overflow() {
        assert_eq!(
            Reader::new(&[0x80, 0x00]).varint("v"),
            Err(DecodeError::NonCanonicalVarint { field: "v" })
        );
        assert_eq!(
            Reader::new(&[0xff; 11]).varint("v"),
            Err(DecodeError::VarintOverflow { field: "v" })
        );
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).varint("v"),
            Err(DecodeError::VarintOverflow { field: "v" })
        );
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(to_hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(from_hex::<3>("00ABff"), Some([0, 0xab, 0xff]));
        assert_eq!(from_hex::<3>("00abf"), None);
        assert_eq!(from_hex::<1>("zz"), None);
    }
}
