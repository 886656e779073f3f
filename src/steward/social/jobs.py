"""Registers the social package's job handlers with the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from steward.container import Container


def register(c: Container) -> None:
    return None
