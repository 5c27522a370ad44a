"""Schema migrations: ``calf-cds db upgrade``, the start-up check (an empty database is
created at head, one that is behind is refused with one line), and ``readiness()``."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from cds_service.app import create_app
from cds_service.cli import main
from cds_service.config import Settings
from cds_service.state import State, StateError, migrate
from cds_service.state.layer import open_database
from cds_service.state.schema import metadata
from cds_service.state.sql import SqlDatabase
from state_servers import free_loopback_port
from support import ROOT


def _migrate_to(url: str, revision: str) -> None:
    db = SqlDatabase(url)
    try:
        with db.engine.begin() as conn:
            command.upgrade(migrate._config(conn), revision)
    finally:
        db.dispose()


def _revision(url: str) -> str | None:
    db = SqlDatabase(url)
    try:
        return migrate.status(db).current
    finally:
        db.dispose()


def test_an_empty_database_is_created_at_head(database_url: str) -> None:
    state = State.open(Settings(database_url=database_url))
    try:
        assert migrate.status(state.db).current == migrate.head_revision()
        assert state.readiness() == []
    finally:
        state.close()


def test_the_tables_equal_the_head_revision(database_url: str) -> None:
    _migrate_to(database_url, "head")
    db = SqlDatabase(database_url)
    try:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        db.dispose()


def test_a_database_behind_is_refused_with_one_line(database_url: str) -> None:
    _migrate_to(database_url, "0001")
    with pytest.raises(StateError) as refused:
        State.open(Settings(database_url=database_url))
    message = str(refused.value)
    assert "\n" not in message
    assert "revision 0001" in message and "`calf-cds db upgrade`" in message
    assert _revision(database_url) == "0001"  # nothing was changed behind the operator's back
    # The app refuses it too (every worker runs this check).
    with pytest.raises(StateError):
        create_app(Settings(database_url=database_url))


def test_db_upgrade_brings_it_to_head_and_keeps_rows(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _migrate_to(database_url, "0001")
    db = SqlDatabase(database_url)
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, received_at)"
            " VALUES ('s', 'c', 'accepted', :t, :t)"), {"t": datetime(2026, 1, 1, tzinfo=UTC)})
    db.dispose()
    monkeypatch.setenv("CALF_CDS_DATABASE_URL", database_url)
    assert main(["db", "upgrade"]) == 0
    assert "upgraded from 0001 to revision" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "already at revision" in capsys.readouterr().out
    state = State.open(Settings(database_url=database_url))
    try:
        assert [f.card_uuid for f in state.feedback.list_feedback()] == ["c"]
    finally:
        state.close()


def test_a_pre_migration_database_is_refused_then_upgraded(tmp_path: Path) -> None:
    # What releases before migrations created: revision 0001's tables, no version table.
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _migrate_to(url, "0001")
    db = SqlDatabase(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    db.dispose()
    with pytest.raises(StateError, match="pre-migration.*calf-cds db upgrade"):
        State.open(Settings(database_url=url))
    db = SqlDatabase(url)
    try:
        assert migrate.upgrade(db) == (None, migrate.head_revision())
        assert {"replay_jti", "jwks_cache"} <= set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()


def test_a_revision_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    _migrate_to(url, "head")
    db = SqlDatabase(url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    try:
        with pytest.raises(migrate.SchemaError, match="unknown to this release"):
            migrate.upgrade(db)
    finally:
        db.dispose()
    with pytest.raises(StateError, match="9999"):
        State.open(Settings(database_url=url))


def test_serve_refuses_a_database_behind_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    _migrate_to(url, "0001")
    result = subprocess.run(
        [sys.executable, "-m", "cds_service", "serve", "--port", str(free_loopback_port())],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "CALF_CDS_DATABASE_URL": url},
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "calf-cds db upgrade" in lines[0]


def test_unsupported_or_broken_urls_are_one_line_errors() -> None:
    with pytest.raises(StateError, match="not supported"):
        open_database("mysql://u@h/db")
    with pytest.raises(StateError, match="not a database URL"):
        open_database("::nonsense::")


def test_readiness_names_each_problem(database_url: str, redis_server: object) -> None:
    _migrate_to(database_url, "0001")
    db = SqlDatabase(database_url)
    dead_redis = f"redis://127.0.0.1:{free_loopback_port()}/0"
    from cds_service.state import redis_backend

    state = State(db, redis_client=redis_backend.connect(dead_redis))
    try:
        problems = state.readiness()
        assert any("revision 0001" in p for p in problems)
        assert any("redis not reachable" in p for p in problems)
        assert all("\n" not in p for p in problems)
    finally:
        state.close()
    gone = State(SqlDatabase(f"postgresql+psycopg://u@127.0.0.1:{free_loopback_port()}/x"))
    try:
        [problem] = gone.readiness()
        assert problem.startswith("database not reachable (postgresql)")
    finally:
        gone.close()


async def test_readyz_reports_a_schema_gone_behind_and_an_unreachable_redis(tmp_path: Path) -> None:
    from support import make_settings, service

    dead_redis = f"redis://127.0.0.1:{free_loopback_port()}/0"
    settings = make_settings(tmp_path, redis_url=dead_redis)
    async with service(settings) as client:
        _migrate_down_to(settings.database_url, "0001")  # e.g. an older release's restore
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    diagnostics = [issue["diagnostics"] for issue in ready.json()["issue"]]
    assert any("revision 0001" in d and "calf-cds db upgrade" in d for d in diagnostics)
    assert any(d.startswith("redis not reachable") for d in diagnostics)


def _migrate_down_to(url: str, revision: str) -> None:
    db = SqlDatabase(url)
    try:
        with db.engine.begin() as conn:
            command.downgrade(migrate._config(conn), revision)
    finally:
        db.dispose()
