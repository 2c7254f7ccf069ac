"""Scenario `hil_fake_bench`: the bench backend (bench.py) and the boot phases (phases.py) on a
fake bench (fakebench/fake_bench.py): a pseudo-terminal fed by a replay of a console log
recorded from our own QEMU runs (fakebench/replays/), a power command that records its calls
and can fail the first power-up, and an usbsdmux stand-in that records what was deployed.

A replayed run of the `boot` scenario passes through the suite's own test; a silent board, one
whose loader started the wrong image (output, no banner) and a hypervisor panic each get their
verdict within their phase's timeout; a flaky power-up is retried once and passes; a failed
test is not retried."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from boards import ConsolePanic
from conftest import build_image
from phases import (
    BoardBroken,
    BoardHealth,
    BootRecord,
    FirmwareOrLoaderFailed,
    NoConsoleOutput,
    boot_through_phases,
)
from suite_runs import git_head, junit_cases, run_suite
from targets import load_target, make_board, phases_of

HERE = Path(__file__).resolve().parent
FAKE = HERE / "fakebench" / "fake_bench.py"
REPLAYS = HERE / "fakebench" / "replays"
# Short phase timeouts (seconds): the replays' banner comes 0.3 s after power-up.
PHASES = {"power": 5, "first_byte": 2, "banner": 2, "partitions": 3}


@pytest.fixture(autouse=True)
def harness_scenario(target):
    """This scenario tests the harness on a board of its own: it runs with QEMU targets (in
    `cargo xtask test`), not on a bench or lab board."""
    if target["backend"] != "qemu":
        pytest.skip(f"tests the harness itself; target {target['name']} is a {target['backend']} board")


class FakeBench:
    """One fake board with its power switch and SD mux, in `state`."""

    def __init__(self, state: Path, replay: str, fail_first: int = 0):
        self.state = state
        state.mkdir(parents=True, exist_ok=True)
        self.daemon = subprocess.Popen(
            [sys.executable, str(FAKE), "board", "--state", str(state), "--replay", str(REPLAYS / replay)]
        )
        deadline = time.monotonic() + 10
        while not (state / "port").exists() or not (state / "control.sock").exists():
            assert time.monotonic() < deadline, "the fake board did not start"
            time.sleep(0.05)
        self.fail_first = fail_first

    def target(self) -> dict:
        """A bench target file for this board, loaded as the suite loads targets."""
        fake = f"{sys.executable} {FAKE}"
        state = self.state
        path = state / "fake-bench.toml"
        path.write_text(
            'board = "qemu-virt"\nbackend = "bench"\ndefaults = { smp = "4", gic = "3" }\n'
            f'port = "{(state / "port").read_text()}"\nbaud = 115200\n'
            f'power_on = "{fake} power --state {state} --fail-first {self.fail_first} on"\n'
            f'power_off = "{fake} power --state {state} off"\n'
            "boot_retries = 1\n"
            "[phases]\n" + "".join(f"{k} = {v}\n" for k, v in PHASES.items()) +
            '[media]\nkind = "sdmux"\ntool = "usbsdmux"\n'
            f'command = "{fake} sdmux --state {state}"\n'
            'device = "/dev/usb-sd-mux/id-000000001234"\n'
            f'block = "{state / "card.img"}"\nimage = "image"\n'
        )
        return load_target(str(path))

    def power_calls(self) -> list[str]:
        log = self.state / "power.log"
        return [line.split()[1] for line in log.read_text().splitlines()] if log.exists() else []

    def deploys(self) -> list[tuple[int, str]]:
        log = self.state / "deploys.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [(int(line.split()[1]), line.split()[2]) for line in lines]

    def stop(self) -> None:
        self.daemon.kill()
        self.daemon.wait()


@pytest.fixture
def fake_bench(tmp_path):
    benches: list[FakeBench] = []

    def make(replay: str, fail_first: int = 0) -> FakeBench:
        bench = FakeBench(tmp_path / f"bench{len(benches)}", replay, fail_first)
        benches.append(bench)
        return bench

    yield make
    for bench in benches:
        bench.stop()


def boot_on(bench: FakeBench, image: Path, health: BoardHealth | None = None):
    """Boots on the fake bench through the phases, as the `boot` fixture does; returns the
    board and console, or raises the verdict. The boards go to `bench.boards` for stopping."""
    target = bench.target()
    record = BootRecord()
    bench.boards = getattr(bench, "boards", [])
    started = time.monotonic()
    try:
        board, console = boot_through_phases(
            target["name"], lambda: make_board(target, {}, [], "bare-metal"), image, phases_of(target),
            health or BoardHealth(), record, bench.boards.append,
        )
        return board, console, record
    finally:
        bench.elapsed = time.monotonic() - started


def stop_all(bench: FakeBench) -> None:
    for board in getattr(bench, "boards", []):
        board.stop()


def test_hil_fake_bench_boots_a_replayed_run_to_green(fake_bench, tmp_path):
    """The `boot` scenario's own test, on the replay of a bare-metal run recorded on QEMU
    virt: deploy through the SD mux, power-up, console, markers, power-off; JUnit carries the
    commit and the target."""
    image = build_image("bare-metal", "qemu-virt")
    bench = fake_bench("bare-metal-qemu-virt.log")
    target = Path(bench.target()["path"])
    junit = tmp_path / "junit.xml"
    done = run_suite(target, junit, "test_boot.py", "-k", "test_demo_boots_two_partitions_on_different_cpus")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    props, outcomes, cases = junit_cases(junit)
    assert outcomes == {"test_demo_boots_two_partitions_on_different_cpus": "passed"}, outcomes
    assert props["target"] == "fake-bench" and props["backend"] == "bench"
    assert props["git_commit"] == git_head()
    case = cases["test_demo_boots_two_partitions_on_different_cpus"]
    assert case["boot_attempts"] == "1" and "banner=" in case["boot_phases"], case
    assert "HIL:HEARTBEAT 3" in Path(case["console_log"]).read_text()
    # Deployed once through the mux (card to the host, written, card to the board)...
    assert bench.deploys() == [(image.stat().st_size, hashlib.sha256(image.read_bytes()).hexdigest())]
    assert [line.split()[2] for line in (bench.state / "sdmux.log").read_text().splitlines()] == ["host", "dut"]
    # ...powered off for the deploy, cycled (off, on) and powered off at the end.
    assert bench.power_calls() == ["off", "off", "on", "off"]


def test_hil_fake_bench_a_silent_board_is_no_console_output(fake_bench, tmp_path):
    image = tmp_path / "image.bin"
    image.write_bytes(b"not booted: the replay is silent")
    bench = fake_bench("silent.log")
    health = BoardHealth()
    with pytest.raises(NoConsoleOutput, match="no console output .*first_byte phase") as verdict:
        boot_on(bench, image, health)
    stop_all(bench)
    assert "serial wiring" in str(verdict.value)
    # Cut at the first-byte timeout, and retried once (an infrastructure verdict).
    assert verdict.value.phase == "first_byte"
    assert PHASES["first_byte"] <= verdict.value.elapsed < PHASES["first_byte"] + 1
    assert bench.power_calls().count("on") == 2
    # The board is now broken for the session: the next scenario fails at once, unpowered.
    calls = len(bench.power_calls())
    with pytest.raises(BoardBroken, match="no console output"):
        boot_on(bench, image, health)
    assert bench.elapsed < 0.5 and len(bench.power_calls()) == calls


def test_hil_fake_bench_output_without_a_banner_is_firmware_or_loader_failed(fake_bench, tmp_path):
    """The replay of QEMU booting a partition's image (rtos.bin) where Bulkhead should be."""
    image = tmp_path / "image.bin"
    image.write_bytes(b"x" * 4096)
    bench = fake_bench("wrong-image-no-banner.log")
    with pytest.raises(FirmwareOrLoaderFailed, match="firmware or loader failed .*banner phase") as verdict:
        boot_on(bench, image)
    stop_all(bench)
    assert "HIL:RTOS start host=bare" in str(verdict.value), "the verdict shows the last lines"
    assert verdict.value.phase == "banner"
    assert PHASES["banner"] <= verdict.value.elapsed < PHASES["banner"] + 1
    assert bench.power_calls().count("on") == 2


def test_hil_fake_bench_a_hypervisor_panic_is_its_own_verdict_and_not_retried(fake_bench, tmp_path):
    """The replay of the EL2 stack-overflow run: the partitions come up, then the hypervisor
    panics while the scenario waits for a marker; the wait ends at once with the report."""
    image = tmp_path / "image.bin"
    image.write_bytes(b"y" * 4096)
    bench = fake_bench("hypervisor-panic.log")
    board, console, record = boot_on(bench, image)
    started = time.monotonic()
    with pytest.raises(ConsolePanic, match="hypervisor panic") as verdict:
        console.wait_all(r"^\[bystander\] HIL:HEARTBEAT 20$", timeout=20)
    waited = time.monotonic() - started
    stop_all(bench)
    assert "HIL:PANIC EL2 stack overflow on CPU 1" in str(verdict.value)
    assert "HIL:PANIC-CPU cpu=1 partition=attacker vcpu=0" in str(verdict.value)
    assert waited < 5, f"the panic ended the 20 s wait after {waited:.1f}s"
    assert record.attempts == 1 and bench.power_calls().count("on") == 1


def test_hil_fake_bench_a_flaky_power_up_is_retried_once_and_passes(fake_bench, tmp_path):
    image = tmp_path / "image.bin"
    image.write_bytes(b"z" * 4096)
    bench = fake_bench("bare-metal-qemu-virt.log", fail_first=1)
    board, console, record = boot_on(bench, image)
    try:
        console.wait_all(r"^\[alpha\] HIL:HEARTBEAT 2$", timeout=10)
    finally:
        stop_all(bench)
    assert record.attempts == 2 and record.verdicts == ["power failed"]
    assert bench.power_calls().count("on") == 2, bench.power_calls()


def test_hil_fake_bench_a_failed_test_is_not_retried(fake_bench, tmp_path):
    """A scenario whose marker never comes fails once: one boot, one power-up, no rerun."""
    build_image("bare-metal", "qemu-virt")
    bench = fake_bench("bare-metal-qemu-virt.log")
    target = Path(bench.target()["path"])
    junit = tmp_path / "junit.xml"
    done = run_suite(target, junit, str(HERE / "fakebench" / "scenario_never_passes.py"))
    assert done.returncode == 1, done.stdout[-4000:]
    _, outcomes, cases = junit_cases(junit)
    assert outcomes == {"test_a_marker_that_never_comes": "failure"}, outcomes
    assert cases["test_a_marker_that_never_comes"]["boot_attempts"] == "1"
    assert bench.power_calls().count("on") == 1, bench.power_calls()
    assert done.stdout.count("test_a_marker_that_never_comes FAILED") == 1, done.stdout[-3000:]
