//! Group 10: shared-memory ring throughput between two partitions (`bulkhead-ipc-ring`,
//! docs/ipc.md): a bare-metal producer on CPU 0 streams 64 MiB in 64 KiB records through a
//! 16 MiB ring in a channel's shared memory to a consumer on CPU 1, which checks every word.

use anyhow::{bail, Result};

use super::figure::{Figure, Unit, Value};
use super::group::Group;
use super::run::{Machine, Runs, COUNTER_HZ};

/// The bench configuration (`device-trees/qemu-virt/bench-ipc-ring.dts`).
const CONFIG: &str = "bench-ipc-ring";
/// The consumer's line.
const LINE: &str = "ipc-ring";

/// Shared-memory ring throughput.
pub struct IpcRing;

impl Group for IpcRing {
    fn title(&self) -> &'static str {
        "11. Shared-memory ring throughput"
    }

    fn measure(&self, runs: &mut Runs) -> Result<Vec<Figure>> {
        let log = runs.log(Machine::Bulkhead, CONFIG)?;
        let bytes = log.value(LINE, "bytes")?;
        let ticks = log.value(LINE, "ticks")?;
        if log.value(LINE, "mismatches")? != 0 {
            bail!("the consumer saw words the producer did not write");
        }
        if bytes == 0 || ticks == 0 {
            bail!("nothing streamed ({bytes} bytes in {ticks} ticks)");
        }
        let per_kib = ticks * 1024 / bytes;
        // MiB per guest second, in hundredths: bytes / 2^20 / (ticks / COUNTER_HZ).
        let mib_per_second_hundredths = u64::try_from(
            u128::from(bytes) * u128::from(COUNTER_HZ) * 100 / (u128::from(ticks) << 20),
        )?;
        let note = format!(
            "Two bare-metal partitions (test-guest `ipc=producer|consumer`, CPUs 0 and 1, \
             `-smp 2`) share channel `stream`: 16 MiB of shared memory mapped read-write into \
             both and a doorbell each way. The producer writes {} MiB in 64 KiB records of \
             known words into a `bulkhead-ipc-ring`, the consumer reads each word in place and \
             checks it; doorbells only when a side waits ({} waits of the consumer). The \
             ticks are from the consumer's attach to its last byte; under `-icount` QEMU runs \
             the two CPUs round-robin on one thread, so they count the instructions of both. \
             No hypervisor instruction runs per record: the data goes from one partition to \
             the other through memory, and the figure is the guests' own copy-and-check loop.",
            bytes >> 20,
            log.value(LINE, "empty-waits").unwrap_or(0),
        );
        Ok(vec![
            Figure::new(
                "ipc-ring-per-kib",
                "instructions per KiB streamed (both CPUs)",
                Unit::Instructions,
                Value::Count(per_kib),
            )
            .note(note),
            Figure::new(
                "ipc-ring-mib-per-second",
                "MiB per guest second (1 instruction = 1 ns)",
                Unit::MibPerSecond,
                Value::Fixed {
                    units: mib_per_second_hundredths,
                    decimals: 2,
                },
            ),
        ])
    }
}
