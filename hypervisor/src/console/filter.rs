//! What of a partition's output reaches the terminal: printable text, tabs, newlines and
//! backspaces within the partition's own line. Everything else a guest writes is dropped:
//! carriage returns (the multiplexer ends lines itself), other control bytes, and whole ANSI
//! escape sequences (ECMA-48 CSI and two-byte escapes), so no partition can move the cursor,
//! clear the screen, recolour or overwrite another partition's tag. Bytes of 0x80 and above
//! become `?` (one per byte: a partition cannot hide text in malformed UTF-8).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

/// ESC.
const ESC: u8 = 0x1b;

/// What one output byte becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filtered {
    /// Nothing (dropped, or part of an escape sequence).
    Nothing,
    /// This byte, printable (or a tab).
    Text(u8),
    /// The line ends.
    EndOfLine,
    /// Erase the previous character of the partition's line (only ever past its tag).
    Backspace,
}

/// Where the filter is in an escape sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Text,
    /// After ESC.
    Escape,
    /// Inside a control sequence (ESC `[` parameters... final byte).
    Csi,
}

/// The filter's state for one partition.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputFilter {
    state: State,
}

impl OutputFilter {
    /// Filters one byte; `column` is how many characters of the partition's current line are
    /// on the terminal (a backspace at column 0 would erase the tag, so it is dropped).
    pub fn filter(&mut self, byte: u8, column: usize) -> Filtered {
        match self.state {
            State::Escape => {
                // ESC [ starts a control sequence; any other byte ends a two-byte escape.
                self.state = if byte == b'[' {
                    State::Csi
                } else {
                    State::Text
                };
                Filtered::Nothing
            }
            State::Csi => {
                // Parameter and intermediate bytes are 0x20..=0x3f; a final byte ends it, and
                // any control byte aborts it (ECMA-48 5.4).
                if !(0x20..=0x3f).contains(&byte) {
                    self.state = State::Text;
                }
                Filtered::Nothing
            }
            State::Text => match byte {
                ESC => {
                    self.state = State::Escape;
                    Filtered::Nothing
                }
                b'\n' => Filtered::EndOfLine,
                0x08 | 0x7f if column > 0 => Filtered::Backspace,
                b'\t' | 0x20..=0x7e => Filtered::Text(byte),
                0x80..=0xff => Filtered::Text(b'?'),
                _ => Filtered::Nothing,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> String {
        let mut filter = OutputFilter::default();
        let mut column = 0;
        let mut out = String::new();
        for &byte in bytes {
            match filter.filter(byte, column) {
                Filtered::Nothing => {}
                Filtered::Text(b) => {
                    out.push(b as char);
                    column += 1;
                }
                Filtered::EndOfLine => {
                    out.push('|');
                    column = 0;
                }
                Filtered::Backspace => {
                    out.push('<');
                    column -= 1;
                }
            }
        }
        out
    }

    #[test]
    fn text_passes_and_carriage_returns_and_bells_do_not() {
        assert_eq!(run(b"hello\r\nworld\x07\n"), "hello|world|");
    }

    #[test]
    fn escape_sequences_are_removed_whole() {
        // Colour, cursor movement, clear screen, a two-byte escape (RIS).
        assert_eq!(run(b"\x1b[1;32mok\x1b[0m \x1b[2J\x1b[Hx\x1bcy"), "ok xy");
    }

    #[test]
    fn backspace_never_reaches_the_tag() {
        assert_eq!(run(b"\x08\x08ab\x08\x08\x08c"), "ab<<c");
    }

    #[test]
    fn high_bytes_become_question_marks() {
        assert_eq!(run("é\n".as_bytes()), "??|");
    }
}
