"""PHP and WordPress functions the REST answers depend on (intval, $_GET parsing, slugs, dates, JSON)."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, unquote_plus

# The recorded store ran at UTC+1 (every date_modified is date_modified_gmt + 1 h).
SITE_UTC_OFFSET = timedelta(hours=1)


def php_intval(value: Any) -> int:
    """PHP's intval(), which wc_stock_amount() is: "41" -> 41, 41.5 -> 41, "abc" -> 0, None -> 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else 0
    if isinstance(value, str):
        match = re.match(r"[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)", value)
        if not match:
            return 0
        number = match.group(1)
        if re.fullmatch(r"[+-]?\d+", number):
            return int(number)
        as_float = float(number)
        return int(as_float) if math.isfinite(as_float) else 0
    if isinstance(value, list | dict):
        return 1 if value else 0
    return 0


def wc_string_to_bool(value: Any) -> bool:
    """wc_string_to_bool(): true for true, 1, "1", "yes" and "true" (case-insensitive)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value == 1
    if isinstance(value, str):
        return value.lower() in ("yes", "true", "1")
    return False


def isset(params: dict[str, Any], name: str) -> bool:
    """PHP isset($request[name]): present and not null."""
    return params.get(name) is not None


def rawurlencode(value: str) -> str:
    """PHP rawurlencode(): RFC 3986, everything but A-Z a-z 0-9 - _ . ~ is percent-encoded."""
    return quote(value, safe="")


def php_query(raw: str) -> dict[str, Any]:
    """Parse a query string like PHP fills $_GET: the last value of a repeated key wins but keeps
    the key's first position; `a[]=1&a[]=2` and `a[k]=v` make arrays; '.' and ' ' in names become
    '_'."""
    result: dict[str, Any] = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        key, value = unquote_plus(key), unquote_plus(value)
        base, bracket, rest = key.partition("[")
        base = base.lstrip(" ").replace(".", "_").replace(" ", "_")
        if not base:
            continue
        if bracket and "]" in rest:
            sub = rest[: rest.index("]")]
            container = result.get(base)
            if not isinstance(container, dict):
                container = {}
                result[base] = container
            if sub == "":
                numeric = [k for k in container if isinstance(k, int)]
                container[max(numeric) + 1 if numeric else 0] = value
            else:
                container[int(sub) if sub.isdigit() else sub] = value
        else:
            if bracket:  # an unmatched '[' is turned into '_' as well
                base = f"{base}_{rest}"
            result[base] = value
    return result


def wp_parse_list(value: Any) -> list[Any]:
    """wp_parse_list(): an array as is, or a string split on commas and whitespace."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [part for part in re.split(r"[\s,]+", str(value)) if part]


def wp_sprintf_list(values: Iterable[str]) -> str:
    """wp_sprintf's %l: "a", "a and b", "a, b, and c" (as in the recorded enum messages)."""
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]


def sanitize_title(text: str) -> str:
    """sanitize_title(): the slug WordPress derives from a title ("T-Shirt - S, Red" -> t-shirt-s-red)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = text.replace(".", "-")
    text = re.sub(r"[^a-z0-9 _\-]", "", text)
    return re.sub(r"[\s\-]+", "-", text).strip("-")


def wc_clean(value: Any) -> str:
    """wc_clean(): strip tags and surrounding whitespace."""
    return re.sub(r"<[^>]*>", "", str(value)).strip()


def wp_json(data: Any) -> bytes:
    """wp_json_encode() with WordPress's default flags: compact, \\uXXXX escapes and escaped '/'.

    The escaped slashes matter for realism: a 100-item batch answer of full products is ~210 KB
    on the real store, as recorded.
    """
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def parse_rest_date(value: str) -> datetime | None:
    """rest_parse_date(): RFC 3339 date-time, optional fraction and zone; None when invalid."""
    match = re.fullmatch(
        r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?",
        value,
    )
    if not match:
        return None
    try:
        moment = datetime(*(int(match.group(i)) for i in range(1, 7)))
    except ValueError:
        return None
    zone = match.group(7)
    if zone is None:
        return moment
    if zone == "Z":
        return moment.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return moment.replace(tzinfo=timezone(sign * offset))


def gmt(ts: int) -> str:
    """A GMT date as the REST API prints it (second resolution, no zone)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def local(ts: int) -> str:
    """A site-time date as the REST API prints it (the recorded store ran at UTC+1)."""
    return (datetime.fromtimestamp(ts, UTC) + SITE_UTC_OFFSET).strftime("%Y-%m-%dT%H:%M:%S")
