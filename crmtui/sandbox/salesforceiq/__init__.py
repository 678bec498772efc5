"""SalesforceIQ (API v2) sandbox: see ``app`` for the routes and the decisions taken."""

from crmtui.sandbox.salesforceiq.app import create_app

__all__ = ["create_app"]
