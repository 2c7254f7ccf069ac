//! The SMMUv3 (Arm IHI 0070, "Arm System Memory Management Unit Architecture Specification,
//! SMMU architecture version 3"): the encodings the hypervisor writes to and reads from the
//! SMMU's memory-based structures, as pure, host-tested code.
//!
//! The hypervisor owns the SMMU: no partition maps its MMIO, and its node is withheld from
//! every partition's device tree. It programs it for stage 2 only:
//! - a **linear stream table** ([`stream_table`]) with one 64-byte STE per stream ID: an
//!   assigned stream gets a stage-2 STE ([`ste::Ste::stage2`]) that walks its owning
//!   partition's stage-2 tables with the partition's VMID and the same VTCR parameters, so a
//!   device reaches exactly the memory its partition's CPUs reach; every other entry is
//!   `V = 1, Config = abort`, and a stream ID past the table's end is out of range
//!   (C_BAD_STREAMID), which the SMMU also terminates. Linear, not 2-level, because the
//!   streams a configuration assigns are few and low (QEMU `virt`'s PCIe requester IDs on bus
//!   0: at most 256 entries, 16 KiB): a 2-level table only pays off for a sparse, large
//!   StreamID space (IHI 0070 3.3.2 and 5.1);
//! - a **command queue** ([`command`], [`queue`]) for CMD_CFGI_STE, CMD_TLBI_S12_VMALL and
//!   CMD_SYNC, issued whenever an STE changes (IHI 0070 3.21 "Structure access rules and
//!   update procedures": an STE change is only seen after CMD_CFGI_STE and a CMD_SYNC; the
//!   stage-2 TLB entries of the VMID it uses are invalidated with it);
//! - an **event queue** ([`event`], [`queue`]) drained from the hypervisor's timer tick: each
//!   record is decoded, attributed to the partition and device that own its stream
//!   ([`event::DeviceFault`]), and the partition's fault policy applies.
//!
//! Register access (the MMIO pointers) and memory allocation live in `arch`; the driver logic
//! that sequences them ([`driver`]) runs on the host over fakes.
//!
//! No crate fits: the SMMUv3 crates on crates.io target stage 1 for an OS (or are bindings to
//! a C driver); this hypervisor needs stage 2 over its own page tables, with no allocator.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

pub mod command;
pub mod driver;
pub mod event;
pub mod plan;
pub mod queue;
pub mod registers;
#[cfg(target_os = "none")]
pub mod service;
pub mod ste;
pub mod stream_table;
