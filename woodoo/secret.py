"""Secrets in the config: literal, `${ENV_VAR}`, or `enc:` values encrypted with Fernet."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from woodoo.errors import WoodooError

KEY_ENV = "WOODOO_SECRET_KEY"
KEY_FILE_ENV = "WOODOO_SECRET_KEY_FILE"
ENCRYPTED_PREFIX = "enc:"
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# The secrets that sign a channel (HMAC secrets, URL tokens): at least this long...
MIN_CHANNEL_LENGTH = 32
# ...and this varied. A floor against padding and repetition ("ab" * 16, "password" * 4), not an
# entropy meter: a random 32-hex-digit secret (openssl rand -hex 16) has about 14 different
# characters and fewer than 8 about once in 30 million draws, token_urlsafe(32) about 31.
MIN_CHANNEL_DISTINCT = 8
MAX_CHANNEL_LENGTH = 4096  # more is a paste gone wrong, and every signature hashes it


class SecretError(WoodooError):
    """A secret could not be resolved; the message says why and how to fix it."""


def generate_key() -> str:
    """A new Fernet key, as text."""
    return Fernet.generate_key().decode("ascii")


def make_channel_secret() -> str:
    """A new random secret for one channel (43 URL-safe characters: fits a URL, a PHP string
    and an Odoo system parameter unescaped)."""
    return secrets.token_urlsafe(32)


def channel_weakness(value: str) -> str | None:
    """Why `value` cannot sign a channel, in words (blank, padded, short, repetitive, too long),
    or None when it can."""
    if not value.strip():
        return "must not be blank"
    if value != value.strip():
        # Padding adds nothing to guess, and is lost where the other side trims the value.
        return "starts or ends with spaces or other blanks; remove them (they add nothing to guess)"
    if len(value) < MIN_CHANNEL_LENGTH:
        return f"must be at least {MIN_CHANNEL_LENGTH} characters, got {len(value)}"
    if len(value) > MAX_CHANNEL_LENGTH:
        return f"must be at most {MAX_CHANNEL_LENGTH} characters, got {len(value)}"
    if len(set(value)) < MIN_CHANNEL_DISTINCT:
        return (f"uses only {len(set(value))} different characters (at least "
                f"{MIN_CHANNEL_DISTINCT}); a value this repetitive is guessed far sooner than its "
                f"length says")
    return None


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
