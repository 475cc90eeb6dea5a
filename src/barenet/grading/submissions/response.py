"""Reading the child's response: records in the expected form, whatever the child sent.

Every string is bounded and cleaned here (see :func:`.text.clean_text`), every
number was range-checked when the message was decoded, so nothing the child
sends can raise in the judge or flood a report.
"""

from __future__ import annotations

from barenet.grading.submissions.text import clean_text

MAX_KEYS = 200  # pickle keys kept from a response
MAX_KEY_CHARS = 100
MAX_MESSAGE_CHARS = 600
MAX_RECORDS_PER_PLAN = 8


def clean_record(record: object) -> dict:
    """A record from the child in the expected form; anything malformed is dropped."""
    if not isinstance(record, dict):
        return {"error": {"type": "MalformedRecord", "message": "the record is not a dict"}}
    error = record.get("error")
    if error is not None:
        if not isinstance(error, dict):
            error = {}
        error = {
            "type": clean_text(error.get("type", "Error"), MAX_KEY_CHARS),
            "message": clean_text(error.get("message", ""), MAX_MESSAGE_CHARS),
        }
    warnings = record.get("warnings")
    warnings = [
        {
            "category": clean_text(w.get("category", ""), MAX_KEY_CHARS),
            "message": clean_text(w.get("message", ""), MAX_MESSAGE_CHARS),
        }
        for w in (warnings if isinstance(warnings, list) else [])[:20]
        if isinstance(w, dict)
    ]
    refs = record.get("refs_before")
    steps = record.get("steps")
    return {
        "result": record.get("result"),
        "args_after": record.get("args_after")
        if isinstance(record.get("args_after"), list)
        else None,
        "refs_before": refs if isinstance(refs, dict) else {},
        "warnings": warnings,
        "error": error,
        "steps": steps if isinstance(steps, int) else 0,
    }


def records_of(response: dict, count: int) -> list[list[dict]]:
    """One list of clean records per test (missing plans become empty lists)."""
    raw = response.get("records")
    raw = raw if isinstance(raw, list) else []
    plans = [p if isinstance(p, list) else [] for p in raw[:count]]
    plans += [[]] * (count - len(plans))
    return [[clean_record(r) for r in plan[:MAX_RECORDS_PER_PLAN]] for plan in plans]


def found_keys(response: dict) -> list[str]:
    """The pickle keys the child says it found: at most :data:`MAX_KEYS`, each cleaned."""
    keys = response.get("keys")
    keys = keys if isinstance(keys, list) else []
    return [clean_text(key, MAX_KEY_CHARS) for key in keys[:MAX_KEYS]]


def load_failure(error: dict) -> str:
    """Why a submission could not be loaded; says so when it needs barenet."""
    module = clean_text(error.get("module", ""), MAX_KEY_CHARS)
    kind = clean_text(error.get("type", "Error"), MAX_KEY_CHARS)
    text = f"{kind}: {clean_text(error.get('message', ''), MAX_MESSAGE_CHARS)}"
    if module == "barenet" or module.startswith("barenet.") or "'barenet" in text:
        return (
            "the submission uses barenet's reference code (it needs barenet to load), which "
            f"does not count as the learner's implementation ({text[:300]})"
        )
    return f"could not load the submission: {text[:600]}"
