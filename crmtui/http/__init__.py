"""The shared async HTTP client (see ``client``), auth, rate limits and typed errors."""

from crmtui.http.client import Http, VendorSession, parse_retry_after
from crmtui.http.errors import (
    AuthError,
    BadResponse,
    ConflictError,
    CrmError,
    InsecureURL,
    NotFound,
    Offline,
    PermissionDenied,
    RateLimited,
    Rejected,
    ServerError,
)
from crmtui.http.limiter import RateBudget, RateLimiter

__all__ = [
    "AuthError",
    "BadResponse",
    "ConflictError",
    "CrmError",
    "Http",
    "InsecureURL",
    "NotFound",
    "Offline",
    "PermissionDenied",
    "RateBudget",
    "RateLimited",
    "RateLimiter",
    "Rejected",
    "ServerError",
    "VendorSession",
    "parse_retry_after",
]
