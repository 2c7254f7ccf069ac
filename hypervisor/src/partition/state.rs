//! The life cycle of a partition.

/// Where a partition is in its life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PartitionState {
    /// Its vCPUs run.
    Running = 0,
    /// It stopped and stays off.
    Stopped = 1,
    /// Its configuration was refused at boot; it never ran.
    Refused = 2,
}

// The doorbell fast path takes a ring while the peer's state byte reads 0.
const _: () = assert!(PartitionState::Running as u8 == 0);

impl PartitionState {
    /// Decodes the value stored in an atomic.
    pub fn from_u8(value: u8) -> Self {
        match value {
            0 => PartitionState::Running,
            1 => PartitionState::Stopped,
            _ => PartitionState::Refused,
        }
    }
}

/// Why a partition stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// It called PSCI SYSTEM_OFF.
    SystemOff,
    /// It called PSCI SYSTEM_RESET.
    SystemReset,
    /// It faulted (the report says how).
    Fault,
    /// Its last running vCPU called PSCI CPU_OFF.
    CpuOff,
    /// Its SBSA generic watchdog's second signal (WS1) rose: it was not refreshed in time.
    Watchdog,
    /// A management call (or the hypervisor console) stopped or restarted it.
    Management,
    /// It would have restarted more often than its `max-restarts` allows.
    RestartLimit,
    /// One of its DMA masters faulted at the SMMU (`on-fault = "stop"`).
    DeviceFault,
}

impl StopReason {
    /// A short word for markers and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::SystemOff => "system-off",
            StopReason::SystemReset => "system-reset",
            StopReason::Fault => "fault",
            StopReason::CpuOff => "cpu-off",
            StopReason::Watchdog => "watchdog",
            StopReason::Management => "management",
            StopReason::RestartLimit => "restart-limit",
            StopReason::DeviceFault => "device-fault",
        }
    }

    /// The reason as the management calls report it (`bulkhead_abi::mgmt::REASON_*`).
    pub fn abi_code(self) -> u32 {
        use bulkhead_abi::mgmt;
        match self {
            StopReason::SystemOff => mgmt::REASON_SYSTEM_OFF,
            StopReason::SystemReset => mgmt::REASON_SYSTEM_RESET,
            StopReason::Fault => mgmt::REASON_FAULT,
            StopReason::CpuOff => mgmt::REASON_CPU_OFF,
            StopReason::Management => mgmt::REASON_MANAGEMENT,
            StopReason::RestartLimit => mgmt::REASON_RESTART_LIMIT,
            StopReason::Watchdog => mgmt::REASON_WATCHDOG,
            StopReason::DeviceFault => mgmt::REASON_DEVICE_FAULT,
        }
    }
}
