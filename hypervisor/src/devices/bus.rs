//! A partition's emulated-device bus: its device windows by IPA, registered once at boot from
//! its configuration, sorted and disjoint, found by binary search.

use bulkhead_config::range::Range;

/// The most emulated-device windows a partition has (GIC distributor, redistributors, console,
/// and room for the virtio-mmio transports and the watchdog).
pub const MAX_WINDOWS: usize = 16;

/// Which emulated device a window belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceId {
    /// The virtual GIC distributor.
    Distributor,
    /// The virtual GICv3 redistributor region (one frame pair per vCPU of the host's GIC).
    Redistributors,
    /// The partition's virtual PL011.
    Console,
    /// The control frame of the partition's SBSA generic watchdog.
    WatchdogControl,
    /// The refresh frame of the partition's SBSA generic watchdog.
    WatchdogRefresh,
    /// The privileged partition's management window.
    Management,
    /// One of the partition's virtio-mmio devices (index into `Partition::virtio`).
    Virtio(u8),
}

/// Why a window cannot be registered (a configuration the boot checks should have refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusError {
    /// The window is empty or wraps around the address space.
    Empty(Range),
    /// It overlaps a window already registered.
    Overlap(Range, DeviceId),
    /// More windows than [`MAX_WINDOWS`].
    Full,
}

impl core::fmt::Display for BusError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BusError::Empty(range) => write!(f, "emulated device window {range} is empty or wraps"),
            BusError::Overlap(range, device) => {
                write!(
                    f,
                    "emulated device window {range} overlaps the {device:?} window"
                )
            }
            BusError::Full => write!(f, "more than {MAX_WINDOWS} emulated device windows"),
        }
    }
}

/// A partition's emulated devices by IPA.
///
/// The windows are kept in fixed-size arrays, sorted by start, the unused tail holding starts of
/// `u64::MAX` (and empty ends): the binary search then always takes log2([`MAX_WINDOWS`]) steps,
/// without branches or bounds checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceBus {
    /// Window starts, sorted.
    starts: [u64; MAX_WINDOWS],
    /// Window ends (exclusive) and devices, in the same order; windows are disjoint.
    windows: [(u64, DeviceId); MAX_WINDOWS],
    /// How many windows are registered.
    len: usize,
}

impl Default for DeviceBus {
    fn default() -> Self {
        DeviceBus::new()
    }
}

impl DeviceBus {
    /// An empty bus.
    pub const fn new() -> Self {
        DeviceBus {
            starts: [u64::MAX; MAX_WINDOWS],
            windows: [(0, DeviceId::Console); MAX_WINDOWS],
            len: 0,
        }
    }

    /// Registers `device` at `range`.
    pub fn register(&mut self, range: Range, device: DeviceId) -> Result<(), BusError> {
        let end = range
            .start
            .checked_add(range.size)
            .filter(|_| range.size > 0)
            .ok_or(BusError::Empty(range))?;
        let len = self.len;
        let registered = self.starts.get(..len).unwrap_or_default();
        let at = registered.partition_point(|&start| start < range.start);
        for neighbour in [at.checked_sub(1), Some(at)].into_iter().flatten() {
            if let (Some(&start), Some(&(w_end, w_device))) =
                (registered.get(neighbour), self.windows.get(neighbour))
            {
                if start < end && range.start < w_end {
                    return Err(BusError::Overlap(range, w_device));
                }
            }
        }
        if len >= MAX_WINDOWS {
            return Err(BusError::Full);
        }
        if let (Some(starts), Some(windows)) = (
            self.starts.get_mut(at..=len),
            self.windows.get_mut(at..=len),
        ) {
            starts.rotate_right(1);
            windows.rotate_right(1);
            if let (Some(start), Some(window)) = (starts.first_mut(), windows.first_mut()) {
                *start = range.start;
                *window = (end, device);
            }
        }
        self.len = len + 1;
        Ok(())
    }

    /// The device whose window holds `ipa`, and the offset of `ipa` in it.
    #[inline]
    pub fn lookup(&self, ipa: u64) -> Option<(DeviceId, u64)> {
        // Over all the slots: unused ones start at u64::MAX and hold nothing (end 0).
        let index = self
            .starts
            .partition_point(|&start| start <= ipa)
            .checked_sub(1)?;
        let start = *self.starts.get(index)?;
        let &(end, device) = self.windows.get(index)?;
        (ipa < end).then(|| (device, ipa - start))
    }

    /// Whether `ipa` is in one of the windows.
    pub fn contains(&self, ipa: u64) -> bool {
        self.lookup(ipa).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: u64, size: u64) -> Range {
        Range { start, size }
    }

    fn gicv3_bus() -> DeviceBus {
        let mut bus = DeviceBus::new();
        bus.register(range(0x0900_0000, 0x1000), DeviceId::Console)
            .unwrap();
        bus.register(range(0x0800_0000, 0x1_0000), DeviceId::Distributor)
            .unwrap();
        bus.register(range(0x080a_0000, 0xf6_0000), DeviceId::Redistributors)
            .unwrap();
        bus
    }

    #[test]
    fn lookup_finds_the_window_and_the_offset_whatever_the_registration_order() {
        let bus = gicv3_bus();
        assert_eq!(bus.lookup(0x0800_0000), Some((DeviceId::Distributor, 0)));
        assert_eq!(
            bus.lookup(0x0800_ffff),
            Some((DeviceId::Distributor, 0xffff))
        );
        assert_eq!(bus.lookup(0x080a_0004), Some((DeviceId::Redistributors, 4)));
        assert_eq!(bus.lookup(0x0900_0018), Some((DeviceId::Console, 0x18)));
    }

    #[test]
    fn addresses_between_below_and_above_windows_are_no_device() {
        let bus = gicv3_bus();
        for ipa in [0, 0x07ff_ffff, 0x0801_0000, 0x0900_1000, u64::MAX] {
            assert_eq!(bus.lookup(ipa), None, "{ipa:#x}");
        }
        assert_eq!(DeviceBus::new().lookup(0x0800_0000), None);
    }

    #[test]
    fn overlapping_empty_and_wrapping_windows_are_refused() {
        let mut bus = gicv3_bus();
        assert_eq!(
            bus.register(range(0x0800_f000, 0x2000), DeviceId::Console),
            Err(BusError::Overlap(
                range(0x0800_f000, 0x2000),
                DeviceId::Distributor
            ))
        );
        assert_eq!(
            bus.register(range(0x07ff_f000, 0x2000), DeviceId::Console),
            Err(BusError::Overlap(
                range(0x07ff_f000, 0x2000),
                DeviceId::Distributor
            ))
        );
        assert!(matches!(
            bus.register(range(0x1000, 0), DeviceId::Console),
            Err(BusError::Empty(_))
        ));
        assert!(matches!(
            bus.register(range(u64::MAX - 1, 0x10), DeviceId::Console),
            Err(BusError::Empty(_))
        ));
    }

    #[test]
    fn the_bus_holds_at_most_max_windows() {
        let mut bus = DeviceBus::new();
        for i in 0..MAX_WINDOWS as u64 {
            bus.register(range(i * 0x1000, 0x1000), DeviceId::Console)
                .unwrap();
        }
        assert_eq!(
            bus.register(range(0x100_0000, 0x1000), DeviceId::Console),
            Err(BusError::Full)
        );
        assert_eq!(bus.lookup(0x3008), Some((DeviceId::Console, 8)));
    }
}
