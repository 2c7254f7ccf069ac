"""Target files: which backend boots a scenario's image, and with which settings.

A target is a TOML file in ``targets/`` (named on the command line without ``.toml``) or
anywhere (named by its path). Its keys, by backend (docs/hil.md has the full reference):

  every target   board ("qemu-virt" or "rpi4": what `cargo xtask build --board` builds for),
                 backend ("qemu", "bench" or "labgrid"), [phases] (timeouts in seconds of
                 power, first_byte, banner, partitions), boot_retries
  qemu           argv (with {image}, {image_dir}, {smp}, {gic}), defaults
  bench          port or usb_serial, baud, power_on / power_off / power_cycle commands,
                 [media] (kind = "sdmux" | "tftp" | "command")
  labgrid        env (a labgrid environment file) or place + coordinator, labgrid_target

Scenarios never see which backend runs them: `make_board` turns a target into a `Board`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from boards import Board, QemuBoard
from phases import Phases

TARGETS = Path(__file__).resolve().parent / "targets"

BACKENDS = ("qemu", "bench", "labgrid", "serial")


def target_path(name_or_file: str) -> Path:
    """The file a target name (``qemu-virt``) or path (``my-bench.toml``) stands for."""
    as_path = Path(name_or_file)
    if as_path.suffix == ".toml" or "/" in name_or_file:
        return as_path.resolve()
    return TARGETS / f"{name_or_file}.toml"


def load_target(name_or_file: str) -> dict:
    """The target described by `name_or_file`, with ``name`` and ``path`` added.

    Raises ValueError for a missing file or a backend that does not exist."""
    path = target_path(name_or_file)
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in TARGETS.glob("*.toml")))
        raise ValueError(f"no target {name_or_file!r}: expected {path} (known: {known})")
    with open(path, "rb") as f:
        target = tomllib.load(f)
    target.setdefault("name", path.stem)
    target["path"] = str(path)
    if target.get("backend") not in BACKENDS:
        raise ValueError(f"{path}: backend must be one of {', '.join(BACKENDS)}, not {target.get('backend')!r}")
    if "board" not in target:
        raise ValueError(f"{path}: no `board` (what `cargo xtask build --board` builds for)")
    return target


def is_qemu(target: dict) -> bool:
    return target["backend"] == "qemu"


def phases_of(target: dict) -> Phases:
    """The boot phases' timeouts and retry limit of `target` (docs/hil.md, "Boot phases")."""
    default_retries = 0 if is_qemu(target) else 1
    return Phases.from_table(target.get("phases", {}), target.get("boot_retries", default_retries))


def make_board(target: dict, values: dict, extra: list[str], config: str) -> Board:
    """A board of `target`'s backend for one boot of `config` (``values`` fill the QEMU
    command line: image_dir, smp, gic)."""
    backend = target["backend"]
    if backend == "qemu":
        argv = [arg.format(image="{image}", **values) for arg in target["argv"]]
        return QemuBoard(argv + extra)
    if backend in ("bench", "serial"):
        from bench import BenchBoard

        return BenchBoard.from_target(target, config)
    from labgrid_board import LabgridBoard

    return LabgridBoard.from_target(target, config)


def unsupported_request(target: dict, smp: int | None, gic: int | None, extra: list[str] | None) -> str | None:
    """Why a scenario's boot cannot run on a board (a fixed CPU count and GIC, no QEMU
    options), or None when it can."""
    if is_qemu(target):
        return None
    facts = target.get("defaults", {})
    if extra:
        return f"target {target['name']} is not QEMU: the scenario's QEMU options {extra} do not apply"
    if smp is not None and str(smp) != str(facts.get("smp", smp)):
        return f"target {target['name']} has {facts.get('smp')} CPUs, the scenario asks for {smp}"
    if gic is not None and str(gic) != str(facts.get("gic", gic)):
        return f"target {target['name']} has GICv{facts.get('gic')}, the scenario asks for GICv{gic}"
    return None
