from demijohn import Demijohn  # or: from demijohn import Flask

app = Demijohn(__name__)


@app.route("/")
def index() -> dict[str, str]:
    return {"hello": "world"}
