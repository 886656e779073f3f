"""Mastodon's admin API (/api/v1/admin/*, /api/v2/admin/*): moderation of the
tenant's accounts, reports, federation and sign-up blocks, and its dashboard."""
