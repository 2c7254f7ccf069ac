//! `abi=1`: calls every function of Bulkhead's guest ABI (docs/guest-abi.md), error paths
//! included, and prints one `HIL:TEST` line per result and a final `HIL:CHECKS` line.

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::bulkhead::{self, DoorbellError, GuestBuffer};
use guest_shim::console::Pl011;
use guest_shim::psci::{self, PsciError, ResetType};
use guest_shim::smccc::{self, SmcccError, SocIdType, Version, Workaround};
use guest_shim::trng::{self, TrngError};

use crate::guest::Checks;

/// The UUIDs Bulkhead's TRNG reports (DRBG, RNDR back ends).
const TRNG_UUIDS: [[u8; 16]; 2] = [
    [
        0x70, 0x20, 0xce, 0xc6, 0xd3, 0x50, 0x4c, 0x1c, 0xbf, 0x6d, 0x46, 0xdb, 0x58, 0xe8, 0x18,
        0x3b,
    ],
    [
        0x54, 0x76, 0x9d, 0xc3, 0x08, 0xe4, 0x40, 0x9e, 0x9b, 0x1d, 0x67, 0x81, 0x21, 0xe1, 0x1a,
        0xc9,
    ],
];
/// A SiP service query (SiP Call UID), allow-listed in `shim-abi.dts` for partition `abi`.
const SIP_CALL_UID: u32 = 0x8200_ff01;
/// SiP Revision: never allow-listed.
const SIP_REVISION: u32 = 0x8200_ff03;
/// Marker values passed in X1..X3 to calls that go (or must not go) to the firmware: QEMU's
/// firmware leaves X1..X3 alone, Bulkhead's own NOT_SUPPORTED clears them.
const MARKERS: [u64; 3] = [0x1111, 0x2222, 0x3333];
/// The virtual PL011's IPA: MMIO, never a buffer.
const CONSOLE_IPA: u64 = 0x0900_0000;
/// An IPA nothing is mapped at.
const UNMAPPED_IPA: u64 = 0x8000_0000;

fn is(result: Result<u32, SmcccError>, error: SmcccError) -> bool {
    result == Err(error)
}

/// Runs every check and prints the totals.
pub fn run(out: &mut Pl011, info: &BootInfo<'_>) {
    let mut checks = Checks {
        out,
        passed: 0,
        failed: 0,
    };
    arch_calls(&mut checks);
    psci_calls(&mut checks);
    trng_calls(&mut checks);
    vendor_calls(&mut checks, info);
    firmware_policy(&mut checks, info.arg("smc-allowed") == Some("1"));
    let (passed, failed) = (checks.passed, checks.failed);
    let _ = writeln!(checks.out, "HIL:CHECKS passed={passed} failed={failed}");
}

fn arch_calls(c: &mut Checks<'_>) {
    let version = smccc::version();
    c.check(
        "abi-smccc-version",
        version == Ok(Version { major: 1, minor: 2 }),
        format_args!("{version:?}"),
    );
    for (name, id) in [
        ("smccc-version", smccc::SMCCC_VERSION),
        ("smccc-arch-features", smccc::SMCCC_ARCH_FEATURES),
        ("soc-id", smccc::SMCCC_ARCH_SOC_ID),
        ("psci-system-reset2", psci::SYSTEM_RESET2),
        ("psci-cpu-on-64", psci::CPU_ON_64),
        ("trng-rnd64", trng::TRNG_RND64),
        ("vendor-call-uid", bulkhead::CALL_UID),
        ("vendor-console-write-64", bulkhead::CONSOLE_WRITE),
    ] {
        let result = smccc::arch_features(id);
        c.check(
            "abi-arch-features",
            result == Ok(0),
            format_args!("{name} {id:#010x} -> {result:?}"),
        );
    }
    for id in [0x8000_0003, 0xc000_0000, psci::PSCI_VERSION | 1 << 30] {
        let result = smccc::arch_features(id);
        c.check(
            "abi-arch-features-unknown",
            is(result, SmcccError::NotSupported),
            format_args!("{id:#010x} -> {result:?}"),
        );
    }
    let version = smccc::soc_id(SocIdType::Version);
    c.check(
        "abi-soc-id-version",
        matches!(version, Ok(v) if v >> 16 == 0x043b),
        format_args!("{version:x?} (JEP-106 Arm bank 5 code 0x3b, then the MIDR part number)"),
    );
    let revision = smccc::soc_id(SocIdType::Revision);
    c.check(
        "abi-soc-id-revision",
        revision.is_ok(),
        format_args!("{revision:x?}"),
    );
    let bad = smccc::result_w0(smccc::call(smccc::SMCCC_ARCH_SOC_ID, [7, 0, 0, 0, 0, 0])[0]);
    c.check(
        "abi-soc-id-bad-type",
        is(bad, SmcccError::InvalidParameter),
        format_args!("{bad:?}"),
    );
    for workaround in [
        Workaround::BranchPredictor,
        Workaround::SpeculativeStoreBypass,
        Workaround::BranchHistory,
    ] {
        let result = smccc::workaround_features(workaround);
        c.check(
            "abi-workaround-not-claimed",
            is(result, SmcccError::NotSupported),
            format_args!("{workaround:?} -> {result:?}"),
        );
    }
    let call = smccc::result_w0(smccc::call(smccc::SMCCC_ARCH_WORKAROUND_1, [0; 6])[0]);
    c.check(
        "abi-workaround-1-call",
        is(call, SmcccError::NotSupported),
        format_args!("{call:?}"),
    );
}

fn psci_calls(c: &mut Checks<'_>) {
    let version = psci::version();
    c.check(
        "abi-psci-version",
        version == Version { major: 1, minor: 1 },
        format_args!("{version}"),
    );
    for (name, id) in [
        ("system-reset2", psci::SYSTEM_RESET2),
        ("system-reset2-64", psci::SYSTEM_RESET2_64),
        ("cpu-on-64", psci::CPU_ON_64),
        ("migrate-info-type", psci::MIGRATE_INFO_TYPE),
        ("smccc-version", smccc::SMCCC_VERSION),
    ] {
        let result = psci::features(id);
        c.check(
            "abi-psci-features",
            result == Ok(0),
            format_args!("{name} -> {result:?}"),
        );
    }
    for (name, id) in [
        ("system-off-64", psci::SYSTEM_OFF | 1 << 30),
        ("version-64", psci::PSCI_VERSION | 1 << 30),
        ("migrate", 0x8400_0005),
    ] {
        let result = psci::features(id);
        c.check(
            "abi-psci-features-absent",
            is(result, SmcccError::NotSupported),
            format_args!("{name} -> {result:?}"),
        );
    }
    let migrate = psci::migrate_info_type();
    c.check(
        "abi-psci-migrate-info-type",
        migrate == Ok(2),
        format_args!("{migrate:?}"),
    );
    let off64 = smccc::result_w0(smccc::call(psci::SYSTEM_OFF | 1 << 30, [0; 6])[0]);
    c.check(
        "abi-psci-system-off-64-is-not-a-call",
        is(off64, SmcccError::NotSupported),
        format_args!("{off64:?}"),
    );
    let reserved = psci::system_reset2(ResetType::Architectural(1), 0);
    c.check(
        "abi-psci-reset2-reserved-type",
        reserved == PsciError::InvalidParameters,
        format_args!("{reserved:?}"),
    );
    let vendor = psci::system_reset2(ResetType::Vendor(0x42), 0);
    c.check(
        "abi-psci-reset2-vendor-type",
        vendor == PsciError::NotSupported,
        format_args!("{vendor:?}"),
    );
}

fn trng_calls(c: &mut Checks<'_>) {
    let version = trng::version();
    c.check(
        "abi-trng-version",
        version == Ok(Version { major: 1, minor: 0 }),
        format_args!("{version:?}"),
    );
    for id in [
        trng::TRNG_VERSION,
        trng::TRNG_FEATURES,
        trng::TRNG_GET_UUID,
        trng::TRNG_RND32,
        trng::TRNG_RND64,
    ] {
        let result = trng::features(id);
        c.check(
            "abi-trng-features",
            result == Ok(0),
            format_args!("{id:#010x} -> {result:?}"),
        );
    }
    let unknown = trng::features(0x8400_0054);
    c.check(
        "abi-trng-features-unknown",
        unknown == Err(TrngError::NotSupported),
        format_args!("{unknown:?}"),
    );
    let uuid = trng::uuid();
    c.check(
        "abi-trng-uuid",
        matches!(uuid, Ok(u) if TRNG_UUIDS.contains(&u)),
        format_args!("{uuid:02x?}"),
    );
    let rnd32 = trng::rnd32(96);
    c.check(
        "abi-trng-rnd32-96",
        matches!(rnd32, Ok(words) if words != [0; 3]),
        format_args!("{rnd32:08x?}"),
    );
    let rnd32 = trng::rnd32(8);
    c.check(
        "abi-trng-rnd32-8",
        matches!(rnd32, Ok([0, 0, low]) if low < 256),
        format_args!("{rnd32:x?}"),
    );
    let first = trng::rnd64(192);
    let second = trng::rnd64(192);
    c.check(
        "abi-trng-rnd64-192",
        matches!((first, second), (Ok(a), Ok(b)) if a != b && a != [0; 3]),
        format_args!("{first:016x?} then {second:016x?}"),
    );
    if let Ok([x1, x2, x3]) = first {
        let _ = writeln!(c.out, "HIL:RANDOM {x1:016x}{x2:016x}{x3:016x}");
    }
    let rnd64 = trng::rnd64(64);
    c.check(
        "abi-trng-rnd64-64",
        matches!(rnd64, Ok([0, 0, _])),
        format_args!("{rnd64:x?}"),
    );
    for (name, result) in [
        ("rnd64-0", trng::rnd64(0).map(|_| ())),
        ("rnd64-193", trng::rnd64(193).map(|_| ())),
        ("rnd32-97", trng::rnd32(97).map(|_| ())),
    ] {
        c.check(
            "abi-trng-bad-bit-count",
            result == Err(TrngError::InvalidParameters),
            format_args!("{name} -> {result:?}"),
        );
    }
}

fn vendor_calls(c: &mut Checks<'_>, info: &BootInfo<'_>) {
    let Some(hv) = bulkhead::detect() else {
        c.check("abi-bulkhead-detect", false, format_args!("UID mismatch"));
        return;
    };
    c.check(
        "abi-bulkhead-detect",
        hv.revision() == Version { major: 1, minor: 1 },
        format_args!("revision {}", hv.revision()),
    );
    for (name, id, expected) in [
        ("partition-info", bulkhead::PARTITION_INFO, Ok(0)),
        ("console-read-64", bulkhead::CONSOLE_READ, Ok(0)),
        ("doorbell-ring", bulkhead::DOORBELL_RING, Ok(0)),
        ("doorbell-info", bulkhead::DOORBELL_INFO, Ok(0)),
        (
            "doorbell-ring-64",
            bulkhead::DOORBELL_RING | 1 << 30,
            Err(SmcccError::NotSupported),
        ),
        (
            "reserved-ipc",
            bulkhead::RESERVED_IPC,
            Err(SmcccError::NotSupported),
        ),
        (
            "call-uid-64",
            bulkhead::CALL_UID | 1 << 30,
            Err(SmcccError::NotSupported),
        ),
    ] {
        let result = hv.features(id);
        c.check(
            "abi-vendor-features",
            result == expected,
            format_args!("{name} -> {result:?}"),
        );
    }
    let me = hv.partition_info();
    c.check(
        "abi-vendor-partition-info",
        matches!(me, Ok(p) if p.id >= 1 && p.vcpus == 1 && p.vcpu == 0),
        format_args!("{me:?}"),
    );
    if let Ok(me) = me {
        let _ = writeln!(c.out, "HIL:PARTITION id={} vcpus={}", me.id, me.vcpus);
    }
    // No partition of this scenario has a channel: every doorbell index is refused.
    let (ring, query) = (hv.doorbell_ring(0), hv.doorbell_info(0));
    c.check(
        "abi-vendor-doorbell-none",
        ring == Err(DoorbellError::NoSuchDoorbell) && query == Err(DoorbellError::NoSuchDoorbell),
        format_args!("ring(0) -> {ring:?}, info(0) -> {query:?}"),
    );
    let over_smc = smccc::call_smc(bulkhead::PARTITION_INFO, [0; 6]);
    c.check(
        "abi-vendor-over-smc",
        me.is_ok_and(|p| over_smc == [0, p.id, p.vcpus, p.vcpu]),
        format_args!("{over_smc:x?}"),
    );

    let expected = info.arg("expect-name").unwrap_or("");
    let mut name = [0u8; 32];
    let len = hv.partition_name(&mut name);
    let got = len
        .ok()
        .and_then(|n| name.get(..n))
        .and_then(|b| core::str::from_utf8(b).ok());
    c.check(
        "abi-vendor-partition-name",
        got == Some(expected),
        format_args!("{got:?} ({len:?})"),
    );
    let mut short = [0xeeu8; 4];
    let len = hv.partition_name(&mut short[..3]);
    c.check(
        "abi-vendor-partition-name-short-buffer",
        len == Ok(expected.len()) && short[3] == 0xee,
        format_args!("{len:?} {short:02x?}"),
    );
    let len = hv.partition_name_into(GuestBuffer::from_raw(UNMAPPED_IPA, 0));
    c.check(
        "abi-vendor-partition-name-length-only",
        len == Ok(expected.len() as u64),
        format_args!("{len:?}"),
    );

    let mut line = [0u8; 96];
    let text = format_into(
        &mut line,
        format_args!("HIL:HCONSOLE hello from {expected}\n"),
    );
    let written = hv.console_write(text);
    c.check(
        "abi-vendor-console-write-buffer",
        written == Ok(text.len()),
        format_args!("{written:?}"),
    );
    let written = hv.console_write_registers(b"HIL:HREGS bytes in registers\n");
    c.check(
        "abi-vendor-console-write-registers",
        written == Ok(29),
        format_args!("{written:?}"),
    );
    let too_long = smccc::call(bulkhead::CONSOLE_WRITE, [41, 0, 0, 0, 0, 0]);
    c.check(
        "abi-vendor-console-write-registers-too-long",
        SmcccError::from_register(too_long[0]) == Some(SmcccError::InvalidParameter),
        format_args!("{:#x}", too_long[0]),
    );
    let mut input = [0u8; 16];
    let read = hv.console_read(&mut input);
    c.check(
        "abi-vendor-console-read",
        read == Ok(0),
        format_args!("{read:?} (no console input yet)"),
    );

    let ram_end = info
        .arg("ram-end")
        .and_then(parse_u64)
        .unwrap_or(0x4100_0000);
    for (case, buffer) in [
        ("unmapped", GuestBuffer::from_raw(UNMAPPED_IPA, 16)),
        ("straddles-ram-end", GuestBuffer::from_raw(ram_end - 8, 16)),
        ("console-mmio", GuestBuffer::from_raw(CONSOLE_IPA, 16)),
        ("wraps", GuestBuffer::from_raw(u64::MAX - 7, 16)),
    ] {
        for (call, result) in [
            ("partition-name", hv.partition_name_into(buffer)),
            ("console-write", hv.console_write_from(buffer)),
            ("console-read", hv.console_read_into(buffer)),
        ] {
            c.check(
                "abi-vendor-bad-pointer",
                result == Err(SmcccError::InvalidParameter),
                format_args!(
                    "{call} {case} {:#x}+{} -> {result:?}",
                    buffer.ipa, buffer.len
                ),
            );
        }
    }

    for (name, id) in [
        ("unknown", 0x8600_0003),
        ("call-count", 0x8600_ff00),
        ("reserved-ipc", bulkhead::RESERVED_IPC),
        ("reserved-watchdog", bulkhead::RESERVED_WATCHDOG),
        ("reserved-management", bulkhead::RESERVED_MANAGEMENT + 0xff),
        ("uid-64", bulkhead::CALL_UID | 1 << 30),
        ("standard-hypervisor", 0xc500_0020),
        ("sip-over-hvc", 0x8200_0001),
        ("trusted-os", 0xbf00_0000),
    ] {
        let x0 = smccc::call(id, [1, 2, 3, 4, 5, 6])[0];
        c.check(
            "abi-unknown-id",
            SmcccError::from_w0(x0) == Some(SmcccError::NotSupported),
            format_args!("{name} {id:#010x} -> {x0:#x}"),
        );
    }
}

fn firmware_policy(c: &mut Checks<'_>, allowed: bool) {
    let [x0, x1, x2, x3] =
        smccc::call_smc(SIP_REVISION, [MARKERS[0], MARKERS[1], MARKERS[2], 0, 0, 0]);
    c.check(
        "abi-smc-not-allow-listed",
        SmcccError::from_w0(x0) == Some(SmcccError::NotSupported) && [x1, x2, x3] == [0; 3],
        format_args!(
            "{SIP_REVISION:#010x} -> [{x0:#x}, {x1:#x}, {x2:#x}, {x3:#x}] (answered by Bulkhead)"
        ),
    );
    let [x0, x1, x2, x3] =
        smccc::call_smc(SIP_CALL_UID, [MARKERS[0], MARKERS[1], MARKERS[2], 0, 0, 0]);
    if allowed {
        // QEMU's built-in firmware answers every non-PSCI SMC with NOT_SUPPORTED and leaves
        // X1..X3 as they were: seeing the markers back proves the call went to the firmware.
        c.check(
            "abi-smc-allow-listed",
            SmcccError::from_w0(x0) == Some(SmcccError::NotSupported) && [x1, x2, x3] == MARKERS,
            format_args!("{SIP_CALL_UID:#010x} -> [{x0:#x}, {x1:#x}, {x2:#x}, {x3:#x}] (answered by the firmware)"),
        );
    } else {
        c.check(
            "abi-smc-sip-uid-not-forwarded",
            SmcccError::from_w0(x0) == Some(SmcccError::NotSupported) && [x1, x2, x3] == [0; 3],
            format_args!("{SIP_CALL_UID:#010x} -> [{x0:#x}, {x1:#x}, {x2:#x}, {x3:#x}] (not on this partition's smc-allow list)"),
        );
    }
    let version = smccc::call_smc(psci::PSCI_VERSION, [0; 6])[0];
    c.check(
        "abi-smc-psci-served-by-bulkhead",
        version == 0x1_0001,
        format_args!("{version:#x}"),
    );
}

/// Formats into `buffer` (truncating) and returns the bytes written.
fn format_into<'a>(buffer: &'a mut [u8], args: core::fmt::Arguments<'_>) -> &'a [u8] {
    struct Cursor<'b> {
        buffer: &'b mut [u8],
        len: usize,
    }
    impl Write for Cursor<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for &byte in s.as_bytes() {
                if let Some(slot) = self.buffer.get_mut(self.len) {
                    *slot = byte;
                    self.len += 1;
                }
            }
            Ok(())
        }
    }
    let mut cursor = Cursor { buffer, len: 0 };
    let _ = cursor.write_fmt(args);
    let len = cursor.len;
    &cursor.buffer[..len]
}
