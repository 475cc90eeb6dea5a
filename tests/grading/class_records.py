"""Graded submissions' JSON records, as the class report reads them, made up for its tests."""

from __future__ import annotations

TESTS = ["SigmoidForwardTest", "SigmoidBackwardTest", "ReluForwardTest", "ReluBackwardTest"]
AVERAGED = "dw is exactly 1/N (N = 7) of the expected gradient: it is averaged over the batch."
NO_MASK = "the ReLU gradient has no mask: multiply dout by (out > 0)."


def record(student: str, failed: dict[str, str | None], status: str = "graded", **extra) -> dict:
    """A record whose tests fail where ``failed`` says (test -> diagnosis or None)."""
    tests = []
    if status == "graded":
        for name in TESTS:
            diagnosis = failed.get(name)
            passed = name not in failed
            message = f"{name} passed." if passed else f"{name} failed: wrong values"
            tests.append(
                {
                    "name": name,
                    "passed": passed,
                    "message": message,
                    "advice": [],
                    "diagnosis": diagnosis,
                }
            )
    score = 100 * sum(t["passed"] for t in tests) / len(TESTS) if tests else 0
    return {
        "student": student,
        "submission": f"{student}.zip",
        "status": status,
        "score": score,
        "reason": extra.pop("reason", None),
        "tests": tests,
        "seed": 7,
        "convention": "exact",
        "sandbox": "bubblewrap",
        **extra,
    }


def a_class() -> list[dict]:
    """Eight graded students with two recurring diagnoses, one timeout, one invalid zip."""
    records = [record(f"student{i:02d}", {}) for i in range(3)]
    records += [record(f"averager{i}", {"SigmoidBackwardTest": AVERAGED}) for i in range(3)]
    records.append(record("nomask", {"ReluBackwardTest": NO_MASK, "ReluForwardTest": None}))
    records.append(record("both", {"SigmoidBackwardTest": AVERAGED, "ReluBackwardTest": NO_MASK}))
    records.append(record("slow", {}, "timeout", reason="timed out after 60 s"))
    records.append(record("broken", {}, "invalid-submission", reason="unsafe zip: ../ in a name"))
    return records
