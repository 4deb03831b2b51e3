"""A small Flask application, before the move to demijohn.

``migration_demijohn.py`` is this file after the move: only the imports
differ, which the docs tests check line by line.
"""

from __future__ import annotations

from flask import Flask, render_template_string, request
from flask.views import MethodView

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
