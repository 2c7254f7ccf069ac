//! The ChaCha20 block function (RFC 8439, section 2.3): 256-bit key, 32-bit block counter,
//! 96-bit nonce, 64 bytes out. Checked against the RFC's test vectors below.

/// "expand 32-byte k" (RFC 8439 2.3).
const CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// One ChaCha quarter round on words `a`, `b`, `c`, `d` of `state` (RFC 8439 2.1).
#[allow(clippy::indexing_slicing)] // indices are the constants of `double_round`
fn quarter_round(state: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    state[a] = state[a].wrapping_add(state[b]);
    state[d] = (state[d] ^ state[a]).rotate_left(16);
    state[c] = state[c].wrapping_add(state[d]);
    state[b] = (state[b] ^ state[c]).rotate_left(12);
    state[a] = state[a].wrapping_add(state[b]);
    state[d] = (state[d] ^ state[a]).rotate_left(8);
    state[c] = state[c].wrapping_add(state[d]);
    state[b] = (state[b] ^ state[c]).rotate_left(7);
}

/// A column round then a diagonal round.
fn double_round(state: &mut [u32; 16]) {
    quarter_round(state, 0, 4, 8, 12);
    quarter_round(state, 1, 5, 9, 13);
    quarter_round(state, 2, 6, 10, 14);
    quarter_round(state, 3, 7, 11, 15);
    quarter_round(state, 0, 5, 10, 15);
    quarter_round(state, 1, 6, 11, 12);
    quarter_round(state, 2, 7, 8, 13);
    quarter_round(state, 3, 4, 9, 14);
}

/// The 64-byte ChaCha20 key-stream block for `key`, `counter` and `nonce`.
pub fn block(key: &[u8; 32], counter: u32, nonce: &[u8; 12]) -> [u8; 64] {
    let mut input = [0u32; 16];
    let (constants, rest) = input.split_at_mut(4);
    let (key_words, rest) = rest.split_at_mut(8);
    let (counter_word, nonce_words) = rest.split_at_mut(1);
    constants.copy_from_slice(&CONSTANTS);
    for (word, bytes) in key_words.iter_mut().zip(key.as_chunks::<4>().0) {
        *word = u32::from_le_bytes(*bytes);
    }
    for word in counter_word.iter_mut() {
        *word = counter;
    }
    for (word, bytes) in nonce_words.iter_mut().zip(nonce.as_chunks::<4>().0) {
        *word = u32::from_le_bytes(*bytes);
    }
    let mut state = input;
    for _ in 0..10 {
        double_round(&mut state);
    }
    let mut out = [0u8; 64];
    for ((chunk, word), original) in out.chunks_exact_mut(4).zip(state).zip(input) {
        chunk.copy_from_slice(&word.wrapping_add(original).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc8439_2_3_2_block() {
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let nonce = [0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        assert_eq!(
            block(&key, 1, &nonce).to_vec(),
            hex(concat!(
                "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e",
                "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"
            ))
        );
    }

    #[test]
    fn rfc8439_a_1_zero_key_block() {
        assert_eq!(
            block(&[0; 32], 0, &[0; 12]).to_vec(),
            hex(concat!(
                "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7",
                "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
            ))
        );
    }
}
