"""What a host must have for its agent, decided from the check script's output."""

from __future__ import annotations

from drivers.deploy import parse_report, problems

GOOD = """hostname=h1
os=Debian GNU/Linux 12 (bookworm)
qemu_img=qemu-img version 7.2.22 (Debian 1:7.2+dfsg-7)
python=3.11
python_missing=
cpus=4
cpu_model= AMD EPYC
mem_total=8589934592
mem_available=4294967296
disk_available=1073741824
"""


def test_a_complete_host_has_no_problems_and_reports_its_machine() -> None:
    report = parse_report(GOOD)
    assert problems(report, python="python3", min_free_bytes=1 << 20) == []
    assert report.facts()["cpuNum"] == 4
    assert report.facts()["totalMemoryCapacity"] == 8589934592
    assert report.facts()["cpuModelName"] == "AMD EPYC"


def test_missing_qemu_img_old_python_and_libraries_are_each_named() -> None:
    text = GOOD.replace("qemu_img=qemu-img version 7.2.22 (Debian 1:7.2+dfsg-7)", "qemu_img=")
    found = problems(parse_report(text), python="python3", min_free_bytes=1)
    assert len(found) == 1 and "qemu-img" in found[0]
    old = problems(
        parse_report(GOOD.replace("python=3.11", "python=3.9")), python="py", min_free_bytes=1
    )
    assert "3.11" in old[0]
    libs = GOOD.replace("python_missing=", "python_missing=uvicorn,zstandard")
    assert "uvicorn, zstandard" in problems(parse_report(libs), python="py", min_free_bytes=1)[0]
    no_python = problems(
        parse_report(GOOD.replace("python=3.11", "")), python="py", min_free_bytes=1
    )
    assert "not a working Python" in no_python[0]


def test_too_little_free_space_is_a_problem() -> None:
    found = problems(parse_report(GOOD), python="python3", min_free_bytes=2 << 30)
    assert "free" in found[0]


def test_garbage_output_reports_everything_missing() -> None:
    report = parse_report("bash: line 1: oops\n")
    assert report.cpu_count == 0 and report.qemu_img is None
    assert len(problems(report, python="python3", min_free_bytes=1)) == 3
