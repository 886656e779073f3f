"""The streaming hub: events published after a commit reach every subscriber
of a stream in this process. (Cross-process fan-out through PostgreSQL
LISTEN/NOTIFY plugs in at `start`.)"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.container import Container

StreamKey = tuple[int, str]  # (tenant_id, stream name such as "user:123" or "public:local")


class StreamingHub:
    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._subs: dict[StreamKey, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def start(self, c: Container) -> None:
        return None

    async def stop(self) -> None:
        self._subs.clear()

    def subscribe(self, keys: list[StreamKey]) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.queue_size)
        for key in keys:
            self._subs[key].add(queue)
        return queue

    def add(self, queue: asyncio.Queue[dict[str, Any]], key: StreamKey) -> None:
        self._subs[key].add(queue)

    def remove(self, queue: asyncio.Queue[dict[str, Any]], key: StreamKey) -> None:
        subs = self._subs.get(key)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subs[key]

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        for key in [k for k, subs in self._subs.items() if queue in subs]:
            self.remove(queue, key)

    def has_subscribers(self, key: StreamKey) -> bool:
        return bool(self._subs.get(key))

    def publish(self, key: StreamKey, event: dict[str, Any]) -> None:
        """event: {"stream": [...], "event": "update", "payload": str}. A subscriber
        too slow to keep up loses events rather than holding the publisher."""
        for queue in list(self._subs.get(key, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                pass
