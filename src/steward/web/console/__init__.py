"""Server-rendered HTML pages for a tenant's admins and moderators (no JavaScript needed)."""
