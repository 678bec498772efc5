"""SalesforceIQ's connection: HTTP basic auth with the API key and secret; its error
object's ``userMessage`` (and ``errorMessage``)."""

from __future__ import annotations

import httpx

from crmtui.http.client import json_object


def parse_error(response: httpx.Response) -> str | None:
    """The error object's ``userMessage``, with ``errorMessage`` when it says more."""
    body = json_object(response)
    if body is None:
        return None
    user = str(body.get("userMessage") or "").strip()
    detail = str(body.get("errorMessage") or "").strip()
    if user and detail and detail.lower() != user.lower():
        return f"{user} ({detail})"
    return user or detail or None
