"""SQL backend: one engine per process over any SQLAlchemy URL, and the replay and JWK Set
caches stored in it.

SQLite (the embedded default, ``sqlite:///path``; ``sqlite://`` for memory) and PostgreSQL
(``postgresql+psycopg://...``, driver from the ``postgres`` extra) are the two databases
the suite runs against. Writes that must be exact use ``INSERT ... ON CONFLICT`` with
``RETURNING``: the rows returned are the rows written, on every driver (psycopg reports a
``rowcount`` of -1 for some statements, which once made ``/feedback`` answer
``"stored": -1``).

The engine is synchronous; the web layer calls it from a thread pool, so SQLite
connections are opened with ``check_same_thread=False``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url

from .jwks import CachedJwkSet
from .schema import jwks_cache_table, replay_table

# How long a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 5000
# Rows per INSERT statement SQLAlchemy sends (SQLite builds before 3.32 allow only 999
# parameters). Small on purpose: each distinct row count is a distinct SQL text, and the
# driver keeps up to 128 prepared statements per connection; 50 bounds what they hold.
_INSERT_PAGE = 50
# Expired replay entries are deleted at most this often (by the next claim after it).
REPLAY_PURGE_INTERVAL_S = 60.0


class SqlDatabase:
    """The process's engine for one URL, and how to write to it safely.

    Thread-safe: each call takes its own connection from the pool. An in-memory SQLite
    database has a single shared connection, so ``lock`` serialises its users.
    """

    def __init__(self, url: str, *, durable: bool = True) -> None:
        """``durable=False`` (SQLite): commits skip the fsync (``synchronous=NORMAL``); a
        power loss may forget the last commits, a crash does not. For caches only."""
        self.url = url
        self.engine, self.in_memory = _make_engine(url, durable=durable)
        # One shared connection (StaticPool) must not interleave two transactions.
        self.lock: AbstractContextManager[Any] = (
            threading.Lock() if self.in_memory else nullcontext()
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write_transaction(self) -> Iterator[Connection]:
        """A transaction that will write.

        On SQLite it starts with ``BEGIN IMMEDIATE``: the write lock is taken up front,
        where the busy timeout applies. A deferred transaction that has read first and then
        upgrades to a write may instead get SQLITE_BUSY at once, without waiting, since
        waiting could deadlock (https://www.sqlite.org/lang_transaction.html). The sqlite3
        driver sends no BEGIN of its own while a transaction is open, and still commits.
        Other databases keep their usual transaction.
        """
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    def ping(self) -> str | None:
        """None when the database answers, else a one-line problem (no credentials)."""
        try:
            with self.lock, self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - any failure is "not reachable"
            return f"database not reachable ({self.dialect}): {type(exc).__name__}"
        return None

    def dispose(self) -> None:
        self.engine.dispose()


def insert_ignoring_duplicates(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key_columns: Sequence[str],
) -> int:
    """Insert ``rows`` into ``table`` inside the caller's transaction, skipping any row
    whose unique key (``key_columns``) already exists. Returns the number inserted, exactly.

    SQLite and PostgreSQL use ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, which is
    atomic, never aborts the transaction, and returns one row per row written (a repeat
    within the batch is skipped by the database too). Other databases fall back to
    check-then-insert.
    """
    if conn.dialect.name == "sqlite":
        make_insert: Any = sqlite_insert
    elif conn.dialect.name == "postgresql":
        make_insert = postgresql_insert
    else:
        return insert_checking_first(conn, table, rows, key_columns)
    # One statement without inline VALUES, executed with every row: SQLAlchemy compiles it
    # once (cached) and sends the rows in multi-row batches sized to the driver's parameter
    # limit ("insertmanyvalues"). A ``.values(rows)`` statement was compiled anew for each
    # batch, about 80 us per row, on the writer thread every hook call's cards pass through.
    if not rows:
        return 0
    statement = (
        make_insert(table)
        .on_conflict_do_nothing()
        .returning(table.c[key_columns[0]])
        .execution_options(insertmanyvalues_page_size=_INSERT_PAGE)
    )
    return len(conn.execute(statement, [dict(row) for row in rows]).all())


def insert_checking_first(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key_columns: Sequence[str],
) -> int:
    """Portable fallback of ``insert_ignoring_duplicates``: look the key up, then insert.

    Rows inserted earlier in the same transaction are visible, so repeats within a batch
    are skipped too. Under a concurrent writer of the same key the unique constraint
    still holds: the later transaction fails as a whole and the client may resend.
    """
    inserted = 0
    for row in rows:
        condition = and_(*(table.c[name] == row[name] for name in key_columns))
        if conn.execute(select(1).select_from(table).where(condition).limit(1)).first():
            continue
        conn.execute(insert(table), dict(row))
        inserted += 1
    return inserted


def replay_key(key: str) -> str:
    """Fixed-size database key for an (issuer, jti) key of any length."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class SqlReplayCache:
    """Replay cache in the shared database: one atomic upsert per claim.

    ``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE expires_at <= now RETURNING`` writes
    a row only when the key is new or its previous use has expired, and says whether it
    did; two workers (or replicas) claiming the same key at once get one success between
    them. Expired rows are deleted every ``REPLAY_PURGE_INTERVAL_S``.
    """

    def __init__(self, db: SqlDatabase, *, purge_interval_s: float = REPLAY_PURGE_INTERVAL_S) -> None:
        self._db = db
        self._purge_interval_s = purge_interval_s
        self._last_purge = -float("inf")

    async def first_use(self, key: str, expires_at: float, now: float) -> bool:
        return await anyio.to_thread.run_sync(self.first_use_sync, key, expires_at, now)

    def first_use_sync(self, key: str, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at``; False if it is already recorded and live."""
        table = replay_table
        make_insert: Any = sqlite_insert if self._db.dialect == "sqlite" else postgresql_insert
        statement = make_insert(table).values(key=replay_key(key), expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"expires_at": statement.excluded.expires_at},
            where=table.c.expires_at <= now,
        ).returning(table.c.key)
        purge = time.monotonic() - self._last_purge >= self._purge_interval_s
        with self._db.lock, self._db.write_transaction() as conn:
            if purge:
                self._last_purge = time.monotonic()
                conn.execute(delete(table).where(table.c.expires_at <= now))
            return conn.execute(statement).first() is not None

    def count(self) -> int:
        """Rows currently stored, live or expired-but-not-purged (for tests and diagnostics)."""
        with self._db.lock, self._db.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(replay_table)).scalar_one())


class SqlJwksCache:
    """JWK Set documents by ``jku`` URL in the shared database (last fetch wins)."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def get(self, url: str) -> CachedJwkSet | None:
        return await anyio.to_thread.run_sync(self._get, url)

    async def put(self, url: str, document: bytes, fetched_at: float) -> None:
        await anyio.to_thread.run_sync(self._put, url, document, fetched_at)

    def _get(self, url: str) -> CachedJwkSet | None:
        table = jwks_cache_table
        query = select(table.c.document, table.c.fetched_at).where(table.c.url == url)
        with self._db.lock, self._db.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else CachedJwkSet(bytes(row[0]), float(row[1]))

    def _put(self, url: str, document: bytes, fetched_at: float) -> None:
        table = jwks_cache_table
        make_insert: Any = sqlite_insert if self._db.dialect == "sqlite" else postgresql_insert
        statement = make_insert(table).values(url=url, document=document, fetched_at=fetched_at)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.url],
            set_={"document": statement.excluded.document, "fetched_at": statement.excluded.fetched_at},
        )
        with self._db.lock, self._db.write_transaction() as conn:
            conn.execute(statement)


def _make_engine(url: str, *, durable: bool = True) -> tuple[Engine, bool]:
    """Build the engine for ``url``; return it and whether it is an in-memory SQLite DB."""
    from sqlalchemy.pool import StaticPool

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pool_pre_ping: a server restart must not surface as a failed feedback POST.
        return create_engine(parsed, pool_pre_ping=True), False
    in_memory = _is_sqlite_memory(parsed)
    connect_args = {
        # The web layer calls the store from a thread pool.
        "check_same_thread": False,
        "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
    }
    if in_memory:
        # Every new connection to ":memory:" is a new, empty database: share one.
        engine = create_engine(parsed, connect_args=connect_args, poolclass=StaticPool)
    else:
        database = parsed.database or ""
        if not _sqlite_uri_mode(parsed):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args=connect_args)
    event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory, durable=durable))
    return engine, in_memory


def _sqlite_uri_mode(url: URL) -> bool:
    return str(url.query.get("uri", "")).lower() in ("true", "1")


def _is_sqlite_memory(url: URL) -> bool:
    database = url.database or ""
    if database in ("", ":memory:"):
        return True
    return _sqlite_uri_mode(url) and (
        str(url.query.get("mode", "")) == "memory" or database.startswith(":memory:")
    )


def _sqlite_pragmas(*, wal: bool, durable: bool) -> Any:
    """Connect hook setting per-connection SQLite pragmas."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                # WAL: readers (metrics) never block the feedback writer, and a crash
                # mid-write leaves the last committed state intact.
                cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit we answered 200 for survives power loss, not just a crash;
            # feedback volume is tiny, so the extra fsync costs nothing noticeable. The
            # caches (one write per authenticated call) skip it: NORMAL in WAL mode is
            # still crash-safe (https://www.sqlite.org/pragma.html#pragma_synchronous).
            cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return on_connect
