//! A cell that hands out one `&'static mut` to a value placed in it at run time: how task
//! bodies and drivers made in `main` become the `'static` objects the kernel keeps.

use core::cell::{Cell, UnsafeCell};
use core::mem::MaybeUninit;

use critical_section::Mutex;

/// Storage for one `T`, initialised once.
pub struct StaticCell<T> {
    used: Mutex<Cell<bool>>,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is reached only through the single `&'static mut` that `init` returns, and
// `init` hands that out at most once (checked under a critical section). Sending that reference
// to another context needs `T: Send`.
unsafe impl<T: Send> Sync for StaticCell<T> {}

impl<T> Default for StaticCell<T> {
    fn default() -> Self {
        StaticCell::new()
    }
}

impl<T> StaticCell<T> {
    /// An empty cell.
    pub const fn new() -> Self {
        StaticCell {
            used: Mutex::new(Cell::new(false)),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Stores `value` and returns the only reference to it; `None` (and `value` is dropped) if
    /// the cell was already used.
    // A `&mut` from `&self` is the point: the `used` flag makes it the only one ever handed out.
    #[allow(clippy::mut_from_ref)]
    pub fn init(&'static self, value: T) -> Option<&'static mut T> {
        let first = critical_section::with(|cs| !self.used.borrow(cs).replace(true));
        if !first {
            return None;
        }
        // SAFETY: `first` is true for exactly one caller, so no other reference to the value
        // exists or will ever be made; the storage is `'static`.
        Some(unsafe { (*self.value.get()).write(value) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_is_initialised_once() {
        static CELL: StaticCell<u32> = StaticCell::new();
        let first = CELL.init(5).unwrap();
        *first += 1;
        assert_eq!(*first, 6);
        assert!(CELL.init(7).is_none());
    }
}
