"""Email by SMTP (STARTTLS, SSL or plain), retried with backoff; for the report and the alerts.

Sending never raises: it answers whether the mail went out and, if not, why in words, so that
neither the nightly report nor an alert can stop the daemon.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal

from woodoo import log
from woodoo.config import SmtpConfig
from woodoo.gateways import retry
from woodoo.gateways.retry import RemoteError, RetryPolicy

DEFAULT_POLICY = RetryPolicy(3, 1.0)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail (`password` is the plain secret, never logged)."""

    host: str
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "woodoo@localhost"
    recipients: tuple[str, ...] = ()
    timeout: float = 30


def settings(smtp: SmtpConfig) -> SmtpSettings:
    """The sending settings of the config's `smtp` section (the password resolved)."""
    return SmtpSettings(
        host=smtp.host or "", port=smtp.port, security=smtp.security, username=smtp.username,
        password=smtp.password.get_secret_value() if smtp.password else None,
        sender=smtp.sender, recipients=tuple(smtp.recipients), timeout=smtp.timeout,
    )


def _deliver(message: EmailMessage, settings: SmtpSettings) -> dict[str, tuple[int, bytes]]:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.security == "ssl":
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.username:
            client.login(settings.username, settings.password or "")
        return client.send_message(message, from_addr=settings.sender,
                                   to_addrs=list(settings.recipients))


def _smtp_words(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else str(
        error.smtp_error)
    return f"{error.smtp_code} {text}".strip()


def _as_remote_error(error: Exception, settings: SmtpSettings) -> RemoteError:
    """`error` in words, retryable when trying again later could help."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return RemoteError(f"the mail server at {where} rejected the username or password "
                           f"({_smtp_words(error)})", retryable=False)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return RemoteError(f"the mail server at {where} cannot do what the config asks: {error} "
                           f"(check smtp.security and smtp.username)", retryable=False)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{who}: {code} {text.decode(errors='replace')}"
                            for who, (code, text) in error.recipients.items())
        return RemoteError(f"the mail server at {where} refused every recipient ({refused})",
                           retryable=any(code < 500 for code, _ in error.recipients.values()))
    if isinstance(error, smtplib.SMTPSenderRefused):
        return RemoteError(f"the mail server at {where} refused the sender {error.sender} "
                           f"({_smtp_words(error)})", retryable=error.smtp_code < 500)
    if isinstance(error, smtplib.SMTPResponseException):
        return RemoteError(f"the mail server at {where} answered {_smtp_words(error)}",
                           retryable=error.smtp_code < 500)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return RemoteError(f"the mail server at {where} closed the connection ({error})",
                           retryable=True)
    if isinstance(error, ssl.SSLCertVerificationError):
        return RemoteError(f"the mail server at {where} has a certificate that cannot be trusted "
                           f"({error.verify_message})", retryable=False)
    if isinstance(error, ssl.SSLError):
        return RemoteError(f"TLS with the mail server at {where} failed ({error.reason or error}); "
                           f"check smtp.security and smtp.port", retryable=False)
    if isinstance(error, ConnectionRefusedError):
        return RemoteError(f"could not connect to the mail server at {where}: connection refused "
                           f"(is it running, and is the port right?)", retryable=True)
    if isinstance(error, socket.gaierror):
        return RemoteError(f"could not find the mail server {settings.host!r} ({error.strerror})",
                           retryable=True)
    if isinstance(error, TimeoutError):
        return RemoteError(f"the mail server at {where} did not answer within "
                           f"{settings.timeout:g} s", retryable=True)
    if isinstance(error, OSError | smtplib.SMTPException):
        return RemoteError(f"sending to the mail server at {where} failed: {error}", retryable=True)
    return RemoteError(f"sending the mail failed unexpectedly: {error!r}", retryable=False)


def send(message: EmailMessage, settings: SmtpSettings, *, policy: RetryPolicy = DEFAULT_POLICY,
         what: str = "mail") -> tuple[bool, str]:
    """Send `message` to `settings.recipients`, retrying; (sent, note in words), never raising."""
    logger = log.get("woodoo.reporting.mail", host=settings.host, port=settings.port,
                     security=settings.security, what=what)
    subject = str(message["Subject"] or "")
    try:
        if not settings.host:
            raise RemoteError("no mail server configured (smtp.host)", retryable=False)
        if not settings.recipients:
            raise RemoteError("no recipients configured (smtp.recipients)", retryable=False)

        def attempt() -> dict[str, tuple[int, bytes]]:
            try:
                return _deliver(message, settings)
            except Exception as error:
                raise _as_remote_error(error, settings) from error

        refused = retry.call(attempt, policy, f"send {what} email")
    except RemoteError as error:
        logger.error(f"{what} email failed", reason=str(error), subject=subject)
        return False, str(error)
    except Exception as error:  # never into the caller
        logger.exception(f"{what} email failed", reason=repr(error), subject=subject)
        return False, f"sending the {what} failed unexpectedly: {error!r}"
    accepted = [r for r in settings.recipients if r not in refused]
    note = f"sent to {', '.join(accepted)}"
    if refused:
        note += "; refused: " + "; ".join(
            f"{who} ({code} {text.decode(errors='replace')})" for who, (code, text) in refused.items())
        logger.warning(f"{what} email partly refused", refused=sorted(refused), subject=subject)
    logger.info(f"{what} emailed", recipients=accepted, subject=subject)
    return True, note
