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
        };
        let text = report.to_string();
        assert!(text.starts_with(
            "partition \"rtos\" (id 2) stopped: write outside its memory at IPA 0x0000000080000000"
        ));
        assert!(text.contains("ELR 0x0000000040081234 = 0xb9000020"));
        assert!(text.contains("EC 0x24: data abort from a lower EL"));
    }
}
