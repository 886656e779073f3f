"""SQLAlchemy Core tables. Every tenant-owned table carries `tenant_id` and keys on
`(tenant_id, id)`; provider-level tables (tenants, jobs) are the only exceptions."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TS = DateTime(timezone=True)


def _tenant_pk(name: str, *cols: Column, extra: tuple = ()) -> Table:  # type: ignore[type-arg]
    return Table(
        name,
        metadata,
        Column("tenant_id", BigInteger, nullable=False),
        Column("id", BigInteger, nullable=False, autoincrement=False),
        *cols,
        PrimaryKeyConstraint("tenant_id", "id"),
        *extra,
    )


tenants = Table(
    "tenants",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("domain", String(253), nullable=False, unique=True),
    Column("web_domain", String(253), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("settings", JSON, nullable=False, default=dict),
    Column("private_key", Text),
    Column("public_key", Text),
    Column("created_at", TS, nullable=False),
    Column("suspended_at", TS),
)

accounts = _tenant_pk(
    "accounts",
    Column("username", String(64), nullable=False),
    Column("username_lower", String(64), nullable=False),
    # '' for local accounts, so the unique index covers them too.
    Column("domain", String(253), nullable=False, default=""),
    Column("display_name", String(200), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("note_source", Text, nullable=False, default=""),
    Column("fields", JSON, nullable=False, default=list),
    Column("uri", Text, nullable=False, default=""),
    Column("url", Text, nullable=False, default=""),
    Column("avatar_media_path", Text),
    Column("header_media_path", Text),
    Column("avatar_remote_url", Text),
    Column("header_remote_url", Text),
    Column("avatar_description", Text, nullable=False, default=""),
    Column("header_description", Text, nullable=False, default=""),
    Column("show_media", Boolean, nullable=False, default=True),
    Column("show_media_replies", Boolean, nullable=False, default=True),
    Column("show_featured", Boolean, nullable=False, default=True),
    Column("attribution_domains", JSON, nullable=False, default=list),
    Column("locked", Boolean, nullable=False, default=False),
    Column("bot", Boolean, nullable=False, default=False),
    Column("group", Boolean, nullable=False, default=False),
    Column("discoverable", Boolean, nullable=False, default=True),
    Column("indexable", Boolean, nullable=False, default=True),
    Column("hide_collections", Boolean, nullable=False, default=False),
    Column("memorial", Boolean, nullable=False, default=False),
    Column("statuses_count", Integer, nullable=False, default=0),
    Column("followers_count", Integer, nullable=False, default=0),
    Column("following_count", Integer, nullable=False, default=0),
    Column("last_status_at", TS),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("suspended_at", TS),
    Column("silenced_at", TS),
    Column("sensitized_at", TS),
    Column("moved_to_account_id", BigInteger),
    Column("also_known_as", JSON, nullable=False, default=list),
    Column("private_key", Text),
    Column("public_key", Text),
    Column("inbox_url", Text),
    Column("shared_inbox_url", Text),
    Column("outbox_url", Text),
    Column("followers_url", Text),
    Column("featured_url", Text),
    Column("actor_type", String(32), nullable=False, default="Person"),
    Column("fetched_at", TS),
    extra=(
        UniqueConstraint("tenant_id", "username_lower", "domain", name="uq_accounts_handle"),
        Index("ix_accounts_uri", "tenant_id", "uri"),
    ),
)

# A tenant's own staff roles beside owner/admin/moderator (Mastodon's custom roles).
custom_roles = _tenant_pk(
    "custom_roles",
    Column("name", String(64), nullable=False),
    Column("color", String(16), nullable=False, default=""),
    Column("permissions", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("highlighted", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "name", name="uq_custom_roles_name"),),
)

users = _tenant_pk(
    "users",
    Column("account_id", BigInteger, nullable=False),
    Column("email", String(320), nullable=False),
    Column("password_hash", Text),
    Column("role", String(32), nullable=False, default="user"),
    Column("locale", String(16), nullable=False, default="en"),
    Column("approved", Boolean, nullable=False, default=True),
    Column("confirmed_at", TS),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("sign_up_reason", Text),
    Column("sign_up_ip", String(64)),
    Column("settings", JSON, nullable=False, default=dict),
    Column("created_at", TS, nullable=False),
    Column("current_sign_in_at", TS),
    # A custom role's definition, copied from custom_roles when assigned and kept in
    # step when the role changes, so permission checks need no extra query.
    Column("role_spec", JSON),
    extra=(
        UniqueConstraint("tenant_id", "email", name="uq_users_email"),
        UniqueConstraint("tenant_id", "account_id", name="uq_users_account"),
    ),
)

oauth_apps = _tenant_pk(
    "oauth_apps",
    Column("name", String(200), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("client_secret", String(128), nullable=False),
    Column("redirect_uris", JSON, nullable=False, default=list),
    Column("scopes", Text, nullable=False, default="read"),
    Column("website", Text),
    Column("owner_user_id", BigInteger),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "client_id", name="uq_oauth_apps_client"),),
)

oauth_tokens = _tenant_pk(
    "oauth_tokens",
    # SHA-256 of the bearer token; the token itself is never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("refresh_hash", String(64), unique=True),
    Column("app_id", BigInteger),
    Column("user_id", BigInteger),
    Column("scopes", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS),
    Column("revoked_at", TS),
    Column("last_used_at", TS),
)

oauth_codes = _tenant_pk(
    "oauth_codes",
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("app_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("code_challenge", String(128)),
    Column("code_challenge_method", String(16)),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("used_at", TS),
)

statuses = _tenant_pk(
    "statuses",
    Column("account_id", BigInteger, nullable=False),
    Column("uri", Text, nullable=False, default=""),
    Column("url", Text),
    Column("text", Text, nullable=False, default=""),
    Column("content", Text, nullable=False, default=""),
    Column("spoiler_text", Text, nullable=False, default=""),
    Column("sensitive", Boolean, nullable=False, default=False),
    # public | unlisted | private | direct
    Column("visibility", String(16), nullable=False, default="public"),
    Column("language", String(16)),
    Column("in_reply_to_id", BigInteger),
    Column("in_reply_to_account_id", BigInteger),
    Column("reblog_of_id", BigInteger),
    Column("quote_of_id", BigInteger),
    # The quote of `quote_of_id`: accepted | revoked (Mastodon's quote states).
    Column("quote_state", String(16)),
    # Who may quote this status: public | followers | nobody (null: public).
    Column("quote_policy", String(16)),
    Column("conversation_id", BigInteger),
    Column("application_id", BigInteger),
    Column("poll_id", BigInteger),
    Column("local", Boolean, nullable=False, default=True),
    Column("replies_count", Integer, nullable=False, default=0),
    Column("reblogs_count", Integer, nullable=False, default=0),
    Column("favourites_count", Integer, nullable=False, default=0),
    Column("quotes_count", Integer, nullable=False, default=0),
    Column("created_at", TS, nullable=False),
    Column("edited_at", TS),
    Column("deleted_at", TS),
    extra=(
        Index("ix_statuses_account", "tenant_id", "account_id", "id"),
        Index("ix_statuses_reply", "tenant_id", "in_reply_to_id"),
        Index("ix_statuses_reblog", "tenant_id", "reblog_of_id"),
        Index("ix_statuses_quote", "tenant_id", "quote_of_id"),
        Index("ix_statuses_uri", "tenant_id", "uri"),
        # A remote status or boost is stored once per tenant, however many deliveries race.
        Index("uq_statuses_remote_uri", "tenant_id", "uri", unique=True,
              sqlite_where=text("local = 0"), postgresql_where=text("local = false")),
        Index("ix_statuses_public", "tenant_id", "visibility", "local", "id"),
    ),
)

status_edits = _tenant_pk(
    "status_edits",
    Column("status_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("content", Text, nullable=False, default=""),
    Column("spoiler_text", Text, nullable=False, default=""),
    Column("sensitive", Boolean, nullable=False, default=False),
    Column("media_ids", JSON, nullable=False, default=list),
    Column("poll_options", JSON),
    Column("created_at", TS, nullable=False),
    extra=(Index("ix_status_edits_status", "tenant_id", "status_id"),),
)

mentions = _tenant_pk(
    "mentions",
    Column("status_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("silent", Boolean, nullable=False, default=False),
    extra=(
        Index("ix_mentions_status", "tenant_id", "status_id"),
        Index("ix_mentions_account", "tenant_id", "account_id", "status_id"),
    ),
)

tags = _tenant_pk(
    "tags",
    Column("name", String(256), nullable=False),
    Column("display_name", String(256), nullable=False),
    Column("usable", Boolean, nullable=False, default=True),
    Column("trendable", Boolean, nullable=False, default=True),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "name", name="uq_tags_name"),),
)

status_tags = Table(
    "status_tags",
    metadata,
    Column("tenant_id", BigInteger, nullable=False),
    Column("status_id", BigInteger, nullable=False),
    Column("tag_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "status_id", "tag_id"),
    Index("ix_status_tags_tag", "tenant_id", "tag_id", "status_id"),
)

tag_follows = _tenant_pk(
    "tag_follows",
    Column("account_id", BigInteger, nullable=False),
    Column("tag_id", BigInteger, nullable=False),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "account_id", "tag_id", name="uq_tag_follows"),),
)

# Hashtags an account shows on its profile (Mastodon's FeaturedTag); counts are read from status_tags.
featured_tags = _tenant_pk(
    "featured_tags",
    Column("account_id", BigInteger, nullable=False),
    Column("tag_id", BigInteger, nullable=False),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "account_id", "tag_id", name="uq_featured_tags"),),
)


def _account_pair(name: str, *cols: Column, target: str = "target_account_id") -> Table:  # type: ignore[type-arg]
    return _tenant_pk(
        name,
        Column("account_id", BigInteger, nullable=False),
        Column(target, BigInteger, nullable=False),
        Column("created_at", TS, nullable=False),
        *cols,
        extra=(
            UniqueConstraint("tenant_id", "account_id", target, name=f"uq_{name}_pair"),
            Index(f"ix_{name}_target", "tenant_id", target, "id"),
        ),
    )


follows = _account_pair(
    "follows",
    Column("show_reblogs", Boolean, nullable=False, default=True),
    Column("notify", Boolean, nullable=False, default=False),
    Column("languages", JSON),
    Column("uri", Text),
)
follow_requests = _account_pair(
    "follow_requests",
    Column("show_reblogs", Boolean, nullable=False, default=True),
    Column("notify", Boolean, nullable=False, default=False),
    Column("languages", JSON),
    Column("uri", Text),
)
blocks = _account_pair("blocks", Column("uri", Text))
mutes = _account_pair(
    "mutes",
    Column("hide_notifications", Boolean, nullable=False, default=True),
    Column("expires_at", TS),
)
endorsements = _account_pair("endorsements")
account_notes = _account_pair("account_notes", Column("comment", Text, nullable=False, default=""))
# "Not interested" answers to follow suggestions, so a dismissed account stays out.
suggestion_dismissals = _account_pair("suggestion_dismissals")
favourites = _account_pair("favourites", Column("uri", Text), target="status_id")
bookmarks = _account_pair("bookmarks", target="status_id")
status_pins = _account_pair("status_pins", target="status_id")
status_mutes = _account_pair("status_mutes", target="conversation_id")

user_domain_blocks = _tenant_pk(
    "user_domain_blocks",
    Column("account_id", BigInteger, nullable=False),
    Column("domain", String(253), nullable=False),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "account_id", "domain", name="uq_user_domain_blocks"),),
)

home_feed = Table(
    "home_feed",
    metadata,
    Column("tenant_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("status_id", BigInteger, nullable=False),
    # The status that put this entry here: the reblog, or the status itself.
    Column("author_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "account_id", "status_id"),
)

notifications = _tenant_pk(
    "notifications",
    Column("account_id", BigInteger, nullable=False),
    Column("from_account_id", BigInteger, nullable=False),
    Column("type", String(32), nullable=False),
    Column("status_id", BigInteger),
    Column("report_id", BigInteger),
    # moderation_warning: the strike (account_warnings.id) the notification is about.
    Column("account_warning_id", BigInteger),
    Column("group_key", String(128)),
    # Held back by the recipient's notification policy: shown only as a request.
    Column("filtered", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    extra=(Index("ix_notifications_account", "tenant_id", "account_id", "id"),),
)

markers = Table(
    "markers",
    metadata,
    Column("tenant_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("timeline", String(32), nullable=False),
    Column("last_read_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "account_id", "timeline"),
)

# A direct-message thread as one participant sees it (Mastodon's AccountConversation).
account_conversations = _tenant_pk(
    "account_conversations",
    Column("account_id", BigInteger, nullable=False),
    Column("conversation_id", BigInteger, nullable=False),
    Column("participant_ids", JSON, nullable=False, default=list),
    Column("last_status_id", BigInteger, nullable=False),
    Column("unread", Boolean, nullable=False, default=True),
    Column("updated_at", TS, nullable=False),
    extra=(
        UniqueConstraint("tenant_id", "account_id", "conversation_id", name="uq_account_conversations"),
        Index("ix_account_conversations_recent", "tenant_id", "account_id", "last_status_id"),
    ),
)

media_attachments = _tenant_pk(
    "media_attachments",
    Column("account_id", BigInteger, nullable=False),
    Column("status_id", BigInteger),
    Column("type", String(16), nullable=False, default="image"),
    Column("file_path", Text),
    Column("preview_path", Text),
    Column("remote_url", Text),
    Column("description", Text),
    Column("blurhash", String(64)),
    Column("meta", JSON, nullable=False, default=dict),
    Column("position", Integer, nullable=False, default=0),
    Column("created_at", TS, nullable=False),
    extra=(Index("ix_media_status", "tenant_id", "status_id"),),
)

polls = _tenant_pk(
    "polls",
    Column("status_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("options", JSON, nullable=False),
    Column("tallies", JSON, nullable=False),
    Column("multiple", Boolean, nullable=False, default=False),
    Column("hide_totals", Boolean, nullable=False, default=False),
    Column("votes_count", Integer, nullable=False, default=0),
    Column("voters_count", Integer, nullable=False, default=0),
    Column("expires_at", TS),
    Column("created_at", TS, nullable=False),
)

poll_votes = _tenant_pk(
    "poll_votes",
    Column("poll_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("choice", Integer, nullable=False),
    Column("uri", Text),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "poll_id", "account_id", "choice", name="uq_poll_votes"),),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("key", String(128), nullable=False),
    Column("status_id", BigInteger, nullable=False),
    Column("created_at", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "account_id", "key"),
)

scheduled_statuses = _tenant_pk(
    "scheduled_statuses",
    Column("account_id", BigInteger, nullable=False),
    Column("scheduled_at", TS, nullable=False),
    Column("params", JSON, nullable=False),
    Column("media_ids", JSON, nullable=False, default=list),
    Column("application_id", BigInteger),
    Column("created_at", TS, nullable=False),
)

lists = _tenant_pk(
    "lists",
    Column("account_id", BigInteger, nullable=False),
    Column("title", String(256), nullable=False),
    Column("replies_policy", String(16), nullable=False, default="list"),
    Column("exclusive", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    # An owner's lists: the home timeline's exclusive-list check and the lists API.
    extra=(Index("ix_lists_account", "tenant_id", "account_id"),),
)

list_accounts = Table(
    "list_accounts",
    metadata,
    Column("tenant_id", BigInteger, nullable=False),
    Column("list_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "list_id", "account_id"),
)

filters = _tenant_pk(
    "filters",
    Column("account_id", BigInteger, nullable=False),
    Column("title", String(256), nullable=False),
    Column("context", JSON, nullable=False),
    Column("action", String(16), nullable=False, default="warn"),
    Column("expires_at", TS),
    Column("created_at", TS, nullable=False),
)

filter_keywords = _tenant_pk(
    "filter_keywords",
    Column("filter_id", BigInteger, nullable=False),
    Column("keyword", String(512), nullable=False),
    Column("whole_word", Boolean, nullable=False, default=True),
)

filter_statuses = _tenant_pk(
    "filter_statuses",
    Column("filter_id", BigInteger, nullable=False),
    Column("status_id", BigInteger, nullable=False),
)

instance_rules = _tenant_pk(
    "instance_rules",
    Column("text", Text, nullable=False),
    Column("hint", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    Column("created_at", TS, nullable=False),
)

custom_emojis = _tenant_pk(
    "custom_emojis",
    Column("shortcode", String(128), nullable=False),
    Column("domain", String(253), nullable=False, default=""),
    Column("image_path", Text),
    Column("remote_url", Text),
    Column("category", String(128)),
    Column("visible_in_picker", Boolean, nullable=False, default=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "shortcode", "domain", name="uq_custom_emojis"),),
)

reports = _tenant_pk(
    "reports",
    Column("account_id", BigInteger, nullable=False),
    Column("target_account_id", BigInteger, nullable=False),
    Column("status_ids", JSON, nullable=False, default=list),
    Column("rule_ids", JSON, nullable=False, default=list),
    Column("category", String(32), nullable=False, default="other"),
    Column("comment", Text, nullable=False, default=""),
    Column("forwarded", Boolean, nullable=False, default=False),
    Column("uri", Text),
    Column("assigned_account_id", BigInteger),
    Column("action_taken_at", TS),
    Column("action_taken_by_account_id", BigInteger),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

push_subscriptions = _tenant_pk(
    "push_subscriptions",
    Column("token_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("key_p256dh", Text, nullable=False),
    Column("key_auth", Text, nullable=False),
    Column("alerts", JSON, nullable=False, default=dict),
    Column("policy", String(16), nullable=False, default="all"),
    Column("created_at", TS, nullable=False),
)

instances = _tenant_pk(
    "instances",
    Column("domain", String(253), nullable=False),
    Column("software", String(64)),
    Column("first_seen_at", TS, nullable=False),
    Column("last_seen_at", TS),
    Column("unavailable_since", TS),
    Column("failure_count", Integer, nullable=False, default=0),
    # Outbound delivery: when a delivery to this host last failed (federation/delivery.py).
    Column("last_failure_at", TS),
    extra=(UniqueConstraint("tenant_id", "domain", name="uq_instances_domain"),),
)

domain_blocks = _tenant_pk(
    "domain_blocks",
    Column("domain", String(253), nullable=False),
    # noop | silence | suspend
    Column("severity", String(16), nullable=False, default="silence"),
    Column("reject_media", Boolean, nullable=False, default=False),
    Column("reject_reports", Boolean, nullable=False, default=False),
    Column("private_comment", Text),
    Column("public_comment", Text),
    Column("obfuscate", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "domain", name="uq_domain_blocks_domain"),),
)

domain_allows = _tenant_pk(
    "domain_allows",
    Column("domain", String(253), nullable=False),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "domain", name="uq_domain_allows_domain"),),
)

announcements = _tenant_pk(
    "announcements",
    Column("text", Text, nullable=False),
    Column("content", Text, nullable=False, default=""),
    Column("starts_at", TS),
    Column("ends_at", TS),
    Column("all_day", Boolean, nullable=False, default=False),
    Column("published", Boolean, nullable=False, default=False),
    Column("published_at", TS),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

announcement_dismissals = Table(
    "announcement_dismissals",
    metadata,
    Column("tenant_id", BigInteger, nullable=False),
    Column("announcement_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "announcement_id", "account_id"),
)

announcement_reactions = Table(
    "announcement_reactions",
    metadata,
    Column("tenant_id", BigInteger, nullable=False),
    Column("announcement_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    # A unicode emoji or a local custom emoji's shortcode.
    Column("name", String(128), nullable=False),
    Column("created_at", TS, nullable=False),
    PrimaryKeyConstraint("tenant_id", "announcement_id", "account_id", "name"),
)

# Provider-level: the durable job queue. `tenant_id` is informational (which
# tenant a job works for), not a key.
jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("tenant_id", BigInteger),
    Column("kind", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    # queued | running | done | failed
    Column("state", String(16), nullable=False, default="queued"),
    Column("run_at", TS, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=8),
    Column("locked_by", String(64)),
    Column("locked_at", TS),
    Column("last_error", Text),
    Column("dedupe_key", String(255), unique=True),
    Column("created_at", TS, nullable=False),
    Column("finished_at", TS),
    Index("ix_jobs_ready", "state", "run_at"),
)

# --- Moderation (moderation/*): strikes, audit log, statements of reasons, sign-up blocks ---

# A strike: what a moderator did to an account and why; the account's user can see it.
account_warnings = _tenant_pk(
    "account_warnings",
    Column("account_id", BigInteger, nullable=False),
    Column("target_account_id", BigInteger, nullable=False),
    # none | disable | sensitive | silence | suspend | delete_statuses
    Column("action", String(32), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("status_ids", JSON, nullable=False, default=list),
    Column("report_id", BigInteger),
    Column("overruled_at", TS),
    Column("created_at", TS, nullable=False),
    extra=(Index("ix_account_warnings_target", "tenant_id", "target_account_id", "id"),),
)

# Append-only: who did what to which object, when. Never updated or deleted.
admin_action_logs = _tenant_pk(
    "admin_action_logs",
    Column("account_id", BigInteger, nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(64), nullable=False),
    Column("target_id", BigInteger),
    Column("human_identifier", Text),
    Column("details", JSON, nullable=False, default=dict),
    Column("created_at", TS, nullable=False),
    extra=(Index("ix_admin_action_logs_target", "tenant_id", "target_type", "target_id"),),
)

# EU DSA statement of reasons for one decision, kept so it can be exported later.
# Facts are generated text without personal data.
statements_of_reasons = _tenant_pk(
    "statements_of_reasons",
    Column("account_warning_id", BigInteger),
    Column("target_account_id", BigInteger, nullable=False),
    Column("report_id", BigInteger),
    Column("decision_visibility", JSON, nullable=False, default=list),
    Column("decision_visibility_other", Text),
    Column("decision_account", String(64)),
    Column("decision_provision", String(64)),
    Column("decision_ground", String(64), nullable=False),
    Column("ground_text", Text, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("category", String(96), nullable=False),
    Column("content_type", JSON, nullable=False, default=list),
    Column("decision_facts", Text, nullable=False),
    Column("source_type", String(64), nullable=False),
    Column("automated_detection", Boolean, nullable=False, default=False),
    Column("automated_decision", String(64), nullable=False),
    Column("content_date", TS, nullable=False),
    Column("application_date", TS, nullable=False),
    Column("created_at", TS, nullable=False),
    extra=(Index("ix_statements_of_reasons_created", "tenant_id", "created_at"),),
)

# Moderators' notes on a report (moderation/report_notes.py).
report_notes = _tenant_pk(
    "report_notes",
    Column("report_id", BigInteger, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    extra=(Index("ix_report_notes_report", "tenant_id", "report_id", "id"),),
)

# A user's appeal of a strike: one per strike (moderation/appeals.py).
appeals = _tenant_pk(
    "appeals",
    Column("account_id", BigInteger, nullable=False),
    Column("account_warning_id", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("approved_at", TS),
    Column("approved_by_account_id", BigInteger),
    Column("rejected_at", TS),
    Column("rejected_by_account_id", BigInteger),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "account_warning_id", name="uq_appeals_warning"),),
)

# Canned texts for moderation actions (Mastodon's account_warning_presets).
account_warning_presets = _tenant_pk(
    "account_warning_presets",
    Column("title", String(200), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

email_domain_blocks = _tenant_pk(
    "email_domain_blocks",
    Column("domain", String(253), nullable=False),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "domain", name="uq_email_domain_blocks_domain"),),
)

ip_blocks = _tenant_pk(
    "ip_blocks",
    # A normalised CIDR network, e.g. 8.8.8.0/24.
    Column("ip", String(64), nullable=False),
    # sign_up_requires_approval | sign_up_block | no_access
    Column("severity", String(32), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("expires_at", TS),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "ip", name="uq_ip_blocks_ip"),),
)

canonical_email_blocks = _tenant_pk(
    "canonical_email_blocks",
    # SHA-256 hex of the canonical email (lower case, no dots or +tag in the local part).
    Column("canonical_email_hash", String(64), nullable=False),
    Column("reference_account_id", BigInteger),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "canonical_email_hash", name="uq_canonical_email_blocks_hash"),),
)

blocklist_subscriptions = _tenant_pk(
    "blocklist_subscriptions",
    Column("url", Text, nullable=False),
    # csv | json | auto (by the answer's content type, then by its first byte)
    Column("format", String(8), nullable=False, default="auto"),
    # The harshest severity this list may impose (noop | silence | suspend).
    Column("max_severity", String(16), nullable=False, default="suspend"),
    # Domains this tenant never blocks from this list, and per-domain severities.
    Column("excluded_domains", JSON, nullable=False, default=list),
    Column("severity_overrides", JSON, nullable=False, default=dict),
    Column("created_by_account_id", BigInteger, nullable=False),
    Column("created_at", TS, nullable=False),
    # idle | fetching | pending_review | error
    Column("state", String(16), nullable=False, default="idle"),
    Column("last_fetch_at", TS),
    Column("last_error", Text),
    # The last fetched list (normalised entries) waiting for an admin's review.
    Column("pending_entries", JSON),
    Column("pending_fetched_at", TS),
    # Domains whose blocks this subscription created, so a later list can lift them.
    Column("applied_domains", JSON, nullable=False, default=list),
    Column("last_applied_at", TS),
    extra=(UniqueConstraint("tenant_id", "url", name="uq_blocklist_subscriptions_url"),),
)

# Signed-in sessions of the HTML moderation console. The cookie carries the row id
# and a secret; only the secret's SHA-256 is stored. A row belongs to one tenant.
console_sessions = _tenant_pk(
    "console_sessions",
    Column("secret_hash", String(64), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
)

# Invitation codes an admin hands out; a valid code signs up even when registrations
# are closed or need approval (as in Mastodon).
invites = _tenant_pk(
    "invites",
    Column("code", String(32), nullable=False),
    Column("created_by_account_id", BigInteger, nullable=False),
    Column("max_uses", Integer),
    Column("uses", Integer, nullable=False, default=0),
    Column("expires_at", TS),
    Column("revoked_at", TS),
    Column("comment", Text),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "code", name="uq_invites_code"),),
)

# Versions of a tenant's terms of service and privacy policy; each version keeps
# its text, the date it takes effect and who published it.
legal_documents = _tenant_pk(
    "legal_documents",
    # terms_of_service | privacy_policy
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("changelog", Text, nullable=False, default=""),
    # YYYY-MM-DD, UTC
    Column("effective_date", String(10), nullable=False),
    Column("published_by_account_id", BigInteger, nullable=False),
    # The announcement that told the users of this version, when there was one.
    Column("announcement_id", BigInteger),
    Column("created_at", TS, nullable=False),
    extra=(UniqueConstraint("tenant_id", "kind", "effective_date", name="uq_legal_documents_date"),),
)
