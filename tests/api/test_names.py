"""The notebook client's names: none shadows a builtin inside the class (``def list``
made ``list[Record]`` in the class body mean the method, not the type)."""

from __future__ import annotations

import builtins

from crmtui.api import Client


def test_no_method_of_the_client_shadows_a_builtin() -> None:
    public = {name for name in vars(Client) if not name.startswith("_")}
    assert public and public & set(dir(builtins)) == set()


def test_records_is_the_list_of_a_kind() -> None:
    assert callable(Client.records) and not hasattr(Client, "list")
