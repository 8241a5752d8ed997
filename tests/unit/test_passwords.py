"""Passwords: Argon2id with its parameters in the hash; old scrypt hashes still log in
and are rehashed at that login."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

import schemas.backups
import schemas.infra
import schemas.storage  # noqa: F401 - every table in Base.metadata
from schemas.tables import Account, Base
from volplane.errors import InvalidCredentials
from volplane.passwords import hash_password, needs_rehash, sha512_hex, verify_password
from volplane.store.accounts import AccountStore


def scrypt_hash(secret: str) -> str:
    """A hash as the scrypt scheme before Argon2 wrote it."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "scrypt$" + "$".join(base64.b64encode(part).decode() for part in (salt, digest))


def test_argon2id_hash_carries_its_parameters_and_verifies() -> None:
    stored = hash_password("secret")
    assert stored.startswith("$argon2id$v=19$m=")
    assert verify_password("secret", stored)
    assert not verify_password("other", stored)
    assert not needs_rehash(stored)


def test_hash_with_weaker_parameters_needs_rehash() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("secret")
    assert verify_password("secret", weak)
    assert needs_rehash(weak)


def test_scrypt_hash_still_verifies_and_needs_rehash() -> None:
    stored = scrypt_hash("secret")
    assert verify_password("secret", stored)
    assert not verify_password("other", stored)
    assert needs_rehash(stored)


@pytest.mark.parametrize("garbage", ["", "scrypt$x", "$argon2id$nonsense", "plain"])
def test_malformed_hash_never_verifies(garbage: str) -> None:
    assert not verify_password("secret", garbage)


def test_login_rehashes_an_old_scrypt_hash(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    secret = sha512_hex("pw")
    with sessions() as db:
        db.add(Account(name="old", password_hash=scrypt_hash(secret), webhook_secret="s"))
        db.commit()
    store = AccountStore(sessions, session_timeout=60, cache_seconds=0)

    with pytest.raises(InvalidCredentials):
        store.login("old", sha512_hex("wrong"))
    with sessions() as db:
        assert db.scalar(select(Account.password_hash)).startswith("scrypt$")

    store.login("old", secret)
    with sessions() as db:
        rehashed = db.scalar(select(Account.password_hash))
    assert rehashed.startswith("$argon2id$") and verify_password(secret, rehashed)
    store.login("old", secret)  # and the new hash logs in
