//! `trng=1`: asks the Arm TRNG service what it offers and prints one line per answer, for the
//! scenarios that check which entropy source a board ended up with.
//!
//! - `HIL:TRNG version=<major>.<minor> uuid=<back end's UUID>` when the service is there, then
//!   `HIL:TRNG rnd64=<192 bits in hex> next=<192 bits in hex>` (or `HIL:TRNG rnd64=<error>`);
//! - `HIL:TRNG version=<error>` (e.g. `NotSupported`) when it is not.

use core::fmt::Write;

use guest_shim::console::Pl011;
use guest_shim::trng;

/// Prints what the TRNG service answers.
pub(crate) fn run(out: &mut Pl011) {
    let version = match trng::version() {
        Ok(version) => version,
        Err(error) => {
            let _ = writeln!(out, "HIL:TRNG version={error:?}");
            return;
        }
    };
    let _ = write!(
        out,
        "HIL:TRNG version={}.{} uuid=",
        version.major, version.minor
    );
    match trng::uuid() {
        Ok(uuid) => {
            for (index, byte) in uuid.iter().enumerate() {
                if matches!(index, 4 | 6 | 8 | 10) {
                    let _ = write!(out, "-");
                }
                let _ = write!(out, "{byte:02x}");
            }
            let _ = writeln!(out);
        }
        Err(error) => {
            let _ = writeln!(out, "{error:?}");
        }
    }
    match (trng::rnd64(192), trng::rnd64(192)) {
        (Ok([a1, a2, a3]), Ok([b1, b2, b3])) => {
            let _ = writeln!(
                out,
                "HIL:TRNG rnd64={a1:016x}{a2:016x}{a3:016x} next={b1:016x}{b2:016x}{b3:016x}"
            );
        }
        (Err(error), _) | (_, Err(error)) => {
            let _ = writeln!(out, "HIL:TRNG rnd64={error:?}");
        }
    }
}
