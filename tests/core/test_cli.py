"""`linia createadmin` and `linia token create`: results and exit code 2 with a clear line on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from linia.cli import main
from linia.core.models import ApiToken, AuditLog, Role, User
from tests import factories as f

LINIA = Path(sys.executable).with_name("linia")

# main() runs Django's command runner, which closes the database connection when done: use real
# transactions (not a wrapping test transaction) so that is harmless on PostgreSQL too.
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.django_db(transaction=False)
def test_a_wrong_setting_in_the_environment_exits_2_with_the_setting_named(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env.update(LINIA_HOME=str(tmp_path), REDIS_URL="redis://127.0.0.1:6379/15", LINIA_REDIS_LAYER="pubsab")
    proc = subprocess.run([str(LINIA), "check"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "linia: LINIA_REDIS_LAYER='pubsab': use pubsub (the default) or core"


@pytest.mark.django_db(transaction=False)
def test_createadmin_without_password_in_a_script_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"LINIA_ADMIN_PASSWORD", "DATABASE_URL"}}
    env["LINIA_HOME"] = str(tmp_path)
    proc = subprocess.run([str(LINIA), "createadmin", "--username", "root"], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "--password" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_createadmin_with_password_creates_a_superuser(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("createadmin", "--username", "root", "--password", "long-enough-1") == 0
    assert "created platform admin root" in capsys.readouterr().out
    root = User.objects.get(username="root")
    assert root.is_superuser and root.is_staff and root.check_password("long-enough-1")
    assert run("createadmin", "--username", "root", "--password", "another-pass-2") == 0  # resets
    root.refresh_from_db()
    assert root.check_password("another-pass-2")


def test_createadmin_short_password_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("createadmin", "--password", "short") == 2
    assert "at least 8" in capsys.readouterr().err
    assert not User.objects.exists()


def test_token_create_prints_a_working_token(capsys: pytest.CaptureFixture[str]) -> None:
    t = f.tenant("spar")
    agent = f.user("anna", tenant=t, role=Role.AGENT)
    capsys.readouterr()
    assert run("token", "create", "--tenant", "spar", "--user", "anna") == 0
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("lin_")
    token = ApiToken.objects.get(key_hash=ApiToken.hash_key(raw))
    assert (token.tenant, token.user, token.revoked_at) == (t, agent, None)
    assert raw not in str(list(ApiToken.objects.values()))  # only the hash is stored
    assert AuditLog.objects.filter(action="token.create", tenant=t).exists()


@pytest.mark.parametrize(("args", "needle"), [
    (["--tenant", "nope", "--user", "anna"], "no tenant with slug 'nope'"),
    (["--tenant", "spar", "--user", "ghost"], "no user 'ghost'"),
    (["--tenant", "spar", "--user", "outsider"], "not a member"),
])
def test_token_create_bad_input_exits_2(capsys: pytest.CaptureFixture[str], args: list[str], needle: str) -> None:
    t = f.tenant("spar")
    f.user("anna", tenant=t)
    f.user("outsider", tenant=f.tenant("other"))
    assert run("token", "create", *args) == 2
    assert needle in capsys.readouterr().err
    assert not ApiToken.objects.exists()


@pytest.mark.django_db(transaction=False)
def test_a_command_on_a_database_never_migrated_says_to_run_migrate(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["LINIA_HOME"] = str(tmp_path)
    csv = tmp_path / "stores.csv"
    csv.write_text("code,name,city\nS1,One,Warsaw\n")
    proc = subprocess.run([str(LINIA), "import", "stores", str(csv), "--tenant", "x"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "linia migrate" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_aliased_command_names_itself_by_its_alias(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("import", "--help") == 0
    usage = capsys.readouterr().out
    assert usage.startswith("usage: linia import ")
    assert "import_data" not in usage
