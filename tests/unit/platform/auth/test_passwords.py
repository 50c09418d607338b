"""NIST SP 800-63B password rules and argon2id hashing."""

from __future__ import annotations

import pytest

from olly.platform.auth.passwords import PasswordHashing, PasswordPolicy, common_passwords, context_words

POLICY = PasswordPolicy(min_length=8)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", "too_short"),
        ("x" * 129, "too_long"),
        ("password", "common"),
        ("Password2026!", "common"),
        ("P@ssw0rd", "common"),
        ("iloveyou123", "common"),
        ("qwertyuiop", "common"),
        ("aaaaaaaaaaaa", "sequence"),
        ("abababababab", "sequence"),
        ("mnopqrstuv", "sequence"),
        ("9876543210", "sequence"),
        ("olly2026!", "context"),
        ("Jordan.Smith", "context"),
    ],
)
def test_refused_passwords(password: str, code: str) -> None:
    problems = POLICY.problems(password, context_words("jordan.smith@example.org"))
    assert [p.code for p in problems] == [code]
    assert password not in problems[0].message.replace("passwords", "")  # never echoed


@pytest.mark.parametrize("password", ["correct horse battery staple", "Tr0ub4dor&3-x", "ñandú veloz 2026", "8charsOK"])
def test_accepted_passwords_need_no_composition_rules(password: str) -> None:
    assert POLICY.problems(password) == []


def test_staff_minimum_and_maximum_of_at_least_64() -> None:
    staff = PasswordPolicy(min_length=15)
    assert [p.code for p in staff.problems("fourteen chars")] == ["too_short"]
    assert staff.problems("fifteen chars!!") == []
    assert POLICY.problems("a long passphrase " * 7) == []  # 126 characters


def test_the_bundled_list_is_small_lowercase_and_long_enough() -> None:
    listed = common_passwords()
    assert 3000 <= len(listed) <= 5000
    assert all(len(p) >= 8 and p == p.lower() for p in listed)


def test_hashing_is_argon2id_and_verifies() -> None:
    hashing = PasswordHashing(memory_kib=1024, time_cost=1, parallelism=1)
    stored = hashing.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert hashing.verify(stored, "correct horse battery staple")
    assert not hashing.verify(stored, "correct horse battery stapler")
    assert not hashing.verify(None, "anything")
    assert not hashing.verify("not-a-hash", "anything")
    assert PasswordHashing(memory_kib=2048, time_cost=1, parallelism=1).needs_rehash(stored)
    assert not hashing.needs_rehash(stored)
