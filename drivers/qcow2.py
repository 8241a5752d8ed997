"""The qcow2 driver: every qemu-img call the agent makes.

Argument building and output parsing are pure functions (unit-tested); the functions
after them run the commands. A command that fails raises ``DriverCommandFailed``
carrying its exit code and stderr. Images are always opened with an explicit format
so a guest-written raw image can never be probed as something else.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import struct
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers import scratch
from drivers.backends.base import PoolBackend
from drivers.backends.directory import DirectoryBackend
from schemas.agent import Extent, ImageInfo
from volplane.errors import DriverCommandFailed, InvalidParameter, InvalidStoragePath, JobCancelled

QEMU_IMG = "qemu-img"
QEMU_IO = "qemu-io"
FORMAT = "qcow2"
PART_SUFFIX = ".part"

ProgressCallback = Callable[[int], None]
CancelCheck = Callable[[], bool]
# What qemu opens: a local path, or a URL of a network pool (``nfs://server/export/x``).
# URLs stay strings: a Path would fold their double slash.
Image = str | Path
# Local files, when no pool backend is given.
LOCAL_FILES: PoolBackend = DirectoryBackend(Path("/"))

# --- argument building (pure) ----------------------------------------------


def create_argv(
    path: Image,
    *,
    size: int | None = None,
    backing: Image | None = None,
    backing_format: str = FORMAT,
) -> list[str]:
    if size is None and backing is None:
        raise InvalidParameter("an image needs a size or a backing file")
    argv = [QEMU_IMG, "create", "-q", "-f", FORMAT]
    if backing is not None:
        argv += ["-b", str(backing), "-F", backing_format]
    argv.append(str(path))
    if size is not None:
        argv.append(str(size))
    return argv


def info_argv(path: Image, *, backing_chain: bool = False, fmt: str | None = FORMAT) -> list[str]:
    # -U reads images a running VM holds open; the lock is only advisory for reads.
    argv = [QEMU_IMG, "info", "--output=json", "-U"]
    if fmt is not None:
        argv += ["-f", fmt]
    if backing_chain:
        argv.append("--backing-chain")
    return [*argv, str(path)]


def commit_argv(path: Image) -> list[str]:
    return [QEMU_IMG, "commit", "-q", "-f", FORMAT, str(path)]


def rebase_argv(path: Image, backing: Image | None, *, unsafe: bool = False) -> list[str]:
    """A ``None`` backing flattens: the image keeps its data and loses its parent."""
    argv = [QEMU_IMG, "rebase", "-q", "-f", FORMAT]
    if unsafe:
        argv.append("-u")
    if backing is None:
        argv += ["-b", ""]
    else:
        argv += ["-b", str(backing), "-F", FORMAT]
    return [*argv, str(path)]


def convert_argv(
    src: Image, dst: Image, *, compress: bool = False, rate_limit: int | None = None
) -> list[str]:
    argv = [QEMU_IMG, "convert", "-p", "-f", FORMAT, "-O", FORMAT]
    if compress:
        argv.append("-c")
    if rate_limit is not None:
        argv += ["-r", str(rate_limit)]
    return [*argv, str(src), str(dst)]


def resize_argv(path: Image, size: int) -> list[str]:
    return [QEMU_IMG, "resize", "-q", "-f", FORMAT, str(path), str(size)]


def map_argv(path: Image) -> list[str]:
    return [QEMU_IMG, "map", "--output=json", "-U", "-f", FORMAT, str(path)]


def compare_argv(first: Image, second: Image) -> list[str]:
    return [QEMU_IMG, "compare", "-q", "-U", "-f", FORMAT, "-F", FORMAT, str(first), str(second)]


def write_pattern_argv(path: Image, *, offset: int, length: int, pattern: int) -> list[str]:
    return [QEMU_IO, "-f", FORMAT, "-c", f"write -P {pattern:#x} {offset} {length}", str(path)]


def part_path(dst: Image) -> Image:
    """Where convert writes before the result is complete and renamed into place."""
    if isinstance(dst, Path):
        return dst.with_name(dst.name + PART_SUFFIX)
    return dst + PART_SUFFIX


# --- output parsing (pure) -------------------------------------------------

_PROGRESS = re.compile(rb"\((\d+(?:\.\d+)?)/100%\)")


class ProgressParser:
    """Turns ``qemu-img -p`` output, fed in arbitrary chunks, into whole percents."""

    def __init__(self) -> None:
        self._pending = b""
        self.percent: int | None = None

    def feed(self, chunk: bytes) -> int | None:
        """Returns the new percent when it changed, else None."""
        data = self._pending + chunk
        # Records end in '\r' (or '\n' at the very end); keep an unfinished one for later.
        cut = max(data.rfind(b"\r"), data.rfind(b"\n"))
        complete, self._pending = data[: cut + 1], data[cut + 1 :]
        found = _PROGRESS.findall(complete)
        if not found:
            return None
        percent = min(100, int(float(found[-1])))
        if percent == self.percent:
            return None
        self.percent = percent
        return percent


def parse_info(data: dict[str, Any]) -> ImageInfo:
    return ImageInfo(
        path=data["filename"],
        format=data["format"],
        virtual_size=data["virtual-size"],
        actual_size=data.get("actual-size"),
        backing_file=data.get("full-backing-filename") or data.get("backing-filename"),
        backing_format=data.get("backing-filename-format"),
        cluster_size=data.get("cluster-size"),
        dirty=bool(data.get("dirty-flag", False)),
    )


@dataclass(frozen=True)
class Header:
    """The fixed part of a qcow2 header (the format's spec, "Header")."""

    version: int
    has_backing: bool
    cluster_size: int
    virtual_size: int
    dirty: bool


_HEADER = struct.Struct(">4sIQIIQ")  # magic, version, backing offset/size, cluster bits, size
_INCOMPATIBLE = struct.Struct(">Q")  # incompatible feature bits (version 3); bit 0: dirty
_INCOMPATIBLE_AT = 72
_MAGIC = b"QFI\xfb"
HEADER_BYTES = _INCOMPATIBLE_AT + _INCOMPATIBLE.size


def parse_header(data: bytes) -> Header:
    if len(data) < _HEADER.size or data[:4] != _MAGIC:
        raise InvalidStoragePath("not a qcow2 image")
    _, version, backing_offset, _, cluster_bits, size = _HEADER.unpack_from(data)
    dirty = False
    if version >= 3 and len(data) >= HEADER_BYTES:
        dirty = bool(_INCOMPATIBLE.unpack_from(data, _INCOMPATIBLE_AT)[0] & 1)
    return Header(version, backing_offset != 0, 1 << cluster_bits, size, dirty)


def parse_map(data: Sequence[dict[str, Any]]) -> list[Extent]:
    return [
        Extent(
            start=item["start"],
            length=item["length"],
            data=bool(item.get("data", False)),
            zero=bool(item.get("zero", False)),
            depth=item.get("depth", 0),
        )
        for item in data
    ]


def command_failure(argv: Sequence[str], exit_code: int | None, stderr: str) -> DriverCommandFailed:
    name = " ".join([Path(argv[0]).name, *argv[1:2]])
    message = stderr.strip() or "no error output"
    return DriverCommandFailed(
        f"{name} exited {exit_code}: {message}", argv=list(argv), exit_code=exit_code, stderr=stderr
    )


# --- running commands ------------------------------------------------------


def run(
    argv: Sequence[str], *, ok_codes: tuple[int, ...] = (0,)
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise command_failure(argv, None, str(exc)) from exc
    if proc.returncode not in ok_codes:
        raise command_failure(argv, proc.returncode, proc.stderr)
    return proc


def _json(argv: Sequence[str]) -> Any:
    return json.loads(run(argv).stdout)


def info(path: Image) -> ImageInfo:
    return parse_info(_json(info_argv(path)))


def standalone_info(path: Path) -> ImageInfo:
    """``info`` of an image without a backing file, read from its header and ``stat``.

    What qemu-img info would answer (its actual size is the file's allocated blocks)
    without starting a process; an image with a backing file is asked of qemu-img.
    """
    with path.open("rb") as image:
        header = parse_header(image.read(HEADER_BYTES))
        allocated = os.fstat(image.fileno()).st_blocks * 512
    if header.has_backing:
        return info(path)
    return ImageInfo(
        path=str(path),
        format=FORMAT,
        virtual_size=header.virtual_size,
        actual_size=allocated,
        cluster_size=header.cluster_size,
        dirty=header.dirty,
    )


def backing_chain(path: Image) -> list[ImageInfo]:
    """The image first, then its backing files down to the base."""
    return [parse_info(item) for item in _json(info_argv(path, backing_chain=True))]


def probed_chain(path: Image) -> list[ImageInfo]:
    """``backing_chain`` of a file whose format is not known (a template may be raw)."""
    return [parse_info(item) for item in _json(info_argv(path, backing_chain=True, fmt=None))]


def _refuse_existing(path: Image, files: PoolBackend) -> None:
    if files.exists(str(path)):
        raise InvalidStoragePath(f"{path} already exists")


def create(
    path: Image,
    *,
    size: int | None = None,
    backing: Image | None = None,
    files: PoolBackend = LOCAL_FILES,
) -> ImageInfo:
    """A new image; with ``backing`` it adopts that image's contents (and size if none given)."""
    _refuse_existing(path, files)
    backing_format = FORMAT
    if backing is not None:
        # The adopted image may be raw; probing is acceptable here because the backing
        # file is an operator-supplied template, not guest-written data.
        backing_format = parse_info(_json(info_argv(backing, fmt=None))).format
    run(create_argv(path, size=size, backing=backing, backing_format=backing_format))
    return info(path)


def create_overlay(path: Image, backing: Image, *, files: PoolBackend = LOCAL_FILES) -> ImageInfo:
    """A new, empty qcow2 on top of ``backing``: how snapshots and linked clones start."""
    _refuse_existing(path, files)
    run(create_argv(path, backing=backing))
    return info(path)


def commit(path: Image) -> None:
    run(commit_argv(path))


def rebase(path: Image, backing: Image | None, *, unsafe: bool = False) -> ImageInfo:
    run(rebase_argv(path, backing, unsafe=unsafe))
    return info(path)


def resize(path: Image, size: int) -> ImageInfo:
    """Grow only: shrinking a disk under a guest loses data."""
    current = info(path).virtual_size
    if size < current:
        raise InvalidParameter(f"{path} is {current} bytes; shrinking to {size} is refused")
    if size > current:
        run(resize_argv(path, size))
    return info(path)


def map_extents(path: Image) -> list[Extent]:
    return parse_map(_json(map_argv(path)))


def compare(first: Image, second: Image) -> bool:
    """True when both images show the guest the same bytes."""
    return run(compare_argv(first, second), ok_codes=(0, 1)).returncode == 0


def write_pattern(path: Image, *, offset: int, length: int, pattern: int) -> None:
    """Writes ``length`` bytes of ``pattern`` as a guest would (tests and benchmarks)."""
    run(write_pattern_argv(path, offset=offset, length=length, pattern=pattern))


def convert(
    src: Image,
    dst: Image,
    *,
    files: PoolBackend = LOCAL_FILES,
    compress: bool = False,
    rate_limit: int | None = None,
    on_progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    poll_interval: float = 0.2,
) -> ImageInfo:
    """A full, independent copy of ``src``'s data at ``dst``.

    The copy is written beside ``dst`` and renamed when complete, so ``dst`` never
    holds a partial image; a cancelled or failed copy leaves nothing behind.
    """
    _refuse_existing(dst, files)
    part = part_path(dst)
    local_part = files.local_path(str(part))
    with scratch.holding(*([local_part] if local_part is not None else [])):
        files.remove(str(part))  # left by an agent that died mid-copy
        argv = convert_argv(src, part, compress=compress, rate_limit=rate_limit)
        parser = ProgressParser()
        try:
            with tempfile.TemporaryFile() as stderr_file:
                try:
                    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr_file)
                except OSError as exc:
                    raise command_failure(argv, None, str(exc)) from exc
                with files.writing_behind(str(part)):
                    cancelled = _pump(proc, parser, on_progress, should_cancel, poll_interval)
                if cancelled:
                    raise JobCancelled(f"copy of {src} to {dst} was cancelled")
                if proc.returncode != 0:
                    stderr_file.seek(0)
                    stderr = stderr_file.read().decode(errors="replace")
                    raise command_failure(argv, proc.returncode, stderr)
            files.finish(str(part), str(dst))
        except BaseException:
            files.remove(str(part))
            raise
    if on_progress is not None and parser.percent != 100:
        on_progress(100)
    local = files.local_path(str(dst))
    return standalone_info(local) if local is not None else info(dst)


def _pump(
    proc: subprocess.Popen[bytes],
    parser: ProgressParser,
    on_progress: ProgressCallback | None,
    should_cancel: CancelCheck | None,
    poll_interval: float,
) -> bool:
    """Relays progress until the process ends; returns True if it was cancelled."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        try:
            while True:
                if should_cancel is not None and should_cancel():
                    _stop(proc)
                    return True
                if not selector.select(poll_interval):
                    continue
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                percent = parser.feed(chunk)
                if percent is not None and on_progress is not None:
                    on_progress(percent)
        except BaseException:
            _stop(proc)
            raise
        finally:
            proc.stdout.close()
    proc.wait()
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
