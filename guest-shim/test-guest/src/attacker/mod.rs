//! `attacker=1`: the attacker partition of scenario `attacker_suite` (issue 11, point 4). It
//! runs every attack of the "What was found" list and of point 2 from inside an
//! unprivileged partition and prints one line per attack:
//! `HIL:ATTACK <name> PASS|FAIL <detail>` (PASS: the hypervisor held), then
//! `HIL:ATTACK summary passed=P failed=F seed=S`.
//!
//! Accesses that fault (wild reads and writes outside its RAM, exclusive, pair and unaligned
//! accesses to emulated devices, EL2 registers) are survivable: the partition is configured
//! with `on-fault = "inject"`, so the hypervisor reports each stage-2 abort and hands it back as
//! a synchronous external abort; this partition's own vectors ([`vectors`]) count it and step
//! over the instruction. One boot runs every attack, deterministically from `seed=`.
//!
//! Arguments: `gic=GICD,GICR` (GICR 0 for a GICv2), `ram=BASE,SIZE`, `uart=BASE`, `seed=S`,
//! `calls=N` (random HVCs; a tenth as many SMCs), `burst=B` (calls between sleeps),
//! `sleep-us=U`, `wild=W` (sampled addresses), `start-ms=T` (wait before attacking).

mod calls;
mod devices;
mod registers;
pub(crate) mod vectors;

use core::fmt::Write;

use guest_shim::boot_info::{parse_u64, BootInfo};
use guest_shim::console::Pl011;
use guest_shim::timer;

/// xorshift64*: a small seeded generator, so a failing run replays from its printed seed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// What the attacks know of the partition.
pub(crate) struct Target {
    pub(crate) gicd: usize,
    /// 0 on a GICv2.
    pub(crate) gicr: usize,
    pub(crate) ram: (u64, u64),
    pub(crate) uart: usize,
}

impl Target {
    /// Whether `[addr, addr + 8)` touches something the partition owns.
    pub(crate) fn owns(&self, addr: u64) -> bool {
        let within = |base: u64, size: u64| addr.wrapping_add(8) > base && addr < base + size;
        within(self.ram.0, self.ram.1)
            || within(self.gicd as u64, 0x1_0000)
            || (self.gicr != 0 && within(self.gicr as u64, 0x2_0000))
            || (self.gicr == 0 && within(self.gicd as u64 + 0x1_0000, 0x1_0000))
            || within(self.uart as u64, 0x1000)
    }
}

/// Counts and prints the attack lines.
pub(crate) struct Report<'a> {
    pub(crate) out: &'a mut Pl011,
    passed: u32,
    failed: u32,
}

impl Report<'_> {
    pub(crate) fn attack(&mut self, name: &str, held: bool, detail: core::fmt::Arguments<'_>) {
        if held {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        let verdict = if held { "PASS" } else { "FAIL" };
        let _ = writeln!(self.out, "HIL:ATTACK {name} {verdict} {detail}");
    }
}

pub(crate) use crate::sleep::sleep_us;

fn pair(text: &str) -> Option<(u64, u64)> {
    let (a, b) = text.split_once(',')?;
    Some((parse_u64(a)?, parse_u64(b)?))
}

/// Runs every attack and reports.
pub fn run(out: &mut Pl011, info: &BootInfo<'_>) {
    let arg = |key: &str, default: u64| info.arg(key).and_then(parse_u64).unwrap_or(default);
    let (gicd, gicr) = info
        .arg("gic")
        .and_then(pair)
        .unwrap_or((0x0800_0000, 0x080a_0000));
    let ram = info
        .arg("ram")
        .and_then(pair)
        .unwrap_or((0x4000_0000, 0x0100_0000));
    let target = Target {
        gicd: gicd as usize,
        gicr: gicr as usize,
        ram,
        uart: arg("uart", 0x0900_0000) as usize,
    };
    let seed = arg("seed", 0x5eed_b01d_face);
    vectors::install();
    crate::sleep::init(target.gicd, target.gicr);
    let start_ms = arg("start-ms", 0);
    let _ = writeln!(out, "HIL:ATTACK start seed={seed:#x} start-ms={start_ms}");
    if start_ms > 0 {
        sleep_us(start_ms * 1000);
    }
    let started = timer::counter();
    let mut report = Report {
        out,
        passed: 0,
        failed: 0,
    };
    let mut rng = Rng::new(seed);
    registers::id_registers(&mut report, info.arg("expect-pmu") == Some("1"));
    registers::set_way(&mut report);
    registers::pmu_el2_cycles(&mut report);
    registers::debug_registers(&mut report);
    registers::dcc(&mut report);
    registers::el2_registers(&mut report);
    devices::sign_extension(&mut report, &target);
    devices::unaligned(&mut report, &target);
    devices::exclusive_and_pair(&mut report, &target);
    devices::wild_accesses(&mut report, &target, &mut rng, arg("wild", 256));
    calls::wfi_wfe_storm(&mut report);
    calls::cpu_suspend_bogus(&mut report, &mut rng);
    calls::foreign_psci(&mut report, &mut rng);
    calls::foreign_doorbells(&mut report, &mut rng);
    calls::nonzero_immediates(&mut report);
    calls::random_calls(
        &mut report,
        &mut rng,
        seed,
        arg("calls", 1_000_000),
        arg("burst", 2000),
        arg("sleep-us", 2000),
    );
    devices::gic_sweep(&mut report, &target);
    let ms = (timer::counter() - started) * 1000 / timer::frequency();
    let (passed, failed) = (report.passed, report.failed);
    let _ = writeln!(
        report.out,
        "HIL:ATTACK summary passed={passed} failed={failed} seed={seed:#x} guest-ms={ms}"
    );
}
