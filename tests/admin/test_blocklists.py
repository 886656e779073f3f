"""Domain blocklist CSV import/export (Steward's admin API) in Mastodon's format."""

from __future__ import annotations

from typing import Any

from steward.moderation.audit import list_actions
from steward.moderation.blocklists import MAX_BYTES, parse_csv
from tests.world import Person, World

IMPORT = "/api/v1/admin/steward/domain_blocks/import"
EXPORT = "/api/v1/admin/steward/domain_blocks/export"

MASTODON_CSV = (
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    "spam.example,suspend,true,true,Spam factory,false\n"
    "loud.example,silence,false,false,\"Harassment, repeatedly\",true\n"
    "media.example,noop,true,false,,false\n"
)


async def upload(person: Person, text: str | bytes, **form: Any) -> Any:
    data = text.encode() if isinstance(text, str) else text
    return await person.post(IMPORT, files={"data": ("blocks.csv", data, "text/csv")}, data=form)


async def domains(person: Person) -> dict[str, dict[str, Any]]:
    return {b["domain"]: b for b in (await person.get("/api/v1/admin/domain_blocks")).json()}


async def test_import_mastodon_csv_and_export_round_trip(world: World) -> None:
    ann = world.admin_ann
    r = await upload(ann, MASTODON_CSV)
    assert r.status_code == 200, r.text
    assert r.json()["summary"] == {"adds": 3, "changes": 0, "removals": 0, "unchanged": 0}
    blocks = await domains(ann)
    assert blocks["spam.example"]["severity"] == "suspend" and blocks["spam.example"]["reject_media"] is True
    assert blocks["loud.example"]["public_comment"] == "Harassment, repeatedly"
    assert blocks["loud.example"]["obfuscate"] is True and blocks["media.example"]["severity"] == "noop"
    r = await ann.get(EXPORT)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    assert lines[1:] == ['loud.example,silence,false,false,"Harassment, repeatedly",true',
                         "media.example,noop,true,false,,false", "spam.example,suspend,true,true,Spam factory,false"]
    # The export imports back unchanged.
    again = await upload(ann, r.text)
    assert again.json()["summary"] == {"adds": 0, "changes": 0, "removals": 0, "unchanged": 3}
    async with world.c.db.read() as conn:
        actions = await list_actions(conn, world.a.id, target_type="DomainBlock")
    assert sorted(a["human_identifier"] for a in actions) == ["loud.example", "media.example", "spam.example"]
    assert all(a["account_id"] == int(ann.account_id) and a["action"] == "create" for a in actions)


async def test_plain_and_fediblockhole_forms(world: World) -> None:
    assert [(e.domain, e.severity) for e in parse_csv(b"# my list\nOne.Example\n\ntwo.example\r\n")] == [
        ("one.example", "suspend"), ("two.example", "suspend")]
    entries = parse_csv(b"domain,severity,public_comment\nthree.example,silence,rude\n")
    assert (entries[0].domain, entries[0].severity, entries[0].public_comment) == ("three.example", "silence", "rude")
    assert entries[0].reject_media is None  # not said: new blocks get the default, old ones keep theirs
    assert parse_csv("\ufeff#domain\nbom.example\n".encode())[0].domain == "bom.example"


async def test_preview_changes_nothing_then_import_updates(world: World) -> None:
    ann = world.admin_ann
    await ann.post("/api/v1/admin/domain_blocks", data={"domain": "loud.example", "severity": "suspend",
                                                        "private_comment": "ours"})
    r = await upload(ann, MASTODON_CSV, dry_run="true")
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["dry_run"] is True
    assert preview["summary"] == {"adds": 2, "changes": 1, "removals": 0, "unchanged": 0}
    change = preview["changes"][0]
    assert change["domain"] == "loud.example" and change["from"]["severity"] == "suspend"
    assert change["to"]["severity"] == "silence"
    assert list(await domains(ann)) == ["loud.example"]
    assert (await upload(ann, MASTODON_CSV)).status_code == 200
    blocks = await domains(ann)
    assert len(blocks) == 3 and blocks["loud.example"]["severity"] == "silence"
    assert blocks["loud.example"]["private_comment"] == "ours"  # the file does not say, so it stays


BAD_FILES = {
    "unknown severity": ("#domain,#severity\nok.example,suspend\nbad.example,nuke\n", "line 3", "nuke"),
    "bad domain": ("#domain,#severity\nok.example,suspend\nhttps://bad.example/x,silence\n", "line 3", "domain"),
    "bad boolean": ("#domain,#reject_media\nok.example,perhaps\n", "line 2", "reject_media"),
    "too many columns": ("#domain,#severity\nok.example,suspend,extra\n", "line 2", "columns"),
    "no header": ("ok.example,suspend\n", "line 1", "header"),
    "duplicate": ("#domain\nok.example\nOK.example\n", "line 3", "twice"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary", ""),
    "not utf-8": (b"#domain\nok.example\n\xff\xfe.example\n", "line 3", "UTF-8"),
}


async def test_malformed_files_change_nothing(world: World) -> None:
    ann = world.admin_ann
    for name, (body, where, what) in BAD_FILES.items():
        r = await upload(ann, body)
        assert r.status_code == 422, (name, r.text)
        assert where in r.json()["error"] and what in r.json()["error"], (name, r.json())
    assert await domains(ann) == {}
    big = "#domain\n" + "".join(f"d{i}.example\n" for i in range(MAX_BYTES // 10))
    r = await upload(ann, big)
    assert r.status_code == 422 and "larger" in r.json()["error"]
    r = await ann.post(IMPORT, data={"nothing": "here"})
    assert r.status_code == 422 and "error" in r.json()
    r = await upload(ann, MASTODON_CSV, format="yaml")
    assert r.status_code == 422
    assert await domains(ann) == {}
    async with world.c.db.read() as conn:
        assert await list_actions(conn, world.a.id, target_type="DomainBlock") == []


async def test_import_json_form(world: World) -> None:
    ann = world.admin_ann
    body = b'[{"domain": "json.example", "severity": "silence", "comment": "public"}]'
    r = await ann.post(IMPORT, files={"data": ("b.json", body, "application/json")}, data={"format": "json"})
    assert r.status_code == 200, r.text
    assert (await domains(ann))["json.example"]["public_comment"] == "public"
    r = await ann.post(IMPORT, files={"data": ("b.json", b'{"domain": 1}', "application/json")},
                       data={"format": "json"})
    assert r.status_code == 422 and "array" in r.json()["error"]


async def test_permissions_and_isolation(world: World) -> None:
    ann = world.admin_ann
    assert (await upload(ann, "#domain\nonly-a.example\n")).status_code == 200
    assert (await upload(world.local_alice, MASTODON_CSV)).status_code == 403
    assert (await world.local_alice.get(EXPORT)).status_code == 403
    assert (await world.mod_mike.get(EXPORT)).status_code == 403
    b_admin = await world.person(world.b, "bea", role="admin", scopes="read write admin:read admin:write")
    assert (await b_admin.get(EXPORT)).text.splitlines()[1:] == []
    assert (await upload(b_admin, "#domain\nonly-b.example\n")).status_code == 200
    assert list(await domains(ann)) == ["only-a.example"]
    assert "only-b.example" not in (await ann.get(EXPORT)).text
    # b's token means nothing on a's host.
    on_a = world.client(world.a, b_admin.token)
    r = await on_a.post(IMPORT, files={"data": ("x.csv", b"#domain\nx.example\n", "text/csv")})
    assert r.status_code == 401
    # A token without the admin scope is refused even for an admin.
    weak = await world.person(world.a, "ann2", role="admin", scopes="read write")
    assert (await weak.get(EXPORT)).status_code == 403


async def test_imported_blocks_apply_to_known_accounts(world: World) -> None:
    from steward.core.clock import utcnow
    from steward.core.ids import new_id
    from steward.db.tables import accounts

    ids = {}
    async with world.c.db.write() as conn:
        for name, domain in (("troll", "sub.spam.example"), ("shouty", "loud.example"), ("pal", "fine.example"),
                             ("snap", "notspam.example")):
            ids[name] = new_id()
            await conn.execute(accounts.insert().values(
                tenant_id=world.a.id, id=ids[name], username=name, username_lower=name, domain=domain,
                uri=f"https://{domain}/users/{name}", created_at=utcnow(), updated_at=utcnow()))
    assert (await upload(world.admin_ann, MASTODON_CSV)).status_code == 200

    async def flags(name: str) -> tuple[bool, bool]:
        shown = (await world.admin_ann.get(f"/api/v1/admin/accounts/{ids[name]}")).json()
        return shown["silenced"], shown["suspended"]

    assert await flags("troll") == (False, True)
    assert await flags("shouty") == (True, False)
    assert await flags("pal") == (False, False) and await flags("snap") == (False, False)
    # Lifting an imported block undoes exactly what it did.
    block = (await domains(world.admin_ann))["spam.example"]
    assert (await world.admin_ann.delete(f"/api/v1/admin/domain_blocks/{block['id']}")).status_code == 200
    assert await flags("troll") == (False, False)


async def test_instance_follows_measure_without_dates(world: World) -> None:
    """fediblockhole asks this before raising a block to suspend, with no start_at/end_at."""
    r = await world.admin_ann.post("/api/v1/admin/measures", json={
        "keys": ["instance_follows"], "instance_follows": {"domain": "spam.example"}})
    assert r.status_code == 200, r.text
    measure = r.json()[0]
    assert measure["key"] == "instance_follows" and measure["total"] == "0" and len(measure["data"]) == 30
    r = await world.admin_ann.post("/api/v1/admin/measures", json={"keys": ["instance_follows"],
                                                                   "start_at": "not a date"})
    assert r.status_code == 422
