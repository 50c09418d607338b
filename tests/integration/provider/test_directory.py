"""Directory search on both engines (SQLite FTS5 and PostgreSQL tsvector + pg_trgm): the same API,
the same answers for the same data."""

from __future__ import annotations

import math
from datetime import date

import pytest

from olly.kernel.errors import ValidationFailed
from olly.provider import rules as r
from olly.provider import service
from tests.integration.provider import factories

ZIPS = {  # the package's demo centre points
    "10001": (40.7506, -73.9972),
    "10002": (40.7157, -73.9863),
    "10016": (40.7452, -73.9781),
    "10025": (40.7985, -73.9668),
    "10451": (40.8202, -73.9250),
    "11201": (40.6940, -73.9903),
}


def miles(zip_a: str, zip_b: str) -> float:
    """Spherical law of cosines: an independent check of the engines' haversine."""
    (a1, o1), (a2, o2) = (map(math.radians, ZIPS[zip_a]), map(math.radians, ZIPS[zip_b]))
    cosine = math.sin(a1) * math.sin(a2) + math.cos(a1) * math.cos(a2) * math.cos(o2 - o1)
    return round(math.acos(min(1.0, cosine)) * 3958.8, 2)


@pytest.fixture
def directory(work):  # type: ignore[no-untyped-def]
    """Seven listings around Manhattan and one in Boston."""
    ids: dict[str, object] = {}
    with work() as uow:
        smith_clinic = service.register_provider(
            uow, factories.organisation(name="Smith Family Clinic", zip_code="10025")
        )
        hudson = service.register_provider(
            uow, factories.organisation(name="Hudson Orthopaedic Group", zip_code="10016")
        )
        ids["smith_clinic"], ids["hudson"] = smith_clinic.id, hudson.id
        people = {
            "jane": factories.individual(
                first_name="Jane",
                last_name="Smith",
                taxonomy_codes=("207X00000X",),
                languages=("en", "es"),
                zip_code="10001",
            ),
            "john": factories.individual(
                first_name="John",
                last_name="Smithers",
                credential="DO",
                taxonomy_codes=("207Q00000X",),
                accepting_new_patients=False,
                zip_code="11201",
            ),
            "wei": factories.individual(
                first_name="Wei",
                last_name="Chen",
                taxonomy_codes=("207RC0000X",),
                languages=("zh", "en"),
                zip_code="02108",
                state="MA",
                city="Boston",
            ),
            "maria": factories.individual(
                first_name="Maria",
                last_name="Garcia",
                taxonomy_codes=("208000000X",),
                languages=("es", "en"),
                zip_code="10451",
            ),
            "paul": factories.individual(
                first_name="Paul",
                last_name="Jones",
                taxonomy_codes=("207Q00000X",),
                zip_code="10002",
                organisation_npi=smith_clinic.npi,
            ),
        }
        for key, draft in people.items():
            ids[key] = service.register_provider(uow, draft).id
        for key in ("jane", "john", "wei", "paul"):
            factories.credential(uow, ids[key])  # type: ignore[arg-type]
        for key in ("jane", "wei", "maria"):
            service.create_contract(
                uow,
                service.ContractDraft(ids[key], f"K-{key}", "PPO", "TIER_1", date(2026, 1, 1)),  # type: ignore[arg-type]
            )
    return ids


def search(work, **query: object) -> service.DirectoryPage:  # type: ignore[no-untyped-def]
    with work() as uow:
        return service.search_directory(uow, service.DirectoryQuery(**query))  # type: ignore[arg-type]


def names(page: service.DirectoryPage) -> list[str]:
    return [x.name for x in page.results]


def test_full_text_over_names_with_prefix_and_ranking(work, directory) -> None:  # type: ignore[no-untyped-def]
    page = search(work, text="smith")
    assert set(names(page)) == {"Jane Smith MD", "John Smithers DO", "Smith Family Clinic", "Paul Jones MD"}
    assert (page.total, page.total_is_exact) == (4, True)
    # a hit on an affiliated organisation's name ranks below a hit on the provider's own name
    assert names(page)[-1] == "Paul Jones MD"
    assert page.results[-1].organisations == ("Smith Family Clinic",)


def test_full_text_over_specialties_and_taxonomy(work, directory) -> None:  # type: ignore[no-untyped-def]
    assert names(search(work, text="cardio")) == ["Wei Chen MD"]  # prefix of "Cardiovascular Disease"
    assert names(search(work, text="orthopaedic surgery")) == ["Jane Smith MD"]
    assert names(search(work, text="pediatrics")) == ["Maria Garcia MD"]
    assert names(search(work, text="207RC0000X")) == ["Wei Chen MD"]  # by NUCC code
    assert set(names(search(work, text="family medicine"))) == {"John Smithers DO", "Paul Jones MD"}
    assert search(work, text="neurosurgery").total == 0


def test_radius_around_a_zip_ordered_by_distance(work, directory) -> None:  # type: ignore[no-untyped-def]
    page = search(work, zip="10001", radius_miles=5)
    assert [(x.name, x.zip, x.distance_miles) for x in page.results] == [
        ("Jane Smith MD", "10001", 0.0),
        ("Hudson Orthopaedic Group", "10016", pytest.approx(miles("10001", "10016"), abs=0.01)),
        ("Paul Jones MD", "10002", pytest.approx(miles("10001", "10002"), abs=0.01)),
        ("Smith Family Clinic", "10025", pytest.approx(miles("10001", "10025"), abs=0.01)),
        ("John Smithers DO", "11201", pytest.approx(miles("10001", "11201"), abs=0.01)),
    ]
    assert miles("10001", "10451") > 5  # the Bronx listing is outside 5 miles …
    assert "Maria Garcia MD" in names(search(work, zip="10001", radius_miles=10))  # … and inside 10
    # coordinates work like a ZIP; the default radius is 25 miles (Boston is ~188 miles away)
    by_point = search(work, latitude=40.7506, longitude=-73.9972)
    assert "Wei Chen MD" not in names(by_point)
    assert by_point.total == 6


def test_filters_language_new_patients_kind_and_network(work, directory) -> None:  # type: ignore[no-untyped-def]
    assert names(search(work, language="es")) == ["Maria Garcia MD", "Jane Smith MD"]  # by name: garcia, smith
    assert names(search(work, language="zh", zip="02108", radius_miles=1)) == ["Wei Chen MD"]
    assert names(search(work, accepting_new_patients=False)) == ["John Smithers DO"]
    assert names(search(work, kind=r.ProviderKind.ORGANISATION)) == ["Hudson Orthopaedic Group", "Smith Family Clinic"]
    # in network = a PPO contract on the date AND approved credentialing (Maria is not credentialed)
    in_ppo = search(work, network="PPO")
    assert names(in_ppo) == ["Wei Chen MD", "Jane Smith MD"]
    assert [x.networks for x in in_ppo.results] == [(("PPO", "TIER_1"),), (("PPO", "TIER_1"),)]
    assert search(work, network="PPO", on=date(2025, 12, 31)).total == 0
    # Listings show the networks of approved providers only: Maria's contract does not show.
    shown = {x.name: x.networks for x in search(work, page_size=50).results}
    assert (shown["Maria Garcia MD"], shown["Jane Smith MD"], shown["Paul Jones MD"]) == ((), (("PPO", "TIER_1"),), ())
    assert search(work, network="HMO").total == 0
    combined = search(work, text="smith", zip="10001", radius_miles=10, language="es", network="PPO")
    assert names(combined) == ["Jane Smith MD"]


def test_pagination_is_stable(work, directory) -> None:  # type: ignore[no-untyped-def]
    everyone = names(search(work, page_size=50))
    assert everyone == [
        "Wei Chen MD",
        "Maria Garcia MD",
        "Hudson Orthopaedic Group",
        "Paul Jones MD",
        "Smith Family Clinic",
        "Jane Smith MD",
        "John Smithers DO",
    ]
    pages = [search(work, page=n, page_size=3) for n in (1, 2, 3)]
    assert [names(p) for p in pages] == [everyone[0:3], everyone[3:6], everyone[6:]]
    assert {p.total for p in pages} == {7}


def test_directory_follows_registry_changes(work, directory) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        service.update_provider(uow, directory["john"], service.ProviderChanges(accepting_new_patients=True))  # type: ignore[arg-type]
        [location] = service.provider_details(uow, directory["wei"]).locations  # type: ignore[arg-type]
        service.remove_location(uow, directory["wei"], location.id)  # type: ignore[arg-type]
    assert search(work, accepting_new_patients=False).total == 0
    # the full-text facets follow too (a worded search filters through them)
    assert names(search(work, text="smithers", accepting_new_patients=True)) == ["John Smithers DO"]
    assert search(work, text="smithers", accepting_new_patients=False).total == 0
    assert names(search(work, zip="02108", radius_miles=50)) == []
    # still listed, without a location
    [listing] = search(work, text="cardiovascular").results
    assert (listing.name, listing.zip, listing.distance_miles) == ("Wei Chen MD", None, None)
    with work() as uow:
        service.record_sanction(uow, directory["jane"], r.SanctionSource.SAM, "SAM-1", date(2026, 1, 15), actor="c")  # type: ignore[arg-type]
    assert names(search(work, network="PPO")) == ["Wei Chen MD"]  # Jane is suspended


def test_query_text_never_reaches_the_engine_as_syntax(work, directory) -> None:  # type: ignore[no-untyped-def]
    smiths = set(names(search(work, text="smith")))
    for text in ('smith"', "smith OR", "NEAR(smith)", "smith & | !", "smith:*", "'; DROP TABLE x; --"):
        assert set(names(search(work, text=text))) <= smiths, text
    for text in ("   ", "(", "*", '"', "&|!:"):
        assert search(work, text=text).total == 7  # no words: no text condition


def test_invalid_queries_are_refused_with_field_errors(work, directory) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ({"zip": "99999"}, ["zip"]),
        ({"zip": "10001", "latitude": 40.0, "longitude": -73.0}, ["zip"]),
        ({"latitude": 40.0}, ["latitude"]),
        ({"radius_miles": 5.0}, ["radiusMiles"]),
        ({"zip": "10001", "radius_miles": 500.0}, ["radiusMiles"]),
        ({"language": "klingon"}, ["language"]),
        ({"page": 51, "page_size": 20}, ["page"]),
        ({"page_size": 51}, ["pageSize"]),
    ]
    for query, fields in cases:
        with pytest.raises(ValidationFailed) as refused:
            search(work, **query)
        assert [e.field for e in refused.value.errors] == fields, query


def test_misspelt_names_fall_back_to_trigrams_on_postgresql_only(work, directory, platform) -> None:  # type: ignore[no-untyped-def]
    found = set(names(search(work, text="smithh")))
    if platform.db.is_sqlite:
        assert found == set()  # FTS5 has no typo tolerance
    else:
        assert found == {"Jane Smith MD", "John Smithers DO"}
    assert names(search(work, text="smith orthopaedic")) == ["Jane Smith MD"]  # a real match never falls back


def test_the_total_counts_the_whole_radius_when_a_near_ring_fills_the_page(work, directory) -> None:  # type: ignore[no-untyped-def]
    # Jane (10001) alone fills a one-listing page within the first 1-mile ring; the total still
    # counts everything within 5 miles, with and without words.
    page = search(work, zip="10001", radius_miles=5, page_size=1)
    assert (names(page), page.total) == (["Jane Smith MD"], 5)
    worded = search(work, text="smith", zip="10001", radius_miles=5, page_size=1)
    assert (names(worded), worded.total) == (["Jane Smith MD"], 4)
    second = search(work, text="smith", zip="10001", radius_miles=5, page=2, page_size=1)
    assert names(second) == ["Paul Jones MD"]


def test_postgresql_reports_a_walked_tier_the_planner_expects_to_be_huge_at_the_cap_without_counting(
    work, directory, platform, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from olly.provider import repository

    exact = search(work, text="smith")
    assert (exact.total, exact.total_is_exact) == (4, True)
    # Walk every second tier, and take any estimate for "huge": PostgreSQL skips the count of the
    # walked tier (Paul Jones, matched through his organisation's name) and says "500+"; the name
    # tier is still counted with its page. SQLite always counts.
    monkeypatch.setattr(repository, "WALK_FACTOR", 0)
    monkeypatch.setattr(repository, "ESTIMATE_SKIPS_COUNT", 0)
    page = search(work, text="smith")
    assert names(page) == names(exact)
    expected = (4, True) if platform.db.dialect == "sqlite" else (service.COUNT_CAP, False)
    assert (page.total, page.total_is_exact) == expected


@pytest.mark.parametrize("walk_factor", [0, 1e12], ids=["walked", "collected"])
def test_a_worded_search_pages_the_same_whether_the_second_tier_is_walked_or_collected(
    work, directory, monkeypatch, walk_factor
) -> None:  # type: ignore[no-untyped-def]
    from olly.provider import repository

    # Name matches alphabetically ("smith family clinic", "smith jane", "smithers john"), then the
    # listing matched through its organisation's name.
    expected = ["Smith Family Clinic", "Jane Smith MD", "John Smithers DO", "Paul Jones MD"]
    monkeypatch.setattr(repository, "WALK_FACTOR", walk_factor)
    pages = [search(work, text="smith", page=n, page_size=1) for n in (1, 2, 3, 4, 5)]
    assert [names(p) for p in pages] == [[name] for name in expected] + [[]]
    assert {(p.total, p.total_is_exact) for p in pages} == {(4, True)}
    two = [search(work, text="smith", page=n, page_size=3) for n in (1, 2)]
    assert [names(p) for p in two] == [expected[:3], expected[3:]]
    assert names(search(work, text="family medicine")) == ["Paul Jones MD", "John Smithers DO"]  # by last name


# -- prefixes (PostgreSQL indexes them as tokens: migration 0022) ---------------------------------


def test_the_last_word_matches_as_a_prefix_with_accents_and_after_whole_words(work, directory) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        service.register_provider(
            uow, factories.individual(first_name="José", last_name="Müller", taxonomy_codes=("208000000X",))
        )
    assert names(search(work, text="mül")) == ["José Müller MD"]
    assert names(search(work, text="josé müll")) == ["José Müller MD"]
    # the stemmed prefix: "pediatric" finds "Pediatrics" (stem "pediatr"), names before specialties
    assert names(search(work, text="pediatric")) == ["Maria Garcia MD", "José Müller MD"]
    assert names(search(work, text="müller pediat")) == ["José Müller MD"]
    # whole words before the last one must match whole: "jos" is no word of José's listing
    assert search(work, text="jos müller").total == 0
    # a last word shorter than three letters matches whole words only
    assert search(work, text="jane sm").total == 0
    assert names(search(work, text="smith md")) == ["Jane Smith MD", "Paul Jones MD"]


def test_a_prefix_near_a_place_is_ordered_by_distance(work, directory) -> None:  # type: ignore[no-untyped-def]
    page = search(work, text="orth", zip="10001", radius_miles=5)
    assert [(x.name, x.distance_miles) for x in page.results] == [
        ("Jane Smith MD", 0.0),  # Orthopaedic Surgery
        ("Hudson Orthopaedic Group", pytest.approx(miles("10001", "10016"), abs=0.01)),
    ]
    assert page.total == 2
    first = search(work, text="smith orth", zip="10001", radius_miles=5, page_size=1)
    assert (names(first), first.total) == (["Jane Smith MD"], 1)


def test_a_stop_word_typed_last_is_dropped_on_postgresql_and_a_prefix_on_sqlite(work, directory, platform) -> None:  # type: ignore[no-untyped-def]
    found = names(search(work, text="smith the"))
    if platform.db.is_sqlite:
        assert found == []  # FTS5 has no stop words: no word of these listings starts with "the"
    else:
        # an english stop word, dropped as to_tsquery drops it; "smith" is no longer the last word,
        # so it matches whole ("Smithers" does not)
        assert found == ["Smith Family Clinic", "Jane Smith MD", "Paul Jones MD"]


def test_listings_written_before_the_prefix_tokens_are_found_by_prefix_after_the_migration(work, platform) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from olly.platform import migrate

    command.downgrade(migrate.alembic_config(platform.db), "0021_claims_view_revisions")
    with work() as uow:
        service.register_provider(uow, factories.individual(first_name="Ana", last_name="Øvergård"))
    command.upgrade(migrate.alembic_config(platform.db), "head")
    assert names(search(work, text="øverg")) == ["Ana Øvergård MD"]
    assert names(search(work, text="ana orthopaed")) == ["Ana Øvergård MD"]  # 207X00000X
