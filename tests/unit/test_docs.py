"""The reference tables in docs/ match the code that defines them."""

from __future__ import annotations

import pytest

from volplane.docs import DOCS, GENERATED
from volplane.errors import all_error_classes


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_doc_is_current(name: str) -> None:
    expected = GENERATED[name]()
    assert (DOCS / name).read_text() == expected, f"run `python -m volplane.docs` ({name})"


def test_error_codes_are_unique_and_well_formed() -> None:
    codes = [cls.code for cls in all_error_classes()]
    assert len(codes) == len(set(codes))
    for code in codes:
        area, number = code.split(".")[1:]
        assert area in {"SYS", "AUTH", "JOB", "ARG", "RESOURCE", "STORAGE", "AGENT", "HOST"}
        assert len(number) == 4 and number.isdigit()
