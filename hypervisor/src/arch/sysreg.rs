//! The system registers Bulkhead uses that `aarch64-cpu` does not define, declared once each
//! with the same `Readable`/`Writeable` interface (`get`, `set`), so call sites look alike.
//!
//! Every register here is a GIC CPU interface, virtual-interface, identification or EL2 trap
//! control register (Arm IHI 0069 12.2 and 12.4; Arm ARM D23). Accessing one changes only this CPU's GIC or EL2
//! state (acknowledging or ending an interrupt, sending an SGI, the identity a guest reads),
//! never memory that Rust code owns: that is what makes the single `unsafe` block of the macro
//! sound, and why a register that does not have this property does not belong in this list.

use tock_registers::interfaces::{Readable, Writeable};

/// Declares a system register by its encoding: `r` readable, `w` writable, `rw` both.
macro_rules! sysreg {
    ($(#[$doc:meta])* $name:ident = $encoding:literal, r) => {
        sysreg!(@type $(#[$doc])* $name);
        sysreg!(@read $name, $encoding);
    };
    ($(#[$doc:meta])* $name:ident = $encoding:literal, w) => {
        sysreg!(@type $(#[$doc])* $name);
        sysreg!(@write $name, $encoding);
    };
    ($(#[$doc:meta])* $name:ident = $encoding:literal, rw) => {
        sysreg!(@type $(#[$doc])* $name);
        sysreg!(@read $name, $encoding);
        sysreg!(@write $name, $encoding);
    };
    (@type $(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[allow(non_camel_case_types)]
        pub struct $name;
    };
    (@read $name:ident, $encoding:literal) => {
        impl Readable for $name {
            type T = u64;
            type R = ();
            #[inline]
            fn get(&self) -> u64 {
                let value: u64;
                // SAFETY: reading this register only changes GIC state (module doc).
                unsafe {
                    core::arch::asm!(concat!("mrs {}, ", $encoding), out(reg) value,
                        options(nomem, nostack, preserves_flags))
                };
                value
            }
        }
    };
    (@write $name:ident, $encoding:literal) => {
        impl Writeable for $name {
            type T = u64;
            type R = ();
            #[inline]
            fn set(&self, value: u64) {
                // SAFETY: writing this register only changes GIC or EL2 state (module doc).
                unsafe {
                    core::arch::asm!(concat!("msr ", $encoding, ", {}"), in(reg) value,
                        options(nomem, nostack, preserves_flags))
                };
            }
        }
    };
}

sysreg!(/** ICC_PMR_EL1: the priority mask. */ ICC_PMR_EL1 = "S3_0_C4_C6_0", w);
sysreg!(/** ICC_BPR1_EL1: group 1 binary point. */ ICC_BPR1_EL1 = "S3_0_C12_C12_3", w);
sysreg!(/** ICC_CTLR_EL1: CPU interface control (`aarch64-cpu`'s is read-only). */
    ICC_CTLR_EL1 = "S3_0_C12_C12_4", w);
sysreg!(/** ICC_IGRPEN1_EL1: group 1 interrupts enable. */ ICC_IGRPEN1_EL1 = "S3_0_C12_C12_7", w);
sysreg!(/** ICC_IAR1_EL1: acknowledge a group 1 interrupt. */ ICC_IAR1_EL1 = "S3_0_C12_C12_0", r);
sysreg!(/** ICC_EOIR1_EL1: end of a group 1 interrupt. */ ICC_EOIR1_EL1 = "S3_0_C12_C12_1", w);
sysreg!(/** ICC_DIR_EL1: deactivate an interrupt. */ ICC_DIR_EL1 = "S3_0_C12_C11_1", w);
sysreg!(/** ICC_SGI1R_EL1: generate a group 1 SGI. */ ICC_SGI1R_EL1 = "S3_0_C12_C11_5", w);
sysreg!(/** ICH_ELRSR_EL2: the empty list registers. */ ICH_ELRSR_EL2 = "S3_4_C12_C11_5", r);
sysreg!(/** VPIDR_EL2: the MIDR a guest reads. */ VPIDR_EL2 = "vpidr_el2", w);
sysreg!(/** HSTR_EL2: traps of AArch32 CP15 accesses. */ HSTR_EL2 = "hstr_el2", w);
sysreg!(/** HACR_EL2: implementation-defined traps. */ HACR_EL2 = "hacr_el2", w);
sysreg!(/** CTR_EL0: cache type (line sizes). */ CTR_EL0 = "ctr_el0", r);
sysreg!(/** CNTHP_CVAL_EL2: the EL2 physical timer's compare value. */
    CNTHP_CVAL_EL2 = "S3_4_C14_C2_2", w);
