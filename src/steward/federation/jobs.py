"""Registers the federation package's job handlers with the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.container import Container


def register(c: Container) -> None:
    from steward.federation import delivery, dispatch, inbound_actors, inbound_follows, notes, outbox

    def bind(handler: Any) -> Any:
        async def run(payload: dict[str, Any]) -> None:
            await handler(c, payload)

        return run

    c.jobs.register("ap.inbox", bind(dispatch.process))
    c.jobs.register("ap.outbox", bind(outbox.process))
    c.jobs.register("ap.deliver", bind(delivery.deliver))
    c.jobs.register(notes.RESOLVE_PARENT_JOB, bind(notes.resolve_parent_job))
    c.jobs.register("follow_request.answered", bind(inbound_follows.on_follow_request_answered))
    c.jobs.register("ap.actor_gone", bind(inbound_actors.on_actor_gone))
