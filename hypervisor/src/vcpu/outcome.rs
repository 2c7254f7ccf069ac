//! What the trap policy decided: the one value `cpu.rs` applies.

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

/// The decision for one trap. Plain data, no buffers: it is built on every trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// x0..x3 to write: an SMCCC result.
    pub result: Option<[u64; 4]>,
    /// One general register to write (an emulated load, an SGI register read): (register,
    /// value); never x31, the zero register.
    pub load: Option<(u8, u64)>,
    /// Bytes to advance ELR_EL2 by: 0, or the trapped instruction's length (ESR_EL2.IL).
    pub step: u8,
    /// Wait for an interrupt before resuming (PSCI CPU_SUSPEND as standby).
    pub standby: bool,
    /// Where the vCPU goes.
    pub next: Next,
    /// Inject the data abort the policy handed the machine (`on-fault = "inject"`) before
    /// resuming.
    pub inject: bool,
}

impl Outcome {
    /// Resume the guest at the same instruction, changing nothing.
    pub fn resume() -> Self {
        Outcome {
            result: None,
            load: None,
            step: 0,
            standby: false,
            next: Next::Resume,
            inject: false,
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

    /// Also writes `value` to register `rt` (a write to x31, the zero register, is dropped).
    pub fn with_write(self, rt: u8, value: u64) -> Self {
        Outcome {
            load: (rt < 31).then_some((rt, value)),
            ..self
        }
    }

    /// Also returns `values` in x0..x3 (an SMCCC result).
    pub fn with_result(self, values: [u64; 4]) -> Self {
        Outcome {
            result: Some(values),
            ..self
        }
    }

    /// Every register write, in the order they are applied (x0..x3 first).
    pub fn writes(&self) -> impl Iterator<Item = (u8, u64)> {
        let result = self
            .result
            .into_iter()
            .flat_map(|values| (0u8..).zip(values));
        result.chain(self.load)
    }
}
