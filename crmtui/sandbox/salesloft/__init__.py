"""The Salesloft REST API v2 sandbox (see ``app`` for its documented decisions)."""

from crmtui.sandbox.salesloft.app import create_app

__all__ = ["create_app"]
