import json

from django.db import connection
from django.urls import reverse


def test_healthz_reports_ok(client, db, settings):
    settings.REDIS_URL = ""
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "database": "ok",
        "broker": "not configured (tasks run eagerly)",
        "status": "ok",
    }


def test_healthz_is_503_when_the_broker_is_down(client, db, settings):
    from reviewapp.celery import app

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get(reverse("healthz"))
    finally:
        app.conf.broker_url = old
    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")
    assert body["status"] == "error"


class UnreachableDatabase:
    def cursor(self):
        raise connection.Database.OperationalError("database unavailable")


def test_healthz_is_503_when_the_database_is_down(client, db, monkeypatch, settings):
    settings.REDIS_URL = ""
    monkeypatch.setattr("reviewapp.views.connection", UnreachableDatabase())
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert json.loads(response.content)["database"] == "error: OperationalError"
