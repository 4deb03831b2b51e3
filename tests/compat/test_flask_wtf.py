"""Flask-WTF, unmodified, on demijohn: form validation and CSRF protection."""

from __future__ import annotations

import re
import typing as t

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, NumberRange

from demijohn.testing import DemijohnClient

Client = t.Callable[..., DemijohnClient]

FORM_PAGE = """\
<form method="post">{{ form.csrf_token }}{{ form.name }}{{ form.age }}</form>
{% for field, errors in form.errors.items() %}{{ field }}: {{ errors|join(", ") }}
{% endfor %}"""


class PersonForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])
    age = IntegerField("Age", validators=[NumberRange(min=0, max=150)])


@pytest.fixture
def wtf_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="csrf secret", TESTING=True)
    csrf = CSRFProtect(app)

    @app.route("/people", methods=["GET", "POST"])
    def people() -> str:
        form = PersonForm()
        if form.validate_on_submit():
            return f"saved {form.name.data}, {form.age.data}"
        return render_template_string(FORM_PAGE, form=form)

    @app.post("/webhook")
    @csrf.exempt
    def webhook() -> str:
        return "received"

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int]:
        return f"csrf: {error.description}", 400

    return app


@pytest.fixture
def client(wtf_app: Flask, make_client: Client) -> DemijohnClient:
    return make_client(wtf_app)


def _token(client: DemijohnClient) -> str:
    page = client.get("/people").text
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match is not None, page
    return match.group(1)


def test_a_valid_form_with_its_token_is_accepted(client: DemijohnClient) -> None:
    token = _token(client)
    response = client.post(
        "/people", data={"csrf_token": token, "name": "Ada", "age": "36"}
    )
    assert response.status_code == 200
    assert response.text == "saved Ada, 36"


def test_invalid_fields_are_reported_on_the_form(client: DemijohnClient) -> None:
    token = _token(client)
    response = client.post("/people", data={"csrf_token": token, "age": "200"})
    assert response.status_code == 200
    assert "name: This field is required." in response.text
    assert "age: Number must be between 0 and 150." in response.text


def test_a_missing_token_is_rejected_with_400(client: DemijohnClient) -> None:
    _token(client)
    response = client.post("/people", data={"name": "Ada", "age": "36"})
    assert response.status_code == 400
    assert response.text == "csrf: The CSRF token is missing."


def test_a_wrong_token_is_rejected_with_400(client: DemijohnClient) -> None:
    _token(client)
    response = client.post(
        "/people", data={"csrf_token": "not-a-token", "name": "Ada", "age": "1"}
    )
    assert response.status_code == 400
    assert response.text == "csrf: The CSRF token is invalid."


def test_a_token_from_another_session_is_rejected(
    wtf_app: Flask, client: DemijohnClient, make_client: Client
) -> None:
    token = _token(client)
    stranger = make_client(wtf_app)  # no session cookie
    response = stranger.post(
        "/people", data={"csrf_token": token, "name": "Ada", "age": "1"}
    )
    assert response.status_code == 400
    assert response.text == "csrf: The CSRF session token is missing."


def test_without_a_handler_csrf_errors_are_plain_400s(make_client: Client) -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "csrf secret"
    CSRFProtect(app)

    @app.post("/")
    def index() -> str:
        return "not reached"

    response = make_client(app).post("/", data={"x": "1"})
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.text


def test_the_token_is_accepted_from_a_header(client: DemijohnClient) -> None:
    token = _token(client)
    response = client.post(
        "/people", json={"name": "Ada", "age": 36}, headers={"X-CSRFToken": token}
    )
    assert response.text == "saved Ada, 36"


def test_exempt_views_need_no_token(client: DemijohnClient) -> None:
    assert client.post("/webhook", data={"event": "push"}).text == "received"
