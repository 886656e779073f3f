"""The streaming hub: events published after a commit reach every subscriber
of a stream, in this process and (on PostgreSQL) in every other one.

Events are small references ("status 123 was posted to home feeds"), not
rendered payloads: each connection renders the payload for its own viewer.
On SQLite (one process) `emit` dispatches directly; on PostgreSQL `emit` sends
one `NOTIFY steward_stream` per event and every process (this one included)
dispatches what its LISTEN connection receives, so a status distributed by a
worker reaches the streams a web process serves.

Hub keys, per tenant: `user:<account>`, `direct:<account>`, `public`,
`public:local`, `public:remote`, `hashtag:<tag>`, `hashtag:local:<tag>`,
`list:<list>`. An event with key `home` names a status that was written to home
feeds: the hub resolves it to the local `user:` and `list:` subscribers that
received it with one query, so fan-out to many followers costs one NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import exists, select, text

if TYPE_CHECKING:
    from steward.container import Container
    from steward.db.engine import Database

log = logging.getLogger("steward.streaming")

StreamKey = tuple[int, str]  # (tenant_id, hub key such as "user:123" or "public:local")
Delivery = tuple[str, dict[str, Any]]  # (hub key, event)
CHANNEL = "steward_stream"
# Every subscription of a tenant receives events with this key (status deletions).
BROADCAST = "*"
_NOTIFY = text("SELECT pg_notify(:channel, x) FROM unnest(CAST(:payloads AS text[])) AS x")


def event(tenant_id: int, key: str, name: str, *, ref: int | None = None, payload: str | None = None,
          author_id: int | None = None) -> dict[str, Any]:
    """An event as it travels between processes: `name` is the Mastodon event
    ("update", "notification", "delete", "status.update", "conversation"); `ref`
    the status, notification or conversation id it is about."""
    data: dict[str, Any] = {"t": tenant_id, "k": key, "e": name}
    if ref is not None:
        data["r"] = ref
    if payload is not None:
        data["p"] = payload
    if author_id is not None:
        data["a"] = author_id
    return data


class StreamingHub:
    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._subs: dict[StreamKey, set[asyncio.Queue[Delivery]]] = defaultdict(set)
        self._tenant_keys: dict[int, set[str]] = defaultdict(set)
        self._db: Database | None = None
        self._listener: Any = None
        self._supervisor: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.listening = asyncio.Event()

    # -- lifecycle -----------------------------------------------------------------

    async def start(self, c: Container) -> None:
        self._db = c.db
        self._stopping = False
        if not c.db.is_sqlite and self._supervisor is None:
            self._supervisor = asyncio.create_task(self._listen_forever(), name="steward-stream-listen")
            try:
                await asyncio.wait_for(self.listening.wait(), timeout=10)
            except TimeoutError:
                log.warning("streaming: LISTEN connection not ready yet; retrying in the background")

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._supervisor
            self._supervisor = None
        await self._close_listener()
        for task in list(self._pending):
            task.cancel()
        self._subs.clear()
        self._tenant_keys.clear()

    def _asyncpg_dsn(self) -> str:
        from sqlalchemy import make_url

        assert self._db is not None
        return make_url(self._db.url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def _listen_forever(self) -> None:
        import asyncpg

        delay = 0.5
        while not self._stopping:
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(self._asyncpg_dsn())
                conn.add_termination_listener(lambda _c, done=lost: done.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self._listener = conn
                self.listening.set()
                delay = 0.5
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be restarting; keep trying
                log.exception("streaming: LISTEN connection failed")
            self.listening.clear()
            self._listener = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _close_listener(self) -> None:
        conn, self._listener = self._listener, None
        self.listening.clear()
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        self._spawn(self.dispatch(data))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # -- subscriptions ----------------------------------------------------------------

    def subscribe(self, keys: list[StreamKey]) -> asyncio.Queue[Delivery]:
        queue: asyncio.Queue[Delivery] = asyncio.Queue(self.queue_size)
        for key in keys:
            self.add(queue, key)
        return queue

    def add(self, queue: asyncio.Queue[Delivery], key: StreamKey) -> None:
        self._subs[key].add(queue)
        self._tenant_keys[key[0]].add(key[1])

    def remove(self, queue: asyncio.Queue[Delivery], key: StreamKey) -> None:
        subs = self._subs.get(key)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subs[key]
                keys = self._tenant_keys.get(key[0])
                if keys is not None:
                    keys.discard(key[1])
                    if not keys:
                        del self._tenant_keys[key[0]]

    def unsubscribe(self, queue: asyncio.Queue[Delivery]) -> None:
        for key in [k for k, subs in self._subs.items() if queue in subs]:
            self.remove(queue, key)

    def has_subscribers(self, key: StreamKey) -> bool:
        return bool(self._subs.get(key))

    def publish(self, key: StreamKey, data: dict[str, Any]) -> None:
        """Local delivery to this process's subscribers of `key`. A subscriber too
        slow to keep up loses events rather than holding the publisher."""
        for queue in list(self._subs.get(key, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait((key[1], data))

    # -- publishing ---------------------------------------------------------------------

    async def emit(self, db: Database, events: list[dict[str, Any]]) -> None:
        """Publish events (built with `event`) after the transaction that caused
        them committed."""
        if not events:
            return
        if db.is_sqlite:
            if self._db is None:
                self._db = db
            for data in events:
                await self.dispatch(data)
            return
        payloads = [orjson.dumps(e).decode() for e in events]
        async with db.engine.connect() as conn:
            await conn.execute(_NOTIFY, {"channel": CHANNEL, "payloads": payloads})
            await conn.commit()

    async def dispatch(self, data: dict[str, Any]) -> None:
        """Deliver one event to this process's subscribers."""
        try:
            tenant_id = int(data["t"])
            key = str(data["k"])
        except (KeyError, TypeError, ValueError):
            return
        keys = self._tenant_keys.get(tenant_id)
        if not keys:
            return
        if key == BROADCAST:
            for k in list(keys):
                self.publish((tenant_id, k), data)
        elif key == "home":
            await self._dispatch_home(tenant_id, data, keys)
        else:
            self.publish((tenant_id, key), data)

    async def _dispatch_home(self, tenant_id: int, data: dict[str, Any], keys: set[str]) -> None:
        from steward.db.tables import home_feed, list_accounts, lists

        users = [int(k[5:]) for k in keys if k.startswith("user:")]
        list_ids = [int(k[5:]) for k in keys if k.startswith("list:")]
        status_id = data.get("r")
        if self._db is None or status_id is None or not (users or list_ids):
            return
        targets: list[str] = []
        async with self._db.read() as conn:
            if users:
                # As in the home timeline, members of a reader's exclusive lists stay in those lists.
                exclusive = exists().where(
                    lists.c.tenant_id == tenant_id, lists.c.account_id == home_feed.c.account_id,
                    lists.c.exclusive.is_(True), list_accounts.c.tenant_id == tenant_id,
                    list_accounts.c.list_id == lists.c.id, list_accounts.c.account_id == home_feed.c.author_id)
                rows = await conn.execute(
                    select(home_feed.c.account_id).where(
                        home_feed.c.tenant_id == tenant_id, home_feed.c.status_id == status_id,
                        home_feed.c.account_id.in_(users), ~exclusive))
                targets += [f"user:{r.account_id}" for r in rows]
            author = data.get("a")
            if list_ids and author is not None:
                rows = await conn.execute(
                    select(lists.c.id)
                    .join(list_accounts, (list_accounts.c.tenant_id == lists.c.tenant_id)
                          & (list_accounts.c.list_id == lists.c.id))
                    .join(home_feed, (home_feed.c.tenant_id == lists.c.tenant_id)
                          & (home_feed.c.account_id == lists.c.account_id)
                          & (home_feed.c.status_id == status_id))
                    .where(lists.c.tenant_id == tenant_id, lists.c.id.in_(list_ids),
                           list_accounts.c.account_id == author))
                targets += [f"list:{r.id}" for r in rows]
        for key in targets:
            self.publish((tenant_id, key), data)
