"""Server-side validation of what users submit, shared by the HTML forms
and the JSON API.

Each ``validate_*`` function takes the submitted fields (``request.form``
or a decoded JSON object) and returns a :class:`Submission`: the cleaned
values to save, and one message per invalid field to show next to it.
"""

from __future__ import annotations

import dataclasses
import typing as t


@dataclasses.dataclass
class Submission:
    """Cleaned values and the error message of each invalid field."""

    values: dict[str, str]
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every field is valid."""
        return not self.errors


def _text(
    submission: Submission,
    fields: t.Mapping[str, t.Any],
    name: str,
    label: str,
    *,
    max_length: int,
    required: bool = True,
    strip: bool = True,
) -> None:
    raw = fields.get(name)
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        submission.errors[name] = f"{label} must be text."
        return
    value = raw.strip() if strip else raw
    submission.values[name] = value
    if required and not value:
        submission.errors[name] = f"{label} is required."
    elif len(value) > max_length:
        submission.errors[name] = f"{label} must be at most {max_length} characters."


def validate_credentials(
    fields: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any]
) -> Submission:
    """A username and password, for registering or logging in."""
    submission = Submission(values={})
    _text(
        submission,
        fields,
        "username",
        "Username",
        max_length=config["MAX_USERNAME_LENGTH"],
    )
    # Passwords are taken exactly as typed: spaces may be part of them.
    _text(
        submission,
        fields,
        "password",
        "Password",
        max_length=config["MAX_PASSWORD_LENGTH"],
        strip=False,
    )
    return submission


def validate_post(
    fields: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any]
) -> Submission:
    """A post's title (required) and body (may be empty)."""
    submission = Submission(values={})
    _text(submission, fields, "title", "Title", max_length=config["MAX_TITLE_LENGTH"])
    _text(
        submission,
        fields,
        "body",
        "Body",
        max_length=config["MAX_BODY_LENGTH"],
        required=False,
    )
    return submission
