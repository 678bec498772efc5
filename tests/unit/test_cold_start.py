"""A new process showing the list: what it imports and builds before the first paint.

Each check runs in a fresh interpreter (this one has imported everything already).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fresh(code: str) -> object:
    """What ``code`` (run in a new interpreter at the project root) prints, as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_timed_cold_start_imports_no_sandbox_and_no_http() -> None:
    """``benchmarks/first_paint`` times what a list needs: the fake data of the
    benchmark's sandboxes (and their server and HTTP libraries) are not imported."""
    loaded = fresh(
        "import json, sys\n"
        "import benchmarks.tables, crmtui.store\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('starlette', 'httpx', 'click') or m.startswith('crmtui.sandbox'))))"
    )
    assert loaded == []


def test_reading_records_from_the_cache_builds_no_validator(tmp_path: Path) -> None:
    """Records read back from the cache are not validated again, so a start that opens
    the cache and shows a window builds no model's validator; one validated later
    behaves as before."""
    db = tmp_path / "cache.sqlite3"
    fresh(
        "import json\n"
        "from benchmarks.data import KIND, PROFILE, deals\n"
        "from crmtui.store import Store\n"
        f"store = Store({str(db)!r})\n"
        "print(json.dumps(store.upsert_records(list(deals(40)))))\n"
        "store.close()"
    )
    built = fresh(
        "import json\n"
        "from crmtui import model\n"
        "from crmtui.store import Store\n"
        f"store = Store({str(db)!r})\n"
        "shown = store.window('bench', 'deal', offset=0, limit=20)\n"
        "models = [n for n in dir(model) if isinstance(getattr(model, n), type)"
        " and issubclass(getattr(model, n), model.BaseModel) and n != 'BaseModel']\n"
        "before = sorted(n for n in models if getattr(model, n).__pydantic_complete__)\n"
        "again = model.Record.model_validate(shown[0].model_dump())\n"
        "print(json.dumps([store.count('bench', 'deal'), len(shown), before,"
        " again == shown[0], sorted(again.related)]))"
    )
    assert built == [40, 20, [], True, []]


def test_the_collector_runs_again_after_the_app_is_imported() -> None:
    """The app's imports run with the cyclic collector paused (``starting_app``); after
    them, even when one fails, it collects again, sparing what the imports made."""
    state = fresh(
        "import gc, json\n"
        "from crmtui.start import starting_app\n"
        "seen = []\n"
        "try:\n"
        "    with starting_app():\n"
        "        seen.append(gc.isenabled())\n"
        "        import crmtui.store\n"
        "        raise ImportError('a module failed')\n"
        "except ImportError:\n"
        "    pass\n"
        "frozen = gc.get_freeze_count()\n"
        "with starting_app():\n"
        "    seen.append(gc.isenabled())\n"
        "print(json.dumps([seen, gc.isenabled(), frozen > 1000, gc.get_freeze_count() == frozen]))"
    )
    assert state == [[False, True], True, True, True]


def test_the_command_line_lists_the_sandboxes_without_their_server() -> None:
    """``crmtui`` reads its command line (which names the sandboxes ``demo`` and
    ``sandbox`` take) without importing a sandbox's server, Starlette: a rep opening
    their own profiles never runs one. The sandbox's faults are still there when asked
    for."""
    loaded = fresh(
        "import json, sys\n"
        "from crmtui.cli import build_parser\n"
        "build_parser().parse_args([])\n"
        "before = sorted(m for m in sys.modules if m.split('.')[0] == 'starlette')\n"
        "from crmtui.sandbox import Faults\n"
        "print(json.dumps([before, Faults.__module__, 'starlette' in sys.modules]))"
    )
    assert loaded == [[], "crmtui.sandbox.faults", True]
