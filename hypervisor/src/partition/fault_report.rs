//! The report printed when a partition is stopped by a fault.

use core::fmt;

use crate::trap::{exception_class_name, Exit};

/// Everything known about a fault that stopped a partition.
#[derive(Clone, Copy, Debug)]
pub struct FaultReport<'a> {
    /// The partition's name.
    pub partition: &'a str,
    /// Its id.
    pub id: usize,
    /// The vCPU that faulted.
    pub vcpu: usize,
    /// The physical CPU it ran on.
    pub cpu: usize,
    /// The decoded exit.
    pub exit: Exit,
    /// ESR_EL2.
    pub esr: u64,
    /// The guest's PC (ELR_EL2).
    pub elr: u64,
    /// The instruction word at ELR, if it could be read.
    pub instruction: Option<u32>,
    /// The faulting IPA belongs to a device the hypervisor emulates for the partition.
    pub emulated: bool,
    /// The guest's own exception registers (EL1) when it stopped.
    pub guest: GuestException,
}

/// The exception registers of a guest's EL1 when it stopped: its last exception taken at
/// EL1, which is the *first* of the chain when the fault that stopped it came while taking it
/// (a fetch from its vectors).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestException {
    /// ESR_EL1 (0: it never took one).
    pub esr: u64,
    /// ELR_EL1.
    pub elr: u64,
    /// FAR_EL1.
    pub far: u64,
    /// VBAR_EL1.
    pub vbar: u64,
}

impl GuestException {
    /// Whether `pc` lies in the guest's vector table.
    fn in_vectors(&self, pc: u64) -> bool {
        let base = self.vbar & !0x7ff;
        pc.wrapping_sub(base) < 0x800
    }
}

impl fmt::Display for FaultReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ec = ((self.esr >> 26) & 0x3f) as u8;
        write!(
            f,
            "partition \"{}\" (id {}) stopped: ",
            self.partition, self.id
        )?;
        match self.exit {
            Exit::DataAbort {
                ipa,
                far,
                write,
                access,
                ..
            } if self.emulated => {
                let what = if write { "write" } else { "read" };
                match access {
                    // ISV = 0: a load/store pair or writeback form the hypervisor cannot emulate.
                    None => write!(
                        f,
                        "{what} to an emulated device at IPA {ipa:#018x} (VA {far:#018x}) without \
                         a usable syndrome: use one load or store without writeback, not a pair"
                    )?,
                    Some(access) => write!(
                        f,
                        "unaligned {}-byte {what} of an emulated device at IPA {ipa:#018x} \
                         (VA {far:#018x})",
                        access.width.bytes()
                    )?,
                }
            }
            Exit::DataAbort {
                ipa, far, write, ..
            } => write!(
                f,
                "{} outside its memory at IPA {ipa:#018x} (VA {far:#018x})",
                if write { "write" } else { "read" }
            )?,
            Exit::InstructionAbort { ipa, far } => write!(
                f,
                "instruction fetch outside its memory at IPA {ipa:#018x} (VA {far:#018x})"
            )?,
            Exit::SError => write!(f, "SError")?,
            _ => write!(f, "unhandled trap: {}", exception_class_name(ec))?,
        }
        write!(
            f,
            "\n    vCPU {} on CPU {}: instruction at ELR {:#018x}",
            self.vcpu, self.cpu, self.elr
        )?;
        if let Some(word) = self.instruction {
            write!(f, " = {word:#010x}")?;
        }
        write!(
            f,
            "; ESR {:#010x} (EC {ec:#04x}: {})",
            self.esr,
            exception_class_name(ec)
        )?;
        let guest = &self.guest;
        if guest.esr == 0 {
            return Ok(());
        }
        let guest_ec = ((guest.esr >> 26) & 0x3f) as u8;
        let what = if guest.in_vectors(self.elr) {
            "first exception (the guest's own, which it faulted taking: its vectors are at VBAR_EL1"
        } else {
            "last exception the guest took itself (vectors at VBAR_EL1"
        };
        write!(
            f,
            "\n    {what} {:#x}): ESR_EL1 {:#010x} (EC {guest_ec:#04x}: {}) at ELR_EL1 {:#018x}, FAR_EL1 {:#018x}",
            guest.vbar,
            guest.esr,
            exception_class_name(guest_ec),
            guest.elr,
            guest.far
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn emulated_device_faults_say_why_they_cannot_be_emulated() {
        let mut report = FaultReport {
            partition: "bench",
            id: 1,
            vcpu: 0,
            cpu: 0,
            exit: Exit::DataAbort {
                ipa: 0x080b_0080,
                far: 0x080b_0080,
                access: None,
                write: true,
                stage1_walk: false,
            },
            esr: 0x9200_0045,
            elr: 0x4000_29b4,
            instruction: None,
            emulated: true,
            guest: GuestException::default(),
        };
        assert!(report.to_string().contains("without a usable syndrome"));
        report.exit = Exit::DataAbort {
            ipa: 0x080a_0401,
            far: 0x080a_0401,
            access: Some(crate::trap::MmioAccess {
                write: true,
                width: crate::trap::AccessWidth::Word,
                register: 1,
                sign_extend: false,
                sixty_four: false,
            }),
            write: true,
            stage1_walk: false,
        };
        assert!(report
            .to_string()
            .contains("unaligned 4-byte write of an emulated device"));
    }

    #[test]
    fn data_abort_report_names_partition_address_and_instruction() {
        let report = FaultReport {
            partition: "rtos",
            id: 2,
            vcpu: 0,
            cpu: 1,
            exit: Exit::DataAbort {
                ipa: 0x8000_0000,
                far: 0x8000_0000,
                access: None,
                write: true,
                stage1_walk: false,
            },
            esr: 0x9200_0046,
            elr: 0x4008_1234,
            instruction: Some(0xb900_0020),
            emulated: false,
            guest: GuestException::default(),
        };
        let text = report.to_string();
        assert!(text.starts_with(
            "partition \"rtos\" (id 2) stopped: write outside its memory at IPA 0x0000000080000000"
        ));
        assert!(text.contains("ELR 0x0000000040081234 = 0xb9000020"));
        assert!(text.contains("EC 0x24: data abort from a lower EL"));
    }

    #[test]
    fn a_fault_taking_the_guests_own_exception_names_that_one_first() {
        // `udf` at 0x4000_1000 with VBAR_EL1 = 0: the vector fetch at 0x200 faults at stage 2.
        let mut report = FaultReport {
            partition: "beta",
            id: 2,
            vcpu: 0,
            cpu: 2,
            exit: Exit::InstructionAbort {
                ipa: 0x200,
                far: 0x200,
            },
            esr: 0x8200_0006,
            elr: 0x200,
            instruction: None,
            emulated: false,
            guest: GuestException {
                esr: 0x0200_0000,
                elr: 0x4000_1000,
                far: 0,
                vbar: 0,
            },
        };
        let text = report.to_string();
        assert!(
            text.contains("first exception (the guest's own, which it faulted taking"),
            "{text}"
        );
        assert!(
            text.contains(
                "ESR_EL1 0x02000000 (EC 0x00: unknown reason) at ELR_EL1 0x0000000040001000"
            ),
            "{text}"
        );
        // A fault elsewhere: the guest's last exception, not called the first.
        report.elr = 0x4000_2000;
        assert!(report
            .to_string()
            .contains("last exception the guest took itself"));
        report.guest.esr = 0;
        assert!(!report.to_string().contains("ESR_EL1"));
    }
}
