"""A person's administrative gender: given to the party API or by an 834's DMG03, sealed at rest
like the other demographics, and written in the 834 Olly sends (U when unknown)."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select

from olly.app import create_app
from olly.edi import service
from olly.enrollment import service as enrollment
from olly.platform.auth.roles import Role
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from olly.policy_admin.models import Party
from tests.factories import ACCOUNT, PPO
from tests.integration.edi.helpers import register, segments
from tests.integration.edi.test_834_maintenance import _links
from tests.integration.edi.test_834_out import _account
from tests.integration.edi.test_links import enrollment_file
from tests.support.identity import sign_in_as
from tests.unit.edi.pyx12_judge import judge

SUBSCRIBER_NO_GENDER = [
    "INS*Y*18*021*28*A***FT",
    "REF*0F*E300",
    "NM1*IL*1*OKAFOR*ADA****34*219094444",
    "DMG*D8*19790303",
    f"HD*021**HLT*{PPO}*EMP",
    "DTP*348*D8*20260201",
]
SON = [
    "INS*N*19*021*28*A",
    "REF*0F*E300",
    "NM1*IL*1*OKAFOR*TUNDE",
    "DMG*D8*20150505*M",
    f"HD*021**HLT*{PPO}*ECH",
    "DTP*348*D8*20260201",
]


def _gender_change(code: str) -> list[str]:
    return [
        "INS*Y*18*001*25*A***FT",
        "REF*0F*E300",
        "NM1*IL*1*OKAFOR*ADA****34*219094444",
        f"DMG*D8*19790303*{code}",
    ]


def _genders(platform: Platform, tenant_id: uuid.UUID, *party_ids: uuid.UUID) -> list[str | None]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = [uow.session.get(Party, p) for p in party_ids]
        return [p.gender if p is not None else "missing" for p in found]


def test_the_834_dmg03_is_kept_sealed_and_written_back(platform: Platform, tenant_id: uuid.UUID) -> None:
    _account(platform, tenant_id)
    register(
        platform, tenant_id, "ACME", kind="EMPLOYER", qualifier="ZZ", identifier="EMPLOYER1", group_account_id=ACCOUNT
    )
    links = _links()
    with platform.db.unit_of_work(tenant_id) as uow:
        added = service.ingest(
            uow, enrollment_file("000000001", [SUBSCRIBER_NO_GENDER, SON]), source="cli", links=links
        )
    assert (added.status, added.enrollment_failures) == ("ACCEPTED", [])
    subscriber_id, son_id = uuid.UUID(added.created[1].id), uuid.UUID(added.created[3].id)
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, uuid.UUID(added.created[0].id))
    assert _genders(platform, tenant_id, subscriber_id, son_id) == [None, "M"]
    # sealed: the column holds ciphertext, never the letter
    with platform.db.connect() as connection:
        parties = table_of(Party)
        raw = connection.execute(select(parties.c.gender).where(parties.c.id == son_id)).scalar_one()
    assert isinstance(raw, bytes) and len(raw) > 16 and raw != b"M"

    with platform.db.unit_of_work(tenant_id) as uow:
        text = service.file_content(uow, service.send_enrollment(uow, "ACME", date(2026, 2, 1), links).id)[1].decode()
    assert judge(text) == []
    assert segments(text.replace("\n", ""), "DMG") == [["DMG", "D8", "19790303", "U"], ["DMG", "D8", "20150505", "M"]]

    # a change stating F sets it; a later one stating U (unknown) leaves what is known
    with platform.db.unit_of_work(tenant_id) as uow:
        service.ingest(uow, enrollment_file("000000002", [_gender_change("F")]), source="cli", links=links)
    with platform.db.unit_of_work(tenant_id) as uow:
        unknown = service.ingest(uow, enrollment_file("000000003", [_gender_change("U")]), source="cli", links=links)
    assert unknown.enrollment_failures == []
    assert _genders(platform, tenant_id, subscriber_id, son_id) == ["F", "M"]
    with platform.db.unit_of_work(tenant_id) as uow:
        again = service.file_content(uow, service.send_enrollment(uow, "ACME", date(2026, 2, 1), links).id)[1].decode()
    assert judge(again) == []
    assert segments(again.replace("\n", ""), "DMG") == [["DMG", "D8", "19790303", "F"], ["DMG", "D8", "20150505", "M"]]


def test_the_party_api_takes_an_administrative_gender(platform: Platform, tenant_id: uuid.UUID) -> None:
    app = create_app(platform, run_bus=False)
    with TestClient(app) as client:
        staff = sign_in_as(app, tenant_id, Role.ENROLLMENT_SPECIALIST)
        url = "/api/v1/parties/individuals"
        person = {"given_name": "Nia", "family_name": "Brooks", "birth_date": "1988-03-14"}
        given = client.post(url, json={**person, "gender": "F"}, headers=staff.headers)
        unstated = client.post(url, json={**person, "given_name": "Theo"}, headers=staff.headers)
        assert (given.status_code, unstated.status_code) == (201, 201)
        bad = client.post(url, json={**person, "gender": "X"}, headers=staff.headers)
        assert (bad.status_code, [e["field"] for e in bad.json()["errors"]]) == (422, ["body.gender"])
        assert "X" not in bad.json().get("detail", "")
    created = [uuid.UUID(given.json()["id"]), uuid.UUID(unstated.json()["id"])]
    assert _genders(platform, tenant_id, *created) == ["F", None]
