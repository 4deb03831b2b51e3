"""The example blog (examples/blog), exercised as its users would: through
its pages, its JSON API, its websocket feed and its CLI, under WSGI and ASGI.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import typing as t
from pathlib import Path

import pytest
from blog_support import EXAMPLE_ROOT, Auth  # first: it puts the example on sys.path

# isort: split
from blog import create_app, queries
from blog.db import SQLITE, describe_target, get_db
from blog.live import BroadcastHub, get_hub
from blog.settings import DEV_SECRET_KEY, ConfigError

from demijohn import Demijohn
from demijohn.testing import DemijohnClient


def _create_post(
    client: DemijohnClient, title: str = "Hello", body: str = "First post."
) -> t.Any:
    return client.post("/create", data={"title": title, "body": body})


def _post_ids(app: Demijohn) -> list[int]:
    with app.app_context():
        return [post["id"] for post in queries.list_posts(100)]


# -- pages, sessions and flashing --------------------------------------------


def test_index_without_posts(blog_client: DemijohnClient) -> None:
    response = blog_client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "No posts yet." in page
    assert "Log in" in page and "Register" in page


def test_register_login_logout(blog_client: DemijohnClient, auth: Auth) -> None:
    response = auth.register()
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert "Registered. You can log in now." in blog_client.get("/auth/login").get_data(
        as_text=True
    )

    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with blog_client.session_transaction() as session:
        assert isinstance(session["user_id"], int)
    page = blog_client.get("/").get_data(as_text=True)
    assert "Welcome back, alice." in page
    assert '<span class="user">alice</span>' in page
    assert "Log out" in page

    response = auth.logout()
    assert response.status_code == 302
    page = blog_client.get("/").get_data(as_text=True)
    assert "You are logged out." in page
    assert "alice" not in page
    with blog_client.session_transaction() as session:
        assert "user_id" not in session


def test_password_is_stored_hashed(blog_app: Demijohn, auth: Auth) -> None:
    auth.register(password="plain text")
    with blog_app.app_context():
        user = queries.get_user_by_name("alice")
    assert user is not None
    assert "plain text" not in user["password_hash"]
    assert user["password_hash"].startswith(("scrypt:", "pbkdf2:"))


def test_logout_needs_post(blog_client: DemijohnClient) -> None:
    response = blog_client.get("/auth/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "pw", "Username is required."),
        ("   ", "pw", "Username is required."),
        ("a" * 41, "pw", "Username must be at most 40 characters."),
        ("alice", "", "Password is required."),
        ("alice", "p" * 201, "Password must be at most 200 characters."),
    ],
)
def test_register_validation(
    blog_app: Demijohn, auth: Auth, username: str, password: str, message: str
) -> None:
    response = auth.register(username, password)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    with blog_app.app_context():
        assert queries.count_rows()["users"] == 0


def test_register_keeps_username_but_not_password(auth: Auth) -> None:
    page = auth.register("bob", "").get_data(as_text=True)
    assert 'value="bob"' in page


def test_register_duplicate_username(auth: Auth) -> None:
    assert auth.register("alice").status_code == 302
    response = auth.register("alice", "another pw")
    assert response.status_code == 400
    assert "That username is taken." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("alice", "wrong", "Incorrect username or password."),
        ("nobody", "s3cret pw", "Incorrect username or password."),
        ("", "s3cret pw", "Username is required."),
        ("alice", "", "Password is required."),
    ],
)
def test_login_errors(
    blog_client: DemijohnClient, auth: Auth, username: str, password: str, message: str
) -> None:
    auth.register()
    response = auth.login(username, password)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with blog_client.session_transaction() as session:
        assert "user_id" not in session


def test_login_returns_to_the_page_that_needed_it(
    blog_client: DemijohnClient, auth: Auth
) -> None:
    response = blog_client.get("/create")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/create"
    page = blog_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/create"' in page

    auth.register()
    response = blog_client.post(
        "/auth/login",
        data={"username": "alice", "password": "s3cret pw", "next": "/create"},
    )
    assert response.headers["Location"] == "/create"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/"])
def test_login_refuses_offsite_next(
    blog_client: DemijohnClient, auth: Auth, target: str
) -> None:
    auth.register()
    response = blog_client.post(
        "/auth/login",
        data={"username": "alice", "password": "s3cret pw", "next": target},
    )
    assert response.headers["Location"] == "/"


# -- posts --------------------------------------------------------------------


def test_create_post_shows_on_index(blog_client: DemijohnClient, auth: Auth) -> None:
    auth.register_and_login()
    assert blog_client.get("/create").status_code == 200
    response = _create_post(blog_client, "My title", "Some words.")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = blog_client.get("/").get_data(as_text=True)
    assert "Your post is published." in page
    assert "My title" in page and "Some words." in page
    assert "by alice" in page
    assert "Edit" in page


def test_post_text_is_escaped(blog_client: DemijohnClient, auth: Auth) -> None:
    auth.register_and_login()
    _create_post(blog_client, "<script>alert(1)</script>", "<b>bold</b>")
    page = blog_client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("", "body", "Title is required."),
        ("t" * 121, "body", "Title must be at most 120 characters."),
        ("ok", "b" * 10_001, "Body must be at most 10000 characters."),
    ],
)
def test_create_validation(
    blog_app: Demijohn,
    blog_client: DemijohnClient,
    auth: Auth,
    title: str,
    body: str,
    message: str,
) -> None:
    auth.register_and_login()
    response = _create_post(blog_client, title, body)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    # What was typed is kept, so the user can fix it.
    assert body[:50] in page
    assert _post_ids(blog_app) == []


def test_detail_page(blog_client: DemijohnClient, auth: Auth) -> None:
    auth.register_and_login()
    _create_post(blog_client, "Detail", "Body text")
    response = blog_client.get("/1")
    assert response.status_code == 200
    assert "Detail" in response.get_data(as_text=True)


def test_missing_post_is_an_html_404(blog_client: DemijohnClient) -> None:
    response = blog_client.get("/42")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "404 Not Found" in page and "There is no post 42." in page


def test_edit_own_post(blog_client: DemijohnClient, auth: Auth) -> None:
    auth.register_and_login()
    _create_post(blog_client, "Old", "old body")
    page = blog_client.get("/1/edit").get_data(as_text=True)
    assert 'value="Old"' in page and "old body" in page

    response = blog_client.post("/1/edit", data={"title": "New", "body": "new body"})
    assert response.status_code == 302
    page = blog_client.get("/1").get_data(as_text=True)
    assert "Your post is updated." in page
    assert "New" in page and "new body" in page


def test_edit_validation(blog_client: DemijohnClient, auth: Auth) -> None:
    auth.register_and_login()
    _create_post(blog_client, "Keep", "body")
    response = blog_client.post("/1/edit", data={"title": "", "body": "x"})
    assert response.status_code == 400
    assert "Title is required." in response.get_data(as_text=True)
    assert "Keep" in blog_client.get("/1").get_data(as_text=True)


def test_delete_own_post(
    blog_app: Demijohn, blog_client: DemijohnClient, auth: Auth
) -> None:
    auth.register_and_login()
    _create_post(blog_client)
    response = blog_client.post("/1/delete")
    assert response.status_code == 302
    assert "Your post is deleted." in blog_client.get("/").get_data(as_text=True)
    assert _post_ids(blog_app) == []
    assert blog_client.get("/1").status_code == 404


def test_only_the_author_may_change_a_post(
    blog_app: Demijohn, blog_client: DemijohnClient, auth: Auth
) -> None:
    auth.register_and_login("alice")
    _create_post(blog_client, "Alice's", "mine")
    auth.logout()
    auth.register_and_login("mallory")

    assert "Edit" not in blog_client.get("/").get_data(as_text=True)
    for response in (
        blog_client.get("/1/edit"),
        blog_client.post("/1/edit", data={"title": "pwned", "body": ""}),
        blog_client.post("/1/delete"),
    ):
        assert response.status_code == 403
        assert "Only the author can change a post." in response.get_data(as_text=True)
    with blog_app.app_context():
        post = queries.get_post(1)
    assert post is not None and post["title"] == "Alice's"


def test_changing_needs_login(blog_client: DemijohnClient, auth: Auth) -> None:
    auth.register_and_login()
    _create_post(blog_client)
    auth.logout()
    for response in (blog_client.get("/1/edit"), blog_client.post("/1/delete")):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")


def test_changing_a_missing_post_is_404(
    blog_client: DemijohnClient, auth: Auth
) -> None:
    auth.register_and_login()
    assert blog_client.get("/9/edit").status_code == 404
    assert blog_client.post("/9/delete").status_code == 404


# -- JSON API -----------------------------------------------------------------


def test_api_list_and_get(blog_client: DemijohnClient, auth: Auth) -> None:
    assert blog_client.get("/api/posts").get_json() == {"posts": []}
    auth.register_and_login()
    _create_post(blog_client, "One", "1")
    _create_post(blog_client, "Two", "2")

    posts = blog_client.get("/api/posts").get_json()["posts"]
    assert [post["title"] for post in posts] == ["Two", "One"]
    assert posts[0]["username"] == "alice"

    response = blog_client.get("/api/posts/1")
    assert response.status_code == 200
    assert response.get_json()["title"] == "One"
    assert set(response.get_json()) == {
        "id",
        "title",
        "body",
        "created",
        "author_id",
        "username",
    }


def test_api_get_missing_is_json_404(blog_client: DemijohnClient) -> None:
    response = blog_client.get("/api/posts/7")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "Not Found",
        "message": "There is no post 7.",
    }


def test_api_unknown_url_and_method_are_json(blog_client: DemijohnClient) -> None:
    response = blog_client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"

    response = blog_client.delete("/api/posts/1")
    assert response.status_code == 405
    assert response.get_json()["error"] == "Method Not Allowed"
    assert "GET" in response.headers["Allow"]


def test_api_create(
    blog_app: Demijohn, blog_client: DemijohnClient, auth: Auth
) -> None:
    auth.register_and_login()
    response = blog_client.post("/api/posts", json={"title": " API ", "body": "b"})
    assert response.status_code == 201
    post = response.get_json()
    assert post["title"] == "API"
    assert post["username"] == "alice"
    assert response.headers["Location"] == f"/api/posts/{post['id']}"
    assert blog_client.get(response.headers["Location"]).get_json() == post
    assert _post_ids(blog_app) == [post["id"]]


def test_api_create_needs_login(
    blog_app: Demijohn, blog_client: DemijohnClient
) -> None:
    response = blog_client.post("/api/posts", json={"title": "x", "body": "y"})
    assert response.status_code == 401
    assert response.get_json() == {
        "error": "Unauthorized",
        "message": "Log in to create posts.",
    }
    assert _post_ids(blog_app) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "not json", "content_type": "application/json"},
        {"data": "title=x", "content_type": "application/x-www-form-urlencoded"},
        {"json": ["a", "list"]},
        {"json": "a string"},
    ],
)
def test_api_create_needs_a_json_object(
    blog_client: DemijohnClient, auth: Auth, kwargs: dict[str, t.Any]
) -> None:
    auth.register_and_login()
    response = blog_client.post("/api/posts", **kwargs)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "Bad Request"
    assert "JSON object" in body["message"]


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"title": "Title is required."}),
        ({"title": "", "body": "x"}, {"title": "Title is required."}),
        (
            {"title": 5, "body": ["x"]},
            {"title": "Title must be text.", "body": "Body must be text."},
        ),
        ({"title": "t" * 121}, {"title": "Title must be at most 120 characters."}),
    ],
)
def test_api_create_validation(
    blog_app: Demijohn,
    blog_client: DemijohnClient,
    auth: Auth,
    payload: dict[str, t.Any],
    fields: dict[str, str],
) -> None:
    auth.register_and_login()
    response = blog_client.post("/api/posts", json=payload)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "Bad Request",
        "message": "Some fields are invalid.",
        "fields": fields,
    }
    assert _post_ids(blog_app) == []


def test_async_stats(blog_client: DemijohnClient, auth: Auth) -> None:
    assert blog_client.get("/api/stats").get_json() == {
        "users": 0,
        "posts": 0,
        "live_clients": 0,
    }
    auth.register_and_login()
    _create_post(blog_client)
    assert blog_client.get("/api/stats").get_json() == {
        "users": 1,
        "posts": 1,
        "live_clients": 0,
    }


# -- websocket live updates ---------------------------------------------------


def test_websocket_receives_new_posts(
    blog_app: Demijohn, blog_client: DemijohnClient, auth: Auth
) -> None:
    auth.register_and_login()
    with blog_client.websocket("/ws/posts") as ws:  # type: ignore[attr-defined]
        assert blog_client.get("/api/stats").get_json()["live_clients"] == 1
        _create_post(blog_client, "Live!", "from the form")
        message = ws.receive_json()
        assert message["type"] == "post.created"
        assert message["url"] == "/1"
        assert message["post"]["title"] == "Live!"
        assert message["post"]["username"] == "alice"

        blog_client.post("/api/posts", json={"title": "Via API", "body": ""})
        assert ws.receive_json()["post"]["title"] == "Via API"

        # Edits and failed submissions announce nothing.
        blog_client.post("/1/edit", data={"title": "Edited", "body": ""})
        _create_post(blog_client, "", "invalid")
        blog_client.post("/api/posts", json={"title": "Third", "body": ""})
        assert ws.receive_json()["post"]["title"] == "Third"

    # Disconnecting ends the handler and its subscription.
    assert blog_client.get("/api/stats").get_json()["live_clients"] == 0


def test_websocket_reaches_every_client(
    blog_client: DemijohnClient, auth: Auth
) -> None:
    auth.register_and_login()
    connect = blog_client.websocket  # type: ignore[attr-defined]
    with connect("/ws/posts") as first, connect("/ws/posts") as second:
        _create_post(blog_client, "For both")
        assert first.receive_json()["post"]["title"] == "For both"
        assert second.receive_json()["post"]["title"] == "For both"


def test_websocket_route_over_plain_http(blog_client: DemijohnClient) -> None:
    assert blog_client.get("/ws/posts").status_code == 426


def test_hub_delivers_from_other_threads_and_drops_oldest() -> None:
    import asyncio

    hub = BroadcastHub(queue_size=2)

    async def scenario() -> list[t.Any]:
        with hub.subscribe() as queue:
            assert hub.subscriber_count == 1
            publishers = [
                threading.Thread(target=hub.publish, args=({"n": n},)) for n in (1,)
            ]
            for thread in publishers:
                thread.start()
            for thread in publishers:
                thread.join()
            first = await asyncio.wait_for(queue.get(), 2)
            for n in (2, 3, 4):
                hub.publish({"n": n})
            await asyncio.sleep(0)
            rest = [queue.get_nowait() for _ in range(queue.qsize())]
        assert hub.subscriber_count == 0
        return [first, *rest]

    assert asyncio.run(scenario()) == [{"n": 1}, {"n": 3}, {"n": 4}]


def test_hub_forgets_subscribers_of_closed_loops() -> None:
    import asyncio

    hub = BroadcastHub()
    loop = asyncio.new_event_loop()

    # A subscription whose handler never ended, as when a server stops
    # without cancelling it; kept referenced so it is not collected.
    leaked = []

    async def subscribe_and_leak() -> None:
        subscription = hub.subscribe()
        subscription.__enter__()
        leaked.append(subscription)

    loop.run_until_complete(subscribe_and_leak())
    loop.close()
    assert hub.subscriber_count == 1
    hub.publish({"n": 1})
    assert hub.subscriber_count == 0


# -- CLI and configuration ----------------------------------------------------


def test_database_without_tables_says_how_to_fix_it(
    tmp_path: Path, make_client: t.Callable[..., DemijohnClient]
) -> None:
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "empty.sqlite")})
    client = make_client(app)
    response = client.get("/")
    assert response.status_code == 503
    assert "demijohn --app blog init-db" in response.get_data(as_text=True)
    response = client.get("/api/posts")
    assert response.status_code == 503
    assert "init-db" in response.get_json()["message"]


def test_init_db_command_is_idempotent(blog_app: Demijohn, tmp_path: Path) -> None:
    database = tmp_path / "fresh.sqlite"
    blog_app.config.update(DATABASE=str(database), DATABASE_URL=None)
    runner = blog_app.test_cli_runner()

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert f"Initialized the sqlite database: {database}" in result.output
    with blog_app.app_context():
        queries.create_user("keeper", "hash")

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with blog_app.app_context():
        assert queries.get_user_by_name("keeper") is not None


def test_real_cli_runs_init_db(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite"
    env = {
        **os.environ,
        "PYTHONPATH": str(EXAMPLE_ROOT),
        "DEMIJOHN_SECRET_KEY": "from the environment",
        "DEMIJOHN_DATABASE": str(database),
    }
    env.pop("DEMIJOHN_DEBUG", None)
    command = [sys.executable, "-m", "demijohn", "--app", "blog", "init-db"]
    for _ in range(2):
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert "Initialized the sqlite database" in result.stdout
    assert database.exists()


def test_real_cli_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(EXAMPLE_ROOT),
        "DEMIJOHN_DATABASE": str(tmp_path / "x.sqlite"),
    }
    for name in ("DEMIJOHN_DEBUG", "DEMIJOHN_SECRET_KEY"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "demijohn", "--app", "blog", "init-db"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "DEMIJOHN_SECRET_KEY" in result.stderr
    assert not (tmp_path / "x.sqlite").exists()


def test_missing_secret_key_stops_production_startup(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        create_app({"DEBUG": False, "TESTING": False})
    message = str(info.value)
    assert "SECRET_KEY is not set" in message
    assert "DEMIJOHN_SECRET_KEY" in message
    assert "--debug" in message


def test_debug_mode_uses_the_development_key() -> None:
    app = create_app({"DEBUG": True, "TESTING": False})
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY


def test_configured_secret_key_is_kept() -> None:
    app = create_app({"DEBUG": False, "SECRET_KEY": "real"})
    assert app.config["SECRET_KEY"] == "real"


def test_config_from_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEMIJOHN_SECRET_KEY", "env key")
    monkeypatch.setenv("DEMIJOHN_MAX_TITLE_LENGTH", "5")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'url.sqlite'}")
    monkeypatch.delenv("DEMIJOHN_DEBUG", raising=False)
    monkeypatch.delenv("DEMIJOHN_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SECRET_KEY"] == "env key"
    assert app.config["MAX_TITLE_LENGTH"] == 5
    assert describe_target(app.config) == ("sqlite", str(tmp_path / "url.sqlite"))
    with app.app_context():
        get_db().create_schema()
    assert (tmp_path / "url.sqlite").exists()


def test_default_database_is_in_the_instance_folder() -> None:
    app = create_app({"TESTING": True})
    assert app.config["DATABASE"] == os.path.join(app.instance_path, "blog.sqlite")


def test_unsupported_database_url() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must start with"):
        create_app({"TESTING": True, "DATABASE_URL": "mysql://db/blog"})


def test_postgres_url_without_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigError, match=r"pip install 'psycopg\[binary\]'"):
        create_app({"TESTING": True, "DATABASE_URL": "postgresql://localhost/blog"})


def test_dialects_translate_placeholders() -> None:
    sql = "SELECT * FROM posts WHERE id = ? AND author_id = ?"
    assert SQLITE.translate(sql) == sql
    # PostgreSQL's dialect, without needing psycopg installed.
    percent = dataclasses.replace(SQLITE, name="postgresql", placeholder="%s")
    assert (
        percent.translate(sql) == "SELECT * FROM posts WHERE id = %s AND author_id = %s"
    )


def test_websocket_handler_uses_the_app_hub(blog_app: Demijohn) -> None:
    with blog_app.app_context():
        assert get_hub() is blog_app.extensions["blog.live"]
