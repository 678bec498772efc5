"""A sixth CRM, "Toy CRM", added the way a new vendor is: its declarations on the mapping
(``vendor``), a sandbox of its API (``sandbox``), and two registrations. Nothing outside
this package knows it. Importing the package registers both."""

from crmtui import sandbox, vendors
from tests.toyvendor.vendor import Toy

SANDBOX = sandbox.SandboxInfo(
    "toy", "tests.toyvendor.sandbox:create_app", "/api/", secrets={"api_key": "sandbox"}
)
# A package installed with pip would name these in its entry points instead:
#   [project.entry-points."crmtui.vendors"]   toy = "toyvendor.vendor:Toy"
#   [project.entry-points."crmtui.sandboxes"] toy = "toyvendor:SANDBOX"
vendors.register(Toy)
sandbox.register(SANDBOX)

__all__ = ["SANDBOX", "Toy"]
