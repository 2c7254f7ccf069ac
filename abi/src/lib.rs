//! The function identifiers of Bulkhead's guest interface, defined once for the hypervisor and
//! the guest shim.
//!
//! The standard identifiers (SMCCC architecture calls, Arm DEN0028; PSCI, Arm DEN0022) are the
//! `smccc` crate's constants, re-exported here under short names: that crate already defines
//! them for both conventions and builds for the host and `aarch64-unknown-none-softfloat`, so
//! Bulkhead does not keep its own copy. This crate defines only what `smccc` lacks: the SMC64
//! form of SMCCC_ARCH_SOC_ID (SMCCC v1.5), the TRNG interface (Arm DEN0098) and Bulkhead's
//! vendor-specific hypervisor service (owner 6, `docs/guest-abi.md`). The return codes follow the
//! same split ([`error`]).
#![no_std]
#![forbid(unsafe_code)]

/// The calling-convention bit of a function identifier: set = SMC64/HVC64 (Arm DEN0028,
/// "Function Identifier").
pub const SMC64: u32 = 1 << 30;

/// The SMC64/HVC64 form of a 32-bit function identifier.
pub const fn smc64(id: u32) -> u32 {
    id | SMC64
}

/// Arm architecture calls (owner 0; Arm DEN0028, "Arm Architecture Calls").
pub mod arm {
    /// SMCCC_ARCH_FEATURES.
    pub use smccc::arch::SMCCC_ARCH_FEATURES as ARCH_FEATURES;
    /// SMCCC_ARCH_SOC_ID (SMC32: SoC version and revision).
    pub use smccc::arch::SMCCC_ARCH_SOC_ID as SOC_ID;
    /// SMCCC_ARCH_WORKAROUND_1 (CVE-2017-5715, branch predictor invalidation).
    pub use smccc::arch::SMCCC_ARCH_WORKAROUND_1 as WORKAROUND_1;
    /// SMCCC_ARCH_WORKAROUND_2 (CVE-2018-3639, speculative store bypass).
    pub use smccc::arch::SMCCC_ARCH_WORKAROUND_2 as WORKAROUND_2;
    /// SMCCC_ARCH_WORKAROUND_3 (CVE-2017-5715 and CVE-2022-23960, branch history).
    pub use smccc::arch::SMCCC_ARCH_WORKAROUND_3 as WORKAROUND_3;
    /// SMCCC_VERSION.
    pub use smccc::arch::SMCCC_VERSION as VERSION;
    /// SMCCC_ARCH_SOC_ID, SMC64 form (SoC name; Arm DEN0028 v1.5, which `smccc` predates).
    pub const SOC_ID_64: u32 = super::smc64(SOC_ID);
}

/// PSCI calls (Arm DEN0022), 32-bit forms unless named `_64`.
pub mod psci {
    /// AFFINITY_INFO.
    pub use smccc::psci::PSCI_AFFINITY_INFO_32 as AFFINITY_INFO;
    /// CPU_OFF.
    pub use smccc::psci::PSCI_CPU_OFF as CPU_OFF;
    /// CPU_ON.
    pub use smccc::psci::PSCI_CPU_ON_32 as CPU_ON;
    /// CPU_ON, SMC64 form.
    pub use smccc::psci::PSCI_CPU_ON_64 as CPU_ON_64;
    /// CPU_SUSPEND.
    pub use smccc::psci::PSCI_CPU_SUSPEND_32 as CPU_SUSPEND;
    /// PSCI_FEATURES.
    pub use smccc::psci::PSCI_FEATURES as FEATURES;
    /// MIGRATE (not implemented by Bulkhead; guests probe it).
    pub use smccc::psci::PSCI_MIGRATE_32 as MIGRATE;
    /// MIGRATE_INFO_TYPE.
    pub use smccc::psci::PSCI_MIGRATE_INFO_TYPE as MIGRATE_INFO_TYPE;
    /// SYSTEM_OFF.
    pub use smccc::psci::PSCI_SYSTEM_OFF as SYSTEM_OFF;
    /// SYSTEM_RESET.
    pub use smccc::psci::PSCI_SYSTEM_RESET as SYSTEM_RESET;
    /// SYSTEM_RESET2 (PSCI 1.1).
    pub use smccc::psci::PSCI_SYSTEM_RESET2_32 as SYSTEM_RESET2;
    /// SYSTEM_RESET2, SMC64 form.
    pub use smccc::psci::PSCI_SYSTEM_RESET2_64 as SYSTEM_RESET2_64;
    /// PSCI_VERSION.
    pub use smccc::psci::PSCI_VERSION as VERSION;
}

/// True Random Number Generator calls (Arm DEN0098), owner 4, numbers 0x50..=0x5f.
pub mod trng {
    /// TRNG_VERSION.
    pub const VERSION: u32 = 0x8400_0050;
    /// TRNG_FEATURES.
    pub const FEATURES: u32 = 0x8400_0051;
    /// TRNG_GET_UUID.
    pub const GET_UUID: u32 = 0x8400_0052;
    /// TRNG_RND32.
    pub const RND32: u32 = 0x8400_0053;
    /// TRNG_RND64 (SMC64 only).
    pub const RND64: u32 = super::smc64(RND32);
    /// The first function number of the TRNG range within owner 4.
    pub const FIRST_NUMBER: u16 = 0x50;
    /// The last function number of the TRNG range within owner 4.
    pub const LAST_NUMBER: u16 = 0x5f;
}

/// Bulkhead's vendor-specific hypervisor service (owner 6; Arm DEN0028 "Vendor Specific
/// Hypervisor Service Calls"; `docs/guest-abi.md`), SMC32 forms: the SMC64 forms that
/// `docs/guest-abi.md` lists are [`smc64`](super::smc64) of these.
pub mod vendor {
    /// BULKHEAD_FEATURES: is a vendor function implemented?
    pub const FEATURES: u32 = 0x8600_0000;
    /// BULKHEAD_PARTITION_INFO: the caller's partition id, vCPU count and vCPU index.
    pub const PARTITION_INFO: u32 = 0x8600_0001;
    /// BULKHEAD_PARTITION_NAME: the caller's partition name, written to a guest buffer.
    pub const PARTITION_NAME: u32 = 0x8600_0002;
    /// BULKHEAD_CONSOLE_WRITE: bytes passed in registers.
    pub const CONSOLE_WRITE: u32 = 0x8600_0010;
    /// BULKHEAD_CONSOLE_WRITE_BUFFER: bytes read from a guest buffer.
    pub const CONSOLE_WRITE_BUFFER: u32 = 0x8600_0011;
    /// BULKHEAD_CONSOLE_READ: bytes written to a guest buffer (none are available yet).
    pub const CONSOLE_READ: u32 = 0x8600_0012;
    /// BULKHEAD_DOORBELL_RING: ring the peer of one of the caller's doorbells.
    pub const DOORBELL_RING: u32 = 0x8600_0100;
    /// BULKHEAD_DOORBELL_INFO: the peer, the caller's INTID and the caller's doorbell count.
    pub const DOORBELL_INFO: u32 = 0x8600_0101;
    /// Function numbers for inter-partition communication: the doorbell calls above, the rest
    /// reserved (shared-memory channels).
    pub const RESERVED_IPC: core::ops::RangeInclusive<u16> = 0x0100..=0x01ff;
    /// Function numbers reserved for the partition watchdog.
    pub const RESERVED_WATCHDOG: core::ops::RangeInclusive<u16> = 0x0200..=0x02ff;
    /// Function numbers for partition management: the calls below, the rest reserved.
    pub const RESERVED_MANAGEMENT: core::ops::RangeInclusive<u16> = 0x0300..=0x03ff;
    /// BULKHEAD_MGMT_LIST (privileged): one record per partition written to a guest buffer
    /// (state, CPUs, restarts, trap counts; layout in [`mgmt`]); SMC32 and SMC64 forms.
    pub const MGMT_LIST: u32 = 0x8600_0300;
    /// BULKHEAD_MGMT_START (privileged): start a stopped partition by id.
    pub const MGMT_START: u32 = 0x8600_0301;
    /// BULKHEAD_MGMT_STOP (privileged): stop a running partition by id.
    pub const MGMT_STOP: u32 = 0x8600_0302;
    /// BULKHEAD_MGMT_RESTART (privileged): restart a partition by id from its images.
    pub const MGMT_RESTART: u32 = 0x8600_0303;
    /// BULKHEAD_MGMT_FREE_MEMORY (privileged): the hypervisor's free physical memory and
    /// translation tables.
    pub const MGMT_FREE_MEMORY: u32 = 0x8600_0304;
    /// BULKHEAD_MGMT_SELF (every partition): the caller's own restart count and the reason of
    /// its last restart.
    pub const MGMT_SELF: u32 = 0x8600_0305;
    /// BULKHEAD_STACK_HIGH_WATER: how deep the EL2 stack of one of the caller's vCPUs' CPUs
    /// was ever used, in bytes (diagnostics, 0x0400..=0x04ff).
    pub const STACK_HIGH_WATER: u32 = 0x8600_0400;
    /// BULKHEAD_TEST_OVERFLOW_EL2_STACK: recurse at EL2 until the stack's guard page (only in a
    /// hypervisor built with the `test-hooks` feature; NOT_SUPPORTED otherwise).
    pub const TEST_OVERFLOW_EL2_STACK: u32 = 0x8600_04ff;
    /// BULKHEAD_TEST_CONSOLE_INPUT: W1 bytes (at most 4, packed little-endian in W2) enter the
    /// caller's own virtual PL011 as console input (only in a hypervisor built with the
    /// `test-hooks` feature; NOT_SUPPORTED otherwise).
    pub const TEST_CONSOLE_INPUT: u32 = 0x8600_04fe;
    /// Call UID query (Arm DEN0028, "Call UID Query").
    pub const CALL_UID: u32 = 0x8600_ff01;
    /// Call count query (Arm DEN0028, deprecated; Bulkhead answers NOT_SUPPORTED).
    pub const CALL_COUNT: u32 = 0x8600_ff00;
    /// Revision query (Arm DEN0028, "Revision Query").
    pub const REVISION: u32 = 0x8600_ff03;
    /// The identifier of vendor function `number` (SMC32 form).
    pub const fn id(number: u16) -> u32 {
        FEATURES | number as u32
    }
}

/// The data the management calls exchange (`docs/guest-abi.md`, "Partition management").
pub mod mgmt {
    /// The size of one BULKHEAD_MGMT_LIST record, in bytes.
    pub const RECORD_SIZE: usize = 128;
    /// Record offsets (all fields little-endian): the partition's name, NUL-padded.
    pub const NAME: usize = 0;
    /// The longest name a record holds.
    pub const NAME_LEN: usize = 32;
    /// u32: the partition id (1-based, configuration order).
    pub const ID: usize = 32;
    /// u32: the state ([`STATE_RUNNING`], [`STATE_STOPPED`], [`STATE_REFUSED`]).
    pub const STATE: usize = 36;
    /// u32: the number of vCPUs.
    pub const VCPUS: usize = 40;
    /// u32: bit n set = the partition runs a vCPU on physical CPU n.
    pub const CPU_MASK: usize = 44;
    /// u64: restarts since boot.
    pub const RESTARTS: usize = 48;
    /// u32: flags ([`FLAG_PRIVILEGED`], [`FLAG_RESTART_ON_STOP`]).
    pub const FLAGS: usize = 56;
    /// u32: the reason of the last stop or restart ([`REASON_NONE`] ...).
    pub const LAST_REASON: usize = 60;
    /// 8 x u64: trap counts summed over its vCPUs since they last entered, in the order
    /// call, mmio, sysreg, irq, wfx, fault, call-fast, irq-fast.
    pub const TRAPS: usize = 64;
    /// How many trap counters a record holds.
    pub const TRAP_COUNTERS: usize = 8;

    /// The partition runs.
    pub const STATE_RUNNING: u32 = 0;
    /// The partition is stopped.
    pub const STATE_STOPPED: u32 = 1;
    /// The partition was refused at boot and never ran.
    pub const STATE_REFUSED: u32 = 2;

    /// The partition may make the privileged management calls.
    pub const FLAG_PRIVILEGED: u32 = 1 << 0;
    /// The configuration says `on-stop = "restart"`.
    pub const FLAG_RESTART_ON_STOP: u32 = 1 << 1;

    /// No stop or restart yet.
    pub const REASON_NONE: u32 = 0;
    /// PSCI SYSTEM_OFF.
    pub const REASON_SYSTEM_OFF: u32 = 1;
    /// PSCI SYSTEM_RESET (or SYSTEM_RESET2).
    pub const REASON_SYSTEM_RESET: u32 = 2;
    /// A fault.
    pub const REASON_FAULT: u32 = 3;
    /// The last running vCPU called CPU_OFF.
    pub const REASON_CPU_OFF: u32 = 4;
    /// A management call or the hypervisor console.
    pub const REASON_MANAGEMENT: u32 = 5;
    /// It restarted more often than its `max-restarts` allows and stays off.
    pub const REASON_RESTART_LIMIT: u32 = 6;
    /// Its SBSA generic watchdog's second signal (WS1) rose.
    pub const REASON_WATCHDOG: u32 = 7;
    /// A DMA master of its faulted at the SMMU, and its `on-fault` is `stop`.
    pub const REASON_DEVICE_FAULT: u32 = 8;

    /// One LIST record, decoded: the one codec the hypervisor (which writes records), the shim
    /// and `bulkheadctl` (which read them) share.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Record {
        /// The name, NUL-padded (see [`Record::name`]).
        pub name: [u8; NAME_LEN],
        /// Its id (1-based).
        pub id: u32,
        /// `STATE_*`.
        pub state: u32,
        /// Its vCPU count.
        pub vcpus: u32,
        /// Bit n: a vCPU on physical CPU n.
        pub cpu_mask: u32,
        /// Restarts since boot.
        pub restarts: u64,
        /// `FLAG_*`.
        pub flags: u32,
        /// `REASON_*` of its last stop or restart.
        pub last_reason: u32,
        /// Trap counts summed over its vCPUs (call, mmio, sysreg, irq, wfx, fault, call-fast,
        /// irq-fast).
        pub traps: [u64; TRAP_COUNTERS],
    }

    fn get<const N: usize>(bytes: &[u8; RECORD_SIZE], at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(slice) = bytes.get(at..at + N) {
            out.copy_from_slice(slice);
        }
        out
    }

    fn put(bytes: &mut [u8; RECORD_SIZE], at: usize, value: &[u8]) {
        if let Some(slot) = bytes.get_mut(at..at + value.len()) {
            slot.copy_from_slice(value);
        }
    }

    impl Record {
        /// Decodes a record (little-endian, at the offsets above).
        pub fn decode(bytes: &[u8; RECORD_SIZE]) -> Self {
            let mut traps = [0u64; TRAP_COUNTERS];
            for (i, count) in traps.iter_mut().enumerate() {
                *count = u64::from_le_bytes(get(bytes, TRAPS + i * 8));
            }
            Record {
                name: get(bytes, NAME),
                id: u32::from_le_bytes(get(bytes, ID)),
                state: u32::from_le_bytes(get(bytes, STATE)),
                vcpus: u32::from_le_bytes(get(bytes, VCPUS)),
                cpu_mask: u32::from_le_bytes(get(bytes, CPU_MASK)),
                restarts: u64::from_le_bytes(get(bytes, RESTARTS)),
                flags: u32::from_le_bytes(get(bytes, FLAGS)),
                last_reason: u32::from_le_bytes(get(bytes, LAST_REASON)),
                traps,
            }
        }

        /// Encodes it as LIST writes it.
        pub fn encode(&self) -> [u8; RECORD_SIZE] {
            let mut bytes = [0u8; RECORD_SIZE];
            put(&mut bytes, NAME, &self.name);
            put(&mut bytes, ID, &self.id.to_le_bytes());
            put(&mut bytes, STATE, &self.state.to_le_bytes());
            put(&mut bytes, VCPUS, &self.vcpus.to_le_bytes());
            put(&mut bytes, CPU_MASK, &self.cpu_mask.to_le_bytes());
            put(&mut bytes, RESTARTS, &self.restarts.to_le_bytes());
            put(&mut bytes, FLAGS, &self.flags.to_le_bytes());
            put(&mut bytes, LAST_REASON, &self.last_reason.to_le_bytes());
            for (i, count) in self.traps.iter().enumerate() {
                put(&mut bytes, TRAPS + i * 8, &count.to_le_bytes());
            }
            bytes
        }

        /// The name as text, up to its first NUL ("?" if it is not UTF-8).
        pub fn name(&self) -> &str {
            let len = self.name.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
            self.name
                .get(..len)
                .and_then(|n| core::str::from_utf8(n).ok())
                .unwrap_or("?")
        }

        /// Sets the name (cut to [`NAME_LEN`] bytes).
        pub fn set_name(&mut self, name: &str) {
            self.name = [0; NAME_LEN];
            for (slot, byte) in self.name.iter_mut().zip(name.bytes()) {
                *slot = byte;
            }
        }
    }

    /// The word a `STATE_*` is printed as.
    pub fn state_name(state: u32) -> &'static str {
        match state {
            STATE_RUNNING => "running",
            STATE_STOPPED => "stopped",
            _ => "refused",
        }
    }
}

/// The management window (`docs/guest-abi.md`, "The management window"): a 4 KiB register
/// page through which the privileged partition's userspace makes the management calls.
pub mod window {
    /// The window's size in bytes.
    pub const SIZE: usize = 0x1000;
    /// u32 RW: the function ID (W0).
    pub const FUNCTION: usize = 0x000;
    /// u64 RW: X1; X2 and X3 follow 8 bytes apart.
    pub const ARG1: usize = 0x008;
    /// u32 WO: any write makes the call.
    pub const CALL: usize = 0x020;
    /// u32 RO: [`IDENT_VALUE`].
    pub const IDENT: usize = 0x030;
    /// u64 RO: X0 of the call; X1..X3 follow 8 bytes apart.
    pub const RESULT0: usize = 0x040;
    /// RO: the call's buffer, [`DATA_SIZE`] bytes (LIST writes its records here).
    pub const DATA: usize = 0x800;
    /// The DATA area's size in bytes.
    pub const DATA_SIZE: usize = 0x100;
    /// What IDENT reads: "BHMW" in ASCII, little-endian.
    pub const IDENT_VALUE: u32 = u32::from_le_bytes(*b"BHMW");
    /// The `compatible` of the window's guest device tree node.
    pub const COMPATIBLE: &str = "bulkhead,management";
}

/// Return codes (W0/X0, sign-extended), by interface: each interface numbers its own.
pub mod error {
    /// SMCCC architecture call return codes (Arm DEN0028, "Return Codes").
    pub mod smccc {
        pub use smccc::arch::error::{INVALID_PARAMETER, NOT_REQUIRED, NOT_SUPPORTED};
    }

    /// PSCI return codes (Arm DEN0022, 5.2.2 "Return error codes").
    pub mod psci {
        pub use smccc::psci::error::{
            ALREADY_ON, DENIED, DISABLED, INTERNAL_FAILURE, INVALID_ADDRESS, INVALID_PARAMETERS,
            NOT_PRESENT, NOT_SUPPORTED, ON_PENDING,
        };
    }

    /// TRNG return codes (Arm DEN0098, 2.1 "Return codes").
    pub mod trng {
        /// NOT_SUPPORTED.
        pub const NOT_SUPPORTED: i32 = -1;
        /// INVALID_PARAMETERS.
        pub const INVALID_PARAMETERS: i32 = -2;
        /// NO_ENTROPY: no entropy right now; retry later.
        pub const NO_ENTROPY: i32 = -3;
    }

    /// Bulkhead's vendor calls: the SMCCC codes, and one of their own (`docs/guest-abi.md`).
    pub mod vendor {
        pub use super::smccc::{INVALID_PARAMETER, NOT_SUPPORTED};
        /// BULKHEAD_DOORBELL_RING: the peer partition is not running.
        pub const PEER_DOWN: i32 = -4;
        /// The management calls, from a partition the configuration does not mark
        /// `privileged`.
        pub const DENIED: i32 = -5;
        /// BULKHEAD_MGMT_START of a partition that runs, STOP of one that is stopped, or any
        /// of them on a partition that was refused at boot.
        pub const WRONG_STATE: i32 = -6;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_ids_are_the_specifications_values() {
        assert_eq!(psci::VERSION, 0x8400_0000);
        assert_eq!(psci::CPU_ON_64, 0xc400_0003);
        assert_eq!(psci::SYSTEM_RESET2, 0x8400_0012);
        assert_eq!(arm::SOC_ID_64, 0xc000_0002);
        assert_eq!(trng::RND64, 0xc400_0053);
    }

    #[test]
    fn vendor_ids_are_owner_6_fast_calls() {
        for id in [
            vendor::FEATURES,
            vendor::CONSOLE_READ,
            vendor::DOORBELL_INFO,
            vendor::CALL_UID,
        ] {
            assert_eq!(id >> 24, 0x86, "{id:#x}");
        }
        assert_eq!(vendor::id(*vendor::RESERVED_WATCHDOG.start()), 0x8600_0200);
        assert_eq!(
            vendor::id(*vendor::RESERVED_MANAGEMENT.start()),
            vendor::MGMT_LIST
        );
    }

    #[test]
    fn management_records_fields_fit_the_record() {
        assert_eq!(mgmt::TRAPS + mgmt::TRAP_COUNTERS * 8, mgmt::RECORD_SIZE);
        assert_eq!(mgmt::NAME + mgmt::NAME_LEN, mgmt::ID);
    }

    #[test]
    fn error_codes_are_the_specifications_values() {
        assert_eq!(error::smccc::INVALID_PARAMETER, -3);
        assert_eq!(error::psci::INVALID_ADDRESS, -9);
        assert_eq!(error::trng::NO_ENTROPY, -3);
        assert_eq!(error::vendor::PEER_DOWN, -4);
        assert_eq!(error::vendor::DENIED, -5);
        assert_eq!(error::vendor::WRONG_STATE, -6);
    }
}
