"""WP_REST_Server's plumbing: errors, replies, the request a route sees, its permission check,
`_fields` filtering, and the paging headers (X-WP-Total, Link)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from woodoo.simulators.woocommerce.php import wp_parse_list

NAMESPACE = "wc/v3"
API_PREFIX = "/wp-json/wc/v3"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class RestError(Exception):
    """A WP_Error: code, message and data (data.status is the HTTP status)."""

    def __init__(self, code: str, message: str, status: int | None, **extra: Any) -> None:
        """An error with its code, message, HTTP status and extra data members."""
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra

    def data(self) -> dict[str, Any] | None:
        """The error's `data` member as WordPress serialises it."""
        if self.status is None and not self.extra:
            return None
        return {**({"status": self.status} if self.status is not None else {}), **self.extra}

    def body(self) -> dict[str, Any]:
        """The JSON body WordPress answers for this error."""
        return {"code": self.code, "message": self.message, "data": self.data()}


@dataclass
class Reply:
    """A REST answer before encoding: status, JSON-able data and extra headers."""

    data: Any
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Call:
    """One REST request as WordPress sees it: merged parameters, who is calling, over what."""

    method: str
    route: str
    route_args: dict[str, Any]
    query: dict[str, Any]
    body: dict[str, Any]
    json_error: RestError | None
    authenticated: bool
    ssl: bool
    base: str  # home URL in the request's scheme, used in links
    params: dict[str, Any] = field(default_factory=dict)
    provided: set[str] = field(default_factory=set)


def require_auth(call: Call, code: str, message: str) -> None:
    """A route's permission_callback: unauthenticated requests get 401."""
    if not call.authenticated:
        raise RestError(code, message, 401)


def context_of(call: Call) -> str:
    """The request's context parameter: "view" or "edit"."""
    return "edit" if call.params.get("context") == "edit" else "view"


# -- responses -------------------------------------------------------------------------------------


def error_reply(error: RestError, ssl: bool) -> Reply:
    """A WP_Error as a response; a refused Basic-auth secret also gets WWW-Authenticate
    (WC_REST_Authentication::send_unauthorized_headers)."""
    reply = Reply(error.body(), error.status or 500)
    if ssl and error.message == "Consumer secret is invalid.":
        reply.headers.append((
            "WWW-Authenticate",
            'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer '
            'secret in the password field."'))
    return reply


def filter_fields(data: Any, fields_param: Any) -> Any:
    """rest_filter_response_fields(): keep only `_fields`, with dotted paths for nested keys.

    Applied as WordPress does: to each element of a list response, otherwise to the object
    (_rest_array_intersect_key_recursive). That is why `_fields=update.id` on a batch answers
    `{"update": []}`: the list under "update" has no key "id" (recorded on 11.0.1).
    """
    fields = [f.strip() for f in wp_parse_list(fields_param)]
    fields = [f for f in fields if f]
    if not fields:
        return data
    tree: dict[str, Any] = {}
    for name in fields:
        parts = name.split(".")
        ref = tree
        skip = False
        for part in parts[:-1]:
            if ref.get(part) is True:  # the parent is already wholly included
                skip = True
                break
            ref = ref.setdefault(part, {})
        if not skip:
            ref[parts[-1]] = True
    if isinstance(data, list):
        return [_intersect(item, tree) for item in data]
    return _intersect(data, tree)


def _intersect(value: Any, tree: dict[str, Any]) -> Any:
    """_rest_array_intersect_key_recursive() on a PHP array; an empty result encodes as []."""
    if isinstance(value, list):
        return []  # a numeric array never has the named keys
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        if key in tree:
            wanted = tree[key]
            kept[key] = _intersect(item, wanted) if isinstance(wanted, dict) else item
    return kept if kept else []


def page_links(call: Call, page: int, pages: int) -> list[tuple[str, str]]:
    """Link rel="prev"/"next" as get_items() builds them: the request's own query parameters
    (OAuth ones included, so a followed link fails its signature check) with page= replaced.

    As recorded, the values come back urlencoded with '+' decayed to a space (written '+')
    and the signature's trailing '=' gone; parameters keep their first position.
    """
    route = f"{call.base}{_route_path(call)}"
    links: list[tuple[str, str]] = []

    def link(number: int) -> str:
        """The collection URL for page `number`."""
        params = dict(call.query)
        params["page"] = str(number)
        parts = []
        for key, value in params.items():
            if isinstance(value, dict):
                for sub, item in value.items():
                    parts.append(f"{quote_plus(str(key))}%5B{sub}%5D={_link_value(str(item))}")
            else:
                text = str(value)
                if key == "oauth_signature":
                    text = text.rstrip("=")  # as recorded (seen only on the signature)
                parts.append(f"{quote_plus(str(key))}={_link_value(text)}")
        return f"{route}?{'&'.join(parts)}"

    if page > 1:
        links.append(("Link", f'<{link(min(page - 1, pages))}>; rel="prev"'))
    if pages > page:
        links.append(("Link", f'<{link(page + 1)}>; rel="next"'))
    return links


def _link_value(value: str) -> str:
    """A query value as the recorded Link headers carry it: '+' decays to a space (see _page_links)."""
    return quote_plus(value.replace("+", " "), safe="")


def _route_path(call: Call) -> str:
    """The REST route path of a collection request, e.g. /wp-json/wc/v3/products/31/variations."""
    if call.route == "products":
        return f"{API_PREFIX}/products"
    if call.route == "variations":
        return f"{API_PREFIX}/products/{call.route_args['product_id']}/variations"
    if call.route == "orders":
        return f"{API_PREFIX}/orders"
    return f"{API_PREFIX}/variations"
