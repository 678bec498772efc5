"""Salesloft's connection: a bearer token (an API key or an OAuth access token), v2's
error bodies, and the budget left this minute, read off every reply."""

from __future__ import annotations

import httpx

from crmtui.http import RateLimiter
from crmtui.http.client import json_object


def parse_error(response: httpx.Response) -> str | None:
    """v2 errors: ``{"error": "..."}`` or ``{"errors": {"field": ["msg", ...]}}``."""
    body = json_object(response)
    if body is None:
        return None
    if isinstance(body.get("error"), str):
        return str(body["error"])
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts = []
        for name, messages in errors.items():
            text = ", ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            parts.append(f"{name} {text}")
        return "; ".join(parts) or None
    if isinstance(errors, list):
        return "; ".join(map(str, errors)) or None
    return None


def observe_remaining(limiter: RateLimiter, response: httpx.Response) -> None:
    """Believe the server about the budget left this minute."""
    headers = response.headers
    remaining = headers.get("x-ratelimit-remaining-minute") or headers.get("x-ratelimit-remaining")
    try:
        if remaining is not None:
            limiter.observe(float(remaining))
    except ValueError:
        pass
