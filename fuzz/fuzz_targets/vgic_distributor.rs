//! The virtual GIC distributor (`bulkhead::vgic::distributor`) under random sequences of guest
//! reads and writes at random (aligned) offsets and widths, for either GIC version: it never
//! panics, reads fit the access width, and every effect on the physical GIC stays inside the
//! partition (its own SPIs, its own vCPUs' SGIs and PPIs).
#![no_main]

use arbitrary::Arbitrary;
use bulkhead::vgic::distributor::{GicVersion, VirtualDistributor};
use bulkhead::vgic::irq_state::PrivateIrqs;
use bulkhead::vgic::{Effect, IntidSet, FIRST_SPI};
use libfuzzer_sys::fuzz_target;

/// The distributor's register window (GICD: 64 KiB).
const WINDOW: u64 = 0x1_0000;

#[derive(Arbitrary, Debug)]
struct Input {
    v3: bool,
    vcpus: u8,
    hardware: Vec<u16>,
    software: Vec<u16>,
    accesses: Vec<Access>,
}

#[derive(Arbitrary, Debug)]
struct Access {
    vcpu: u8,
    write: bool,
    offset: u16,
    size_log2: u8,
    value: u64,
}

fn set(intids: &[u16]) -> IntidSet {
    let mut set = IntidSet::default();
    for &intid in intids.iter().take(32) {
        set.insert(u32::from(intid) % 512);
    }
    set
}

fuzz_target!(|input: Input| {
    let vcpus = usize::from(input.vcpus % 8) + 1;
    let hardware = set(&input.hardware);
    let software = set(&input.software);
    let version = if input.v3 {
        GicVersion::V3
    } else {
        GicVersion::V2
    };
    let mut gicd = VirtualDistributor::new(version, vcpus, hardware.clone(), software.clone());
    let mut private = vec![PrivateIrqs::default(); vcpus];
    for access in input.accesses.iter().take(64) {
        let vcpu = usize::from(access.vcpu) % vcpus;
        let size = 1u8 << (access.size_log2 % 4);
        // The trap path hands the model aligned offsets inside its window.
        let offset = u64::from(access.offset) % WINDOW & !(u64::from(size) - 1);
        let bank = &mut private[vcpu];
        if !access.write {
            let value = gicd.read(vcpu, bank, offset, size);
            if size < 8 {
                assert!(
                    value >> (8 * u32::from(size)) == 0,
                    "{version:?} read of {size} bytes at {offset:#x} returned {value:#x}"
                );
            }
            continue;
        }
        let effects = gicd.write(vcpu, bank, offset, size, access.value);
        let ours = |intid: u32| intid >= FIRST_SPI && hardware.contains(intid);
        for effect in &effects {
            let fine = match *effect {
                Effect::SetEnabled {
                    intid,
                    vcpu: target,
                    ..
                } => ours(intid) || (intid < FIRST_SPI && target < vcpus),
                Effect::Route {
                    intid,
                    vcpu: target,
                } => ours(intid) && target < vcpus,
                Effect::SetEdge { intid, .. } => ours(intid),
                Effect::SetPending { intid, .. } => ours(intid) || intid < FIRST_SPI,
                Effect::InjectVirtual {
                    vcpu: target,
                    source,
                    ..
                } => target < vcpus && source < vcpus,
            };
            assert!(
                fine,
                "{version:?} write of {:#x} ({size} bytes) at {offset:#x} by vCPU {vcpu}: {effect:?}",
                access.value
            );
        }
    }
});
