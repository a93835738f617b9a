"""The starter config: the commented example (config/woodoo.example.yaml) with a user's
answers set in place, every comment kept."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import yaml


def example_text() -> str:
    """The commented starter config (config/woodoo.example.yaml)."""
    return resources.files("woodoo").joinpath("data/woodoo.example.yaml").read_text()


_TOP = re.compile(r"^(?P<comment>#\s?)?(?P<key>[A-Za-z_]\w*):(?P<rest>.*)$")
_CHILD = re.compile(r"^  (?P<key>[A-Za-z_]\w*):(?P<rest>.*)$")
_TRAILING_COMMENT = re.compile(r"\s+#\s.*$")


def yaml_scalar(value: Any) -> str:
    """`value` as YAML on one line (quoted when it must be)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1_000_000)
    text = text.removesuffix("\n...\n").removesuffix("\n")
    if "\n" in text:
        raise ValueError("a config value must fit on one line")
    return text


def render(template: str, values: dict[str, Any]) -> str:
    """`template` (the commented example) with `values` set in place; every comment stays.

    Keys are dotted: `odoo.url` is the `url:` line of the `odoo:` section; a top-level key that
    the template only shows commented out (`# secret_key_file: ...`) is written in its place.
    """
    out: list[str] = []
    section = None
    placed: set[str] = set()
    for line in template.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        end = line[len(body):]
        top = _TOP.match(body)
        child = _CHILD.match(body)
        if top is not None:
            key = top["key"]
            if not top["comment"]:
                section = key
            if key in values and key not in placed:
                trailing = "" if top["comment"] else _trailing(top["rest"])
                body = f"{key}: {yaml_scalar(values[key])}{trailing}"
                placed.add(key)
        elif child is not None and section is not None:
            path = f"{section}.{child['key']}"
            if path in values and path not in placed:
                body = f"  {child['key']}: {yaml_scalar(values[path])}{_trailing(child['rest'])}"
                placed.add(path)
        out.append(body + end)
    if set(values) - placed:
        raise ValueError(f"the template has no line for {', '.join(sorted(set(values) - placed))}")
    text = "".join(out)
    loaded = yaml.safe_load(text)
    for path, value in values.items():
        node = loaded
        for part in path.split("."):
            node = node[part]
        if node != value:
            raise ValueError(f"{path} did not survive the YAML round trip")
    return text


def _trailing(rest: str) -> str:
    match = _TRAILING_COMMENT.search(rest)
    return match.group(0) if match else ""
