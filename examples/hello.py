"""The smallest demijohn application: run it with ``python examples/hello.py``."""

from demijohn import Demijohn, render_template_string, request

app = Demijohn(__name__)

PAGE = """<!doctype html>
<title>Hello from demijohn</title>
<h1>Hello, {{ name }}!</h1>
<p>Served by demijohn. Try <a href="{{ url_for('greet', name='you') }}">/greet/you</a>
or <a href="{{ url_for('api') }}">the JSON endpoint</a>.</p>
"""


@app.get("/")
def index() -> str:
    return render_template_string(PAGE, name=request.args.get("name", "world"))


@app.get("/greet/<name>")
def greet(name: str) -> str:
    return render_template_string(PAGE, name=name)


@app.get("/api")
def api() -> dict[str, str]:
    return {"message": "hello", "framework": "demijohn"}


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000)
