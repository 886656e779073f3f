"""Why each failing Mastodon.py suite test fails against Steward, one line each.
Keys are test ids (`tests/test_x.py::test_name`, parameters stripped) or a whole
test file (`tests/test_x.py`). report.py turns these into FAILING.md."""

from __future__ import annotations

REASONS: dict[str, str] = {
}
