"""Registers the social package's job handlers with the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.container import Container


def register(c: Container) -> None:
    from steward.social import fanout, media_av, polls, scheduled_statuses
    from steward.social.notifications import handle_notify_job

    def bind(handler: Any) -> Any:
        async def run(payload: dict[str, Any]) -> None:
            await handler(c, payload)

        return run

    c.jobs.register("status.distribute", bind(fanout.distribute))
    c.jobs.register("status.removed", bind(fanout.removed))
    c.jobs.register("status.edited", bind(fanout.edited))
    c.jobs.register("notify", bind(handle_notify_job))
    c.jobs.register("status.publish_scheduled", bind(scheduled_statuses.publish))
    c.jobs.register("poll.ended", bind(polls.notify_ended))
    c.jobs.register("media.process", bind(media_av.process_media_job))
