"""The application of ``migration_flask.py``, moved to demijohn: only the
imports changed."""

from __future__ import annotations

from demijohn import Flask, render_template_string, request  # Flask is Demijohn
from demijohn.views import MethodView

app = Flask(__name__)
notes: list[str] = []


class Notes(MethodView):
    def get(self) -> str:
        return render_template_string(
            "<ul>{% for note in notes %}<li>{{ note }}</li>{% endfor %}</ul>",
            notes=notes,
        )

    def post(self) -> tuple[dict[str, list[str]], int]:
        notes.append(request.get_json()["text"])
        return {"notes": notes}, 201


app.add_url_rule("/notes", view_func=Notes.as_view("notes"))
