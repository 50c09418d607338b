"""Models and migrations agree, on both engines; the upgrade is repeatable."""

from olly.platform import migrate
from olly.platform.db import SCHEMAS, Base, import_all_models
from olly.platform.runtime import Platform


def test_models_and_migrations_agree(platform: Platform) -> None:
    assert migrate.is_current(platform.db)
    assert migrate.pending_model_changes(platform.db) == []


def test_upgrade_twice_is_a_no_op(platform: Platform) -> None:
    migrate.upgrade(platform.db)
    assert migrate.current_revision(platform.db) == migrate.head_revision()


def test_every_table_names_a_known_schema_and_names_are_unique_across_schemas() -> None:
    import_all_models()
    names = [t.name for t in Base.metadata.tables.values()]
    assert all(t.schema in SCHEMAS for t in Base.metadata.tables.values())
    # SQLite keeps every domain in one database, so a table name may appear in one schema only.
    assert len(names) == len(set(names))
