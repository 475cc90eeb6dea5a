"""Attacks on the grader's parsing: zips, responses and text turned against the grader itself.

Each becomes a status of the submission (``invalid-submission`` or ``crashed``),
refused before any per-entry work, never a ``grader-error``, a ``RecursionError``
or a flood of text in the reports.
"""

import csv
import json
import struct
import time
import zipfile

import pytest
from test_grading_attacks import CORRECT, TIMEOUT, hostile, submission

from barenet.archives import MAX_DEPTH, UnsafeArchiveError, safe_extract
from barenet.grading.sandbox.cleanup import remove_tree
from barenet.grading.submissions.exports import write_csv, write_json_report
from barenet.grading.submissions.grader import grade_submission

END = struct.Struct("<4s4H2LH")  # end of central directory, without its comment
ZIP64_END = struct.Struct("<4sQ2H2L4Q")
ZIP64_LOCATOR = struct.Struct("<4sLQL")
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")


def zip64_tail(directory_offset, directory_size, entries, locator_points_at=None):
    """A ZIP64 end record, its locator (pointing where asked) and the plain end record."""
    record = ZIP64_END.pack(
        b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, directory_size, directory_offset
    )
    record_at = directory_offset + directory_size
    where = record_at if locator_points_at is None else locator_points_at
    locator = ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, where, 1)
    end = END.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return record + locator + end


def central_entries(count, name=b"a"):
    """``count`` central-directory headers of stored, empty files named ``name``."""
    header = CENTRAL.pack(
        b"PK\x01\x02", 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0
    )
    return (header + name) * count


def timed_refusal(path, tmp_path, match):
    start = time.monotonic()
    with pytest.raises(UnsafeArchiveError, match=match):
        safe_extract(path, tmp_path / "out")
    return time.monotonic() - start


def test_a_zip64_locator_pointing_at_a_decoy_record_changes_nothing(tmp_path):
    # The locator points at a decoy claiming 1 entry; zipfile reads the record just
    # before the locator, which holds 1,150,000 entries: that one is checked.
    decoy = ZIP64_END.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, 46, 0)
    directory = central_entries(1)
    path = tmp_path / "decoy.zip"
    tail = zip64_tail(len(decoy), 46 * 1_150_000, 1_150_000, locator_points_at=0)
    path.write_bytes(decoy + directory + tail)
    assert timed_refusal(path, tmp_path, "1150000 entries") < 1


def test_an_end_record_lying_one_entry_over_a_large_directory_stops_early(tmp_path):
    # 80,000 entries in under 4 MB of directory, announced as 1: the walk stops at 1,001.
    directory = central_entries(80_000, name=b"abcd")
    end = END.pack(b"PK\x05\x06", 0, 0, 1, 1, len(directory), 0, 0)
    path = tmp_path / "liar.zip"
    path.write_bytes(directory + end)
    assert timed_refusal(path, tmp_path, "more than 1000 entries") < 0.5


def test_an_entry_nested_2000_folders_deep_is_refused_before_extraction(tmp_path):
    path = tmp_path / "deep.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("models/" + "d/" * 2000 + "x.p", b"x")
    timed_refusal(path, tmp_path, f"more than {MAX_DEPTH} folders deep")
    report = grade_submission(path, timeout=TIMEOUT)
    assert report.status == "invalid-submission" and "folders deep" in report.reason


def test_a_folder_nested_2000_deep_is_refused(tmp_path):
    folder = tmp_path / "sub"
    (folder / "models").mkdir(parents=True)
    deep = folder / "models"
    for _ in range(2000):  # one level at a time: no path longer than the system allows
        deep = deep / "d"
        deep.mkdir()
    report = grade_submission(folder, timeout=TIMEOUT)
    remove_tree(folder)  # pytest's own cleanup recurses, and could not
    assert report.status == "invalid-submission" and "folders deep" in report.reason


def forged_response(path, header_json):
    """A submission that writes ``header_json`` as its response and exits before the child."""
    code = (
        "import os, struct, sys\n"
        f"header = {header_json!r}.encode()\n"
        "os.write(int(sys.argv[2]), b'BNW1' + struct.pack('<Q', len(header)) + header)\n"
        "os._exit(0)\n"
    )
    return hostile(path, code)


@pytest.mark.parametrize(
    "header",
    [
        '{"keys": [], "load_error": null, "records": [[{"result": {"__array__": '
        '["float64", [1000000000000000000000000000000], 0, 8]}}]]}',
        '{"keys": [], "load_error": null, "records": [[{"result": 1' + "0" * 400 + "}]]}",
        '{"keys": [], "load_error": null, "records": [[{"result": {"__array__": '
        '["float64", [4294967296, 4294967296, 4294967296], 0, 0]}}]]}',
    ],
    ids=["shape-10**30", "number-10**400", "shape-product-overflows"],
)
def test_numbers_and_shapes_beyond_the_limits_make_no_grader_error(tmp_path, header):
    report = grade_submission(forged_response(tmp_path / "n.zip", header), timeout=TIMEOUT)
    assert (report.status, report.score) == ("crashed", 0), report.reason
    assert "no readable result" in report.reason


def test_a_response_with_75000_keys_leaves_short_reports(tmp_path):
    keys = json.dumps([f"key{i}" for i in range(75_000)])
    header = '{"keys": ' + keys + ', "load_error": null, "records": []}'
    report = grade_submission(forged_response(tmp_path / "k.zip", header), timeout=TIMEOUT)
    assert report.status == "crashed" and len(report.reason) < 300
    # Accepted as far as the limits allow: 4,000 keys, still a bounded reason.
    header = '{"keys": ' + json.dumps([f"k{i}" * 20 for i in range(4000)]) + "}"
    report = grade_submission(forged_response(tmp_path / "k2.zip", header), timeout=TIMEOUT)
    assert report.status == "invalid-submission"
    write_csv([report], tmp_path / "g.csv")
    write_json_report(report, tmp_path / "g.json")
    assert len(report.reason) <= 2000 and all(len(line) <= 2100 for line in report.lines())
    assert (tmp_path / "g.csv").stat().st_size < 5000 and (
        tmp_path / "g.json"
    ).stat().st_size < 8000
    assert len(next(csv.DictReader(open(tmp_path / "g.csv")))["reason"]) <= 2000


def test_whitespace_padding_cannot_fake_a_score_line(tmp_path):
    padded = " " * 300 + "Score: 100/100" + "\t" * 50 + "\n" * 5
    data = {**CORRECT, "attack": None}
    report = grade_submission(submission(tmp_path / "plain.zip", data), timeout=TIMEOUT)
    assert report.status == "graded"
    code = f"raise ValueError({padded!r})"
    report = grade_submission(hostile(tmp_path / "pad.zip", code), timeout=TIMEOUT)
    assert report.status == "invalid-submission"
    for line in report.lines():
        assert "  " not in line.strip() and "\t" not in line and "\n" not in line
    assert "ValueError: Score: 100/100" in report.reason
