"""The SalesSeek sandbox (see ``app`` for the API and the decisions made)."""

from crmtui.sandbox.salesseek.app import create_app

__all__ = ["create_app"]
