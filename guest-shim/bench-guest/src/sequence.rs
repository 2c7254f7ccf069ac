//! The timed sequences: one operation between two reads of the virtual counter.
//!
//! Every sequence has the same frame, `isb; mrs t0, cntvct_el0; <operation>; isb; mrs t1,
//! cntvct_el0`, so subtracting the cost of the empty frame ([`Sequence::Empty`]) leaves the
//! instructions the operation itself executes, including whatever a trap runs at EL2.

use guest_shim::bulkhead::REVISION as VENDOR_REVISION;
use guest_shim::psci::PSCI_VERSION;
use guest_shim::smccc::SMCCC_VERSION;

/// UARTFR (0x018): the PL011 flag register.
const UARTFR: usize = 0x18;

/// One operation to time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sequence {
    /// Nothing: the cost of the timing frame itself.
    Empty,
    /// `hvc #0` with this function ID in w0 (other arguments zero).
    Hvc(u32),
    /// A 32-bit load at this offset of the console PL011.
    ConsoleRead(usize),
}

impl Sequence {
    /// The sequence a `bench=` name stands for.
    pub fn by_name(name: &str) -> Option<Sequence> {
        Some(match name {
            "timing-empty" => Sequence::Empty,
            "hvc-psci-version" => Sequence::Hvc(PSCI_VERSION),
            "hvc-smccc-version" => Sequence::Hvc(SMCCC_VERSION),
            "hvc-vendor-revision" => Sequence::Hvc(VENDOR_REVISION),
            "mmio-uartfr-read" => Sequence::ConsoleRead(UARTFR),
            _ => return None,
        })
    }

    /// Runs the sequence once with the console at `console`; returns the ticks between the two
    /// counter reads and the value the operation produced (x0 of a call, the loaded word).
    #[cfg(target_arch = "aarch64")]
    #[inline(never)]
    pub fn run(self, console: usize) -> (u64, u64) {
        let (t0, t1, value): (u64, u64, u64);
        match self {
            // SAFETY: reads the counter only.
            Sequence::Empty => unsafe {
                core::arch::asm!(
                    "isb",
                    "mrs {t0}, cntvct_el0",
                    "isb",
                    "mrs {t1}, cntvct_el0",
                    t0 = out(reg) t0, t1 = out(reg) t1,
                    options(nomem, nostack),
                );
                value = 0;
            },
            // SAFETY: an SMCCC fast call that returns (no SYSTEM_OFF/RESET here) changes no
            // memory of ours; every register it may change is declared.
            Sequence::Hvc(function) => unsafe {
                core::arch::asm!(
                    "isb",
                    "mrs {t0}, cntvct_el0",
                    "hvc #0",
                    "isb",
                    "mrs {t1}, cntvct_el0",
                    t0 = out(reg) t0, t1 = out(reg) t1,
                    inout("x0") u64::from(function) => value,
                    inout("x1") 0u64 => _, inout("x2") 0u64 => _, inout("x3") 0u64 => _,
                    inout("x4") 0u64 => _, inout("x5") 0u64 => _, inout("x6") 0u64 => _,
                    lateout("x7") _, lateout("x8") _, lateout("x9") _, lateout("x10") _,
                    lateout("x11") _, lateout("x12") _, lateout("x13") _, lateout("x14") _,
                    lateout("x15") _, lateout("x16") _, lateout("x17") _,
                    options(nostack),
                );
            },
            // SAFETY: `console` is the PL011 of our device tree; reading a register of it has
            // no side effect. One 32-bit load with a plain base register gives a trapping
            // hypervisor a valid syndrome (ISV = 1).
            Sequence::ConsoleRead(offset) => unsafe {
                let word: u32;
                core::arch::asm!(
                    "isb",
                    "mrs {t0}, cntvct_el0",
                    "ldr {word:w}, [{address}]",
                    "isb",
                    "mrs {t1}, cntvct_el0",
                    t0 = out(reg) t0, t1 = out(reg) t1, word = out(reg) word,
                    address = in(reg) console + offset,
                    options(nostack, readonly),
                );
                value = u64::from(word);
            },
        }
        (t1.wrapping_sub(t0), value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_names_map_to_their_operations() {
        assert_eq!(Sequence::by_name("timing-empty"), Some(Sequence::Empty));
        assert_eq!(
            Sequence::by_name("hvc-psci-version"),
            Some(Sequence::Hvc(0x8400_0000))
        );
        assert_eq!(
            Sequence::by_name("hvc-vendor-revision"),
            Some(Sequence::Hvc(0x8600_ff03))
        );
        assert_eq!(
            Sequence::by_name("mmio-uartfr-read"),
            Some(Sequence::ConsoleRead(0x18))
        );
        assert_eq!(Sequence::by_name("hvc"), None);
    }
}
