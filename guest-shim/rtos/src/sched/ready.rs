//! The set of priority levels that have a job ready to run: one bit per level, so finding the
//! most urgent one is a count of leading zeros.
#![forbid(unsafe_code)]

use crate::task::Priority;

/// A set of priority levels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadySet(u32);

impl ReadySet {
    /// The empty set.
    pub const fn new() -> Self {
        ReadySet(0)
    }

    /// Adds `priority`.
    pub fn insert(&mut self, priority: Priority) {
        self.0 |= 1 << priority.level();
    }

    /// Removes `priority`.
    pub fn remove(&mut self, priority: Priority) {
        self.0 &= !(1 << priority.level());
    }

    /// Whether `priority` is in the set.
    pub fn contains(self, priority: Priority) -> bool {
        self.0 & (1 << priority.level()) != 0
    }

    /// The most urgent level in the set that is more urgent than `running`.
    pub fn highest_above(self, running: Priority) -> Option<Priority> {
        let above = self.0 & !(u32::MAX >> (31 - u32::from(running.level())));
        let level = 31u32.checked_sub(above.leading_zeros())?;
        Priority::new(u8::try_from(level).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(level: u8) -> Priority {
        Priority::new(level).unwrap()
    }

    #[test]
    fn highest_above_skips_levels_at_or_below_the_running_one() {
        let mut set = ReadySet::new();
        assert_eq!(set.highest_above(Priority::IDLE), None);
        set.insert(p(3));
        set.insert(p(7));
        assert_eq!(set.highest_above(Priority::IDLE), Some(p(7)));
        assert_eq!(set.highest_above(p(6)), Some(p(7)));
        assert_eq!(
            set.highest_above(p(7)),
            None,
            "an equal level does not preempt"
        );
        set.remove(p(7));
        assert_eq!(set.highest_above(p(2)), Some(p(3)));
        assert_eq!(set.highest_above(p(3)), None);
        set.insert(Priority::MAX);
        assert_eq!(set.highest_above(p(30)), Some(Priority::MAX));
        assert_eq!(set.highest_above(Priority::MAX), None);
        assert!(set.contains(p(3)) && !set.contains(p(7)));
    }
}
