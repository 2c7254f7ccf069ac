//! What the trap policy decided: the one value `cpu.rs` applies.

use heapless::Vec;

/// Where the vCPU goes after the outcome is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Back into the guest (`eret`).
    Resume,
    /// It has left its guest for good (off, stopped, or its partition restarted): the CPU
    /// returns to its loop with its EL2 stack reset, never nesting.
    Leave,
    /// No partition runs any more: the machine powers off.
    PowerOff,
}

/// The decision for one trap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// General-register writes (register number, value), applied in order; x31 never.
    pub writes: Vec<(u8, u64), 4>,
    /// Bytes to advance ELR_EL2 by: 0, or the trapped instruction's length (ESR_EL2.IL).
    pub step: u8,
    /// Wait for an interrupt before resuming (PSCI CPU_SUSPEND as standby).
    pub standby: bool,
    /// Where the vCPU goes.
    pub next: Next,
}

impl Outcome {
    /// Resume the guest at the same instruction, changing nothing.
    pub fn resume() -> Self {
        Outcome {
            writes: Vec::new(),
            step: 0,
            standby: false,
            next: Next::Resume,
        }
    }

    /// Leave the guest.
    pub fn leave() -> Self {
        Outcome {
            next: Next::Leave,
            ..Outcome::resume()
        }
    }

    /// Step over the trapped instruction of `length` bytes and resume.
    pub fn step(length: u8) -> Self {
        Outcome {
            step: length,
            ..Outcome::resume()
        }
    }

    /// Also writes `value` to register `rt` (writes to x31, the zero register, are dropped).
    pub fn with_write(mut self, rt: u8, value: u64) -> Self {
        if rt < 31 {
            // Four slots; the policy writes at most x0..x3 once each.
            let _ = self.writes.push((rt, value));
        }
        self
    }

    /// Also returns `values` in x0..x3 (an SMCCC result).
    pub fn with_result(self, values: [u64; 4]) -> Self {
        let [x0, x1, x2, x3] = values;
        self.with_write(0, x0)
            .with_write(1, x1)
            .with_write(2, x2)
            .with_write(3, x3)
    }
}
