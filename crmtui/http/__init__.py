"""The shared async HTTP client (see ``client``), auth, rate limits and typed errors."""

from crmtui.http.client import Http, VendorSession, WriteTrace, parse_retry_after
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
    Redirected,
    Rejected,
    ReplyTooLarge,
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
    "Redirected",
    "Rejected",
    "ReplyTooLarge",
    "ServerError",
    "VendorSession",
    "WriteTrace",
    "parse_retry_after",
]
