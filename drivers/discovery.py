"""Discovery of manageable images: which files in a pool could become volumes.

The worker (or gateway) says which files volumes already own; the agent probes
every other file in the pool and answers, for each, its format and virtual size and
whether it is *safe to manage*, with the reasons when it is not:

- ``already-managed``: a volume owns it (its head, one of its snapshots, or its base).
- ``reserved-name``: it is named like a volplane image (``volume-<uuid>...``, see
  ``volplane.layout``) that no volume owns yet: an image being created, snapshotted
  or copied right now, or left by a failed job. Never adopt those.
- ``unsupported-format``: not ``qcow2`` or ``raw`` (or encrypted).
- ``unreadable``: the agent cannot open it.
- ``corrupt``: ``qemu-img info`` cannot read it, or ``qemu-img check`` finds corruption.
- ``backing-outside-pool``, ``backing-missing``, ``backing-loop``: its backing chain
  leaves the pool, is broken, or loops.
- ``backing-is-volume``: a file of its backing chain is a volume's writable head.
- ``backing-through-file``: its backing chain reaches a volume's snapshot image through
  a file no volume owns (built directly on a snapshot image is fine: the adopted volume
  then depends on that snapshot, as a linked clone does).
- ``backing-of-image``: another image in the pool is built on it; writing it would
  corrupt that image.
- ``in-use``: a process has it open for writing.

"In use" is found two ways, both read-only:

1. ``/proc/<pid>/fd/*`` links that resolve to the file, whose ``/proc/<pid>/fdinfo``
   ``flags`` have ``O_WRONLY`` or ``O_RDWR``: any process on this host (in this PID
   namespace, and that the agent may inspect: run it as root in production).
2. QEMU's image locks: QEMU holds an OFD byte-range lock on byte ``100 + bit`` of an
   image for every permission it uses; ``F_OFD_GETLK`` on byte 101 (the *write*
   permission) finds a QEMU writing the image, also on another host of a shared pool
   whose filesystem forwards locks (NFSv4).

Formats are probed (``qemu-img info`` without ``-f``), which is unavoidable for files
of unknown origin; everything after adoption opens images with an explicit format.
The classification itself (``classify``) is a pure function of what was probed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import struct
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.agent import ManageableImage, NotSafeReason, OwnedImage
from volplane import layout

QEMU_IMG = "qemu-img"
SUPPORTED_FORMATS = ("qcow2", "raw")
GiB = 1 << 30

# --- probing results (plain data) -----------------------------------------------


@dataclass(frozen=True)
class Probe:
    """What the agent learned about one file, before any judgement."""

    name: str  # relative to the pool root
    path: str  # absolute, resolved
    file_size: int
    readable: bool = True
    format: str | None = None
    virtual_size: int | None = None
    actual_size: int | None = None
    backing_file: str | None = None  # resolved absolute path, as qemu resolves it
    encrypted: bool = False
    info_error: str | None = None  # qemu-img info failed
    check_error: str | None = None  # qemu-img check found corruption
    writers: tuple[str, ...] = ()  # "pid 123 (python3)", "a QEMU process (image lock)"


@dataclass
class _Verdict:
    reasons: list[NotSafeReason] = field(default_factory=list)
    volume_uuid: str | None = None

    def add(self, code: str, message: str) -> None:
        self.reasons.append(NotSafeReason(code=code, message=message))


# --- pure decisions ----------------------------------------------------------------


def gib_rounded_up(size: int) -> int:
    """Cinder's size of an image: whole GiB, rounded up (an empty image is 0)."""
    return -(-size // GiB)


def is_within(path: str, root: str) -> bool:
    root = root.rstrip("/")
    return path.startswith(root + "/")


def candidate_names(names: Iterable[str]) -> list[str]:
    """Files worth probing: not hidden and not a copy still being written."""
    return sorted(
        name
        for name in names
        if not any(part.startswith(".") for part in name.split("/"))
        and not name.endswith(layout.PART_SUFFIX)
    )


def backing_chain(start: Probe, by_path: Mapping[str, Probe]) -> tuple[list[str], str | None]:
    """The backing files below ``start`` (nearest first), and the reason the chain
    could not be followed to its end ("loop" or "outside"/"missing" of the last one)."""
    chain: list[str] = []
    seen = {start.path}
    current = start
    while current.backing_file is not None:
        backing = current.backing_file
        if backing in seen:
            return chain, "loop"
        chain.append(backing)
        seen.add(backing)
        following = by_path.get(backing)
        if following is None:
            return chain, "unknown"
        current = following
    return chain, None


def classify(
    root: str,
    probes: list[Probe],
    owned: Mapping[str, OwnedImage],
    *,
    existing: Iterable[str] = (),
) -> list[ManageableImage]:
    """Judges every probed file. ``owned`` maps resolved paths to what owns them;
    ``existing`` are resolved paths that exist (to tell a missing backing file from one
    that merely was not probed)."""
    by_path = {p.path: p for p in probes}
    present = set(existing) | set(by_path)
    backs: dict[str, list[str]] = {}  # backing path -> the images directly on top of it
    for probe in probes:
        if probe.backing_file is not None:
            backs.setdefault(probe.backing_file, []).append(probe.name)

    results = []
    for probe in probes:
        verdict = _Verdict()
        owner = owned.get(probe.path)
        if owner is not None:
            # Whatever else is true of it is the owning volume's business.
            verdict.volume_uuid = owner.volume_uuid
            verdict.add("already-managed", f"already managed by volume {owner.volume_uuid}")
            results.append(_image(probe, verdict))
            continue
        if (role := layout.recognize(probe.name)) is not None:
            verdict.add(
                "reserved-name",
                f"named as an image of volume {role.volume_uuid} that no volume owns "
                "(being created or copied, or left by a failed job)",
            )
        if not probe.readable:
            verdict.add("unreadable", "the agent cannot read it")
        elif probe.info_error is not None:
            verdict.add("corrupt", f"qemu-img cannot open it: {probe.info_error}")
        else:
            if probe.format not in SUPPORTED_FORMATS:
                verdict.add(
                    "unsupported-format",
                    f"format {probe.format} is not supported (only qcow2 and raw)",
                )
            if probe.encrypted:
                verdict.add("unsupported-format", "encrypted images are not supported")
            if probe.check_error is not None:
                verdict.add("corrupt", f"qemu-img check: {probe.check_error}")
            _judge_chain(root, probe, by_path, present, owned, verdict)
        users = sorted(backs.get(probe.path, []))
        if users:
            verdict.add("backing-of-image", f"backing file of {', '.join(users)}")
        if probe.writers:
            verdict.add("in-use", f"open for writing by {', '.join(probe.writers)}")
        results.append(_image(probe, verdict))
    return results


def _image(probe: Probe, verdict: _Verdict) -> ManageableImage:
    return ManageableImage(
        name=probe.name,
        path=probe.path,
        format=probe.format,
        virtual_size=probe.virtual_size,
        actual_size=probe.actual_size,
        file_size=probe.file_size,
        backing_file=probe.backing_file,
        safe_to_manage=not verdict.reasons,
        reasons=verdict.reasons,
        volume_uuid=verdict.volume_uuid,
    )


def _judge_chain(
    root: str,
    probe: Probe,
    by_path: Mapping[str, Probe],
    present: set[str],
    owned: Mapping[str, OwnedImage],
    verdict: _Verdict,
) -> None:
    chain, stop = backing_chain(probe, by_path)
    for backing in chain:
        if not is_within(backing, root):
            verdict.add("backing-outside-pool", f"backing file {backing} is outside the pool")
            return
        if backing not in present:
            verdict.add("backing-missing", f"backing file {backing} does not exist")
            return
        owner = owned.get(backing)
        if owner is not None and owner.role == "head":
            verdict.add(
                "backing-is-volume",
                f"backing file {backing} is the writable image of volume {owner.volume_uuid}",
            )
    # Adopting a file built directly on a snapshot image records that dependency (as a
    # linked clone's); one that reaches a snapshot through a file nobody owns could not.
    reached = next(((i, owned[b]) for i, b in enumerate(chain) if b in owned), None)
    if reached is not None and reached[0] > 0 and reached[1].role == "snapshot":
        verdict.add(
            "backing-through-file",
            f"its backing chain reaches a snapshot image of volume {reached[1].volume_uuid} "
            f"through {chain[0]}, which no volume owns",
        )
    if stop == "loop":
        verdict.add("backing-loop", "its backing chain loops")


# --- reading /proc -----------------------------------------------------------------

_ACCESS_MODE = 0o3  # O_ACCMODE


def fdinfo_flags(text: str) -> int | None:
    """The ``flags`` (octal) of a ``/proc/<pid>/fdinfo/<fd>`` text."""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            try:
                return int(value.strip(), 8)
            except ValueError:
                return None
    return None


def opened_for_writing(flags: int) -> bool:
    return flags & _ACCESS_MODE in (os.O_WRONLY, os.O_RDWR)


def writers_by_path(targets: set[str], proc: Path = Path("/proc")) -> dict[str, list[str]]:
    """For each of ``targets`` (resolved paths) that a process has open for writing,
    who: ``"pid 123 (qemu-system-x86)"``. Processes the agent may not inspect are
    skipped."""
    found: dict[str, list[str]] = {}
    if not targets:
        return found
    try:
        pids = [entry for entry in os.listdir(proc) if entry.isdigit()]
    except OSError:
        return found
    for pid in pids:
        fd_dir = proc / pid / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd_dir / fd)
            except OSError:
                continue
            if target not in targets:
                continue
            try:
                flags = fdinfo_flags((proc / pid / "fdinfo" / fd).read_text())
            except OSError:
                continue
            if flags is not None and opened_for_writing(flags):
                who = f"pid {pid} ({_command_name(proc, pid)})"
                if who not in found.setdefault(target, []):
                    found[target].append(who)
    return found


def _command_name(proc: Path, pid: str) -> str:
    try:
        return (proc / pid / "comm").read_text().strip() or "?"
    except OSError:
        return "?"


# QEMU's image locking (block/file-posix.c): byte 100 + n is locked (shared) by every
# process that uses permission bit n; bit 1 is BLK_PERM_WRITE.
_QEMU_WRITE_LOCK_BYTE = 101


def qemu_write_locked(path: str) -> bool:
    """True when some process holds QEMU's lock for writing ``path`` (F_OFD_GETLK)."""
    getlk = getattr(fcntl, "F_OFD_GETLK", None)
    if getlk is None:
        return False
    # struct flock: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
    request = struct.pack("@hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, _QEMU_WRITE_LOCK_BYTE, 1, 0)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        answer = fcntl.fcntl(fd, getlk, request)
    except OSError:
        return False
    finally:
        os.close(fd)
    return bool(struct.unpack("@hhqqi4x", answer)[0] != fcntl.F_UNLCK)


# --- qemu-img ------------------------------------------------------------------


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error output"


def probe_file(root: Path, name: str, writers: Mapping[str, list[str]]) -> Probe:
    full = root / name
    path = os.path.realpath(full)
    stat = full.stat()
    who = list(writers.get(path, []))
    if not os.access(path, os.R_OK):
        return Probe(name=name, path=path, file_size=stat.st_size, readable=False)
    if not who and qemu_write_locked(path):
        who.append("a QEMU process (image write lock)")
    # -U: read even what a running VM holds; the lock probe above reports that case.
    answer = _run([QEMU_IMG, "info", "--output=json", "-U", path])
    if answer.returncode != 0:
        return Probe(
            name=name,
            path=path,
            file_size=stat.st_size,
            info_error=_first_line(answer.stderr),
            writers=tuple(who),
        )
    data: dict[str, Any] = json.loads(answer.stdout)
    backing = data.get("full-backing-filename") or data.get("backing-filename")
    if backing is not None:
        backing = os.path.realpath(os.path.join(os.path.dirname(path), backing))
    fmt = data.get("format")
    check_error = None
    if fmt == "qcow2":
        check_error = _check_qcow2(path)
    return Probe(
        name=name,
        path=path,
        file_size=stat.st_size,
        format=fmt,
        virtual_size=data.get("virtual-size"),
        actual_size=data.get("actual-size"),
        backing_file=backing,
        encrypted=bool(data.get("encrypted", False)),
        check_error=check_error,
        writers=tuple(who),
    )


def _check_qcow2(path: str) -> str | None:
    """None when ``qemu-img check`` finds no corruption (leaked clusters are harmless)."""
    answer = _run([QEMU_IMG, "check", "-U", "-f", "qcow2", "--output=json", path])
    if answer.returncode in (0, 3):  # 3: leaks only
        return None
    with contextlib.suppress(ValueError):
        found = json.loads(answer.stdout)
        if found.get("corruptions"):
            return f"{found['corruptions']} corruption(s)"
    return _first_line(answer.stderr or answer.stdout)


def pool_file_names(root: Path) -> list[str]:
    """Regular files (not symlinks) under the pool, relative to its root."""
    names = []
    for dirpath, _dirs, files in os.walk(root):
        for file_name in files:
            full = Path(dirpath, file_name)
            if full.is_file() and not full.is_symlink():
                names.append(str(full.relative_to(root)))
    return names


def discover(
    root: Path, owned: Iterable[OwnedImage], *, names: Iterable[str] | None = None
) -> list[ManageableImage]:
    """Probes the pool's files and judges them (see the module docstring).

    With ``names``, only those files are reported, but the whole pool is still probed
    so that "backing file of another image" is known.
    """
    resolved_root = os.path.realpath(root)
    owned_by_path = {os.path.realpath(o.path): o for o in owned}
    all_names = pool_file_names(root)
    candidates = candidate_names(all_names)
    paths = {os.path.realpath(root / name) for name in candidates}
    writers = writers_by_path(paths)
    probes = [probe_file(root, name, writers) for name in candidates]
    existing = {os.path.realpath(root / name) for name in all_names}
    judged = classify(resolved_root, probes, owned_by_path, existing=existing)
    if names is not None:
        wanted = set(names)
        judged = [image for image in judged if image.name in wanted]
    return judged
