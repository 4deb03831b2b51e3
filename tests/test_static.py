"""Static files, send_file and send_from_directory through the application."""

from __future__ import annotations

import io
import os
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.http import http_date

from demijohn import Demijohn, request, send_file, send_from_directory
from demijohn.testing import DemijohnClient

MakeClient = t.Callable[..., DemijohnClient]

CSS = b"body { color: red; }\n"
TEXT = b"0123456789abcdefghij"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_bytes(CSS)
    (static / "text.txt").write_bytes(TEXT)
    (static / "index.html").write_bytes(b"<p>static</p>")
    (tmp_path / "secret.txt").write_bytes(b"do not serve")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "report.txt").write_bytes(TEXT)
    return tmp_path


@pytest.fixture
def sapp(root: Path) -> Demijohn:
    application = Demijohn("static_app", root_path=str(root))
    application.config.update(TESTING=True, SECRET_KEY="k")
    return application


# -- the static route ----------------------------------------------------------


def test_static_route_serves_files(sapp: Demijohn, make_client: MakeClient) -> None:
    client = make_client(sapp)
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert response.data == CSS
    assert response.mimetype == "text/css"
    assert response.headers["Content-Length"] == str(len(CSS))
    assert response.headers["Cache-Control"] == "no-cache"
    assert "ETag" in response.headers
    assert "Last-Modified" in response.headers
    response.close()
    response = client.get("/static/index.html")
    assert response.mimetype == "text/html"
    assert response.data == b"<p>static</p>"
    response.close()


def test_static_route_is_registered_with_endpoint(sapp: Demijohn) -> None:
    rules = [r for r in sapp.url_map.iter_rules() if r.endpoint == "static"]
    assert [r.rule for r in rules] == ["/static/<path:filename>"]
    with sapp.test_request_context():
        from demijohn import url_for

        assert url_for("static", filename="css/site.css") == "/static/css/site.css"


def test_static_head_request(sapp: Demijohn, make_client: MakeClient) -> None:
    with make_client(sapp).head("/static/text.txt") as response:
        assert response.status_code == 200
        assert response.data == b""
        assert response.headers["Content-Length"] == str(len(TEXT))


def test_missing_static_file_is_404(sapp: Demijohn, make_client: MakeClient) -> None:
    assert make_client(sapp).get("/static/missing.css").status_code == 404


def test_static_directory_is_404(sapp: Demijohn, make_client: MakeClient) -> None:
    assert make_client(sapp).get("/static/css").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/%2E%2E%2Fsecret.txt",
        "/static/css/../../secret.txt",
        "/static/..\\secret.txt",
        "/static/..%5csecret.txt",
        "/static/text.txt%00.css",
        "/static/%00",
    ],
)
def test_static_path_traversal_is_404(
    sapp: Demijohn, make_client: MakeClient, path: str
) -> None:
    response = make_client(sapp).get(path)
    assert response.status_code == 404
    assert b"do not serve" not in response.data


@pytest.mark.parametrize("path", ["/static//etc/passwd", "/static/%2fetc%2fpasswd"])
def test_static_absolute_path_is_404(
    sapp: Demijohn, make_client: MakeClient, path: str
) -> None:
    # Routing merges the slashes with a redirect; the target is inside the
    # static folder and does not exist.
    response = make_client(sapp).get(path, follow_redirects=True)
    assert response.status_code == 404
    assert response.request.path == "/static/etc/passwd"


def test_static_url_path(root: Path, make_client: MakeClient) -> None:
    application = Demijohn("s", root_path=str(root), static_url_path="/assets")
    client = make_client(application)
    response = client.get("/assets/text.txt")
    assert response.data == TEXT
    response.close()
    assert client.get("/static/text.txt").status_code == 404


def test_empty_static_url_path_serves_from_root(
    root: Path, make_client: MakeClient
) -> None:
    application = Demijohn("s", root_path=str(root), static_url_path="")
    response = make_client(application).get("/text.txt")
    assert response.data == TEXT
    response.close()


def test_static_folder_name_sets_url_path(root: Path, make_client: MakeClient) -> None:
    (root / "public").mkdir()
    (root / "public" / "a.txt").write_bytes(b"public")
    application = Demijohn("s", root_path=str(root), static_folder="public")
    assert application.static_folder == str(root / "public")
    assert application.static_url_path == "/public"
    response = make_client(application).get("/public/a.txt")
    assert response.data == b"public"
    response.close()


def test_static_folder_none_has_no_route(root: Path, make_client: MakeClient) -> None:
    application = Demijohn("s", root_path=str(root), static_folder=None)
    assert application.static_folder is None
    assert application.static_url_path is None
    assert not application.has_static_folder
    assert "static" not in {r.endpoint for r in application.url_map.iter_rules()}
    assert make_client(application).get("/static/text.txt").status_code == 404
    with (
        application.test_request_context(),
        pytest.raises(RuntimeError, match="static_folder"),
    ):
        application.send_static_file("text.txt")


def test_static_folder_absolute_path(tmp_path: Path, make_client: MakeClient) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "x.txt").write_bytes(b"abs")
    application = Demijohn(
        "s", root_path="/nonexistent-root", static_folder=str(folder)
    )
    assert application.static_url_path == "/elsewhere"
    response = make_client(application).get("/elsewhere/x.txt")
    assert response.data == b"abs"
    response.close()


def test_static_host_requires_host_matching(root: Path) -> None:
    with pytest.raises(ValueError, match="static_host"):
        Demijohn("s", root_path=str(root), static_host="cdn.example.com")
    with pytest.raises(ValueError, match="static_host"):
        Demijohn("s", root_path=str(root), host_matching=True)
    Demijohn("s", root_path=str(root), static_folder=None, host_matching=True)


def test_static_host(root: Path, make_client: MakeClient) -> None:
    application = Demijohn(
        "s", root_path=str(root), host_matching=True, static_host="cdn.example.com"
    )
    client = make_client(application)
    response = client.get("http://cdn.example.com/static/text.txt")
    assert response.data == TEXT
    response.close()
    assert client.get("http://other.example.com/static/text.txt").status_code == 404


# -- caching ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "no-cache"),
        (60, "public, max-age=60"),
        (timedelta(hours=1), "public, max-age=3600"),
        (0, "no-cache, max-age=0"),
    ],
)
def test_send_file_max_age_default(
    sapp: Demijohn, make_client: MakeClient, value: t.Any, expected: str
) -> None:
    sapp.config["SEND_FILE_MAX_AGE_DEFAULT"] = value

    @sapp.route("/file")
    def file() -> t.Any:
        return send_file("files/report.txt")

    client = make_client(sapp)
    for url in ("/static/text.txt", "/file"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == expected, url
        response.close()


def test_max_age_sets_expires(sapp: Demijohn, make_client: MakeClient) -> None:
    sapp.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60
    before = datetime.now(timezone.utc).replace(microsecond=0)
    response = make_client(sapp).get("/static/text.txt")
    response.close()
    assert response.expires is not None
    assert before + timedelta(seconds=60) <= response.expires
    assert response.expires <= before + timedelta(seconds=62)


def test_get_send_file_max_age_override(root: Path, make_client: MakeClient) -> None:
    calls: list[str | None] = []

    class App(Demijohn):
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            calls.append(filename)
            if filename is not None and filename.endswith(".css"):
                return 86400
            return super().get_send_file_max_age(filename)

    application = App("s", root_path=str(root))
    client = make_client(application)
    response = client.get("/static/css/site.css")
    response.close()
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    response = client.get("/static/text.txt")
    response.close()
    assert response.headers["Cache-Control"] == "no-cache"
    # The static view asks with the requested name; send_file asks again
    # with the full path when that gave no answer.
    assert calls == [
        "css/site.css",
        "text.txt",
        os.path.join(str(root), "static", "text.txt"),
    ]


def test_explicit_max_age_wins(sapp: Demijohn, make_client: MakeClient) -> None:
    sapp.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60

    @sapp.route("/file")
    def file() -> t.Any:
        return send_file("files/report.txt", max_age=10)

    response = make_client(sapp).get("/file")
    response.close()
    assert response.headers["Cache-Control"] == "public, max-age=10"


# -- conditional and range requests -------------------------------------------


def test_etag_if_none_match_is_304(sapp: Demijohn, make_client: MakeClient) -> None:
    client = make_client(sapp)
    first = client.get("/static/text.txt")
    first.close()
    etag = first.headers["ETag"]
    with client.get("/static/text.txt", headers={"If-None-Match": etag}) as response:
        assert response.status_code == 304
        assert response.data == b""
        assert response.headers["ETag"] == etag
    response = client.get("/static/text.txt", headers={"If-None-Match": '"other"'})
    response.close()
    assert response.status_code == 200


def test_if_modified_since_is_304(
    sapp: Demijohn, root: Path, make_client: MakeClient
) -> None:
    mtime = os.stat(root / "static" / "text.txt").st_mtime
    client = make_client(sapp)
    later = http_date(mtime + 60)
    with client.get("/static/text.txt", headers={"If-Modified-Since": later}) as rv:
        assert rv.status_code == 304
    earlier = http_date(mtime - 3600)
    with client.get("/static/text.txt", headers={"If-Modified-Since": earlier}) as rv:
        assert rv.status_code == 200
        assert rv.data == TEXT


def test_range_request_is_206(sapp: Demijohn, make_client: MakeClient) -> None:
    response = make_client(sapp).get("/static/text.txt", headers={"Range": "bytes=2-5"})
    assert response.status_code == 206
    assert response.data == TEXT[2:6]
    assert response.headers["Content-Range"] == f"bytes 2-5/{len(TEXT)}"
    assert response.headers["Content-Length"] == "4"
    assert response.headers["Accept-Ranges"] == "bytes"
    response.close()


def test_unsatisfiable_range_is_416(sapp: Demijohn, make_client: MakeClient) -> None:
    client = make_client(sapp)
    with client.get("/static/text.txt", headers={"Range": "bytes=100-200"}) as rv:
        assert rv.status_code == 416
        assert rv.headers["Content-Range"] == f"bytes */{len(TEXT)}"


def test_conditional_false_ignores_range(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    @sapp.route("/file")
    def file() -> t.Any:
        return send_file("files/report.txt", conditional=False)

    client = make_client(sapp)
    response = client.get("/file", headers={"Range": "bytes=0-1"})
    assert response.status_code == 200
    assert response.data == TEXT
    response.close()


# -- send_file -----------------------------------------------------------------


def test_send_file_relative_path_is_relative_to_root(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    @sapp.route("/file")
    def file() -> t.Any:
        return send_file("files/report.txt")

    response = make_client(sapp).get("/file")
    assert response.data == TEXT
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == "inline; filename=report.txt"
    response.close()


def test_send_file_absolute_and_pathlike(
    sapp: Demijohn, root: Path, make_client: MakeClient
) -> None:
    @sapp.route("/abs")
    def absolute() -> t.Any:
        return send_file(str(root / "files" / "report.txt"))

    @sapp.route("/pathlike")
    def pathlike() -> t.Any:
        return send_file(root / "files" / "report.txt")

    client = make_client(sapp)
    for url in ("/abs", "/pathlike"):
        response = client.get(url)
        assert response.data == TEXT
        response.close()


def test_send_file_as_attachment(sapp: Demijohn, make_client: MakeClient) -> None:
    @sapp.route("/<name>")
    def file(name: str) -> t.Any:
        download_name = None if name == "default" else name
        return send_file(
            "files/report.txt", as_attachment=True, download_name=download_name
        )

    client = make_client(sapp)
    response = client.get("/default")
    response.close()
    assert response.headers["Content-Disposition"] == "attachment; filename=report.txt"
    response = client.get("/résumé.txt")
    response.close()
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=resume.txt; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
    )


def test_send_file_object(sapp: Demijohn, make_client: MakeClient) -> None:
    @sapp.route("/obj")
    def obj() -> t.Any:
        return send_file(io.BytesIO(b"{}"), download_name="data.json")

    @sapp.route("/obj-mime")
    def obj_mime() -> t.Any:
        return send_file(io.BytesIO(b"raw"), mimetype="application/x-custom")

    client = make_client(sapp)
    response = client.get("/obj")
    assert response.data == b"{}"
    assert response.mimetype == "application/json"
    assert "Content-Disposition" in response.headers  # inline with filename
    assert response.headers["Content-Disposition"].startswith("inline")
    response.close()
    response = client.get("/obj-mime")
    assert response.data == b"raw"
    assert response.mimetype == "application/x-custom"
    response.close()


def test_send_file_object_without_name_or_mimetype_raises(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    @sapp.route("/")
    def index() -> t.Any:
        return send_file(io.BytesIO(b"x"))

    with pytest.raises(TypeError, match="mimetype"):
        make_client(sapp).get("/")


def test_send_file_text_file_object_raises(sapp: Demijohn) -> None:
    with sapp.test_request_context(), pytest.raises(ValueError, match="binary mode"):
        send_file(io.StringIO("text"), mimetype="text/plain")  # type: ignore[arg-type]


def test_send_file_missing_raises_file_not_found(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    @sapp.route("/")
    def index() -> t.Any:
        return send_file("files/missing.txt")

    with pytest.raises(FileNotFoundError):
        make_client(sapp).get("/")


def test_send_file_custom_etag_and_last_modified(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    modified = datetime(2020, 1, 1, tzinfo=timezone.utc)

    @sapp.route("/")
    def index() -> t.Any:
        return send_file("files/report.txt", etag="custom-tag", last_modified=modified)

    client = make_client(sapp)
    response = client.get("/")
    response.close()
    assert response.headers["ETag"] == '"custom-tag"'
    assert response.last_modified == modified
    with client.get("/", headers={"If-None-Match": '"custom-tag"'}) as response:
        assert response.status_code == 304


def test_send_file_etag_false(sapp: Demijohn, make_client: MakeClient) -> None:
    @sapp.route("/")
    def index() -> t.Any:
        return send_file("files/report.txt", etag=False)

    response = make_client(sapp).get("/")
    response.close()
    assert "ETag" not in response.headers


def test_send_file_uses_app_response_class(sapp: Demijohn) -> None:
    class MyResponse(sapp.response_class):  # type: ignore[name-defined, misc]
        pass

    sapp.response_class = MyResponse
    with sapp.test_request_context():
        response = send_file("files/report.txt")
        response.close()
    assert type(response) is MyResponse


def test_send_file_outside_request_raises(sapp: Demijohn) -> None:
    with pytest.raises(RuntimeError):
        send_file("files/report.txt")


# -- X-Sendfile ----------------------------------------------------------------


def test_use_x_sendfile(sapp: Demijohn, root: Path, make_client: MakeClient) -> None:
    sapp.config["USE_X_SENDFILE"] = True

    @sapp.route("/file")
    def file() -> t.Any:
        return send_file("files/report.txt")

    client = make_client(sapp)
    for url, path in (
        ("/static/text.txt", root / "static" / "text.txt"),
        ("/file", root / "files" / "report.txt"),
    ):
        response = client.get(url)
        assert response.headers["X-Sendfile"] == str(path)
        assert response.data == b""
        assert response.mimetype == "text/plain"


def test_x_sendfile_not_used_for_file_objects(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    sapp.config["USE_X_SENDFILE"] = True

    @sapp.route("/")
    def index() -> t.Any:
        return send_file(io.BytesIO(b"data"), mimetype="text/plain")

    response = make_client(sapp).get("/")
    assert "X-Sendfile" not in response.headers
    assert response.data == b"data"


# -- send_from_directory -----------------------------------------------------


@pytest.fixture
def dapp(sapp: Demijohn) -> Demijohn:
    @sapp.route("/files/<path:name>")
    def files(name: str) -> t.Any:
        return send_from_directory("files", name)

    @sapp.route("/attach/<path:name>")
    def attach(name: str) -> t.Any:
        return send_from_directory("files", name, as_attachment=True)

    @sapp.route("/query")
    def query() -> t.Any:
        return send_from_directory("files", request.args["name"])

    return sapp


def test_send_from_directory(dapp: Demijohn, make_client: MakeClient) -> None:
    client = make_client(dapp)
    response = client.get("/files/report.txt")
    assert response.status_code == 200
    assert response.data == TEXT
    response.close()
    response = client.get("/attach/report.txt")
    response.close()
    assert response.headers["Content-Disposition"] == "attachment; filename=report.txt"


def test_send_from_directory_missing_is_404(
    dapp: Demijohn, make_client: MakeClient
) -> None:
    assert make_client(dapp).get("/files/missing.txt").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "../static/text.txt",
        "..",
        ".",
        "",
        "/etc/passwd",
        "//etc/passwd",
        "..\\secret.txt",
        "\\etc\\passwd",
        "report.txt\x00",
        "\x00",
        "files/../../secret.txt",
        "C:\\Windows\\win.ini",
    ],
)
def test_send_from_directory_refuses_escapes(
    dapp: Demijohn, make_client: MakeClient, root: Path, name: str
) -> None:
    response = make_client(dapp).get("/query", query_string={"name": name})
    assert response.status_code == 404
    assert b"do not serve" not in response.data


@pytest.mark.parametrize(
    "path",
    [
        "/files/..%2fsecret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2E%2E%2Fsecret.txt",
    ],
)
def test_send_from_directory_refuses_encoded_escapes(
    dapp: Demijohn, make_client: MakeClient, path: str
) -> None:
    assert make_client(dapp).get(path).status_code == 404


def test_send_from_directory_raises_not_found(dapp: Demijohn) -> None:
    with dapp.test_request_context(), pytest.raises(NotFound):
        send_from_directory("files", "../secret.txt")


def test_send_from_directory_absolute_directory(
    sapp: Demijohn, root: Path, make_client: MakeClient
) -> None:
    @sapp.route("/<name>")
    def index(name: str) -> t.Any:
        return send_from_directory(root / "files", name)

    response = make_client(sapp).get("/report.txt")
    assert response.data == TEXT
    response.close()


def test_send_from_directory_passes_options(
    sapp: Demijohn, make_client: MakeClient
) -> None:
    @sapp.route("/")
    def index() -> t.Any:
        return send_from_directory(
            "files", "report.txt", mimetype="application/x-report", max_age=5
        )

    response = make_client(sapp).get("/")
    response.close()
    assert response.mimetype == "application/x-report"
    assert response.headers["Cache-Control"] == "public, max-age=5"
