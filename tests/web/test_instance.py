from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from steward.core.clock import utcnow
from steward.core.ids import new_id
from steward.db.tables import accounts, domain_blocks, instance_rules, instances, statuses, users
from tests.schema import assert_matches
from tests.world import World


async def _add_rule(world: World, tenant, text: str, position: int) -> None:
    async with world.c.db.write() as conn:
        await conn.execute(instance_rules.insert().values(tenant_id=tenant.id, id=new_id(), text=text, hint="",
                                                          position=position, created_at=utcnow()))


async def _add_status(world: World, tenant, account_id: str) -> None:
    async with world.c.db.write() as conn:
        await conn.execute(statuses.insert().values(tenant_id=tenant.id, id=new_id(), account_id=int(account_id),
                                                    text="hi", content="<p>hi</p>", created_at=utcnow()))


async def test_instance_v2_shape_and_values(world: World) -> None:
    await _add_rule(world, world.a, "Be kind", 1)
    await world.c.tenants.update_settings(world.a.id, {"contact_email": "staff@example.org",
                                                       "max_toot_chars": 1000, "registration_mode": "approval"})
    r = await world.anon_a.get("/api/v2/instance")
    assert r.status_code == 200, r.text
    data = r.json()
    assert_matches("Instance", data)
    assert data["domain"] == world.a.domain
    assert data["version"].startswith("4.") and "Steward" in data["version"]
    assert data["configuration"]["statuses"]["max_characters"] == 1000
    assert data["configuration"]["statuses"]["max_media_attachments"] == 4
    assert data["configuration"]["statuses"]["characters_reserved_per_url"] == 23
    assert data["configuration"]["polls"] == {"max_options": 4, "max_characters_per_option": 50,
                                              "min_expiration": 300, "max_expiration": 2629746}
    assert "image/jpeg" in data["configuration"]["media_attachments"]["supported_mime_types"]
    assert data["configuration"]["urls"]["streaming"] == f"ws://{world.a.web_domain}"
    assert data["configuration"]["translation"] == {"enabled": False}
    assert data["configuration"]["urls"]["about"] is None and data["source_url"].startswith("http")
    assert data["registrations"]["enabled"] and data["registrations"]["approval_required"]
    assert data["api_versions"] == {"mastodon": 2}
    assert data["contact"]["email"] == "staff@example.org"
    # No owner in the test world: the first admin is the contact.
    assert data["contact"]["account"]["username"] == "ann"
    assert [rule["text"] for rule in data["rules"]] == ["Be kind"]


async def test_instance_v1_shape_and_stats(world: World) -> None:
    r = await world.local_alice.post("/api/v1/statuses", json={"status": "counted"})
    assert r.status_code == 200, r.text
    async with world.c.db.write() as conn:
        now = utcnow()
        await conn.execute(accounts.insert().values(
            tenant_id=world.a.id, id=new_id(), username="rem", username_lower="rem", domain="remote.example",
            created_at=now, updated_at=now))
        await conn.execute(instances.insert().values(tenant_id=world.a.id, id=new_id(), domain="other.example",
                                                     first_seen_at=now))
        await conn.execute(instances.insert().values(tenant_id=world.a.id, id=new_id(), domain="bad.example",
                                                     first_seen_at=now))
        await conn.execute(domain_blocks.insert().values(tenant_id=world.a.id, id=new_id(), domain="bad.example",
                                                         severity="suspend", created_at=now))
    r = await world.local_alice.get("/api/v1/instance")
    assert r.status_code == 200, r.text
    data = r.json()
    assert_matches("V1Instance", data)
    assert data["uri"] == world.a.domain
    assert data["urls"]["streaming_api"] == f"ws://{world.a.web_domain}"
    assert data["stats"] == {"user_count": 3, "status_count": 1, "domain_count": 2}
    assert data["registrations"] is True and data["approval_required"] is False
    r = await world.anon_a.get("/api/v1/instance/peers")
    assert r.json() == ["other.example", "remote.example"]
    # Tenant b knows none of tenant a's peers or statuses.
    assert (await world.anon_b.get("/api/v1/instance/peers")).json() == []
    data_b = (await world.anon_b.get("/api/v1/instance")).json()
    assert data_b["stats"] == {"user_count": 2, "status_count": 0, "domain_count": 0}
    assert data_b["uri"] == world.b.domain


async def test_activity_rules_and_pages(world: World) -> None:
    await _add_status(world, world.a, world.local_alice.account_id)
    async with world.c.db.write() as conn:
        await conn.execute(update(users).where(users.c.tenant_id == world.a.id)
                           .values(current_sign_in_at=utcnow() - timedelta(minutes=1)))
    r = await world.anon_a.get("/api/v1/instance/activity")
    weeks = r.json()
    assert r.status_code == 200 and len(weeks) == 12
    assert weeks[0] == {"week": weeks[0]["week"], "statuses": "1", "logins": "3", "registrations": "3"}
    assert int(weeks[0]["week"]) - int(weeks[1]["week"]) == 7 * 24 * 3600
    assert all(w["statuses"] == "0" for w in weeks[1:])
    assert (await world.anon_b.get("/api/v1/instance/activity")).json()[0]["statuses"] == "0"

    await _add_rule(world, world.a, "Second", 2)
    await _add_rule(world, world.a, "First", 1)
    r = await world.anon_a.get("/api/v1/instance/rules")
    assert [x["text"] for x in r.json()] == ["First", "Second"]
    assert_matches("Rule", r.json(), many=True)
    assert (await world.anon_b.get("/api/v1/instance/rules")).json() == []

    r = await world.anon_a.get("/api/v1/instance/extended_description")
    assert r.status_code == 200 and r.json()["content"] == ""
    assert (await world.anon_a.get("/api/v1/instance/privacy_policy")).status_code == 404
    r = await world.anon_a.get("/api/v1/instance/terms_of_service")
    assert r.status_code == 404 and "error" in r.json()
    await world.c.tenants.update_settings(world.a.id, {
        "extended_description": "About us\n\n<script>x</script> & more",
        "privacy_policy": "<p>We keep <b>little</b></p><script>alert(1)</script>",
        "terms_of_service": "Be nice."})
    r = await world.anon_a.get("/api/v1/instance/extended_description")
    assert_matches("ExtendedDescription", r.json())
    assert "<script>" not in r.json()["content"] and "About us" in r.json()["content"]
    r = await world.anon_a.get("/api/v1/instance/privacy_policy")
    assert_matches("PrivacyPolicy", r.json())
    assert "<b>little</b>" in r.json()["content"] and "script" not in r.json()["content"]
    r = await world.anon_a.get("/api/v1/instance/terms_of_service")
    assert_matches("TermsOfService", r.json())
    assert r.json()["content"] == "<p>Be nice.</p>"
    dated = await world.anon_a.get(f"/api/v1/instance/terms_of_service/{r.json()['effective_date']}")
    assert dated.status_code == 200 and dated.json() == r.json()
    assert (await world.anon_a.get("/api/v1/instance/terms_of_service/1999-01-01")).status_code == 404
    # Tenant b's pages are its own.
    assert (await world.anon_b.get("/api/v1/instance/privacy_policy")).status_code == 404
    r = await world.anon_a.get("/api/v1/instance/languages")
    assert r.status_code == 200 and {"code": "de", "name": "German"} in r.json() and len(r.json()) == 184
    r = await world.anon_a.get("/api/v1/instance/translation_languages")
    assert r.status_code == 200 and r.json() == {}


async def test_public_domain_blocks(world: World) -> None:
    async with world.c.db.write() as conn:
        for domain, obfuscate in (("spam.example", False), ("verybadplace.example", True)):
            await conn.execute(domain_blocks.insert().values(
                tenant_id=world.a.id, id=new_id(), domain=domain, severity="suspend", obfuscate=obfuscate,
                public_comment="spam", private_comment="secret", created_at=utcnow()))
    r = await world.anon_a.get("/api/v1/instance/domain_blocks")
    assert r.status_code == 404 and "error" in r.json()
    await world.c.tenants.update_settings(world.a.id, {"show_domain_blocks": "users"})
    assert (await world.anon_a.get("/api/v1/instance/domain_blocks")).status_code == 401
    r = await world.local_alice.get("/api/v1/instance/domain_blocks")
    assert r.status_code == 200
    blocks = r.json()
    assert_matches("DomainBlock", blocks, many=True)
    assert blocks[0]["domain"] == "spam.example" and "comment" not in blocks[0]
    hidden = blocks[1]["domain"]
    assert hidden != "verybadplace.example" and "*" in hidden and len(hidden) == len("verybadplace.example")
    assert "secret" not in r.text
    await world.c.tenants.update_settings(world.a.id, {"show_domain_blocks": "all",
                                                       "show_domain_blocks_rationale": "all"})
    r = await world.anon_a.get("/api/v1/instance/domain_blocks")
    assert r.status_code == 200 and r.json()[0]["comment"] == "spam"
    # Tenant b's list is its own (and hidden by default).
    assert (await world.local_carol.get("/api/v1/instance/domain_blocks")).status_code == 404


async def test_instance_ignores_bad_tokens_and_unknown_hosts(world: World) -> None:
    r = await world.client(world.a, "garbage").get("/api/v2/instance")
    assert r.status_code == 200
    r = await world.anon_a.get("/api/v2/instance", headers={"host": "unknown.invalid"})
    assert r.status_code == 404 and "error" in r.json()
    r = await world.anon_a.post("/api/v2/instance")
    assert r.status_code == 405 and "error" in r.json()


async def test_instance_v2_publishes_the_vapid_key_once_made(world: World) -> None:
    assert "vapid" not in (await world.anon_a.get("/api/v2/instance")).json()["configuration"]
    await world.c.tenants.update_settings(world.a.id, {"vapid_public_key": "BExampleKey"})
    data = (await world.anon_a.get("/api/v2/instance")).json()
    assert data["configuration"]["vapid"] == {"public_key": "BExampleKey"}
    assert "vapid" not in (await world.anon_b.get("/api/v2/instance")).json()["configuration"]
