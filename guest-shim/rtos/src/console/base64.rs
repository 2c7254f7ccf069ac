//! Base64 (RFC 4648, standard alphabet, padded): how defmt's binary frames travel as text
//! through line-based consoles.
#![forbid(unsafe_code)]

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The encoded length of `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Encodes `input` into the start of `out`; returns the number of bytes written, or `None` if
/// `out` is shorter than [`encoded_len`].
pub fn encode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = encoded_len(input.len());
    let out = out.get_mut(..len)?;
    for (chunk, quad) in input.chunks(3).zip(out.chunks_mut(4)) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, slot) in quad.iter_mut().enumerate() {
            *slot = if i <= chunk.len() {
                ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]
            } else {
                b'='
            };
        }
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(input: &[u8]) -> String {
        let mut out = [0u8; 64];
        let n = encode(input, &mut out).unwrap();
        String::from_utf8(out[..n].to_vec()).unwrap()
    }

    #[test]
    fn rfc_4648_test_vectors() {
        // RFC 4648, section 10.
        assert_eq!(encoded(b""), "");
        assert_eq!(encoded(b"f"), "Zg==");
        assert_eq!(encoded(b"fo"), "Zm8=");
        assert_eq!(encoded(b"foo"), "Zm9v");
        assert_eq!(encoded(b"foob"), "Zm9vYg==");
        assert_eq!(encoded(b"fooba"), "Zm9vYmE=");
        assert_eq!(encoded(b"foobar"), "Zm9vYmFy");
        assert_eq!(encoded(&[0xff, 0x00, 0xfe]), "/wD+");
    }

    #[test]
    fn a_short_output_buffer_is_refused() {
        assert_eq!(encode(b"abcd", &mut [0u8; 7]), None);
    }
}
