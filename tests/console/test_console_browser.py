"""The moderation console in a real browser: Debian's headless Chromium, driven
by Playwright, against a live `steward serve`. A moderator takes a report filed
through the client API from the queue to resolution (assign, note, limit the
account with a reason); an admin then blocks a domain with the form. The effects are
checked through the admin API and in the live server's database.

Chromium must be installed (scripts/test runs `ensure_chromium`); when it is
missing this test fails rather than skips, so CI cannot pass without it."""

from __future__ import annotations

import re
import shutil
import uuid

import httpx
from playwright.async_api import Page, async_playwright, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from steward.db.tables import account_warnings, admin_action_logs, report_notes, statements_of_reasons
from steward.settings import Settings
from tests.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"


SCOPES = "read write admin:read admin:write"


def _people(server: LiveServer, *people: tuple[str, str]) -> dict[str, httpx.Client]:
    """Users made with the CLI, each with an API client signed in by the password
    grant (one CLI call per user: each costs a whole interpreter start)."""
    app = httpx.post(f"{server.base_url}/api/v1/apps", data={
        "client_name": "console test", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": SCOPES}).json()
    clients = {}
    for username, role in people:
        server.cli("user", "create", server.domain, username, "--email", f"{username}@example.test",
                   "--password", PASSWORD, "--role", role)
        token = httpx.post(f"{server.base_url}/oauth/token", data={
            "grant_type": "password", "username": username, "password": PASSWORD, "scope": SCOPES,
            "client_id": app["client_id"], "client_secret": app["client_secret"]}).json()["access_token"]
        clients[username] = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"},
                                         timeout=30)
    return clients


async def _sign_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/admin/reports")
    await expect(page).to_have_url(re.compile(r"/admin/sign_in\?next="))
    await page.get_by_label("E-mail address or username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/admin/reports$"))


async def test_report_from_queue_to_resolution_in_chromium(live_server: LiveServer) -> None:
    assert shutil.which(CHROMIUM), \
        "Debian's chromium is missing: run scripts/test (ensure_chromium) or `apt-get install -y chromium`"
    server, base, tag = live_server, live_server.base_url, uuid.uuid4().hex[:6]
    reporter, target, mod, admin = (f"{n}{tag}" for n in ("rita", "tom", "moe", "ada"))
    clients = _people(server, (reporter, "user"), (target, "user"), (mod, "moderator"), (admin, "admin"))
    admin_api = clients[admin]
    with clients[target] as as_target, clients[reporter] as as_reporter:
        status = as_target.post("/api/v1/statuses", data={"status": "buy cheap pills"}).json()
        target_id = status["account"]["id"]
        r = as_reporter.post("/api/v1/reports", data={"account_id": target_id, "status_ids[]": status["id"],
                                                      "comment": "spam again", "category": "spam"})
        assert r.status_code == 200, r.text
        report_id = r.json()["id"]

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            context.set_default_timeout(10_000)
            expect.set_options(timeout=10_000)
            page = await context.new_page()
            await _sign_in(page, base, mod)
            # The queue lists the report; open it.
            await expect(page.get_by_role("heading", name="Reports")).to_be_visible()
            await page.get_by_role("link", name=f"Report #{report_id}").click()
            await expect(page.get_by_role("heading", name=f"Report #{report_id}")).to_be_visible()
            await expect(page.locator("main")).to_contain_text("spam again")
            await expect(page.locator("main")).to_contain_text("buy cheap pills")
            # Assign it to myself.
            await page.get_by_role("button", name="Assign to me").click()
            await expect(page.get_by_role("status")).to_have_text("The report is assigned to you.")
            await expect(page.locator("#report-assignee")).to_contain_text(f"@{mod}")
            # Leave a note for the other moderators.
            await page.get_by_label("Add a note for the other moderators").fill("Same links as last week.")
            await page.get_by_role("button", name="Add note").click()
            await expect(page.get_by_role("status")).to_have_text("The note was added.")
            await expect(page.locator("#notes")).to_contain_text("Same links as last week.")
            # Limit the account with a reason; that resolves the report.
            await page.get_by_label("Limit").check()
            await page.get_by_label("Reason, shown to the user").fill("Repeated spam links.")
            await page.get_by_role("button", name="Take action").click()
            await expect(page.get_by_role("status")).to_have_text("The action was taken and recorded.")
            await expect(page.locator("#report-state")).to_contain_text("Resolved")
            await expect(page.locator("#history")).to_contain_text("silence")
            # It left the open queue and shows among the resolved ones.
            await page.get_by_role("link", name="Reports", exact=True).click()
            await expect(page.get_by_role("link", name=f"Report #{report_id}")).to_have_count(0)
            await page.get_by_label("Status").select_option("resolved")
            await page.get_by_role("button", name="Filter").click()
            await expect(page.get_by_role("link", name=f"Report #{report_id}")).to_be_visible()
            # Federation policy is not a moderator's: a 403 page, then sign out.
            response = await page.goto(f"{base}/admin/domain_blocks")
            assert response is not None and response.status == 403
            await expect(page.get_by_role("alert")).to_contain_text("Your role does not allow this page.")
            await page.get_by_role("button", name="Sign out").click()
            await expect(page.get_by_role("status")).to_have_text("You are signed out.")

            # An admin blocks a domain with the form and sees it in the list.
            await _sign_in(page, base, admin)
            await page.get_by_role("link", name="Domain blocks").click()
            await page.get_by_label("Domain", exact=True).fill("pills.example")
            await page.get_by_label("Suspend").check()
            await page.get_by_label("Reject media files").check()
            await page.get_by_label("Public comment").fill("spam source")
            await page.get_by_role("button", name="Create block").click()
            await expect(page.get_by_role("status")).to_have_text("The domain block was created.")
            row = page.locator("#domain-blocks tbody tr", has_text="pills.example")
            await expect(row).to_contain_text("suspend")
            await expect(row).to_contain_text("reject media")
            await row.get_by_role("link", name="Edit").click()
            await page.get_by_label("Limit").check()
            await page.get_by_role("button", name="Save").click()
            await expect(page.get_by_role("status")).to_have_text("The domain block was saved.")
            await expect(page.locator("#domain-blocks tbody tr", has_text="pills.example")).to_contain_text("silence")
        finally:
            await browser.close()

    # The effects, as the admin API and the database see them.
    with admin_api:
        shown = admin_api.get(f"/api/v1/admin/reports/{report_id}").json()
        assert shown["action_taken"] is True and shown["action_taken_by_account"]["username"] == mod
        assert shown["assigned_account"]["username"] == mod
        account = admin_api.get(f"/api/v1/admin/accounts/{target_id}").json()
        assert account["silenced"] is True and account["suspended"] is False
        blocks = admin_api.get("/api/v1/admin/domain_blocks").json()
        assert [(b["domain"], b["severity"], b["reject_media"], b["public_comment"]) for b in blocks] == [
            ("pills.example", "silence", True, "spam source")]
    engine = create_async_engine(Settings.from_env(server.env).database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            strikes = (await conn.execute(select(account_warnings.c.action, account_warnings.c.text).where(
                account_warnings.c.target_account_id == int(target_id)))).all()
            assert [(s.action, s.text) for s in strikes] == [("silence", "Repeated spam links.")]
            statements = (await conn.execute(select(statements_of_reasons.c.decision_provision).where(
                statements_of_reasons.c.report_id == int(report_id)))).all()
            assert [s.decision_provision for s in statements] == ["DECISION_PROVISION_PARTIAL_SUSPENSION"]
            audit = (await conn.execute(select(admin_action_logs.c.action, admin_action_logs.c.target_type).where(
                admin_action_logs.c.target_id.in_([int(report_id), int(target_id)])))).all()
            assert {("assigned_to_self", "Report"), ("silence", "Account"), ("resolve", "Report")} <= \
                {(a.action, a.target_type) for a in audit}
            notes = (await conn.execute(select(report_notes.c.content).where(
                report_notes.c.report_id == int(report_id)))).scalars().all()
            assert notes == ["Same links as last week."]
    finally:
        await engine.dispose()
