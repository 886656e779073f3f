"""A pytest plugin loaded into the Mastodon.py suite's run (copied next to its
side packages, since the suite's own `tests` package hides ours). It marks each
test that opened a connection to the server under test with the JUnit property
`server`, so the pass rate can be given for server tests alone."""

from __future__ import annotations

import socket
from collections.abc import Generator
from typing import Any

import pytest

PORT = 3000
_state = {"touched": False}
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _note(address: Any) -> None:
    if isinstance(address, tuple) and len(address) >= 2 and address[1] == PORT:
        _state["touched"] = True


def _patched_connect(self: socket.socket, address: Any) -> None:
    _note(address)
    return _connect(self, address)


def _patched_connect_ex(self: socket.socket, address: Any) -> int:
    _note(address)
    return _connect_ex(self, address)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _patched_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _patched_connect_ex  # type: ignore[method-assign]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _state["touched"] = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    if call.when == "teardown" and _state["touched"]:
        item.user_properties.append(("server", "1"))
    yield
