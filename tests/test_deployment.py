"""The production shape: settings pass `check --deploy`, compose parses, no CDN anywhere."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "reviewapp.settings.production",
    "SECRET_KEY": "x" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "review.example.org",
    "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/none",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_HOST": "smtp.example.org",
    "DEFAULT_FROM_EMAIL": "noreply@example.org",
}


def run_manage(*args, env):
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a production check.
    env = {k: v for k, v in env.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_prints_no_warnings():
    env = {**os.environ, **PRODUCTION_ENV}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets():
    env = {**os.environ, **PRODUCTION_ENV}
    del env["SECRET_KEY"]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_rejects_a_weak_secret_key():
    env = {**os.environ, **PRODUCTION_ENV, "SECRET_KEY": "short"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "at least 50" in result.stderr


def test_production_cookies_use_host_prefix(settings):
    env = {**os.environ, **PRODUCTION_ENV}
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE)"
    )
    result = run_manage("shell", "--no-imports", "-c", code, env=env)
    assert result.stdout.split() == ["__Host-sessionid", "__Host-csrftoken", "True"]


def _compose_command():
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_config_parses(tmp_path):
    command = _compose_command()
    if command is None:
        pytest.skip(
            "neither `docker compose` nor `docker-compose` is installed (.ci/run installs it)"
        )
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run([*command, "config"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for service in ("web:", "worker:", "beat:", "postgres:", "redis:"):
        assert service in result.stdout


def test_no_cdn_inline_script_or_inline_style_in_templates():
    offenders = []
    for path in list((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        if re.search(r"""(src|href)=["']https?://""", text):
            offenders.append(f"{path}: external resource")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline script")
        if re.search(r"<style\b|\sstyle=", text):
            offenders.append(f"{path}: inline style")
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{path}: inline event handler")
    assert offenders == []


def test_csp_header_has_no_unsafe_inline(client, db):
    header = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in header and "style-src 'self'" in header
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
