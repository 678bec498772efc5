"""The start of the app's process: its imports made with the cyclic collector paused."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def starting_app() -> Iterator[None]:
    """Import the app with Python's cyclic garbage collector paused, then freeze what the
    imports made (``gc.freeze``): modules and classes live for the whole run, and the
    collections while importing walked them again and again (49 to 60 ms of CPU in
    ``benchmarks/first_paint``'s process, 3 ms paused). The garbage the imports leave
    is kept (under a thousand objects). A frozen process (the tests') is left as it is;
    the app freezes what its start made since at mount (``freeze_startup_objects``)."""
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
