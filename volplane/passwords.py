"""Password hashing. Clients send sha512 hex of the password (ZStack §3.7); we store an
Argon2id hash of that (argon2-cffi), so a leaked database does not give the login string
away. The hash carries its own parameters: raising them later rehashes each account at
its next login, and so does a hash of the scrypt scheme used before."""

from __future__ import annotations

import base64
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2-cffi's defaults (RFC 9106's low-memory profile)
_SCRYPT = "scrypt$"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def sha512_hex(password: str) -> str:
    return hashlib.sha512(password.encode()).hexdigest()


def hash_password(login_secret: str) -> str:
    return _HASHER.hash(login_secret)


def verify_password(login_secret: str, stored: str) -> bool:
    if stored.startswith(_SCRYPT):
        return _verify_scrypt(login_secret, stored)
    try:
        return _HASHER.verify(stored, login_secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a hash made with other parameters or the old scrypt scheme."""
    if stored.startswith(_SCRYPT):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(login_secret: str, stored: str) -> bool:
    try:
        _, salt_b64, digest_b64 = stored.split("$")
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except ValueError:
        return False
    actual = hashlib.scrypt(
        login_secret.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return hmac.compare_digest(actual, expected)
