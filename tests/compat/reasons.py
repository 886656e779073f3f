"""Why each failing Mastodon.py suite test fails against Steward, one line each.
Keys are test ids (`tests/test_x.py::test_name`, parameters stripped) or a whole
test file (`tests/test_x.py`). report.py turns these into FAILING.md.

Each reason starts with who can fix it: a Steward area (the module that owns the
endpoint), `unowned` (no module serves it yet), or `suite` / `network` for tests
that cannot pass in a live run here whatever the server does."""

from __future__ import annotations

_SUITE_VCR = ("suite: uses the `vcr` fixture, which is None under --disable-recording, "
              "so it cannot run live")
_SUITE_WS = ("suite: its websocket_cassette fixture replays the recorded frames even with --disable-recording, "
             "so recorded status ids never equal the live ones")
_SUITE_PKL = "suite: reads a time pickled at recording time from tests/cassettes/*.pkl, so live times cannot match"
_ADMIN = "unowned (admin API, web/admin_api): no /api/v1/admin/* or /api/v2/admin/* endpoints yet"
_COLLECTIONS = "unowned (collections, Mastodon 4.7): no /api/v1/collections endpoints yet"
_ANNUAL = ("unowned (annual reports): Steward generates no annual reports, so there is no annual_report "
           "notification (the suite seeds one with tests/seed_annual_report.rb)")
_QUOTES = "statuses.py: quote posts (quoted_status_id, quote/quote_approval fields, interaction_policy) are not implemented"
_VIDEO = "media.py: video and audio uploads are refused (the suite uploads tests/video.mp4)"

REASONS: dict[str, str] = {
    # accounts.py (lead)
    "tests/test_account.py::test_accounts": "accounts.py: GET /api/v1/accounts?id[]= (several accounts at once) is "
                                            "not served (405)",
    "tests/test_account.py::test_account_update_credentials": "accounts.py: update_credentials ignores "
                                                              "avatar_description/header_description (Mastodon 4.7)",
    "tests/test_account.py::test_account_update_credentials_quote_policy": "accounts.py: source.quote_policy "
                                                                           "(default quote policy) is not stored",
    "tests/test_profile.py": "accounts.py: GET/PATCH /api/v1/profile (Mastodon 4.7 profile endpoint) is not served",
    "tests/test_create_app.py::test_app_account_create": "accounts.py: sign-ups are confirmed at once (no e-mail), "
                                                         "so POST /api/v1/emails/confirmations answers 403",
    # relationships
    "tests/test_account.py::test_account_familiar_followers": "relationships.py: familiar_followers returns [] "
                                                              "instead of one entry per requested id",
    # notifications
    "tests/test_notifications.py::test_notifications_types": "follow_requests.py and notifications.py: a follow_request "
                                                            "notification outlives its request (Mastodon deletes it "
                                                            "on authorize/reject)",
    "tests/test_notifications.py::test_notifications_exclude_and_types": "follow_requests.py and notifications.py: a "
                                                                         "follow_request notification outlives its "
                                                                         "request (Mastodon deletes it)",
    "tests/test_notifications.py::test_notifications_policy": "notifications.py: policy value 'filter' is refused "
                                                              "(notification requests are not implemented)",
    "tests/test_notifications.py::test_notification_requests_accept": "notifications.py: notification requests "
                                                                      "(policy 'filter') are not implemented",
    "tests/test_notifications.py::test_grouped_notifications": "notifications.py: GET /api/v2/notifications/"
                                                               "{group_key} (one group) is not served",
    # statuses
    "tests/test_quotes.py": _QUOTES,
    "tests/test_status.py::test_status_edit": "statuses.py: GET /api/v1/statuses/{id}/source is not served",
    "tests/test_status.py::test_status_update_with_media_edit": _VIDEO,
    "tests/test_errors.py::test_lang_for_errors": "statuses.py and core: error messages are not localised by "
                                                  "Accept-Language (the suite switches to de)",
    # media
    "tests/test_media.py::test_media_post": _VIDEO,
    "tests/test_media.py::test_media_update": _VIDEO,
    # instance / well-known / misc
    "tests/test_instance.py::test_health": "instance.py or misc.py: GET /health (plain OK) is not served",
    "tests/test_instance.py::test_instance_languages": "instance.py: GET /api/v1/instance/languages is not served",
    # unowned features
    "tests/test_admin.py": _ADMIN,
    "tests/test_collections.py": _COLLECTIONS,
    "tests/test_pagination.py::test_collections_offset_navigation": _COLLECTIONS,
    "tests/test_pagination.py::test_collections_page_iterator": _COLLECTIONS,
    "tests/test_annual_reports.py::test_annual_report_event": _ANNUAL,
    # cannot pass in a live run here
    "tests/test_streaming.py::test_stream_user_direct": _SUITE_VCR,
    "tests/test_streaming.py::test_stream_user_local": _SUITE_VCR,
    "tests/test_streaming.py::test_stream_direct": _SUITE_VCR,
    "tests/test_streaming.py::test_stream_public_only_media": "suite: relies on VCR's patched HTTP to close its SSE "
                                                              "streams; under --disable-recording they stay open",
    "tests/test_streaming_websocket.py::test_stream_websocket_user_direct": _SUITE_WS,
    "tests/test_streaming_websocket.py::test_stream_user_shared_websocket": _SUITE_WS,
    "tests/test_streaming_websocket.py::test_stream_websocket_only_media": _SUITE_WS,
    "tests/test_streaming_websocket.py::test_stream_websocket_hashtag": _SUITE_WS,
    "tests/test_timeline.py::test_min_max_id_datetimes": _SUITE_PKL,
    "tests/test_instance.py::test_server_time": _SUITE_PKL + " (and HEAD / must carry a Date header)",
    "tests/test_status.py::test_scheduled_status": _SUITE_PKL + " (it schedules a post at that past time)",
    "tests/test_timeline.py::test_timeline_disabled": "network: asks https://mastodon.social, which this machine "
                                                      "cannot reach",
    "tests/test_status.py::test_status_card": "network: the preview card needs http://example.org/ fetched, which "
                                              "this machine cannot reach (and Steward makes no preview cards yet)",
}
