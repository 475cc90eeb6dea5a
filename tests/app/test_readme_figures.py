"""Figures the README states that a test can check, and how it states its times."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
from data_helpers import REPO_ROOT

import barenet as bn

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The README's ``## title`` section, up to the next ``## `` heading."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def test_the_untrained_loss_of_the_cifar10_net_is_the_one_the_readme_states():
    net = bn.ClassificationNet(
        num_layer=3, input_size=3072, hidden_size=[1024, 512], std="he", seed=0
    )
    images = np.random.default_rng(0).standard_normal((1000, 3072), dtype=np.float32)
    labels = np.random.default_rng(10).integers(0, 10, 1000)
    loss, _ = bn.CrossEntropyFromLogits()(net.forward(images), labels)
    assert f"about {loss:.2f} for a fresh 3072-1024-512-10 net" in README


def test_every_measured_time_in_the_benchmarks_has_the_gemm_speed_beside_it():
    blocks = [b for b in re.split(r"\n\s*\n", section("Benchmarks")) if b.strip()]
    timed = re.compile(r"\b\d+(\.\d+)? (s|ms)\b(?! apart)")
    for i, block in enumerate(blocks):
        if not timed.search(block) or block.lstrip().startswith("```"):
            continue
        near = " ".join(blocks[max(i - 1, 0) : i + 2])
        assert "GFLOP/s" in near, f"a time without the machine's GEMM speed: {block[:120]!r}"


def test_the_gemm_helper_prints_the_machine_speed():
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "gemm_speed.py"), "--size", "256",
         "--seconds", "0.2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pattern = r"float32 GEMM ([0-9.e+-]+) GFLOP/s \(256x256, BLAS threads .+\)\n"
    match = re.fullmatch(pattern, done.stdout)
    assert match and float(match.group(1)) > 0, done.stdout


def test_the_readme_names_the_system_packages_the_suite_uses_and_ci_installs_them():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for package, installed in [
        ("bubblewrap", "bubblewrap"),
        ("PostgreSQL", "postgresql"),
        ("Chromium", "chromium"),
        ("PyTorch CPU", "torch=="),
    ]:
        assert package in README, package
        assert installed in ci, f".ci/run does not install {package}"
    assert "`bash .ci/run` installs the\npackages" in README
