"""What the vendor changes along with a queued edit shows at once (``KindInfo.follows``,
read by the optimistic overlay), and goes when the edit is discarded: a task completed
reads "completed", its due moment moves to the new due date's day at its time of day, a
new organization's name replaces the old one in the record's fields and subtitle."""

from __future__ import annotations

from crmtui.model import Change, Follow, FollowRule, KindInfo, RecordRef
from crmtui.store import Store
from crmtui.store.optimistic import followed
from tests.store.factory import rec

TASKS = KindInfo(
    kind="task",
    label="Tasks",
    singular="Task",
    follows=[
        Follow(field="done", when=True, sets="status", to="completed"),
        Follow(field="due_date", sets="due_at", rule=FollowRule.DAY),
    ],
)
DEALS = KindInfo(
    kind="deal",
    label="Deals",
    singular="Deal",
    references={"company": "company"},
    follows=[Follow(field="company", sets="company_name", rule=FollowRule.NAME)],
)


def test_each_rule_gives_what_the_vendor_will_set() -> None:
    task = {"done": False, "status": "open", "due_at": "2026-11-11T23:30:00+00:00"}
    rules = TASKS.follows
    assert followed(rules, task, {"done": True}) == {"status": "completed"}
    assert followed(rules, task, {"done": False}) == {}  # only completing is declared
    moved = followed(rules, task, {"due_date": "2026-12-05"})
    assert moved == {"due_at": "2026-12-05T23:30:00+00:00"}  # its own day, time kept
    assert followed(rules, {"due_at": None}, {"due_date": "2026-12-05"}) == {}
    # a value the edit gives itself wins over the rule
    assert followed(rules, task, {"done": True, "status": "open"}) == {}
    names = {"7": "Blue Networks"}
    pick = DEALS.follows
    assert followed(pick, {}, {"company": "7"}, lambda f, id: names.get(id)) == {
        "company_name": "Blue Networks"
    }
    assert followed(pick, {}, {"company": "8"}, lambda f, id: names.get(id)) == {}  # unknown
    assert followed(pick, {}, {"company": None}) == {"company_name": None}  # emptied


def test_a_queued_edit_shows_what_follows_until_discarded(store: Store) -> None:
    store.put_kinds("acme-fs", [TASKS, DEALS])
    task = rec(
        "1",
        "Call Mei",
        kind="task",
        done=False,
        status="open",
        due_date="2026-11-11",
        due_at="2026-11-11T18:00:00+00:00",
    )
    deal = rec("2", "Renewal", kind="deal", company="7", company_name="Acme Media Co")
    deal.subtitle = "Acme Media Co · Won · 8,000.00 GBP"
    store.upsert_records([task, deal, rec("8", "Blue Networks", kind="company")])
    edit = Change(ref=task.ref, values={"done": True, "due_date": "2026-12-05"})
    store.enqueue(edit)
    shown = store.get_record(task.ref)
    assert shown is not None
    assert shown.fields["status"] == "completed"
    assert shown.fields["due_at"] == "2026-12-05T18:00:00+00:00"

    store.enqueue(Change(ref=deal.ref, values={"company": "8"}))
    shown = store.get_record(deal.ref)
    assert shown is not None and shown.fields["company_name"] == "Blue Networks"
    assert shown.subtitle == "Blue Networks · Won · 8,000.00 GBP"

    store.discard(edit.id)  # the server's values again
    back = store.get_record(RecordRef(profile="acme-fs", kind="task", id="1"))
    assert back is not None and back.fields["status"] == "open"
    assert back.fields["due_at"] == "2026-11-11T18:00:00+00:00"
