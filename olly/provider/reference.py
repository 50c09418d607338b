"""Reference data shipped with the provider domain (package data, read once per process).

* ``nucc_taxonomy_25.1.csv``: the NUCC Health Care Provider Taxonomy, unmodified (see data/NOTICE.md).
* ``zip_centroids.csv``: approximate centre points of the demo ZIP codes, for radius searches.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from olly.provider.rules import Taxonomy

TAXONOMY_FILE = "nucc_taxonomy_25.1.csv"
TAXONOMY_VERSION = "25.1"
ZIP_CENTROID_FILE = "zip_centroids.csv"


def _read(name: str) -> str:
    # utf-8-sig: NUCC publishes its CSV with a byte-order mark.
    return resources.files("olly.provider").joinpath("data", name).read_text(encoding="utf-8-sig")


@cache
def taxonomies() -> dict[str, Taxonomy]:
    """Every NUCC taxonomy code, by code."""
    result: dict[str, Taxonomy] = {}
    for row in csv.DictReader(io.StringIO(_read(TAXONOMY_FILE))):
        code = row["Code"].strip()
        result[code] = Taxonomy(
            code=code,
            grouping=row["Grouping"].strip(),
            classification=row["Classification"].strip(),
            specialization=row["Specialization"].strip(),
            display_name=row["Display Name"].strip(),
            section=row["Section"].strip(),
        )
    return result


@dataclass(frozen=True, slots=True)
class ZipCentroid:
    zip: str
    city: str
    state: str
    latitude: float
    longitude: float


@cache
def zip_centroids() -> dict[str, ZipCentroid]:
    """Demo ZIP centre points, by five-digit ZIP."""
    result: dict[str, ZipCentroid] = {}
    for row in csv.DictReader(io.StringIO(_read(ZIP_CENTROID_FILE))):
        result[row["zip"]] = ZipCentroid(
            row["zip"], row["city"], row["state"], float(row["latitude"]), float(row["longitude"])
        )
    return result
