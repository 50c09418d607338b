"""PHI envelope encryption, end to end through the ORM and on raw ciphertexts."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import StatementError

from olly.kernel.errors import CryptoError
from olly.platform.crypto import (
    DataKey,
    PlaintextPHIError,
    column_opener,
    key_id_of,
    open_row,
    open_rows,
    reencrypt,
    rotate_master_key,
    row_aad,
    row_sealer,
    seal_row,
    start_data_key_rotation,
)
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from olly.policy_admin import public, service
from olly.policy_admin.models import Party
from olly.policy_admin.repository import PolicyAdminRepository
from olly.policy_admin.schemas import IndividualCreate

SSN = "219-09-9999"
SSN_DIGITS = "219099999"


def person(**overrides: object) -> IndividualCreate:
    data: dict[str, object] = {
        "given_name": "Maria",
        "family_name": "Okafor",
        "birth_date": date(1984, 7, 2),
        "ssn": SSN,
        "address": {"line1": "12 Elm St", "city": "Dayton", "region": "OH", "postal_code": "45402"},
        "phone": "937-555-0142",
        "email": "maria.okafor@example.org",
    }
    data.update(overrides)
    return IndividualCreate.model_validate(data)


def add_person(platform: Platform, tenant_id: uuid.UUID, **overrides: object) -> uuid.UUID:
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.register_individual(uow, person(**overrides)).id


def raw_row(platform: Platform, party_id: uuid.UUID) -> dict[str, object]:
    parties = table_of(Party)
    with platform.db.connect() as connection:
        return dict(connection.execute(select(parties).where(parties.c.id == party_id)).mappings().one())


def test_round_trip_through_the_orm(platform: Platform, tenant_id: uuid.UUID) -> None:
    party_id = add_person(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        party = PolicyAdminRepository(uow).party(party_id)
        assert party is not None
        assert (party.given_name, party.family_name, party.birth_date) == ("Maria", "Okafor", date(1984, 7, 2))
        assert party.ssn == SSN_DIGITS
        assert party.address == {
            "line1": "12 Elm St",
            "line2": None,
            "city": "Dayton",
            "region": "OH",
            "postal_code": "45402",
            "country": "US",
        }
        assert party.email == "maria.okafor@example.org"
        # exact-match search through blind indexes, never through plaintext
        assert [p.id for p in PolicyAdminRepository(uow).parties_by_ssn("219 09 9999")] == [party_id]
        assert [p.party_id for p in public.find_people(uow, family_name="OKAFOR", birth_date=date(1984, 7, 2))] == [
            party_id
        ]
        assert public.find_people(uow, family_name="Okafor", birth_date=date(1984, 7, 3)) == []
    stored = raw_row(platform, party_id)
    for column in ("display_name", "given_name", "family_name", "birth_date", "ssn", "address", "phone", "email"):
        blob = stored[column]
        assert isinstance(blob, bytes) and blob[:1] == b"\x01"
        assert b"Okafor" not in blob and SSN_DIGITS.encode() not in blob


def test_a_json_column_seals_sorted_compact_utf8_and_opens_what_the_former_encoder_sealed(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    address = {"line1": "12 Calle Núñez", "city": "Española", "region": "NM", "postal_code": "87532"}
    party_id = add_person(platform, tenant_id, address=address)
    expected = address | {"line2": None, "country": "US"}
    parties = table_of(Party)
    aad = row_aad(tenant_id, "parties", "address", party_id)
    blob = raw_row(platform, party_id)["address"]
    assert isinstance(blob, bytes)
    # the ASCII-escaped form sealed before the fast codec: existing rows must keep opening
    former = json.dumps(expected, separators=(",", ":"), sort_keys=True).encode()
    assert b"Espa\\u00f1ola" in former
    with platform.db.connect() as connection:
        assert platform.crypto.decrypt(connection, tenant_id, blob, aad) == (
            b'{"city":"Espa\xc3\xb1ola","country":"US","line1":"12 Calle N\xc3\xba\xc3\xb1ez","line2":null,'
            b'"postal_code":"87532","region":"NM"}'
        )
        resealed = platform.crypto.encrypt(connection, tenant_id, former, aad)
        connection.execute(update(parties).where(parties.c.id == party_id).values(address=resealed))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        party = PolicyAdminRepository(uow).party(party_id)
        assert party is not None and party.address == expected
    with platform.db.connect() as connection:
        row = connection.execute(select(parties.c.id, parties.c.address).where(parties.c.id == party_id)).mappings()
        assert open_row(platform.crypto, connection, parties, tenant_id, row.one()) == {"address": expected}


def test_an_update_re_seals_only_what_changed(platform: Platform, tenant_id: uuid.UUID) -> None:
    party_id = add_person(platform, tenant_id)
    before = raw_row(platform, party_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        party = PolicyAdminRepository(uow).party(party_id)
        assert party is not None
        party.phone = "937-555-0199"
    after = raw_row(platform, party_id)
    assert after["phone"] != before["phone"]
    assert after["ssn"] == before["ssn"] and after["ssn_index"] == before["ssn_index"]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        party = PolicyAdminRepository(uow).party(party_id)
        assert party is not None and party.phone == "937-555-0199" and party.ssn == SSN_DIGITS


def test_every_single_bit_flip_is_rejected(platform: Platform, tenant_id: uuid.UUID) -> None:
    aad = row_aad(tenant_id, "parties", "ssn", "row-1")
    with platform.db.connect() as connection:
        blob = platform.crypto.encrypt(connection, tenant_id, SSN_DIGITS.encode(), aad)
        assert platform.crypto.decrypt(connection, tenant_id, blob, aad) == SSN_DIGITS.encode()
        rejected = 0
        for bit in range(len(blob) * 8):
            tampered = bytearray(blob)
            tampered[bit // 8] ^= 1 << (bit % 8)
            with pytest.raises(CryptoError):
                platform.crypto.decrypt(connection, tenant_id, bytes(tampered), aad)
            rejected += 1
    assert rejected == len(blob) * 8


def test_a_ciphertext_moved_to_another_row_or_column_is_rejected(platform: Platform, tenant_id: uuid.UUID) -> None:
    first = add_person(platform, tenant_id)
    second = add_person(platform, tenant_id, ssn="078-05-1120", given_name="Ade")
    parties = table_of(Party)
    moved = raw_row(platform, first)["ssn"]
    with platform.db.connect() as connection:
        connection.execute(update(parties).where(parties.c.id == second).values(ssn=moved))
    with pytest.raises(CryptoError), platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        PolicyAdminRepository(uow).party(second)
    # the same bytes in another column of the original row fail too
    with platform.db.connect() as connection:
        connection.execute(update(parties).where(parties.c.id == first).values(phone=moved))
    with pytest.raises(CryptoError), platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        PolicyAdminRepository(uow).party(first)


def test_a_core_read_opens_what_the_orm_sealed_and_only_in_its_own_row(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    first = add_person(platform, tenant_id)
    second = add_person(platform, tenant_id, ssn="078-05-1120", given_name="Ade")
    parties = table_of(Party)
    query = select(parties.c.id, parties.c.given_name, parties.c.birth_date, parties.c.address, parties.c.gender)
    with platform.db.connect() as connection:
        row = connection.execute(query.where(parties.c.id == first)).mappings().one()
        # every PHI column selected, with its codec (text, date, JSON; a null stays null); no other
        assert open_row(platform.crypto, connection, parties, tenant_id, row) == {
            "given_name": "Maria",
            "birth_date": date(1984, 7, 2),
            "address": {
                "line1": "12 Elm St",
                "line2": None,
                "city": "Dayton",
                "region": "OH",
                "postal_code": "45402",
                "country": "US",
            },
            "gender": None,
        }
        # its bytes opened as another row's, or as another tenant's, are refused
        with pytest.raises(CryptoError):
            open_row(platform.crypto, connection, parties, tenant_id, {"id": second, "given_name": row["given_name"]})
        with pytest.raises(CryptoError):
            open_row(platform.crypto, connection, parties, uuid.uuid4(), row)


def test_a_column_opener_opens_a_column_of_many_rows_as_open_row_does(platform: Platform, tenant_id: uuid.UUID) -> None:
    first = add_person(platform, tenant_id)
    second = add_person(platform, tenant_id, ssn="078-05-1120", given_name="Ade")
    parties = table_of(Party)
    query = select(parties.c.id, parties.c.given_name, parties.c.address, parties.c.gender)
    with platform.db.connect() as connection:
        rows = {row["id"]: row for row in connection.execute(query).mappings()}
        for column in ("given_name", "address", "gender"):  # text, JSON, a null
            opened = column_opener(platform.crypto, connection, parties, tenant_id, column)
            for row_id in (first, second):
                row = rows[row_id]
                assert (
                    opened(row_id, row[column])
                    == open_row(platform.crypto, connection, parties, tenant_id, row)[column]
                )
        opened = column_opener(platform.crypto, connection, parties, tenant_id, "given_name")
        assert [opened(first, rows[first]["given_name"]), opened(second, rows[second]["given_name"])] == [
            "Maria",
            "Ade",
        ]
        # a value opened as another row's, or as another tenant's, is refused
        with pytest.raises(CryptoError):
            opened(second, rows[first]["given_name"])
        with pytest.raises(CryptoError):
            column_opener(platform.crypto, connection, parties, uuid.uuid4(), "given_name")(
                first, rows[first]["given_name"]
            )


def test_a_core_read_opens_the_phi_columns_it_selects_as_the_orm_does(platform: Platform, tenant_id: uuid.UUID) -> None:
    first = add_person(platform, tenant_id)
    second = add_person(platform, tenant_id, ssn="078-05-1120", given_name="Ade")
    parties = table_of(Party)
    query = select(parties.c.id, parties.c.birth_date, parties.c.address, parties.c.ssn).where(parties.c.id == first)
    with platform.db.connect() as connection:
        row = connection.execute(query).mappings().one()
        (opened,) = open_rows(platform.crypto, connection, parties, tenant_id, [row])
        given_name_only = connection.execute(select(parties.c.id, parties.c.given_name).where(parties.c.id == second))
        (ade,) = open_rows(platform.crypto, connection, parties, tenant_id, given_name_only.mappings())
    assert opened == {
        "id": first,
        "birth_date": date(1984, 7, 2),
        "address": {
            "line1": "12 Elm St",
            "line2": None,
            "city": "Dayton",
            "region": "OH",
            "postal_code": "45402",
            "country": "US",
        },
        "ssn": SSN_DIGITS,
    }
    assert ade == {"id": second, "given_name": "Ade"}
    # the associated data names the row: another row's id, or another tenant, does not open it
    with pytest.raises(CryptoError), platform.db.connect() as connection:
        open_rows(platform.crypto, connection, parties, tenant_id, [dict(row) | {"id": second}])
    with pytest.raises(CryptoError), platform.db.connect() as connection:
        open_rows(platform.crypto, connection, parties, uuid.uuid4(), [row])


def test_plaintext_never_reaches_a_phi_column_through_core(platform: Platform, tenant_id: uuid.UUID) -> None:
    party_id = add_person(platform, tenant_id)
    parties = table_of(Party)
    with pytest.raises(StatementError) as info, platform.db.connect() as connection:
        connection.execute(update(parties).where(parties.c.id == party_id).values(ssn=SSN_DIGITS))
    assert isinstance(info.value.orig, PlaintextPHIError)
    assert key_id_of(raw_row(platform, party_id)["ssn"])  # type: ignore[arg-type]


def test_100k_encryptions_never_repeat_a_nonce(platform: Platform, tenant_id: uuid.UUID) -> None:
    nonces = set()
    with platform.db.connect() as connection:
        for i in range(100_000):
            blob = platform.crypto.encrypt(connection, tenant_id, b"x", b"aad")
            nonces.add(blob[17:29])
            assert len(nonces) == i + 1


def test_master_key_rotation_rewraps_keys_and_old_rows_still_open(platform: Platform, tenant_id: uuid.UUID) -> None:
    party_id = add_person(platform, tenant_id)
    sealed_before = raw_row(platform, party_id)["ssn"]
    from olly.platform.crypto import LocalKeyProvider

    ring = LocalKeyProvider.create_file(platform.settings.keys_dir / "rotation.json")
    ring._keys.update(platform.keys._keys)  # the old master keys stay readable during the rotation
    old_master = platform.keys.active_key_id()
    new_master = ring.add_new_active_key()
    assert rotate_master_key(platform.db, ring, platform.crypto) == 2  # PHI key + blind-index key
    with platform.db.connect() as connection:
        masters = set(connection.execute(select(table_of(DataKey).c.master_key_id)).scalars())
    assert masters == {new_master} and old_master not in masters
    assert raw_row(platform, party_id)["ssn"] == sealed_before  # data untouched
    platform.db.session_info["crypto"].provider = ring
    platform.crypto.forget_cached_keys()
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        party = PolicyAdminRepository(uow).party(party_id)
        assert party is not None and party.ssn == SSN_DIGITS


def test_data_key_rotation_re_encrypts_in_resumable_batches(platform: Platform, tenant_id: uuid.UUID) -> None:
    ids = [add_person(platform, tenant_id, ssn=f"219-09-{1000 + i:04d}") for i in range(7)]
    old_key = key_id_of(raw_row(platform, ids[0])["ssn"])  # type: ignore[arg-type]
    assert start_data_key_rotation(platform.db, platform.crypto) == 1

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(_table: str, _count: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        reencrypt(platform.db, platform.crypto, batch_size=3, on_batch=stop_after_first_batch)
    moved = [key_id_of(raw_row(platform, i)["ssn"]) != old_key for i in ids]  # type: ignore[arg-type]
    assert sum(moved) == 3  # the first batch committed, the rest still under the old key
    assert reencrypt(platform.db, platform.crypto, batch_size=3) == 4
    assert all(key_id_of(raw_row(platform, i)["ssn"]) != old_key for i in ids)  # type: ignore[arg-type]
    with platform.db.connect() as connection:
        statuses = dict(
            connection.execute(
                select(table_of(DataKey).c.id, table_of(DataKey).c.status).where(table_of(DataKey).c.purpose == "phi")
            ).all()
        )
    assert statuses[old_key] == "retired"
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [PolicyAdminRepository(uow).party(i).ssn for i in ids] == [f"21909{1000 + i:04d}" for i in range(7)]  # type: ignore[union-attr]


def test_another_tenants_key_cannot_open_a_value(platform: Platform, tenant_id: uuid.UUID) -> None:
    other = uuid.uuid4()
    aad = row_aad(tenant_id, "parties", "ssn", "r")
    with platform.db.connect() as connection:
        blob = platform.crypto.encrypt(connection, tenant_id, b"secret", aad)
        with pytest.raises(CryptoError):
            platform.crypto.decrypt(connection, other, blob, aad)


def test_plaintext_ssn_is_nowhere_on_disk_or_in_logs(
    sqlite_platform: Platform, tenant_id: uuid.UUID, caplog: pytest.LogCaptureFixture
) -> None:
    platform = sqlite_platform
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement is logged
    party_id = add_person(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert PolicyAdminRepository(uow).party(party_id).ssn == SSN_DIGITS  # type: ignore[union-attr]
    database = Path(platform.db.engine.url.database or "")
    files = [database, Path(f"{database}-wal")]
    with platform.db.connect() as connection:
        connection.execute(text("SELECT 1"))
    haystacks = [f.read_bytes() for f in files if f.exists()]
    sealed = raw_row(platform, party_id)["ssn"]
    assert isinstance(sealed, bytes)
    assert any(sealed in h for h in haystacks)  # the row is on disk: the search below is not vacuous
    for needle in (SSN.encode(), SSN_DIGITS.encode(), b"Okafor", b"maria.okafor@example.org"):
        assert all(needle not in h for h in haystacks)
    assert "INSERT INTO" in caplog.text and "parties" in caplog.text
    assert SSN_DIGITS not in caplog.text and SSN not in caplog.text and "Okafor" not in caplog.text


def test_a_row_sealer_seals_as_seal_row_does(platform: Platform, tenant_id: uuid.UUID) -> None:
    from olly.claims.models import ClaimDiagnosis, ClaimLine, ClaimStatusChange

    lines, diagnoses, history = table_of(ClaimLine), table_of(ClaimDiagnosis), table_of(ClaimStatusChange)
    line = {"id": uuid.uuid4(), "line_number": 1, "service": {"procedureCode": "99213", "modifiers": ["25"]}}
    diagnosis = {"id": uuid.uuid4(), "position": 1, "code": "J06.9"}
    with platform.db.connect() as connection:
        seal_lines = row_sealer(platform.crypto, connection, lines, tenant_id)
        seal_diagnoses = row_sealer(platform.crypto, connection, diagnoses, tenant_id)
        sealed_line, sealed_diagnosis = seal_lines(dict(line)), seal_diagnoses(dict(diagnosis))
        by_one = seal_row(platform.crypto, connection, lines, tenant_id, dict(line))
        # what the rows held is left alone; only the PHI columns change, to the same format and key
        assert sealed_line.keys() == line.keys() and sealed_line["line_number"] == 1
        assert sealed_line["service"][:17] == by_one["service"][:17]
        assert len(sealed_line["service"]) == len(by_one["service"])
        assert sealed_line["service"] != by_one["service"]  # a nonce of its own
        # each opens, with its codec, in its own row, table and column only
        assert open_row(platform.crypto, connection, lines, tenant_id, sealed_line) == {"service": line["service"]}
        assert open_row(platform.crypto, connection, diagnoses, tenant_id, sealed_diagnosis) == {"code": "J06.9"}
        with pytest.raises(CryptoError):
            open_row(platform.crypto, connection, lines, tenant_id, sealed_line | {"id": diagnosis["id"]})
        with pytest.raises(CryptoError):
            open_row(platform.crypto, connection, diagnoses, uuid.uuid4(), sealed_diagnosis)
        # a null, or a value sealed already, stays as it is; a table without PHI is not copied
        assert seal_lines({"id": line["id"], "service": None})["service"] is None
        assert seal_lines(sealed_line)["service"] == sealed_line["service"]
        row = {"id": uuid.uuid4(), "status": "RECEIVED"}
        assert row_sealer(platform.crypto, connection, history, tenant_id)(row) is row
