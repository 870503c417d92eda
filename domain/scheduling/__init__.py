"""Scheduling: what falls due when (`rules.py`), and the record of each due item raised (`due_item.py`).

The rules are pure: given facts of the ledger (a return's deadline, a contract's escalation,
action plans and term, a competition's standstill) and a day, they say what is due. The
scheduler (`api/scheduler.py`) asks them each tick and records what they find through
commands: `return.record_missed` for a return not received by its deadline, and `due.raise`
for each due item (a reminder, a reporting link, a due date), recorded once by its key.
"""
