"""Password hashing. Clients send sha512 hex of the password (ZStack §3.7); we store a
salted scrypt of that, so a leaked database does not give the login string away."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1


def sha512_hex(password: str) -> str:
    return hashlib.sha512(password.encode()).hexdigest()


def hash_password(login_secret: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(login_secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt$" + "$".join(base64.b64encode(part).decode() for part in (salt, digest))


def verify_password(login_secret: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    actual = hashlib.scrypt(login_secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return hmac.compare_digest(actual, expected)
