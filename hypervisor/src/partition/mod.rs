//! Partitions at run time: what each was given, and its state.

mod fault_report;
pub mod images;
mod layout;
pub mod restarts;
mod state;

pub use fault_report::{FaultReport, GuestException};
pub use layout::{plan_memory, Mapping, MemoryPlan, PlanError};
pub use restarts::RestartLog;
pub use state::{PartitionState, StopReason};
