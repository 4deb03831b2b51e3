"""The quickstart's application: routes, request data, templates, JSON,
sessions and errors in one module. Run it with ``demijohn --app quickstart
run`` from this folder."""

from __future__ import annotations

from demijohn import (
    Demijohn,
    abort,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)

app = Demijohn(__name__)
# Signs the session cookie. Use a long random value, kept out of the code.
app.config["SECRET_KEY"] = "change me"

PAGE = "<h1>Hello, {{ name }}!</h1>"
USERS = {1: "ada", 2: "grace"}


@app.get("/")
def index() -> str:
    name = request.args.get("name", "world")
    # Autoescaped: a name of "<script>" is shown, not run.
    return render_template_string(PAGE, name=name)


@app.get("/users/<int:user_id>")
def show_user(user_id: int) -> dict[str, object]:
    if user_id not in USERS:
        abort(404)
    # A dict becomes a JSON response.
    return {"id": user_id, "name": USERS[user_id]}


@app.post("/users")
def create_user() -> tuple[dict[str, object], int, dict[str, str]]:
    data = request.get_json()
    user_id = max(USERS) + 1
    USERS[user_id] = data["name"]
    location = url_for("show_user", user_id=user_id)
    return {"id": user_id, "name": data["name"]}, 201, {"Location": location}


@app.route("/login", methods=["GET", "POST"])
def login() -> str | object:
    if request.method == "POST":
        session["user"] = request.form["username"]
        return redirect(url_for("index"))
    return '<form method="post"><input name="username"><button>Log in</button></form>'


@app.get("/me")
def me() -> dict[str, object]:
    return {"user": session.get("user")}


@app.errorhandler(404)
def not_found(error: Exception) -> tuple[dict[str, str], int]:
    return {"error": "not found"}, 404
