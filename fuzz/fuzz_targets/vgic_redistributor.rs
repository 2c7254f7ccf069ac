//! The virtual GICv3 redistributors (`bulkhead::vgic::redistributor`) under random sequences
//! of guest reads and writes at random (aligned) offsets and widths in random vCPUs' frames: it
//! never panics, 32-bit registers read within 32 bits, and effects touch only the SGIs and
//! PPIs of the vCPU whose frame was written.
#![no_main]

use arbitrary::Arbitrary;
use bulkhead::vgic::redistributor::{VirtualRedistributor, FRAME_STRIDE};
use bulkhead::vgic::{Effect, FIRST_SPI};
use libfuzzer_sys::fuzz_target;

/// GICR_TYPER, the only 64-bit register in the frames.
const TYPER: u64 = 0x0008;

#[derive(Arbitrary, Debug)]
struct Input {
    vcpus: u8,
    accesses: Vec<Access>,
}

#[derive(Arbitrary, Debug)]
struct Access {
    vcpu: u8,
    write: bool,
    offset: u32,
    size_log2: u8,
    value: u64,
}

fuzz_target!(|input: Input| {
    let vcpus = usize::from(input.vcpus % 8) + 1;
    let mut frames = vec![VirtualRedistributor::new(); vcpus];
    for access in input.accesses.iter().take(64) {
        let vcpu = usize::from(access.vcpu) % vcpus;
        let size = 1u8 << (access.size_log2 % 4);
        let offset = u64::from(access.offset) % FRAME_STRIDE & !(u64::from(size) - 1);
        let frame = &mut frames[vcpu];
        if !access.write {
            let value = frame.read(vcpu, vcpus, offset);
            if offset != TYPER {
                assert!(value >> 32 == 0, "read at {offset:#x} returned {value:#x}");
            }
            continue;
        }
        let effects = frame.write(vcpu, offset, size, access.value);
        for effect in &effects {
            let fine = match *effect {
                Effect::SetEnabled {
                    intid,
                    vcpu: target,
                    ..
                } => intid < FIRST_SPI && target == vcpu,
                Effect::SetPending { intid, .. } => intid < FIRST_SPI,
                Effect::InjectVirtual {
                    intid,
                    vcpu: target,
                    ..
                } => intid < FIRST_SPI && target == vcpu,
                Effect::Route { .. } | Effect::SetEdge { .. } => false,
            };
            assert!(
                fine,
                "write of {:#x} ({size} bytes) at {offset:#x} in vCPU {vcpu}'s frame: {effect:?}",
                access.value
            );
        }
    }
});
