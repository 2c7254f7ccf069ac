//! `Exit::decode` on random syndrome snapshots: it never panics, and every exit it returns is
//! well-formed (fields within their encodings, the IPA built from HPFAR and FAR, unknown
//! syndromes kept whole).
#![no_main]

use arbitrary::Arbitrary;
use bulkhead::trap::sysreg::{set_way_operand, SysRegClass};
use bulkhead::trap::{exception_class_name, Exit, Snapshot, VectorKind};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    vector: u8,
    esr: u64,
    far: u64,
    hpfar: u64,
}

fuzz_target!(|input: Input| {
    let kind = VectorKind::lower(u64::from(input.vector));
    let snapshot = Snapshot {
        kind,
        esr: input.esr,
        far: input.far,
        hpfar: input.hpfar,
    };
    let exit = Exit::decode(&snapshot);
    assert_eq!(exit, Exit::decode(&snapshot), "decoding is a function");
    let ec = ((input.esr >> 26) & 0x3f) as u8;
    let _ = exception_class_name(ec);
    match exit {
        Exit::Irq => assert!(matches!(kind, VectorKind::Irq | VectorKind::Fiq)),
        Exit::SError => assert_eq!(kind, VectorKind::SError),
        Exit::Unknown { ec: got, esr } => {
            assert_eq!(
                (got, esr),
                (ec, input.esr),
                "an unknown syndrome is kept whole"
            );
        }
        Exit::Call { aarch32, .. } => {
            assert!(matches!(ec, 0x12 | 0x13 | 0x16 | 0x17), "EC {ec:#x}");
            assert_eq!(aarch32, matches!(ec, 0x12 | 0x13));
            assert!(kind == VectorKind::Sync || kind == VectorKind::Aarch32);
        }
        Exit::DataAbort {
            ipa,
            far,
            access,
            write,
            ..
        } => {
            assert_eq!(kind, VectorKind::Sync);
            assert_eq!(ec, 0x24);
            assert_eq!(far, input.far);
            assert!(ipa < 1 << 52, "IPA {ipa:#x} wider than 52 bits");
            assert_eq!(ipa & 0xfff, far & 0xfff, "the page offset comes from FAR");
            if let Some(access) = access {
                // SAS (ISS bits [23:22]) is the log2 of the access size.
                let sas = (input.esr >> 22) & 3;
                assert_eq!(u64::from(access.width.bytes()), 1 << sas, "{access:?}");
                assert!(access.register <= 31, "{access:?}");
                assert_eq!(access.write, write);
            }
        }
        Exit::InstructionAbort { ipa, far } => {
            assert_eq!((kind, ec), (VectorKind::Sync, 0x20));
            assert!(ipa < 1 << 52);
            assert_eq!(ipa & 0xfff, far & 0xfff);
        }
        Exit::Wfx { .. } => assert_eq!((kind, ec), (VectorKind::Sync, 0x01)),
        Exit::SysReg { register, rt, .. } => {
            assert_eq!((kind, ec), (VectorKind::Sync, 0x18));
            // Every encoding has a family (never a panic); an ID register's place is CRm 1..=7.
            if let SysRegClass::Id { crm, op2 } = SysRegClass::of(register) {
                assert!((1..=7).contains(&crm) && op2 <= 7);
            }
            let (level, _) = set_way_operand(snapshot.far);
            assert!(level <= 7);
            assert!(register.op0 <= 3 && register.op1 <= 7 && register.op2 <= 7);
            assert!(register.crn <= 15 && register.crm <= 15 && rt <= 31);
        }
    }
});
