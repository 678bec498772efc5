"""A crash exits non-zero and its report shows no customer data (no local variables)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SECRET_VALUES = ["Quillon Vantablack", "quillon@hidden-customer.example", "+44 7700 900461"]

SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    from pathlib import Path

    import crmtui.ui.app
    from crmtui.cli import run_app
    from crmtui.model import Record
    from crmtui.ui.app import CrmApp
    from crmtui.ui.launch import demo_crm


    class Crashing(CrmApp):
        CSS_PATH = str(Path(crmtui.ui.app.__file__).with_name("app.tcss"))

        def on_mount(self) -> None:
            super().on_mount()
            self.set_timer(0.2, self.open_it)

        def open_it(self) -> None:
            # Customer data comes from the cache, never from the source code shown.
            data = json.loads(Path(sys.argv[2]).read_text())
            record = Record(
                profile="demo", kind="contact", id="7", vendor="freshsales",
                title=data["name"], fields={"email": data["email"], "phone": data["phone"]},
            )
            fields = dict(record.fields)
            raise RuntimeError(f"the record screen broke on field {len(fields)}")


    crm, _ = demo_crm(vendors=["freshsales"], store_path=sys.argv[1])
    sys.exit(run_app(Crashing(crm), headless=True))
    """
)


def test_a_crash_exits_non_zero_and_shows_no_record_data(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(SCRIPT, encoding="utf-8")
    data = tmp_path / "record.json"
    name, email, phone = SECRET_VALUES
    data.write_text(json.dumps({"name": name, "email": email, "phone": phone}), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "cache.sqlite3"), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CRMTUI_HOME": str(tmp_path / "home"), "COLUMNS": "200"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "RuntimeError" in output and "the record screen broke" in output  # a useful report
    for value in SECRET_VALUES:
        assert value not in output, value
