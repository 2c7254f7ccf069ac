//! The rules of an access to an emulated device, in one place: widths, natural alignment,
//! and what a load leaves in its register (Arm ARM D19.2.46, ESR_EL2 ISS for data aborts:
//! SAS, SSE, SF).

pub use crate::trap::AccessWidth;
use crate::trap::MmioAccess;

/// Why an access to an emulated device cannot be emulated: the partition faults, with this in
/// its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmioFault {
    /// Not at the access's natural alignment (a real device would abort it).
    Unaligned,
    /// A width the register does not support.
    Width,
}

/// One access as a device sees it: where in its window, how wide, and by which vCPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceAccess {
    /// Offset in the device's window.
    pub offset: u64,
    /// The access width.
    pub width: AccessWidth,
    /// The accessing vCPU (index within its partition).
    pub vcpu: usize,
}

/// Checks the decoded access against the rules every emulated device obeys and makes it a
/// [`DeviceAccess`] at `offset` of its window.
///
/// Device registers are accessed at their natural alignment: an unaligned access is refused
/// (the guest faults, as it would on a real device). (The width needs no check: a syndrome
/// encodes only the four widths there are.)
#[inline]
pub fn check(
    access: &MmioAccess,
    ipa: u64,
    offset: u64,
    vcpu: usize,
) -> Result<DeviceAccess, MmioFault> {
    let width = access.width;
    // The address bits below the width's size: all zero when naturally aligned.
    if ipa & !(u64::MAX << (width as u8)) != 0 {
        return Err(MmioFault::Unaligned);
    }
    Ok(DeviceAccess {
        offset,
        width,
        vcpu,
    })
}

/// The value a store of register `value` writes: the register's low `width` bits.
pub fn stored_value(access: &MmioAccess, value: u64) -> u64 {
    access.width.truncate(value)
}

/// What a load leaves in its destination register, given the device's `raw` value:
/// truncated to the access width, sign-extended when the syndrome says so (SSE: `ldrsb`,
/// `ldrsh`, `ldrsw`), and limited to 32 bits for a W-register destination (SF = 0).
#[inline]
pub fn loaded_value(access: &MmioAccess, raw: u64) -> u64 {
    // Move the access's top bit to bit 63, then back: arithmetically to sign-extend.
    let unused = 64 - access.width.bits();
    let value = if access.sign_extend {
        (((raw << unused) as i64) >> unused) as u64
    } else {
        access.width.truncate(raw)
    };
    if access.sixty_four {
        value
    } else {
        value & 0xffff_ffff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(size: u8, sign_extend: bool, sixty_four: bool) -> MmioAccess {
        MmioAccess {
            write: false,
            width: AccessWidth::from_bytes(size).unwrap(),
            register: 0,
            sign_extend,
            sixty_four,
        }
    }

    #[test]
    fn ldrsb_to_an_x_register_sign_extends_to_64_bits() {
        // ldrsb x0, [x1]: SAS = byte, SSE = 1, SF = 1.
        assert_eq!(
            loaded_value(&load(1, true, true), 0xf0),
            0xffff_ffff_ffff_fff0
        );
    }

    #[test]
    fn ldrsh_to_a_w_register_sign_extends_to_32_bits_only() {
        // ldrsh w0, [x1]: SSE = 1, SF = 0: the upper 32 bits of x0 are zero.
        assert_eq!(loaded_value(&load(2, true, false), 0x8001), 0xffff_8001);
    }

    #[test]
    fn ldrsw_sign_extends_a_word() {
        assert_eq!(
            loaded_value(&load(4, true, true), 0x8000_0000),
            0xffff_ffff_8000_0000
        );
    }

    #[test]
    fn unsigned_loads_zero_extend_and_truncate_to_the_width() {
        assert_eq!(loaded_value(&load(1, false, true), 0x1234_56f0), 0xf0);
        assert_eq!(loaded_value(&load(2, false, false), 0xffff_8001), 0x8001);
        assert_eq!(loaded_value(&load(4, false, false), u64::MAX), 0xffff_ffff);
        assert_eq!(loaded_value(&load(8, false, true), u64::MAX), u64::MAX);
    }

    #[test]
    fn positive_values_are_not_changed_by_sign_extension() {
        assert_eq!(loaded_value(&load(1, true, true), 0x7f), 0x7f);
    }

    #[test]
    fn stores_write_the_low_bits_of_the_register() {
        let store = MmioAccess {
            write: true,
            ..load(2, false, false)
        };
        assert_eq!(stored_value(&store, 0xdead_beef), 0xbeef);
    }

    #[test]
    fn accesses_must_be_naturally_aligned() {
        let word = load(4, false, false);
        assert_eq!(check(&word, 0x0800_0002, 2, 0), Err(MmioFault::Unaligned));
        assert!(check(&word, 0x0800_0004, 4, 0).is_ok());
        let byte = load(1, false, false);
        assert!(check(&byte, 0x0800_0003, 3, 0).is_ok());
    }
}
