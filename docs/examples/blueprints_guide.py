"""Blueprints: a shop with an admin area nested inside it, registered twice
under different names and prefixes."""

from __future__ import annotations

from demijohn import Blueprint, Demijohn, abort, g, request, url_for

shop = Blueprint("shop", __name__)
admin = Blueprint("admin", __name__, url_prefix="/admin")

PRODUCTS = {"tea": 3, "coffee": 4}


@shop.url_value_preprocessor
def pull_currency(endpoint: str | None, values: dict[str, object] | None) -> None:
    # Every shop URL starts with the currency; take it out of the view
    # arguments once, here, instead of in every view.
    g.currency = values.pop("currency") if values else "eur"


@shop.url_defaults
def add_currency(endpoint: str, values: dict[str, object]) -> None:
    # ...and put it back when building shop URLs from inside the shop.
    if "currency" in g:
        values.setdefault("currency", g.currency)


@shop.get("/")
def index() -> dict[str, object]:
    # ".product" is relative: the "product" endpoint of this blueprint, under
    # whatever name the blueprint was registered with.
    return {
        "currency": g.currency,
        "links": [url_for(".product", name=name) for name in PRODUCTS],
    }


@shop.get("/products/<name>")
def product(name: str) -> dict[str, object]:
    if name not in PRODUCTS:
        abort(404)
    return {"name": name, "price": PRODUCTS[name], "currency": g.currency}


@shop.errorhandler(404)
def shop_not_found(error: Exception) -> tuple[dict[str, str], int]:
    # Only for errors raised by the shop's views.
    return {"error": "no such product"}, 404


@admin.before_request
def require_admin() -> tuple[str, int] | None:
    if request.headers.get("X-Admin") != "yes":
        return "admins only", 403
    return None


@admin.get("/")
def dashboard() -> str:
    return f"{len(PRODUCTS)} products"


# Nesting: the admin pages live under the shop's URL and endpoint names.
shop.register_blueprint(admin)


def create_app() -> Demijohn:
    app = Demijohn(__name__)
    app.register_blueprint(shop, url_prefix="/<currency>/shop")
    # The same blueprint again, under another name and prefix.
    app.register_blueprint(shop, name="outlet", url_prefix="/<currency>/outlet")
    return app
