"""Test-process configuration for the database (nothing else belongs here).

Tests with real concurrent processes (sweepers racing, a worker killed mid-run) need a
test database that another process can open. PostgreSQL's test database already is
one; SQLite's default test database lives in memory, so for the whole session it is
put in a file in a temporary directory instead (unless PROMISEDESK_TEST_SQLITE_FILE
chose one already).
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: Any) -> None:
    from django.conf import settings

    for alias, config in settings.DATABASES.items():
        if config["ENGINE"] != "django.db.backends.sqlite3":
            continue
        test = config.setdefault("TEST", {})
        if not test.get("NAME"):
            # pytest-xdist workers each get their own directory, hence their own file.
            test["NAME"] = str(tmp_path_factory.mktemp("sqlite") / f"test_{alias}.sqlite3")
