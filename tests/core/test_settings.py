"""Settings from the environment, checked in fresh processes (settings are read once per process)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.db import connection
db = settings.DATABASES["default"]
out = {"home": str(settings.LINIA_HOME), "key": settings.SECRET_KEY, "engine": db["ENGINE"],
       "name": str(db["NAME"]), "host": db.get("HOST"), "port": db.get("PORT"), "user": db.get("USER"),
       "debug": settings.DEBUG, "options": db.get("OPTIONS", {}),
       "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"]}
if db["ENGINE"].endswith("sqlite3"):
    with connection.cursor() as cur:
        out["journal_mode"] = cur.execute("PRAGMA journal_mode").fetchone()[0]
        out["busy_timeout"] = cur.execute("PRAGMA busy_timeout").fetchone()[0]
        out["foreign_keys"] = cur.execute("PRAGMA foreign_keys").fetchone()[0]
print(json.dumps(out))
"""

CLEARED = {"LINIA_HOME", "LINIA_SECRET_KEY", "DATABASE_URL", "LINIA_DEBUG", "REDIS_URL", "LINIA_DB_PREPARE",
           "LINIA_REDIS_LAYER"}


def run_probe(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in CLEARED}
    full.update(env, DJANGO_SETTINGS_MODULE="linia.settings")
    return subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=120, check=False)


def probe(cwd: Path, **env: str) -> dict[str, object]:
    proc = run_probe(cwd, **env)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_home_defaults_to_var_and_secret_key_is_generated_once(tmp_path: Path) -> None:
    first = probe(tmp_path)
    home = tmp_path / "var"
    assert first["home"] == str(home)
    key_file = home / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first["key"] == key_file.read_text().strip() and len(str(first["key"])) >= 40
    # Default database: SQLite under LINIA_HOME, in WAL mode with a busy timeout and foreign keys.
    assert first["engine"] == "django.db.backends.sqlite3"
    assert first["name"] == str(home / "linia.sqlite3")
    assert (first["journal_mode"], first["busy_timeout"], first["foreign_keys"]) == ("wal", 30000, 1)
    assert first["debug"] is False
    assert probe(tmp_path)["key"] == first["key"]  # reused, not regenerated


def test_explicit_home_secret_and_database_url(tmp_path: Path) -> None:
    db_file = tmp_path / "elsewhere" / "x.sqlite3"
    db_file.parent.mkdir()
    out = probe(tmp_path, LINIA_HOME=str(tmp_path / "data"), LINIA_SECRET_KEY="from-env",
                DATABASE_URL=f"sqlite:///{db_file}", LINIA_DEBUG="1")
    assert (out["home"], out["key"], out["name"], out["debug"]) == (str(tmp_path / "data"), "from-env",
                                                                     str(db_file), True)
    assert out["journal_mode"] == "wal"
    assert not (tmp_path / "data" / "secret_key").exists()  # an explicit key is not written down


def test_postgres_url_is_parsed(tmp_path: Path) -> None:
    out = probe(tmp_path, LINIA_HOME=str(tmp_path), DATABASE_URL="postgres://linia@127.0.0.1:5433/linia_prod")
    assert (out["engine"], out["name"], out["host"], out["port"], out["user"]) == (
        "django.db.backends.postgresql", "linia_prod", "127.0.0.1", 5433, "linia")
    options = out["options"]
    assert isinstance(options, dict)
    assert (options["server_side_binding"], options["prepare_threshold"]) == (True, 5)
    assert "options" not in options  # PostgreSQL's own plan cache mode: fastsql's statements may run generic plans


def test_prepared_statements_can_be_turned_off_and_url_options_are_kept(tmp_path: Path) -> None:
    url = "postgres://linia@127.0.0.1:5433/linia_prod?sslmode=require"
    assert probe(tmp_path, LINIA_HOME=str(tmp_path), DATABASE_URL=url, LINIA_DB_PREPARE="0")["options"] == {
        "sslmode": "require"}
    options = probe(tmp_path, LINIA_HOME=str(tmp_path), DATABASE_URL=url)["options"]
    assert isinstance(options, dict)
    assert options["sslmode"] == "require" and options["server_side_binding"] is True


def test_redis_pubsub_layer_is_the_default_and_core_can_be_chosen(tmp_path: Path) -> None:
    redis = "redis://127.0.0.1:6379/15"  # only parsed: settings do not connect
    assert probe(tmp_path, LINIA_HOME=str(tmp_path), REDIS_URL=redis)["layer"] == (
        "channels_redis.pubsub.RedisPubSubChannelLayer")
    assert probe(tmp_path, LINIA_HOME=str(tmp_path), REDIS_URL=redis, LINIA_REDIS_LAYER="core")["layer"] == (
        "channels_redis.core.RedisChannelLayer")
    assert probe(tmp_path, LINIA_HOME=str(tmp_path))["layer"] == "linia.core.channel_layer.InMemoryChannelLayer"
    proc = run_probe(tmp_path, LINIA_HOME=str(tmp_path), REDIS_URL=redis, LINIA_REDIS_LAYER="pubsab")
    assert proc.returncode != 0 and "LINIA_REDIS_LAYER='pubsab': use pubsub (the default) or core" in proc.stderr
