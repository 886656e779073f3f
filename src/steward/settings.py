"""Configuration, read from the environment when asked, never at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    media_dir: Path
    allow_private_addresses: bool = False
    # Test harnesses only: a hosts-format file the outbound resolver answers from first
    # (honoured only with allow_private_addresses).
    hosts_file: Path | None = None
    run_jobs_in_process: bool = True
    # Public scheme used when building URLs when no proxy header says otherwise.
    default_scheme: str = "auto"
    max_request_body: int = 16 * 1024 * 1024
    max_json_body: int = 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("STEWARD_DATA_DIR", "./data")).resolve()
        url = env.get("STEWARD_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'steward.sqlite3'}"
        url = normalise_database_url(url)
        return cls(
            data_dir=data_dir,
            database_url=url,
            media_dir=Path(env.get("STEWARD_MEDIA_DIR", str(data_dir / "media"))).resolve(),
            allow_private_addresses=_flag(env.get("STEWARD_ALLOW_PRIVATE_ADDRESSES")),
            hosts_file=Path(env["STEWARD_HOSTS_FILE"]).resolve() if env.get("STEWARD_HOSTS_FILE") else None,
            run_jobs_in_process=not _flag(env.get("STEWARD_NO_INPROCESS_JOBS")),
            default_scheme=env.get("STEWARD_SCHEME", "auto"),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def normalise_database_url(url: str) -> str:
    """Accept plain postgres:// and sqlite:// URLs and pick the async drivers."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and "+aiosqlite" not in url:
        return "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
    return url
