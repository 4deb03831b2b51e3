"""Sphinx configuration for the demijohn docs.

Build with ``scripts/build-docs`` (warnings are errors). The build needs no
network: external references (Python, Werkzeug, Jinja, click) are left as
plain code unless ``DEMIJOHN_DOCS_INTERSPHINX=1`` is set on a machine that
can fetch the inventories.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

import demijohn

project = "demijohn"
author = "The demijohn developers"
copyright = "the demijohn developers"
release = demijohn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "myst_parser",
    "demijohn_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples/README.md"]
templates_path: list[str] = []

# -- MyST --------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- autodoc -----------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
autodoc_class_signature = "separated"
add_module_names = False
python_use_unqualified_type_names = True

# -- references --------------------------------------------------------------

# Every reference to a demijohn name must resolve, so a renamed or removed
# name fails the build. References to other projects cannot be resolved
# without fetching their inventories, so they stay plain code.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(?!demijohn\b).*"),
    # Private helpers are named in prose but deliberately not documented.
    (r"py:.*", r"demijohn\..*\._\w+"),
]

if os.environ.get("DEMIJOHN_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3/", None),
        "werkzeug": ("https://werkzeug.palletsprojects.com/en/stable/", None),
        "jinja": ("https://jinja.palletsprojects.com/en/stable/", None),
        "click": ("https://click.palletsprojects.com/en/stable/", None),
    }

# -- HTML --------------------------------------------------------------------

html_theme = "furo"
html_title = f"demijohn {release}"
