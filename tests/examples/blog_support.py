"""Helpers shared by the example blog's tests (imported by conftest.py and
the test modules; pytest puts this folder on sys.path)."""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

from demijohn.testing import DemijohnClient

EXAMPLE_ROOT = Path(__file__).resolve().parents[2] / "examples" / "blog"
# The example is not installed by the test extra; import it from its folder.
if str(EXAMPLE_ROOT) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_ROOT))


class Auth:
    """Register and log in through the real forms."""

    def __init__(self, client: DemijohnClient) -> None:
        self.client = client

    def register(self, username: str = "alice", password: str = "s3cret pw") -> t.Any:
        return self.client.post(
            "/auth/register", data={"username": username, "password": password}
        )

    def login(self, username: str = "alice", password: str = "s3cret pw") -> t.Any:
        return self.client.post(
            "/auth/login", data={"username": username, "password": password}
        )

    def register_and_login(self, username: str = "alice") -> None:
        assert self.register(username).status_code == 302
        assert self.login(username).status_code == 302

    def logout(self) -> t.Any:
        return self.client.post("/auth/logout")
