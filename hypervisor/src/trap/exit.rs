//! Why a guest left: the boundary between the trap decoder and the hypervisor's policy.

use super::width::AccessWidth;

/// How a guest made an SMCCC call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conduit {
    /// `hvc #imm`: ELR already points past the instruction.
    Hvc,
    /// `smc #imm`, trapped by HCR_EL2.TSC: ELR points at the instruction.
    Smc,
}

/// A data access the guest made to an unmapped IPA, decoded from a valid syndrome (ISV = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmioAccess {
    /// `true` for a store.
    pub write: bool,
    /// The access width (SAS).
    pub width: AccessWidth,
    /// The general register transferred (31 = xzr/wzr).
    pub register: u8,
    /// Loads: sign-extend the value to the register width.
    pub sign_extend: bool,
    /// Loads: the register is 64-bit (otherwise the upper 32 bits are zeroed).
    pub sixty_four: bool,
}

/// A system register's encoding (Arm ARM C5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysRegId {
    /// op0.
    pub op0: u8,
    /// op1.
    pub op1: u8,
    /// CRn.
    pub crn: u8,
    /// CRm.
    pub crm: u8,
    /// op2.
    pub op2: u8,
}

impl SysRegId {
    /// ICC_SGI1R_EL1: generate a group-1 SGI.
    pub const ICC_SGI1R_EL1: SysRegId = SysRegId {
        op0: 3,
        op1: 0,
        crn: 12,
        crm: 11,
        op2: 5,
    };
    /// ICC_ASGI1R_EL1: generate a group-1 SGI for the other security state.
    pub const ICC_ASGI1R_EL1: SysRegId = SysRegId {
        op0: 3,
        op1: 0,
        crn: 12,
        crm: 11,
        op2: 6,
    };
    /// ICC_SGI0R_EL1: generate a group-0 SGI.
    pub const ICC_SGI0R_EL1: SysRegId = SysRegId {
        op0: 3,
        op1: 0,
        crn: 12,
        crm: 11,
        op2: 7,
    };
}

/// A decoded trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// An SMCCC call through HVC or SMC.
    Call {
        /// HVC or SMC.
        conduit: Conduit,
        /// The call came from AArch32 (HVC32/SMC32 syndromes).
        aarch32: bool,
        /// The instruction's immediate (SMCCC requires 0).
        imm: u16,
    },
    /// A stage-2 data abort: the guest touched an IPA that is not mapped (or not writable).
    DataAbort {
        /// Faulting IPA (from HPFAR_EL2 and FAR_EL2).
        ipa: u64,
        /// Faulting guest virtual address (FAR_EL2).
        far: u64,
        /// The access, when the syndrome describes it (ISV = 1).
        access: Option<MmioAccess>,
        /// The instruction was a store (WnR).
        write: bool,
        /// The fault happened on a stage-1 table walk.
        stage1_walk: bool,
    },
    /// A stage-2 instruction abort: the guest executed from an IPA it may not execute.
    InstructionAbort {
        /// Faulting IPA.
        ipa: u64,
        /// Faulting guest virtual address.
        far: u64,
    },
    /// WFI or WFE (only when trapped).
    Wfx {
        /// `true` for WFE.
        wfe: bool,
    },
    /// A trapped system register access (MSR/MRS), e.g. ICC_SGI1R_EL1.
    SysReg {
        /// The register, as its (op0, op1, CRn, CRm, op2) encoding.
        register: SysRegId,
        /// The general register transferred (31 = xzr).
        rt: u8,
        /// `true` for MRS (a read), `false` for MSR (a write).
        read: bool,
    },
    /// A physical interrupt arrived while the guest ran.
    Irq,
    /// A physical SError arrived while the guest ran.
    SError,
    /// Anything else: the hypervisor does not emulate it.
    Unknown {
        /// ESR_EL2.EC.
        ec: u8,
        /// The whole syndrome.
        esr: u64,
    },
}

/// Arm's name for an exception class (ESR_ELx.EC), for fault reports.
pub fn exception_class_name(ec: u8) -> &'static str {
    match ec {
        0x00 => "unknown reason",
        0x01 => "WFI/WFE",
        0x07 => "FP/SIMD access",
        0x0e => "illegal execution state",
        0x12 | 0x16 => "HVC",
        0x13 | 0x17 => "SMC",
        0x18 => "MSR/MRS/system instruction",
        0x19 => "SVE access",
        0x20 => "instruction abort from a lower EL",
        0x22 => "PC alignment fault",
        0x24 => "data abort from a lower EL",
        0x26 => "SP alignment fault",
        0x2f => "SError",
        0x30..=0x35 => "debug exception",
        0x3c => "BRK instruction",
        _ => "unhandled exception class",
    }
}
