"""Secrets in the config: literal, `${ENV_VAR}`, or `enc:` values encrypted with Fernet."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from woodoo.errors import WoodooError

KEY_ENV = "WOODOO_SECRET_KEY"
KEY_FILE_ENV = "WOODOO_SECRET_KEY_FILE"
ENCRYPTED_PREFIX = "enc:"
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SecretError(WoodooError):
    """A secret could not be resolved; the message says why and how to fix it."""


def generate_key() -> str:
    """A new Fernet key, as text."""
    return Fernet.generate_key().decode("ascii")


def encrypt(plaintext: str, key: str) -> str:
    """Encrypt `plaintext` into an `enc:` value for the config."""
    return ENCRYPTED_PREFIX + _fernet(key, "the key given").encrypt(plaintext.encode()).decode()


def load_key(key_file: Path | None) -> tuple[str | None, str]:
    """The Fernet key and where it came from: $WOODOO_SECRET_KEY, then the key file, else None."""
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].strip(), f"${KEY_ENV}"
    path = Path(os.environ[KEY_FILE_ENV]) if os.environ.get(KEY_FILE_ENV) else key_file
    if path is None:
        return None, "nowhere"
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            # As ssh does with a private key: a key others can read protects nothing.
            raise SecretError(f"key file {path} is readable by others (mode {mode & 0o777:o}); "
                              f"run `chmod 600 {path}`")
        return path.read_text().strip(), f"key file {path}"
    except FileNotFoundError:
        return None, f"key file {path} (missing)"
    except OSError as exc:
        raise SecretError(f"cannot read key file {path}: {exc.strerror}") from exc


def expand_env(value: str) -> str:
    """Replace each `${NAME}` with the environment variable NAME; a missing one is an error."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SecretError(f"environment variable {name} is not set; export it or write the value")
        if not os.environ[name].strip():
            # An empty secret would verify anything; an empty URL or name is a mistake too.
            raise SecretError(f"environment variable {name} is empty; give it a value")
        return os.environ[name]

    return _ENV_REFERENCE.sub(substitute, value)


def is_plaintext(value: str) -> bool:
    """True when a config value holds its secret as written (not `enc:`, not only `${VAR}`s)."""
    return (not value.startswith(ENCRYPTED_PREFIX)
            and bool(_ENV_REFERENCE.sub("", value).strip()))


def decrypt(value: str, key: str | None, key_source: str) -> str:
    """Decrypt an `enc:` value with the key from `key_source`."""
    if key is None:
        raise SecretError(
            f"the value is encrypted but no key was found ({key_source}); set {KEY_ENV} or "
            f"secret_key_file to the key used by `woodoo secret encrypt`"
        )
    try:
        return _fernet(key, key_source).decrypt(value[len(ENCRYPTED_PREFIX):].encode()).decode()
    except InvalidToken:
        raise SecretError(
            f"cannot decrypt: the key from {key_source} is not the one this value was encrypted "
            f"with, or the value is damaged; encrypt it again with `woodoo secret encrypt`"
        ) from None


def resolve(value: str, key: str | None, key_source: str) -> str:
    """A config string with `${VAR}` expanded and an `enc:` value decrypted."""
    expanded = expand_env(value)
    if expanded.startswith(ENCRYPTED_PREFIX):
        return decrypt(expanded, key, key_source)
    return expanded


def _fernet(key: str, source: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError):
        raise SecretError(
            f"the secret key from {source} is not a valid Fernet key (32 url-safe base64 bytes); "
            f"make one with `woodoo secret keygen`"
        ) from None
