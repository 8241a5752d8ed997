"""Accounts and login sessions."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from schemas.tables import Account, Session, new_uuid, utcnow
from volplane.errors import InvalidCredentials, ResourceNotFound, SessionExpired, SessionInvalid
from volplane.passwords import hash_password, needs_rehash, sha512_hex, verify_password
from volplane.store.results import affected
from volplane.tenancy import may_act_for

# Refreshing last_used on every call would turn every read into a write.
_TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Caller:
    """Who is making a call: the session's account."""

    session_uuid: str
    account_uuid: str
    account_name: str
    is_admin: bool


class AccountStore:
    def __init__(
        self,
        sessions: sessionmaker[DbSession],
        *,
        session_timeout: float,
        cache_seconds: float = 0.0,
    ) -> None:
        self.sessions = sessions
        self.session_timeout = timedelta(seconds=session_timeout)
        # Session checks are on every call; a short in-process cache spares the
        # database. A logout through another gateway takes effect within this time.
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Caller, float]] = {}

    def cached(self, session_uuid: str) -> Caller | None:
        """The caller behind a recently checked session, without touching the database."""
        hit = self._cache.get(session_uuid)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def ensure_admin(self, name: str, password: str, webhook_secret: str) -> None:
        """Creates the first admin account if no account exists yet."""
        with self.sessions() as db:
            if db.scalar(select(Account.uuid).limit(1)) is not None:
                return
            db.add(
                Account(
                    name=name,
                    password_hash=hash_password(sha512_hex(password)),
                    is_admin=True,
                    webhook_secret=webhook_secret,
                )
            )
            db.commit()

    def login(self, name: str, password_sha512: str) -> Session:
        with self.sessions() as db:
            account = db.scalar(select(Account).where(Account.name == name))
            # Hash even for unknown names so timing does not reveal which names exist.
            stored = account.password_hash if account else hash_password("x")
            secret = password_sha512.lower()
            if not verify_password(secret, stored) or account is None:
                raise InvalidCredentials()
            if needs_rehash(stored):
                account.password_hash = hash_password(secret)
            now = utcnow()
            session = Session(
                uuid=new_uuid(),
                account_uuid=account.uuid,
                create_date=now,
                last_used=now,
                expired_date=now + self.session_timeout,
            )
            db.add(session)
            db.commit()
            return session

    def logout(self, session_uuid: str) -> None:
        self._cache.pop(session_uuid, None)
        with self.sessions() as db:
            db.execute(delete(Session).where(Session.uuid == session_uuid))
            db.commit()

    def is_valid(self, session_uuid: str) -> bool:
        """Whether the session exists and has not expired (ZStack's ValidateSession)."""
        with self.sessions() as db:
            expired = db.scalar(select(Session.expired_date).where(Session.uuid == session_uuid))
        return expired is not None and expired > utcnow()

    def renew(self, session_uuid: str, *, seconds: float | None, caller: Caller) -> Session:
        """Moves the session's expiry to ``seconds`` from now (the configured session
        timeout when None); ZStack's RenewSession. Only its own account or an admin may."""
        self._cache.pop(session_uuid, None)
        now = utcnow()
        with self.sessions() as db:
            session = db.get(Session, session_uuid)
            if (
                session is None
                or session.expired_date <= now
                or not may_act_for(caller, session.account_uuid)
            ):
                raise ResourceNotFound(f"session {session_uuid} does not exist or expired")
            session.last_used = now
            session.expired_date = now + (
                self.session_timeout if seconds is None else timedelta(seconds=seconds)
            )
            db.commit()
            db.refresh(session)
            db.expunge(session)
            return session

    def resolve(self, session_uuid: str) -> Caller:
        """The caller behind a session; slides the session's expiry forward."""
        now = utcnow()
        with self.sessions() as db:
            row = db.execute(
                select(Session, Account)
                .join(Account, Account.uuid == Session.account_uuid)
                .where(Session.uuid == session_uuid)
            ).first()
            if row is None:
                raise SessionInvalid(f"session {session_uuid} does not exist")
            session, account = row
            if session.expired_date <= now:
                raise SessionExpired(f"session {session_uuid} expired at {session.expired_date}")
            if now - session.last_used > _TOUCH_EVERY:
                db.execute(
                    update(Session)
                    .where(Session.uuid == session_uuid)
                    .values(last_used=now, expired_date=now + self.session_timeout)
                )
                db.commit()
            caller = Caller(
                session_uuid=session.uuid,
                account_uuid=account.uuid,
                account_name=account.name,
                is_admin=account.is_admin,
            )
        if self.cache_seconds > 0:
            valid_for = min(self.cache_seconds, (session.expired_date - now).total_seconds())
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[session_uuid] = (caller, time.monotonic() + valid_for)
        return caller

    def get(self, account_uuid: str) -> Account | None:
        with self.sessions() as db:
            return db.get(Account, account_uuid)

    def list(self, tenant: str | None) -> list[Account]:
        with self.sessions() as db:
            query = select(Account).order_by(Account.create_date)
            if tenant is not None:
                query = query.where(Account.uuid == tenant)
            return list(db.scalars(query))

    def expire_sessions(self, now: datetime | None = None) -> int:
        with self.sessions() as db:
            removed = affected(
                db.execute(delete(Session).where(Session.expired_date < (now or utcnow())))
            )
            db.commit()
            return int(removed or 0)
