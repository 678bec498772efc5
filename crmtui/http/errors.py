"""Typed errors: every failure the client can meet, with the vendor's own words.

``str(error)`` is what the user reads: the vendor, what happened (the vendor's message
when it gave one) and what to do. Secrets never appear in these texts: the session
redacts them before an error is built.
"""

from __future__ import annotations


class CrmError(Exception):
    """Base of every error the client raises."""

    retryable: bool = False
    default_hint: str = ""
    maybe_applied: bool = False
    """True when the request was sent and its outcome is unknown (a timeout or a dropped
    connection after sending, a 5xx from a proxy): a write may have reached the vendor, so
    it must be checked with the vendor before it is sent again, never blindly retried."""

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status: int | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
        maybe_applied: bool | None = None,
    ) -> None:
        if maybe_applied is not None:
            self.maybe_applied = maybe_applied
        self.vendor = vendor
        self.message = message
        self.status = status
        self.hint = self.default_hint if hint is None else hint
        self.retry_after = retry_after
        super().__init__(self.__str__())

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        hint = f" {self.hint}" if self.hint else ""
        text = f"{self.vendor}: {self.message}{status}"
        end = "" if text.endswith((".", "!", "?")) else "."  # no "..", nor a changed ".."
        return f"{text}{end}{hint}"


class AuthError(CrmError):
    default_hint = "Check the profile's credentials in config.toml."


class PermissionDenied(CrmError):
    default_hint = "Your user may not have access to this record."


class NotFound(CrmError):
    default_hint = "It may have been deleted on the server."


class Rejected(CrmError):
    """The vendor refused the request (400, 422 and other 4xx): fix the input."""

    default_hint = "Correct the value and save again."


class ConflictError(CrmError):
    default_hint = "The record changed on the server; review both versions."


class RateLimited(CrmError):
    retryable = True
    default_hint = "The vendor's rate limit was reached; crmtui will retry."


class ServerError(CrmError):
    retryable = True
    default_hint = "The vendor had a problem; crmtui will retry."


class Offline(CrmError):
    """The vendor could not be reached: connection refused, reset, or timed out."""

    retryable = True
    default_hint = "You appear to be offline; edits are queued and sent when back online."


class BadResponse(CrmError):
    """The vendor answered with something that is not what its API documents."""

    retryable = True
    default_hint = "The vendor sent an unreadable reply; crmtui will retry."


class Redirected(CrmError):
    """The server answered with a redirect (3xx) where crmtui does not follow one.

    Only a 2xx is success: a redirected write was not applied where it was meant to go
    (a wrong domain or base URL, an http->https upgrade, a network's sign-in page), and a
    read is followed only where the vendor documents redirects, to its own host. The
    message names the host the server pointed to; crmtui retries later, as the cause may
    be a network's sign-in page that goes away.
    """

    retryable = True
    default_hint = (
        "Check the profile's domain and base_url in config.toml (or sign in to the "
        "network, if it asks you to); crmtui will retry."
    )


class ReplyTooLarge(BadResponse):
    """The reply was larger than ``Http(max_reply_bytes=...)``: refused before it was read."""

    retryable = False
    default_hint = "crmtui refuses replies this large; ask for fewer records at a time."


class InsecureURL(ValueError):
    """A non-loopback URL that is not https."""
