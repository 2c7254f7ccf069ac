//! defmt frames as console lines: `DEFMT:` and the frame's bytes in base64, at most
//! [`CHUNK`] bytes per line so every line fits a line-based console (Bulkhead's console lines
//! hold 200 characters). A frame longer than one line continues on the next `DEFMT:` line;
//! the host joins the payloads into one stream (`cargo xtask defmt-decode`).
#![forbid(unsafe_code)]

use super::base64;

/// What starts every line that carries defmt bytes.
pub const PREFIX: &[u8] = b"DEFMT:";
/// Bytes of frame per line.
pub const CHUNK: usize = 96;
/// The longest encoded frame kept; longer ones are dropped whole.
pub const MAX_FRAME: usize = 256;
/// Room for the lines of the longest frame.
pub const MAX_LINES_LEN: usize =
    MAX_FRAME.div_ceil(CHUNK) * (PREFIX.len() + base64::encoded_len(CHUNK) + 1);

/// One frame being assembled from the encoder's output.
#[derive(Clone, Debug, Default)]
pub struct FrameBuffer {
    bytes: heapless::Vec<u8, MAX_FRAME>,
    overflow: bool,
}

impl FrameBuffer {
    /// An empty frame.
    pub const fn new() -> Self {
        FrameBuffer {
            bytes: heapless::Vec::new(),
            overflow: false,
        }
    }

    /// Appends encoded bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.bytes.extend_from_slice(bytes).is_err() {
            self.overflow = true;
        }
    }

    /// Writes the frame's lines into `out` and empties the frame; returns the length written,
    /// or `None` (frame dropped) if it was longer than [`MAX_FRAME`].
    pub fn take_lines(&mut self, out: &mut [u8; MAX_LINES_LEN]) -> Option<usize> {
        let overflow = core::mem::take(&mut self.overflow);
        let bytes = core::mem::take(&mut self.bytes);
        if overflow {
            return None;
        }
        let mut at = 0;
        for chunk in bytes.chunks(CHUNK) {
            out.get_mut(at..at + PREFIX.len())?.copy_from_slice(PREFIX);
            at += PREFIX.len();
            at += base64::encode(chunk, out.get_mut(at..)?)?;
            *out.get_mut(at)? = b'\n';
            at += 1;
        }
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_frame_is_one_line() {
        let mut frame = FrameBuffer::new();
        frame.extend(&[1, 2]);
        frame.extend(&[3, 0]);
        let mut out = [0u8; MAX_LINES_LEN];
        let n = frame.take_lines(&mut out).unwrap();
        assert_eq!(&out[..n], b"DEFMT:AQIDAA==\n");
    }

    #[test]
    fn a_long_frame_continues_on_more_lines_each_under_200_characters() {
        let mut frame = FrameBuffer::new();
        frame.extend(&[0xaa; 200]);
        let mut out = [0u8; MAX_LINES_LEN];
        let n = frame.take_lines(&mut out).unwrap();
        let text = core::str::from_utf8(&out[..n]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines
            .iter()
            .all(|l| l.starts_with("DEFMT:") && l.len() < 200));
    }

    #[test]
    fn an_overlong_frame_is_dropped_and_the_next_one_starts_clean() {
        let mut frame = FrameBuffer::new();
        frame.extend(&[0; MAX_FRAME + 1]);
        let mut out = [0u8; MAX_LINES_LEN];
        assert_eq!(frame.take_lines(&mut out), None);
        frame.extend(&[0]);
        assert_eq!(frame.take_lines(&mut out), Some(11));
    }
}
