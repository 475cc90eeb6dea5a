"""Reading the child's response: records in the expected form, whatever the child sent."""

from __future__ import annotations


def clean_record(record: object) -> dict:
    """A record from the child in the expected form; anything malformed is dropped."""
    if not isinstance(record, dict):
        return {"error": {"type": "MalformedRecord", "message": "the record is not a dict"}}
    error = record.get("error")
    if error is not None:
        if not isinstance(error, dict):
            error = {}
        error = {"type": str(error.get("type", "Error")), "message": str(error.get("message", ""))}
    warnings = record.get("warnings")
    warnings = [
        {"category": str(w.get("category", "")), "message": str(w.get("message", ""))}
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
    return [[clean_record(r) for r in plan[:8]] for plan in plans]


def load_failure(error: dict) -> str:
    """Why a submission could not be loaded; says so when it needs barenet."""
    module = str(error.get("module", ""))
    text = f"{error.get('type', 'Error')}: {error.get('message', '')}"
    if module == "barenet" or module.startswith("barenet.") or "'barenet" in text:
        return (
            "the submission uses barenet's reference code (it needs barenet to load), which "
            f"does not count as the learner's implementation ({text[:300]})"
        )
    return f"could not load the submission: {text[:600]}"
