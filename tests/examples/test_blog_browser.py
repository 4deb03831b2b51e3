"""The example blog in a real browser: headless Chromium (Debian's
``chromium`` package, driven by Playwright) against the app served by
uvicorn on a loopback port.

A visitor registers, logs in, fails and then succeeds to write a post and
sees it on the index, while a second, anonymous window on the index
receives the post live over the websocket. CI installs Chromium; this test
fails, rather than skips, when it is missing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
from blog_support import EXAMPLE_ROOT

# isort: split
from blog import create_app
from blog.db import init_db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Every wait in the browser gives up after this many milliseconds, so a
#: broken page fails the test in seconds instead of hanging it. The whole
#: test takes about 10 s on a 2-core machine.
STEP_TIMEOUT_MS = 5_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"uvicorn exited early:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"uvicorn did not listen within 15 s:\n{log.read_text()}")


@pytest.fixture
def base_url(tmp_path: Path) -> t.Iterator[str]:
    """The blog served by uvicorn, with a fresh database."""
    database = tmp_path / "browser.sqlite"
    app = create_app({"TESTING": True, "DATABASE": str(database)})
    with app.app_context():
        init_db()
    port = _free_port()
    log = tmp_path / "uvicorn.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(EXAMPLE_ROOT),
        "DEMIJOHN_SECRET_KEY": "browser test key",
        "DEMIJOHN_DATABASE": str(database),
    }
    env.pop("DEMIJOHN_DEBUG", None)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "blog.asgi:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],  # fmt: skip
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_listening(process, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _sync_playwright() -> t.Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "The browser test needs Playwright's Python package:"
            " pip install playwright (not 'playwright install': it uses the"
            " system Chromium)."
        )
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser test needs Chromium at {CHROMIUM}:"
            " apt-get install chromium chromium-driver"
        )
    return sync_playwright()


def test_register_login_write_and_see_the_post(base_url: str) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    with _sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=15_000
        )
        try:
            watcher = browser.new_context().new_page()
            author = browser.new_context().new_page()
            for page in (watcher, author):
                page.set_default_timeout(STEP_TIMEOUT_MS)

            # An anonymous reader keeps the index open, connected live.
            watcher.goto(f"{base_url}/")
            expect(watcher.locator("#live-status")).to_contain_text("Live:")
            expect(watcher.locator("#posts")).to_contain_text("No posts yet.")

            author.goto(f"{base_url}/")
            author.get_by_role("link", name="Register").click()
            author.get_by_label("Username").fill("ada")
            author.get_by_label("Password").fill("correct horse")
            author.get_by_role("button", name="Register").click()
            expect(author.locator(".flash")).to_have_text(
                "Registered. You can log in now."
            )

            author.get_by_label("Username").fill("ada")
            author.get_by_label("Password").fill("wrong")
            author.get_by_role("button", name="Log in").click()
            expect(author.get_by_role("alert")).to_have_text(
                "Incorrect username or password."
            )
            author.get_by_label("Password").fill("correct horse")
            author.get_by_role("button", name="Log in").click()
            expect(author.locator(".flash")).to_have_text("Welcome back, ada.")
            expect(author.locator("nav .user")).to_have_text("ada")

            author.get_by_role("link", name="New post").click()
            author.get_by_role("button", name="Publish").click()
            expect(author.locator("#title-error")).to_have_text("Title is required.")
            author.get_by_label("Title").fill("Written in Chromium")
            author.get_by_label("Body").fill("Hello from a real browser.")
            author.get_by_role("button", name="Publish").click()

            expect(author).to_have_url(f"{base_url}/")
            expect(author.locator(".flash")).to_have_text("Your post is published.")
            post = author.locator("#posts article").first
            expect(post.locator("h2")).to_have_text("Written in Chromium")
            expect(post).to_contain_text("Hello from a real browser.")
            expect(post).to_contain_text("by ada")

            # The reader's page got it over the websocket, without a reload.
            live_post = watcher.locator("#posts article").first
            expect(live_post.locator("h2")).to_have_text("Written in Chromium")
            expect(live_post).to_contain_text("by ada")
            expect(watcher.locator("#posts .empty")).to_have_count(0)
        finally:
            browser.close()
