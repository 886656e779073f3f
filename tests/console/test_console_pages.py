"""The HTML moderation console through the ASGI app: sign-in, sessions, CSRF,
permissions, tenant isolation, bad input, and the actions' records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import admin_action_logs, console_sessions, domain_blocks, instance_rules, report_notes, users
from steward.moderation.statements import statements_for_account
from tests.console.helpers import Console, signed_in
from tests.world import Person, World


async def _report(reporter: Person, target: Person, **extra: Any) -> dict[str, Any]:
    status = (await target.post("/api/v1/statuses", data={"status": "rude words"})).json()
    r = await reporter.post("/api/v1/reports", data={"account_id": target.account_id, "status_ids[]": status["id"],
                                                     "comment": "please look", **extra})
    assert r.status_code == 200, r.text
    return r.json()


async def _rule(world: World, tenant: Any, text: str) -> int:
    rule_id = new_id()
    async with world.c.db.write() as conn:
        await conn.execute(instance_rules.insert().values(tenant_id=tenant.id, id=rule_id, text=text, hint="",
                                                          position=0, created_at=utcnow()))
    return rule_id


async def _moderator(world: World) -> Person:
    return await world.person(world.a, "molly", role="moderator", scopes="read write admin:read admin:write")


async def _audit(world: World, tenant_id: int) -> list[tuple[str, str]]:
    async with world.c.db.read() as conn:
        rows = (await conn.execute(select(admin_action_logs.c.action, admin_action_logs.c.target_type).where(
            admin_action_logs.c.tenant_id == tenant_id).order_by(admin_action_logs.c.id))).all()
    return [(r.action, r.target_type) for r in rows]


async def test_sign_in_queue_and_detail(world: World) -> None:
    report = await _report(world.local_bob, world.local_alice)
    await _moderator(world)
    console = Console(world, world.a)
    r = await console.sign_in("molly")
    assert r.status_code == 303 and r.headers["location"] == "/admin/reports"
    cookie = r.headers["set-cookie"]
    assert "steward_console=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/admin" in cookie and "Secure" not in cookie
    page = await console.get("/admin/reports")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'href="/admin/reports/{report["id"]}"' in page.text and "@alice" in page.text
    assert page.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in \
        page.headers["content-security-policy"]
    detail = await console.get(f"/admin/reports/{report['id']}")
    assert detail.status_code == 200
    assert "please look" in detail.text and "rude words" in detail.text and "@bob" in detail.text
    # Filters: nothing resolved yet, nothing assigned to me, nothing in the spam category.
    for query in ({"status": "resolved"}, {"mine": "1"}, {"category": "spam"},
                  {"target_account_id": world.local_bob.account_id}):
        r = await console.get("/admin/reports", params=query)
        assert r.status_code == 200 and f"/admin/reports/{report['id']}" not in r.text, query
    r = await console.get("/admin/reports", params={"target_account_id": world.local_alice.account_id,
                                                    "order": "oldest", "category": "other"})
    assert f"/admin/reports/{report['id']}" in r.text
    # Sign-in by e-mail works too; the bare /admin goes to the queue.
    by_mail = Console(world, world.a)
    assert (await by_mail.sign_in(f"molly@{world.a.domain}")).status_code == 303
    assert (await by_mail.http.get("/admin")).headers["location"] == "/admin/reports"


async def test_secure_cookie_over_https(world: World) -> None:
    await _moderator(world)
    console = Console(world, world.a)
    console.http.base_url = f"https://{world.a.web_domain}"
    r = await console.sign_in("molly")
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


async def test_bad_sign_in(world: World) -> None:
    await _moderator(world)
    console = Console(world, world.a)
    for login, password in (("molly", "wrong password"), ("nobody", "whatever"), ("", "")):
        r = await console.sign_in(login, password)
        assert r.status_code == 401 and "Invalid e-mail address, username or password." in r.text
        assert "steward_console=" not in r.headers.get("set-cookie", "")
    r = await console.http.get(f"/admin/accounts/{world.local_bob.account_id}")
    assert r.status_code == 303
    assert r.headers["location"] == f"/admin/sign_in?next=/admin/accounts/{world.local_bob.account_id}"
    # The sign-in form has its own CSRF check.
    fresh = Console(world, world.a)
    r = await fresh.post("/admin/sign_in", {"login": "molly", "password": "correct horse battery"}, csrf=False)
    assert r.status_code == 403
    # A frozen account cannot sign in.
    async with world.c.db.write() as conn:
        await conn.execute(users.update().where(users.c.tenant_id == world.a.id, users.c.account_id.in_(
            select(users.c.account_id).where(users.c.tenant_id == world.a.id, users.c.email.like("molly@%"))))
            .values(disabled=True))
    assert (await Console(world, world.a).sign_in("molly")).status_code == 401
    # `next` never leads off the console.
    other = Console(world, world.a)
    await other.get("/admin/sign_in", params={"next": "//evil.example/x"})
    r = await other.post("/admin/sign_in", {"login": "ann", "password": "correct horse battery",
                                            "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/reports"


async def test_sign_out_ends_the_session(world: World) -> None:
    await _moderator(world)
    console = await signed_in(world, world.a, "molly")
    cookie = console.http.cookies.get("steward_console")
    r = await console.post("/admin/sign_out")
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/sign_in")
    replay = world.client(world.a)
    replay.cookies.set("steward_console", cookie or "", domain=world.a.web_domain, path="/admin")
    assert (await replay.get("/admin/reports")).status_code == 303
    async with world.c.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(console_sessions).where(
            console_sessions.c.tenant_id == world.a.id))).scalar() == 0


async def test_csrf_is_required_on_every_form(world: World) -> None:
    report = await _report(world.local_bob, world.local_alice)
    await _moderator(world)
    console = await signed_in(world, world.a, "molly")
    for path in (f"/admin/reports/{report['id']}/assign", f"/admin/reports/{report['id']}/resolve"):
        r = await console.post(path, csrf=False)
        assert r.status_code == 403 and "did not come from this site" in r.text
        r = await console.post(path, {"csrf_token": "forged"}, csrf=False)
        assert r.status_code == 403
    shown = (await world.admin_ann.get(f"/api/v1/admin/reports/{report['id']}")).json()
    assert shown["assigned_account"] is None and shown["action_taken"] is False


async def test_permissions(world: World) -> None:
    report = await _report(world.local_bob, world.local_alice)
    alice = await signed_in(world, world.a, "alice")
    for path in ("/admin/reports", f"/admin/reports/{report['id']}", "/admin/domain_blocks",
                 f"/admin/accounts/{world.local_bob.account_id}"):
        r = await alice.get(path)
        assert r.status_code == 403 and "Your role does not allow this page." in r.text, path
    # A moderator works reports and accounts but not federation policy.
    await _moderator(world)
    molly = await signed_in(world, world.a, "molly")
    assert (await molly.get("/admin/domain_blocks")).status_code == 403
    r = await molly.post("/admin/domain_blocks", {"domain": "spam.example", "severity": "suspend"})
    assert r.status_code == 403
    assert (await world.admin_ann.get("/api/v1/admin/domain_blocks")).json() == []
    # A user demoted while signed in loses access at once.
    async with world.c.db.write() as conn:
        await conn.execute(users.update().where(users.c.tenant_id == world.a.id, users.c.email.like("molly@%"))
                           .values(role="user"))
    assert (await molly.get("/admin/reports")).status_code == 403


async def test_report_actions_from_the_page(world: World) -> None:
    report = await _report(world.local_bob, world.local_alice)
    other = await _report(world.admin_ann, world.local_alice, category="spam")
    rule = await _rule(world, world.a, "No harassment")
    mod = await _moderator(world)
    console = await signed_in(world, world.a, "molly")
    rid = report["id"]
    await console.get(f"/admin/reports/{rid}")
    r = await console.post(f"/admin/reports/{rid}/assign")
    assert r.status_code == 303 and r.headers["location"] == f"/admin/reports/{rid}?notice=assigned"
    page = await console.get(r.headers["location"])
    assert "The report is assigned to you." in page.text and 'id="report-assignee"><a' in page.text
    api = world.admin_ann
    assert (await api.get(f"/api/v1/admin/reports/{rid}")).json()["assigned_account"]["id"] == mod.account_id
    assert f"/admin/reports/{rid}" in (await console.get("/admin/reports", params={"mine": "1"})).text
    r = await console.post(f"/admin/reports/{rid}/action", {"type": "silence", "text": "Stop it.",
                                                             "rule_ids[]": str(rule)})
    assert r.status_code == 303, r.text
    shown = (await api.get(f"/api/v1/admin/reports/{rid}")).json()
    assert shown["action_taken"] is True and shown["action_taken_by_account"]["id"] == mod.account_id
    assert shown["category"] == "violation" and [x["id"] for x in shown["rules"]] == [str(rule)]
    # Every open report about the account is settled by the action, as through the API.
    assert (await api.get(f"/api/v1/admin/reports/{other['id']}")).json()["action_taken"] is True
    alice = (await api.get(f"/api/v1/admin/accounts/{world.local_alice.account_id}")).json()
    assert alice["silenced"] is True
    async with world.c.db.read() as conn:
        statements = await statements_for_account(conn, world.a.id, int(world.local_alice.account_id))
    assert len(statements) == 1 and statements[0]["incompatible_content_ground"] == "Server rules: No harassment"
    assert statements[0]["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    audit = await _audit(world, world.a.id)
    assert ("assigned_to_self", "Report") in audit and ("update", "Report") in audit
    assert ("silence", "Account") in audit and ("resolve", "Report") in audit
    page = await console.get(f"/admin/reports/{rid}")
    assert "Resolved" in page.text and "silence" in page.text and "limited" in page.text
    # The strike is on the account page, with its reason.
    acc = await console.get(f"/admin/accounts/{world.local_alice.account_id}")
    assert acc.status_code == 200 and "Stop it." in acc.text and "Lift the limit" in acc.text
    r = await console.post(f"/admin/reports/{rid}/reopen")
    assert r.status_code == 303
    assert (await api.get(f"/api/v1/admin/reports/{rid}")).json()["action_taken"] is False
    r = await console.post(f"/admin/reports/{rid}/unassign")
    assert (await api.get(f"/api/v1/admin/reports/{rid}")).json()["assigned_account"] is None
    r = await console.post(f"/admin/reports/{rid}/resolve")
    assert (await api.get(f"/api/v1/admin/reports/{rid}")).json()["action_taken"] is True
    r = await console.post(f"/admin/accounts/{world.local_alice.account_id}/undo", {"kind": "unsilence"})
    assert r.status_code == 303
    assert (await api.get(f"/api/v1/admin/accounts/{world.local_alice.account_id}")).json()["silenced"] is False


async def test_account_page_actions(world: World) -> None:
    await _moderator(world)
    console = await signed_in(world, world.a, "molly")
    bob = world.local_bob.account_id
    await console.get(f"/admin/accounts/{bob}")
    r = await console.post(f"/admin/accounts/{bob}/action", {"type": "disable", "text": "Frozen for now."})
    assert r.status_code == 303
    admin = (await world.admin_ann.get(f"/api/v1/admin/accounts/{bob}")).json()
    assert admin["disabled"] is True
    page = await console.get(f"/admin/accounts/{bob}")
    assert "frozen" in page.text and "Frozen for now." in page.text and "Unfreeze" in page.text
    # A moderator cannot act on an admin (Mastodon's rank rule, from the same service).
    r = await console.post(f"/admin/accounts/{world.admin_ann.account_id}/action", {"type": "suspend"})
    assert r.status_code == 403


async def test_bad_input_is_a_page_not_a_500(world: World) -> None:
    report = await _report(world.local_bob, world.admin_ann)
    rule = await _rule(world, world.a, "Be kind")
    await _moderator(world)
    console = await signed_in(world, world.a, "molly")
    rid = report["id"]
    await console.get(f"/admin/reports/{rid}")
    before = await _audit(world, world.a.id)
    cases = [
        ("post", f"/admin/reports/{rid}/action", {"type": "explode"}, 400),
        ("post", f"/admin/reports/{rid}/action", {"type": "silence", "rule_ids[]": "abc"}, 400),
        ("post", f"/admin/reports/{rid}/action", {"type": "silence", "rule_ids[]": "987654"}, 400),
        ("post", f"/admin/reports/{rid}/action", {"type": "silence", "text": "x" * 6000}, 400),
        ("post", "/admin/reports/987654/resolve", {}, 404),
        ("post", "/admin/reports/nonsense/assign", {}, 404),
        ("get", "/admin/reports/nonsense", None, 404),
        ("get", "/admin/reports/987654", None, 404),
        ("get", "/admin/reports?category=gossip", None, 400),
        ("get", "/admin/reports?status=maybe", None, 400),
        ("get", "/admin/reports?target_account_id=abc", None, 400),
        ("get", "/admin/accounts/987654", None, 404),
    ]
    for method, path, data, status in cases:
        r = await (console.post(path, data) if method == "post" else console.get(path))
        assert r.status_code == status, (path, data, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("text/html") and 'role="alert"' in r.text, path
    # The rules are cited first, then the action fails on rank (a moderator cannot
    # limit an admin): the citation is rolled back with it, nothing is half-written.
    r = await console.post(f"/admin/reports/{rid}/action", {"type": "silence", "rule_ids[]": str(rule)})
    assert r.status_code == 403
    shown = (await world.admin_ann.get(f"/api/v1/admin/reports/{rid}")).json()
    assert shown["rules"] == [] and shown["category"] == "other" and shown["action_taken"] is False
    assert (await world.admin_ann.get(f"/api/v1/admin/accounts/{world.admin_ann.account_id}")).json()[
        "silenced"] is False
    assert await _audit(world, world.a.id) == before


async def test_domain_blocks_crud(world: World) -> None:
    ann = await signed_in(world, world.a, "ann")
    page = await ann.get("/admin/domain_blocks")
    assert page.status_code == 200 and "No domain is blocked." in page.text
    r = await ann.post("/admin/domain_blocks", {"domain": "Spam.Example", "severity": "suspend",
                                                "reject_media": "1", "public_comment": "spam source",
                                                "private_comment": "see ticket 4"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/domain_blocks?notice=block_created"
    blocks = (await world.admin_ann.get("/api/v1/admin/domain_blocks")).json()
    assert [(b["domain"], b["severity"], b["reject_media"], b["reject_reports"], b["public_comment"],
             b["private_comment"]) for b in blocks] == [
        ("spam.example", "suspend", True, False, "spam source", "see ticket 4")]
    block_id = blocks[0]["id"]
    listing = await ann.get("/admin/domain_blocks")
    assert "spam.example" in listing.text and "reject media" in listing.text
    for bad in ({"domain": "not a domain", "severity": "silence"}, {"domain": "https://x.example/", "severity":
                 "silence"}, {"domain": "ok.example", "severity": "obliterate"}, {"domain": "spam.example",
                 "severity": "silence"}, {"domain": "", "severity": "silence"}):
        r = await ann.post("/admin/domain_blocks", bad)
        assert r.status_code == 400 and 'role="alert"' in r.text, bad
    assert len((await world.admin_ann.get("/api/v1/admin/domain_blocks")).json()) == 1
    edit = await ann.get(f"/admin/domain_blocks/{block_id}")
    assert edit.status_code == 200 and "see ticket 4" in edit.text
    r = await ann.post(f"/admin/domain_blocks/{block_id}", {"severity": "silence", "reject_reports": "1",
                                                           "public_comment": ""})
    assert r.status_code == 303
    b = (await world.admin_ann.get(f"/api/v1/admin/domain_blocks/{block_id}")).json()
    assert (b["severity"], b["reject_media"], b["reject_reports"], b["public_comment"], b["private_comment"]) == \
        ("silence", False, True, "", "")
    assert (await ann.post(f"/admin/domain_blocks/{block_id}", {"severity": "nope"})).status_code == 400
    r = await ann.post(f"/admin/domain_blocks/{block_id}/delete")
    assert r.status_code == 303
    assert (await world.admin_ann.get("/api/v1/admin/domain_blocks")).json() == []
    assert (await ann.post(f"/admin/domain_blocks/{block_id}/delete")).status_code == 404
    audit = await _audit(world, world.a.id)
    assert [a for a in audit if a[1] == "DomainBlock"] == [("create", "DomainBlock"), ("update", "DomainBlock"),
                                                           ("destroy", "DomainBlock")]


async def test_tenant_isolation(world: World) -> None:
    report = await _report(world.local_bob, world.local_alice)
    r = await world.admin_ann.post("/api/v1/admin/domain_blocks", data={"domain": "a-only.example"})
    block_id = r.json()["id"]
    await _moderator(world)
    a_console = await signed_in(world, world.a, "molly")
    # Tenant B's moderator, signed in on B, finds nothing of A's.
    mike = await signed_in(world, world.b, "mike")
    queue = await mike.get("/admin/reports")
    assert queue.status_code == 200 and report["id"] not in queue.text
    for path in (f"/admin/reports/{report['id']}", f"/admin/accounts/{world.local_alice.account_id}"):
        assert (await mike.get(path)).status_code == 404, path
    for path, data in ((f"/admin/reports/{report['id']}/assign", {}), (f"/admin/reports/{report['id']}/resolve", {}),
                       (f"/admin/reports/{report['id']}/action", {"type": "suspend"}),
                       (f"/admin/accounts/{world.local_alice.account_id}/action", {"type": "suspend"})):
        assert (await mike.post(path, data)).status_code == 404, path
    # B's admin cannot see or remove A's domain block.
    await world.person(world.b, "bea", role="admin")
    bea = await signed_in(world, world.b, "bea")
    assert "a-only.example" not in (await bea.get("/admin/domain_blocks")).text
    assert (await bea.get(f"/admin/domain_blocks/{block_id}")).status_code == 404
    assert (await bea.post(f"/admin/domain_blocks/{block_id}", {"severity": "noop"})).status_code == 404
    assert (await bea.post(f"/admin/domain_blocks/{block_id}/delete")).status_code == 404
    # A's users cannot sign in on B, and A's session cookie is worthless on B.
    assert (await Console(world, world.b).sign_in("molly")).status_code == 401
    a_cookie = a_console.http.cookies.get("steward_console") or ""
    stolen = world.client(world.b)
    stolen.cookies.set("steward_console", a_cookie, domain=world.b.web_domain, path="/admin")
    r = await stolen.get("/admin/reports")
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/sign_in")
    r = await stolen.post(f"/admin/reports/{report['id']}/resolve", data={"csrf_token": a_console.csrf})
    assert r.status_code == 303 and r.headers["location"] == "/admin/sign_in?next=/admin/reports"
    # Nothing of A's changed.
    shown = (await world.admin_ann.get(f"/api/v1/admin/reports/{report['id']}")).json()
    assert shown["action_taken"] is False and shown["assigned_account"] is None
    alice = (await world.admin_ann.get(f"/api/v1/admin/accounts/{world.local_alice.account_id}")).json()
    assert alice["suspended"] is False
    async with world.c.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(domain_blocks).where(
            domain_blocks.c.tenant_id == world.a.id))).scalar() == 1


async def test_report_notes(world: World) -> None:
    report = await _report(world.local_bob, world.local_alice)
    rid = report["id"]
    await _moderator(world)
    molly = await signed_in(world, world.a, "molly")
    await molly.get(f"/admin/reports/{rid}")
    r = await molly.post(f"/admin/reports/{rid}/notes", {"content": "Second report this week."})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=noted")
    page = await molly.get(f"/admin/reports/{rid}")
    assert "Second report this week." in page.text and "Delete note" in page.text
    for bad in ({"content": "   "}, {"content": "x" * 501}, {}):
        r = await molly.post(f"/admin/reports/{rid}/notes", bad)
        assert r.status_code == 400 and 'role="alert"' in r.text, bad
    async with world.c.db.read() as conn:
        notes = (await conn.execute(select(report_notes.c.id).where(report_notes.c.tenant_id == world.a.id))).all()
    assert len(notes) == 1
    note_id = notes[0].id
    # Another moderator sees the note but may not delete it; Tenant B's staff cannot reach it at all.
    await world.person(world.a, "max", role="moderator")
    max_ = await signed_in(world, world.a, "max")
    await max_.get(f"/admin/reports/{rid}")
    assert (await max_.post(f"/admin/reports/{rid}/notes/{note_id}/delete")).status_code == 403
    mike = await signed_in(world, world.b, "mike")
    assert (await mike.post(f"/admin/reports/{rid}/notes", {"content": "hello from B"})).status_code == 404
    assert (await mike.post(f"/admin/reports/{rid}/notes/{note_id}/delete")).status_code == 404
    r = await molly.post(f"/admin/reports/{rid}/notes/{note_id}/delete")
    assert r.status_code == 303
    assert "Second report this week." not in (await molly.get(f"/admin/reports/{rid}")).text
    audit = await _audit(world, world.a.id)
    assert [a for a in audit if a[1] == "ReportNote"] == [("create", "ReportNote"), ("destroy", "ReportNote")]


async def test_custom_role_flags_decide_each_page(world: World) -> None:
    """A custom role holding only manage_reports works the queue but may not act
    on accounts (manage_users) nor open federation policy."""
    from steward.moderation.roles import CUSTOM_PREFIX, Permission

    report = await _report(world.local_bob, world.local_alice)
    await world.person(world.a, "rhea")
    async with world.c.db.write() as conn:
        await conn.execute(users.update().where(users.c.tenant_id == world.a.id, users.c.email.like("rhea@%"))
                           .values(role=f"{CUSTOM_PREFIX}1", role_spec={
                               "name": "Triage", "permissions": str(int(Permission.MANAGE_REPORTS))}))
    rhea = await signed_in(world, world.a, "rhea")
    page = await rhea.get(f"/admin/reports/{report['id']}")
    assert page.status_code == 200 and 'id="account-action"' not in page.text
    assert (await rhea.post(f"/admin/reports/{report['id']}/assign")).status_code == 303
    r = await rhea.post(f"/admin/reports/{report['id']}/action", {"type": "suspend"})
    assert r.status_code == 403
    assert (await rhea.get(f"/admin/accounts/{world.local_alice.account_id}")).status_code == 403
    assert (await rhea.get("/admin/domain_blocks")).status_code == 403
    alice = (await world.admin_ann.get(f"/api/v1/admin/accounts/{world.local_alice.account_id}")).json()
    assert alice["suspended"] is False
