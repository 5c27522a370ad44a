"""Schema migrations (Alembic, scripts in ``migrations/versions``) and the start-up check.

* ``upgrade`` brings a database to the head revision (``calf-cds db upgrade``). A
  database made before migrations existed (the ``feedback`` tables, no version table)
  holds exactly revision 0001's tables: it is stamped 0001 and upgraded from there.
* ``ensure_current`` is the start-up check: a database at the head revision starts; an
  empty one is created at head (so the embedded SQLite default needs no extra step, and
  a fresh PostgreSQL database neither); one that is behind - or at a revision this
  release does not know - is refused with one line naming the command.

Upgrades hold a lock for their whole transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL
an advisory transaction lock), so workers and replicas starting together on an empty
database create it once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Alembic logs every plugin (at import) and step at INFO; this module logs the one line
# that matters, so quiet it before importing it.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import Connection, inspect, text  # noqa: E402

from .sql import SqlDatabase  # noqa: E402

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Revision whose tables are those of releases before migrations.
PRE_MIGRATION_REVISION = "0001"
UPGRADE_COMMAND = "calf-cds db upgrade"
# Any constant: the key of the PostgreSQL advisory lock taken while migrating.
_PG_LOCK_KEY = 0x63616C66  # "calf"


log = logging.getLogger("cds_service.state")


class SchemaError(Exception):
    """The database schema does not fit this release; the message is one line."""


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    current: str | None  # None: no version table
    head: str
    empty: bool  # no tables of ours at all
    known: bool  # ``current`` is a revision of this release (or None)

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def problem(self) -> str | None:
        """One line saying what is wrong, or None when the schema is current."""
        if self.up_to_date:
            return None
        if not self.known:
            return (f"database schema is at revision {self.current}, unknown to this release "
                    f"(head {self.head}): upgrade calf-cds")
        at = "has no schema" if self.empty else (
            f"is at revision {self.current or 'pre-migration'}")
        return f"database {at}, this release needs revision {self.head}: run `{UPGRADE_COMMAND}`"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _status(conn: Connection) -> SchemaStatus:
    current = MigrationContext.configure(conn).get_current_revision()
    tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
    script = ScriptDirectory.from_config(_config())
    known = current is None or current in {rev.revision for rev in script.walk_revisions()}
    return SchemaStatus(current, head_revision(), empty=not tables and current is None, known=known)


def status(db: SqlDatabase) -> SchemaStatus:
    with db.lock, db.engine.connect() as conn:
        return _status(conn)


@contextmanager
def _locked(db: SqlDatabase) -> Iterator[Connection]:
    with db.lock, db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        yield conn


def upgrade(db: SqlDatabase) -> tuple[str | None, str]:
    """Upgrade to head in one locked transaction; return (revision before, revision after)."""
    with _locked(db) as conn:
        found = _status(conn)
        if not found.known:
            raise SchemaError(found.problem() or "unknown schema revision")
        config = _config(conn)
        if found.current is None and not found.empty:
            command.stamp(config, PRE_MIGRATION_REVISION)
        command.upgrade(config, "head")
        after = _status(conn).current or ""
    if after != found.current:
        log.info("database schema upgraded from %s to %s", found.current or "nothing", after)
    return found.current, after


def ensure_current(db: SqlDatabase, *, create_if_empty: bool = True) -> None:
    """The start-up check (see the module docstring); raises ``SchemaError``."""
    found = status(db)
    if found.up_to_date:
        return
    if found.empty and create_if_empty:
        upgrade(db)
        return
    raise SchemaError(found.problem() or "database schema not current")
