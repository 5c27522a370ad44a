"""The state layer: everything workers and replicas share, opened once per process.

* the SQL database (``CALF_CDS_DATABASE_URL``: SQLite by default, PostgreSQL by URL):
  feedback, issued cards, and - unless Redis is configured - the replay and JWK Set caches;
* Redis (``CALF_CDS_REDIS_URL``, optional): the replay and JWK Set caches.

``State.open`` runs the start-up schema check (``migrate.ensure_current``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from . import migrate, redis_backend
from .feedback import Attribution, FeedbackStore
from .jwks import JwksCache
from .replay import ReplayCache
from .sql import SqlDatabase, SqlJwksCache, SqlReplayCache

if TYPE_CHECKING:
    from cds_service.config import Settings

SUPPORTED_DATABASES = ("sqlite", "postgresql")


class StateError(Exception):
    """The state layer cannot start; the message is one line naming what to fix."""


def open_database(url: str) -> SqlDatabase:
    """The database at ``url``; ``StateError`` (one line) for a URL or driver we cannot use."""
    try:
        backend = make_url(url).get_backend_name()
    except Exception:  # noqa: BLE001 - any parse failure is a bad setting
        raise StateError("CALF_CDS_DATABASE_URL is not a database URL") from None
    if backend not in SUPPORTED_DATABASES:
        raise StateError(
            f"CALF_CDS_DATABASE_URL: {backend!r} is not supported (use sqlite or postgresql)"
        )
    try:
        return SqlDatabase(url)
    except ModuleNotFoundError as exc:
        raise StateError(
            f"CALF_CDS_DATABASE_URL needs the {exc.name} driver: "
            "pip install 'calf-cds[postgres]'"
        ) from None


class State:
    """The process's handle on shared state (see the module docstring)."""

    def __init__(
        self,
        db: SqlDatabase,
        *,
        redis_client: Any | None = None,
        jwks_cache_s: float = 3600,
        attribution: Attribution | None = None,
    ) -> None:
        self.db = db
        self.redis = redis_client
        self.feedback = FeedbackStore(db, attribution=attribution)
        # An embedded SQLite file: the caches get their own connections without the
        # per-commit fsync (a claim took ~5 ms with it, and SQLite has one writer).
        self._cache_db = (
            SqlDatabase(db.url, durable=False)
            if db.dialect == "sqlite" and not db.in_memory
            else db
        )
        self.replay: ReplayCache
        self.jwks: JwksCache
        if redis_client is not None:
            self.replay = redis_backend.RedisReplayCache(redis_client)
            self.jwks = redis_backend.RedisJwksCache(redis_client, jwks_cache_s)
        else:
            self.replay = SqlReplayCache(self._cache_db)
            self.jwks = SqlJwksCache(self._cache_db)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        attribution: Attribution | None = None,
        create_if_empty: bool = True,
    ) -> State:
        """Open the configured backends; refuse (``StateError``) a schema that is behind."""
        db = open_database(settings.database_url)
        try:
            migrate.ensure_current(db, create_if_empty=create_if_empty)
        except migrate.SchemaError as exc:
            db.dispose()
            raise StateError(str(exc)) from None
        except Exception as exc:
            db.dispose()
            raise StateError(f"database not reachable: {type(exc).__name__}") from None
        redis_client = None
        if settings.redis_url:
            try:
                redis_client = redis_backend.connect(settings.redis_url)
            except ModuleNotFoundError:
                db.dispose()
                raise StateError(
                    "CALF_CDS_REDIS_URL needs the redis driver: pip install 'calf-cds[redis]'"
                ) from None
            except ValueError:
                db.dispose()
                raise StateError("CALF_CDS_REDIS_URL is not a redis:// URL") from None
        return cls(
            db,
            redis_client=redis_client,
            jwks_cache_s=settings.auth_jwks_cache_s,
            attribution=attribution,
        )

    def readiness(self) -> list[str]:
        """Problems that should keep traffic away, one line each; empty when ready.

        Blocking (it talks to the database and Redis): call it from a thread.
        """
        problems: list[str] = []
        unreachable = self.db.ping()
        if unreachable:
            problems.append(unreachable)
        else:
            try:
                schema = migrate.status(self.db).problem()
            except Exception as exc:  # noqa: BLE001
                schema = f"database schema unreadable: {type(exc).__name__}"
            if schema:
                problems.append(schema)
        if self.redis is not None:
            redis_problem = redis_backend.ping(self.redis)
            if redis_problem:
                problems.append(redis_problem)
        return problems

    def close(self) -> None:
        """Write queued issued cards and release connections. Idempotent."""
        self.feedback.close()
        if self.redis is not None:
            self.redis.close()
        if self._cache_db is not self.db:
            self._cache_db.dispose()
        self.db.dispose()
