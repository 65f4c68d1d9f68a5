"""Production settings pass Django's deployment checklist."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parent.parent
# A well-formed key of nobody's: production requires one of its own.
PRODUCTION_CALDAV_KEY = "cHJvZHVjdGlvbi1rZXktb2YtdGhlLXRlc3RzLTAxMjM="


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CALDAV_ENCRYPTION_KEYS", "SITE_URL"))
    }
    if env.get("DJANGO_PRODUCTION") == "true":
        environ["CALDAV_ENCRYPTION_KEYS"] = PRODUCTION_CALDAV_KEY
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_PRODUCTION="true",
        DJANGO_SECRET_KEY="k" * 10 + "-a-long-and-random-production-key-0123456789",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = run_manage("check", DJANGO_PRODUCTION="true")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


STRONG_KEY = "k" * 10 + "-a-long-and-random-production-key-0123456789"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        # The old docker-compose.yml default and the demo's key.
        ("insecure-compose-only-change-me", "is a published default or demo key"),
        (
            "insecure-key-for-the-demo-and-tests-only",
            "is a published default or demo key",
        ),
        ("django-insecure-" + "x1y2z3" * 10, "is a published default or demo key"),
        ("short-but-random-Q9x!", "is too weak: it needs at least 50 characters"),
        ("ab" * 40, "is too weak"),
    ],
)
def test_production_refuses_to_start_with_a_known_or_weak_key(
    key: str, message: str
) -> None:
    result = run_manage(
        "check", "--deploy", DJANGO_PRODUCTION="true", **{"DJANGO_SECRET_KEY": key}
    )

    assert result.returncode != 0
    assert f"ImproperlyConfigured: DJANGO_SECRET_KEY {message}" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr
    assert key not in result.stderr


def test_the_demo_key_still_serves_outside_production() -> None:
    result = run_manage("check")

    assert result.returncode == 0, result.stderr


def test_hsts_preload_is_opt_in() -> None:
    show = "from django.conf import settings; print(settings.SECURE_HSTS_PRELOAD)"
    default = run_manage(
        "shell", "-c", show, DJANGO_PRODUCTION="true", DJANGO_SECRET_KEY=STRONG_KEY
    )
    opted_in = run_manage(
        "shell",
        "-c",
        show,
        DJANGO_PRODUCTION="true",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_HSTS_PRELOAD="true",
    )

    assert default.stdout.split()[-1] == "False", default.stderr
    assert opted_in.stdout.split()[-1] == "True", opted_in.stderr


def test_site_url_is_the_demos_address_outside_production_and_checked() -> None:
    show = "from django.conf import settings; print(repr(settings.SITE_URL))"
    demo = run_manage("shell", "-c", show)
    production = run_manage(
        "shell", "-c", show, DJANGO_PRODUCTION="true", DJANGO_SECRET_KEY=STRONG_KEY
    )
    bare = run_manage("check", SITE_URL="followup.clinic.example")

    assert demo.stdout.split()[-1] == "'http://127.0.0.1:8000'", demo.stderr
    # Production starts without it; a message's link asks for it then.
    assert production.stdout.split()[-1] == "''", production.stderr
    assert bare.returncode != 0
    assert "SITE_URL='followup.clinic.example' is not an address" in bare.stderr


def test_docker_compose_has_no_default_secret_key() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    example = (ROOT / ".env.example").read_text()

    assert "insecure-compose-only-change-me" not in compose
    assert "${DJANGO_SECRET_KEY:?" in compose
    assert "DJANGO_SECRET_KEY=\n" in example


def test_two_factor_for_clinic_admins_is_required_in_production_only() -> None:
    show = "from django.conf import settings; print(settings.ADMIN_TWO_FACTOR_REQUIRED)"
    demo = run_manage("shell", "-c", show)
    production = run_manage(
        "shell", "-c", show, DJANGO_PRODUCTION="true", DJANGO_SECRET_KEY=STRONG_KEY
    )
    switched_off = run_manage(
        "check",
        DJANGO_PRODUCTION="true",
        DJANGO_SECRET_KEY=STRONG_KEY,
        ADMIN_TWO_FACTOR_REQUIRED="false",
    )

    assert demo.stdout.split()[-1] == "False", demo.stderr
    assert production.stdout.split()[-1] == "True", production.stderr
    assert switched_off.returncode != 0
    assert "ADMIN_TWO_FACTOR_REQUIRED cannot be false" in switched_off.stderr


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("", "CALDAV_ENCRYPTION_KEYS must be set in production"),
        (
            "ZGVtby1rZXktZm9yLWRldmVsb3BtZW50LW9ubHkhISE=",
            "CALDAV_ENCRYPTION_KEYS holds the published demo key",
        ),
    ],
)
def test_production_requires_its_own_caldav_encryption_key(
    keys: str, message: str
) -> None:
    result = run_manage(
        "check",
        DJANGO_PRODUCTION="true",
        DJANGO_SECRET_KEY=STRONG_KEY,
        CALDAV_ENCRYPTION_KEYS=keys,
    )

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    "hosts", ["*", "clinic.example,*", "*.clinic.example", ".", ".com"]
)
def test_production_refuses_allowed_hosts_that_match_any_host(hosts: str) -> None:
    result = run_manage(
        "check",
        DJANGO_PRODUCTION="true",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS=hosts,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_ALLOWED_HOSTS" in result.stderr
    assert "feed links and QR codes are built from the Host header" in result.stderr


def test_production_accepts_the_clinic_s_own_host_names() -> None:
    result = run_manage(
        "check",
        DJANGO_PRODUCTION="true",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS="followup.clinic.example,.intranet.clinic.example",
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_in_production(settings: Any) -> None:
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="seed_demo is for the demo only"):
        call_command("seed_demo", stdout=io.StringIO())

    assert not User.objects.exists()


def test_seed_demo_exits_non_zero_in_production() -> None:
    result = run_manage(
        "seed_demo", DJANGO_PRODUCTION="true", DJANGO_SECRET_KEY=STRONG_KEY
    )

    assert result.returncode != 0
    assert "seed_demo is for the demo only" in result.stderr


def test_docker_compose_publishes_the_app_on_loopback_only() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    assert compose["services"]["web"]["ports"] == ["127.0.0.1:8000:8000"]
