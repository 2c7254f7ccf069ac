//! List register encoding for both GIC generations, and the choice of which list register to
//! use (pure: the hardware backends read and write the registers).

/// The state of a list register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LrState {
    /// Empty.
    Invalid,
    /// Pending.
    Pending,
    /// Active.
    Active,
    /// Active and pending.
    PendingActive,
}

/// One virtual interrupt as a list register holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// The virtual INTID the guest sees.
    pub vintid: u32,
    /// The physical INTID deactivated when the guest deactivates (HW = 1), if any.
    pub pintid: Option<u32>,
    /// Priority (the hardware keeps the top bits it implements).
    pub priority: u8,
    /// Group 1.
    pub group1: bool,
    /// State.
    pub state: LrState,
    /// Request a maintenance interrupt when the guest EOIs it (software interrupts only).
    pub eoi_maintenance: bool,
    /// For GICv2 SGIs: the source vCPU.
    pub source: u8,
}

impl ListEntry {
    /// A pending entry for a hardware interrupt mapped 1:1 to the same INTID.
    pub fn hardware(intid: u32, priority: u8) -> Self {
        ListEntry {
            vintid: intid,
            pintid: Some(intid),
            priority,
            group1: true,
            state: LrState::Pending,
            eoi_maintenance: false,
            source: 0,
        }
    }

    /// A pending entry for a purely virtual interrupt.
    pub fn virtual_irq(intid: u32, priority: u8, source: u8) -> Self {
        ListEntry {
            vintid: intid,
            pintid: None,
            priority,
            group1: true,
            state: LrState::Pending,
            eoi_maintenance: false,
            source,
        }
    }

    /// ICH_LR<n>_EL2 (GICv3, Arm IHI 0069 12.5.10): State [63:62], HW [61], Group [60],
    /// Priority [55:48], pINTID [44:32] (HW = 1) or EOI [41] (HW = 0), vINTID [31:0].
    pub fn encode_v3(&self) -> u64 {
        let state: u64 = match self.state {
            LrState::Invalid => 0,
            LrState::Pending => 1,
            LrState::Active => 2,
            LrState::PendingActive => 3,
        };
        let mut value = (state << 62) | (u64::from(self.priority) << 48) | u64::from(self.vintid);
        if self.group1 {
            value |= 1 << 60;
        }
        match self.pintid {
            Some(pintid) => value |= (1 << 61) | (u64::from(pintid & 0x1fff) << 32),
            None if self.eoi_maintenance => value |= 1 << 41,
            None => {}
        }
        value
    }

    /// Decodes an ICH_LR<n>_EL2 value.
    pub fn decode_v3(value: u64) -> Self {
        let hw = value & (1 << 61) != 0;
        ListEntry {
            vintid: value as u32,
            pintid: hw.then_some(((value >> 32) & 0x1fff) as u32),
            priority: (value >> 48) as u8,
            group1: value & (1 << 60) != 0,
            state: match value >> 62 {
                0 => LrState::Invalid,
                1 => LrState::Pending,
                2 => LrState::Active,
                _ => LrState::PendingActive,
            },
            eoi_maintenance: !hw && value & (1 << 41) != 0,
            source: 0,
        }
    }

    /// GICH_LR<n> (GICv2, Arm IHI 0048 5.3.11): HW [31], Grp1 [30], State [29:28],
    /// Priority [27:23] (top five bits), PhysicalID [19:10] (HW = 1) or EOI [19] and the SGI
    /// source CPUID [12:10] (HW = 0), VirtualID [9:0].
    pub fn encode_v2(&self) -> u32 {
        let state: u32 = match self.state {
            LrState::Invalid => 0,
            LrState::Pending => 1,
            LrState::Active => 2,
            LrState::PendingActive => 3,
        };
        let mut value =
            (state << 28) | (u32::from(self.priority >> 3) << 23) | (self.vintid & 0x3ff);
        if self.group1 {
            value |= 1 << 30;
        }
        match self.pintid {
            Some(pintid) => value |= (1 << 31) | ((pintid & 0x3ff) << 10),
            None => {
                if self.eoi_maintenance {
                    value |= 1 << 19;
                }
                if self.vintid < 16 {
                    value |= u32::from(self.source & 7) << 10;
                }
            }
        }
        value
    }

    /// Decodes a GICH_LR<n> value.
    pub fn decode_v2(value: u32) -> Self {
        let hw = value & (1 << 31) != 0;
        ListEntry {
            vintid: value & 0x3ff,
            pintid: hw.then_some((value >> 10) & 0x3ff),
            priority: (((value >> 23) & 0x1f) << 3) as u8,
            group1: value & (1 << 30) != 0,
            state: match (value >> 28) & 3 {
                0 => LrState::Invalid,
                1 => LrState::Pending,
                2 => LrState::Active,
                _ => LrState::PendingActive,
            },
            eoi_maintenance: !hw && value & (1 << 19) != 0,
            source: if hw { 0 } else { ((value >> 10) & 7) as u8 },
        }
    }
}

/// Whether list register entry `held` holds the same interrupt as `new`: the same virtual
/// INTID and, where `per_source_sgis` (GICv2, which keeps an SGI pending once per source CPU),
/// for an SGI the same source.
pub fn same_interrupt(held: &ListEntry, new: &ListEntry, per_source_sgis: bool) -> bool {
    held.state != LrState::Invalid
        && held.vintid == new.vintid
        && (!per_source_sgis || new.vintid >= 16 || held.source == new.source)
}

/// Picks the list register for `new`: the one already holding the same interrupt (see
/// [`same_interrupt`]), else an empty one (`empty` is the ICH_ELRSR_EL2 / GICH_ELRSR bitmap of
/// empty list registers), else none.
pub fn choose(
    entries: &[ListEntry],
    empty: u64,
    new: &ListEntry,
    per_source_sgis: bool,
) -> Option<usize> {
    if let Some(index) = entries
        .iter()
        .position(|held| same_interrupt(held, new, per_source_sgis))
    {
        return Some(index);
    }
    (0..entries.len()).find(|i| empty & (1 << i) != 0)
}

/// What to write over `held`, a list register that already holds the interrupt `new` raises
/// again, if anything. Only an active software interrupt changes (to pending and active);
/// one already pending stays as it is, and a hardware interrupt cannot be raised again before
/// the guest deactivates it. Rewriting a held entry with `new` as it is would drop its active
/// state while the guest is still handling it.
pub fn merge(held: &ListEntry, new: &ListEntry) -> Option<ListEntry> {
    (held.pintid.is_none() && held.state == LrState::Active).then_some(ListEntry {
        state: LrState::PendingActive,
        ..*new
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_timer_entry_encodes_hw_and_physical_id_for_gicv3() {
        let lr = ListEntry::hardware(27, 0xa0).encode_v3();
        assert_eq!(lr >> 62, 1, "pending");
        assert_ne!(lr & (1 << 61), 0, "HW");
        assert_ne!(lr & (1 << 60), 0, "group 1");
        assert_eq!((lr >> 48) & 0xff, 0xa0);
        assert_eq!((lr >> 32) & 0x1fff, 27);
        assert_eq!(lr & 0xffff_ffff, 27);
        assert_eq!(ListEntry::decode_v3(lr), ListEntry::hardware(27, 0xa0));
    }

    #[test]
    fn software_sgi_encodes_source_cpu_for_gicv2() {
        let entry = ListEntry::virtual_irq(3, 0xa0, 1);
        let lr = entry.encode_v2();
        assert_eq!(lr & 0x3ff, 3);
        assert_eq!((lr >> 10) & 7, 1, "source CPU");
        assert_eq!(lr & (1 << 31), 0, "not HW");
        assert_eq!((lr >> 28) & 3, 1);
        assert_eq!(ListEntry::decode_v2(lr), entry);
    }

    #[test]
    fn gicv2_keeps_five_priority_bits() {
        let lr = ListEntry::hardware(40, 0xa7).encode_v2();
        assert_eq!(ListEntry::decode_v2(lr).priority, 0xa0);
        assert_eq!(ListEntry::decode_v2(lr).pintid, Some(40));
    }

    #[test]
    fn eoi_maintenance_is_only_for_software_interrupts() {
        let mut entry = ListEntry::virtual_irq(33, 0x80, 0);
        entry.eoi_maintenance = true;
        assert_ne!(entry.encode_v3() & (1 << 41), 0);
        assert!(ListEntry::decode_v3(entry.encode_v3()).eoi_maintenance);
    }

    #[test]
    fn choose_prefers_the_register_already_holding_the_interrupt_then_an_empty_one() {
        let mut entries = [ListEntry::decode_v3(0); 4];
        entries[2] = ListEntry {
            state: LrState::Active,
            ..ListEntry::virtual_irq(5, 0, 0)
        };
        let five = ListEntry::virtual_irq(5, 0, 0);
        let six = ListEntry::virtual_irq(6, 0, 0);
        assert_eq!(choose(&entries, 0b1011, &five, false), Some(2));
        assert_eq!(choose(&entries, 0b1010, &six, false), Some(1));
        assert_eq!(
            choose(&entries, 0, &six, false),
            None,
            "overflow goes to the pending queue"
        );
    }

    #[test]
    fn a_gicv2_sgi_from_another_source_is_another_interrupt() {
        let mut entries = [ListEntry::decode_v2(0); 4];
        entries[0] = ListEntry {
            state: LrState::Active,
            ..ListEntry::virtual_irq(1, 0xa0, 0)
        };
        let from_one = ListEntry::virtual_irq(1, 0xa0, 1);
        assert_eq!(choose(&entries, 0b1110, &from_one, true), Some(1));
        let from_zero = ListEntry::virtual_irq(1, 0xa0, 0);
        assert_eq!(choose(&entries, 0b1110, &from_zero, true), Some(0));
        // GICv3 list registers have no source: the same SGI is the same interrupt.
        assert_eq!(choose(&entries, 0b1110, &from_one, false), Some(0));
    }

    #[test]
    fn raising_a_held_interrupt_again_never_drops_its_active_state() {
        let new = ListEntry::virtual_irq(9, 0xa0, 0);
        let held = |state| ListEntry { state, ..new };
        assert_eq!(
            merge(&held(LrState::Active), &new).map(|e| e.state),
            Some(LrState::PendingActive)
        );
        assert_eq!(merge(&held(LrState::Pending), &new), None);
        assert_eq!(merge(&held(LrState::PendingActive), &new), None);
        let hardware = ListEntry {
            state: LrState::Active,
            ..ListEntry::hardware(27, 0xa0)
        };
        assert_eq!(merge(&hardware, &ListEntry::hardware(27, 0xa0)), None);
    }
}
