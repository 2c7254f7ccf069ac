//! The management window: a 4 KiB register page through which the `privileged` partition's
//! userspace makes the management vendor calls (`bulkheadctl` in Linux, over `/dev/mem`),
//! because EL0 cannot issue HVC and a stock kernel has no interface for it.
//!
//! A pure state machine: the guest writes a function ID and arguments, writes the CALL
//! doorbell, and reads the results; the call itself is made by the caller of this model
//! ([`crate::vcpu::mgmt_window`]) through the same SMCCC dispatcher as an HVC, so the
//! privilege and argument checks are the dispatcher's. The call's "guest memory" is the
//! window's DATA area: BULKHEAD_MGMT_LIST writes its records there.
//!
//! Registers (little-endian; `docs/guest-abi.md`, "The management window"):
//!
//! | Offset | Name | Width | Access |
//! |---|---|---|---|
//! | 0x000 | FUNCTION | 32 | RW: the SMCCC function ID (W0) |
//! | 0x008, 0x010, 0x018 | ARG1..ARG3 | 64 (or 32 per half) | RW: X1..X3 |
//! | 0x020 | CALL | 32 | WO: any write makes the call; reads 0 |
//! | 0x030 | IDENT | 32 | RO: [`IDENT`] ("BHMW") |
//! | 0x040..0x058 | RESULT0..RESULT3 | 64 (or 32 per half) | RO: X0..X3 of the call |
//! | 0x800..0x900 | DATA | any | RO: the call's buffer (256 bytes: two LIST records) |
//!
//! Every other offset reads as zero and ignores writes. Byte and halfword accesses are
//! allowed only in DATA.

use super::{AccessWidth, DeviceAccess, DeviceEffects, MmioDevice, MmioFault};

/// Register offsets (`bulkhead_abi::window`).
pub mod reg {
    use bulkhead_abi::window;
    /// The function ID.
    pub const FUNCTION: u64 = window::FUNCTION as u64;
    /// The first argument register (X1); ARG2 and ARG3 follow 8 bytes apart.
    pub const ARG1: u64 = window::ARG1 as u64;
    /// The doorbell: a write makes the call.
    pub const CALL: u64 = window::CALL as u64;
    /// The identification register.
    pub const IDENT: u64 = window::IDENT as u64;
    /// The first result register (X0); RESULT1..RESULT3 follow 8 bytes apart.
    pub const RESULT0: u64 = window::RESULT0 as u64;
    /// The data area's first byte.
    pub const DATA: u64 = window::DATA as u64;
}

/// How many argument registers the window has (X1..X3).
pub const ARGS: usize = 3;
/// How many result registers the window has (X0..X3).
pub const RESULTS: usize = 4;
/// The size of the DATA area, in bytes: the most one call transfers
/// ([`crate::smccc::MAX_TRANSFER`], two management records).
pub const DATA_SIZE: usize = bulkhead_abi::window::DATA_SIZE;
const _: () = assert!(DATA_SIZE == crate::smccc::MAX_TRANSFER);
/// What IDENT reads: "BHMW" in ASCII, little-endian.
pub const IDENT: u32 = bulkhead_abi::window::IDENT_VALUE;

/// A call the guest asked for by writing CALL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowCall {
    /// The function ID (W0).
    pub function: u32,
    /// X1..X3.
    pub args: [u64; ARGS],
}

/// The window's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MgmtWindow {
    function: u32,
    args: [u64; ARGS],
    results: [u64; RESULTS],
    data: [u8; DATA_SIZE],
    pending: bool,
}

impl Default for MgmtWindow {
    fn default() -> Self {
        MgmtWindow::new()
    }
}

/// Reads a 64-bit register as a whole or as one of its 32-bit halves (`word` 0 or 1).
fn read_half(value: u64, word: u64, width: AccessWidth) -> Result<u64, MmioFault> {
    match (width, word) {
        (AccessWidth::Double, 0) => Ok(value),
        (AccessWidth::Word, 0) => Ok(value & 0xffff_ffff),
        (AccessWidth::Word, _) => Ok(value >> 32),
        _ => Err(MmioFault::Width),
    }
}

/// Writes a 64-bit register as a whole or one of its 32-bit halves.
fn write_half(slot: &mut u64, word: u64, width: AccessWidth, value: u64) -> Result<(), MmioFault> {
    match (width, word) {
        (AccessWidth::Double, 0) => *slot = value,
        (AccessWidth::Word, 0) => *slot = (*slot & !0xffff_ffff) | (value & 0xffff_ffff),
        (AccessWidth::Word, _) => *slot = (*slot & 0xffff_ffff) | (value << 32),
        _ => return Err(MmioFault::Width),
    }
    Ok(())
}

impl MgmtWindow {
    /// A window with every register zero.
    pub const fn new() -> Self {
        MgmtWindow {
            function: 0,
            args: [0; ARGS],
            results: [0; RESULTS],
            data: [0; DATA_SIZE],
            pending: false,
        }
    }

    /// The call the last write of CALL asked for, once: `None` if there is none.
    pub fn take_call(&mut self) -> Option<WindowCall> {
        core::mem::take(&mut self.pending).then_some(WindowCall {
            function: self.function,
            args: self.args,
        })
    }

    /// Stores the results of the call [`Self::take_call`] gave, and its DATA area.
    pub fn complete(&mut self, results: [u64; RESULTS], data: &[u8; DATA_SIZE]) {
        self.results = results;
        self.data = *data;
    }

    /// The DATA area (what a call's buffer starts as).
    pub fn data(&self) -> &[u8; DATA_SIZE] {
        &self.data
    }

    fn read_data(&self, offset: u64, width: AccessWidth) -> u64 {
        let at = usize::try_from(offset.saturating_sub(reg::DATA)).unwrap_or(usize::MAX);
        let len = width.bits() as usize / 8;
        let mut bytes = [0u8; 8];
        if let (Some(out), Some(from)) = (
            bytes.get_mut(..len),
            self.data.get(at..at.saturating_add(len)),
        ) {
            out.copy_from_slice(from);
        }
        u64::from_le_bytes(bytes)
    }
}

impl MmioDevice for MgmtWindow {
    fn read(&mut self, access: DeviceAccess) -> Result<u64, MmioFault> {
        let (offset, width) = (access.offset, access.width);
        if offset >= reg::DATA {
            return Ok(self.read_data(offset, width));
        }
        if matches!(width, AccessWidth::Byte | AccessWidth::Half) {
            return Err(MmioFault::Width);
        }
        let word = (offset % 8) / 4;
        let register = offset - offset % 8;
        match register {
            reg::FUNCTION if word == 0 => Ok(u64::from(self.function)),
            reg::IDENT if word == 0 => Ok(u64::from(IDENT)),
            _ if (reg::ARG1..reg::CALL).contains(&register) => {
                let index = ((register - reg::ARG1) / 8) as usize;
                read_half(self.args.get(index).copied().unwrap_or(0), word, width)
            }
            _ if (reg::RESULT0..reg::RESULT0 + 8 * RESULTS as u64).contains(&register) => {
                let index = ((register - reg::RESULT0) / 8) as usize;
                read_half(self.results.get(index).copied().unwrap_or(0), word, width)
            }
            _ => Ok(0),
        }
    }

    fn write(
        &mut self,
        access: DeviceAccess,
        value: u64,
        _effects: &mut DeviceEffects,
    ) -> Result<(), MmioFault> {
        let (offset, width) = (access.offset, access.width);
        if offset >= reg::DATA {
            return Ok(());
        }
        if matches!(width, AccessWidth::Byte | AccessWidth::Half) {
            return Err(MmioFault::Width);
        }
        let word = (offset % 8) / 4;
        let register = offset - offset % 8;
        match register {
            reg::FUNCTION if word == 0 => self.function = value as u32,
            reg::CALL if word == 0 => self.pending = true,
            _ if (reg::ARG1..reg::CALL).contains(&register) => {
                let index = ((register - reg::ARG1) / 8) as usize;
                if let Some(slot) = self.args.get_mut(index) {
                    write_half(slot, word, width, value)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset: u64, width: AccessWidth) -> DeviceAccess {
        DeviceAccess {
            offset,
            width,
            vcpu: 0,
        }
    }

    fn write(w: &mut MgmtWindow, offset: u64, width: AccessWidth, value: u64) {
        w.write(at(offset, width), value, &mut DeviceEffects::new())
            .unwrap();
    }

    #[test]
    fn a_call_carries_the_function_and_arguments_written_once() {
        let mut w = MgmtWindow::new();
        assert_eq!(w.take_call(), None);
        write(&mut w, reg::FUNCTION, AccessWidth::Word, 0x8600_0302);
        write(&mut w, reg::ARG1, AccessWidth::Double, 2);
        write(&mut w, reg::ARG1 + 8, AccessWidth::Word, 0x1111_2222);
        write(&mut w, reg::ARG1 + 12, AccessWidth::Word, 0x3333_4444);
        write(&mut w, reg::ARG1 + 16, AccessWidth::Double, 7);
        assert_eq!(w.take_call(), None, "no call before CALL is written");
        write(&mut w, reg::CALL, AccessWidth::Word, 1);
        assert_eq!(
            w.take_call(),
            Some(WindowCall {
                function: 0x8600_0302,
                args: [2, 0x3333_4444_1111_2222, 7],
            })
        );
        assert_eq!(w.take_call(), None, "one write, one call");
        assert_eq!(
            w.read(at(reg::FUNCTION, AccessWidth::Word)),
            Ok(0x8600_0302)
        );
        assert_eq!(
            w.read(at(reg::ARG1 + 12, AccessWidth::Word)),
            Ok(0x3333_4444)
        );
        assert_eq!(w.read(at(reg::CALL, AccessWidth::Word)), Ok(0));
    }

    #[test]
    fn results_and_data_read_back_and_are_read_only() {
        let mut w = MgmtWindow::new();
        let mut data = [0u8; DATA_SIZE];
        data[0..4].copy_from_slice(b"rtos");
        data[DATA_SIZE - 1] = 0xab;
        w.complete([-5i64 as u64, 3, 2, 128], &data);
        assert_eq!(
            w.read(at(reg::RESULT0, AccessWidth::Double)),
            Ok(-5i64 as u64)
        );
        assert_eq!(
            w.read(at(reg::RESULT0 + 4, AccessWidth::Word)),
            Ok(0xffff_ffff)
        );
        assert_eq!(w.read(at(reg::RESULT0 + 24, AccessWidth::Double)), Ok(128));
        write(&mut w, reg::RESULT0 + 8, AccessWidth::Double, 99);
        assert_eq!(w.read(at(reg::RESULT0 + 8, AccessWidth::Double)), Ok(3));
        assert_eq!(
            w.read(at(reg::DATA, AccessWidth::Word)),
            Ok(u64::from(u32::from_le_bytes(*b"rtos")))
        );
        assert_eq!(
            w.read(at(reg::DATA + 1, AccessWidth::Byte)),
            Ok(u64::from(b't'))
        );
        let last = reg::DATA + DATA_SIZE as u64 - 1;
        assert_eq!(w.read(at(last, AccessWidth::Byte)), Ok(0xab));
        assert_eq!(w.read(at(last + 1, AccessWidth::Byte)), Ok(0));
        assert_eq!(w.read(at(0xff8, AccessWidth::Double)), Ok(0));
        write(&mut w, reg::DATA, AccessWidth::Double, u64::MAX);
        assert_eq!(w.data()[0], b'r');
        assert_eq!(
            w.read(at(reg::IDENT, AccessWidth::Word)),
            Ok(u64::from(IDENT))
        );
    }

    #[test]
    fn narrow_register_accesses_fault_and_reserved_offsets_are_raz_wi() {
        let mut w = MgmtWindow::new();
        let mut effects = DeviceEffects::new();
        assert_eq!(
            w.read(at(reg::FUNCTION, AccessWidth::Byte)),
            Err(MmioFault::Width)
        );
        assert_eq!(
            w.write(at(reg::CALL, AccessWidth::Half), 1, &mut effects),
            Err(MmioFault::Width)
        );
        assert_eq!(w.take_call(), None);
        assert_eq!(
            w.read(at(reg::ARG1 + 4, AccessWidth::Double)),
            Err(MmioFault::Width)
        );
        for offset in [0x04, 0x24, 0x28, 0x38, 0x60, 0x7f8] {
            assert_eq!(w.read(at(offset, AccessWidth::Word)), Ok(0), "{offset:#x}");
            write(&mut w, offset, AccessWidth::Word, u64::MAX);
        }
        assert_eq!(w.take_call(), None);
        assert_eq!(w, MgmtWindow::new());
    }
}
