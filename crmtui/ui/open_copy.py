"""Open a record in its vendor's web app; copy a value or a record's link.

`o` opens the record's page in the vendor's web app (``Vendor.record_url``: each vendor
package declares its web app's root and each kind's page) through ``App.open_url``: the
default browser, or, in the browser build (`crmtui serve`, textual-serve), the browser
the page is in. `y` copies the highlighted value and `Y` the record's web link through
``App.copy_to_clipboard``: OSC 52, which the terminal turns into a clipboard write, over
SSH too. Each says what it did in a notice (``CrmApp.notify``: plain text, vendor words
inert); a kind whose vendor has no web page says so instead.

The record screen and a list row offer the keys (``LINK_BINDINGS`` and ``RecordLinks``),
and the command palette offers them on those screens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from textual.binding import Binding, BindingType

from crmtui.http import CrmError
from crmtui.model import RecordRef
from crmtui.service import Crm
from crmtui.text import clean

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode

    _Node = DOMNode  # the mixin's methods run on a screen or widget
else:
    _Node = object

# Textual's copy writes the whole value as one OSC 52 sequence, which terminals accept up
# to a length of their own and drop whole beyond it: a 20 MB note would be "copied" with
# nothing in the clipboard. Refused beyond this (a limit crmtui chose), saying so.
COPY_LIMIT = 100_000  # characters
SHOWN = 80  # characters of a copied value repeated in the notice

LINK_BINDINGS: list[BindingType] = [
    Binding("o", "open_web", "Open in web app", show=False, id="open_web"),
    Binding("y", "copy_value", "Copy value", show=False, id="copy_value"),
    Binding("Y", "copy_link", "Copy web link", show=False, id="copy_link"),
]


def web_link(crm: Crm, ref: RecordRef) -> str | None:
    """The record's page in its vendor's web app (https only), None when there is none."""
    try:
        url = crm.adapter(ref.profile).record_url(ref.kind, ref.id)
    except CrmError:  # a profile that could not be opened has no adapter
        return None
    return url if url and urlsplit(url).scheme == "https" else None


def no_link(crm: Crm, ref: RecordRef) -> str:
    """Why there is no link, in the vendor's words: "Freshsales has no web link for tasks"."""
    info = crm.kind_info(ref.profile, ref.kind)
    what = info.label.lower() if info else ref.kind
    return f"{crm.vendor_label(ref.profile)} has no web link for {what}"


def open_web(app: App[object], crm: Crm, ref: RecordRef) -> None:
    url = web_link(crm, ref)
    if url is None:
        app.notify(no_link(crm, ref), severity="warning")
        return
    app.open_url(url)
    app.notify(f"Opening in your browser: {url}", timeout=5)


def copy_link(app: App[object], crm: Crm, ref: RecordRef) -> None:
    url = web_link(crm, ref)
    if url is None:
        app.notify(no_link(crm, ref), severity="warning")
        return
    app.copy_to_clipboard(url)
    app.notify(f"Copied the web link: {url}", timeout=5)


def copy_value(app: App[object], label: str, text: str) -> None:
    """Copy ``text`` (``label``'s value, as shown): control characters made visible as
    on screen (``clean``), so a value never carries a terminal sequence into a paste."""
    if len(text) > COPY_LIMIT:
        app.notify(
            f"{label} is too long to copy through the terminal ({len(text):,} characters, "
            f"{COPY_LIMIT:,} at most); v shows it whole",
            severity="warning",
        )
        return
    value = clean(text, multiline=True, limit=None)
    if not value.strip():
        app.notify(f"{label} is empty: nothing copied", severity="warning")
        return
    app.copy_to_clipboard(value)
    shown = clean(value, limit=SHOWN)  # one line in the notice
    app.notify(f"Copied {label}: {shown}", timeout=5)


class RecordLinks(_Node):
    """The actions behind ``LINK_BINDINGS`` for a screen or widget showing records:
    ``link_ref`` is the record they act on, ``copy_target`` the (label, value) `y` copies;
    either None when there is none (an empty list)."""

    crm: Crm
    LINK_COMMANDS: ClassVar[list[tuple[str, str, str]]] = [
        ("Open in web app", "Open the record in its vendor's web app (o)", "open_web"),
        ("Copy value", "Copy the highlighted value to the clipboard (y)", "copy_value"),
        ("Copy web link", "Copy the record's web link to the clipboard (Y)", "copy_link"),
    ]

    def link_ref(self) -> RecordRef | None:
        raise NotImplementedError

    def copy_target(self) -> tuple[str, str] | None:
        raise NotImplementedError

    def action_open_web(self) -> None:
        ref = self.link_ref()
        if ref is not None:
            open_web(self.app, self.crm, ref)

    def action_copy_link(self) -> None:
        ref = self.link_ref()
        if ref is not None:
            copy_link(self.app, self.crm, ref)

    def action_copy_value(self) -> None:
        target = self.copy_target()
        if target is None:
            self.app.notify("Nothing to copy here: highlight a field or a row first")
            return
        copy_value(self.app, *target)
