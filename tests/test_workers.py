"""Worker processes never outlive their parent (issue 11).

Each run carries a marker in its environment; /proc is scanned for processes
that still have it (no psutil). Zombies, already dead, do not count.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc (Linux)")


def _marked(mark: str) -> list[int]:
    needle = f"DROPOUT_FIGS_TEST_MARK={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            found.append(int(entry))
    return found


def _start(argv, **kwargs):
    mark = uuid.uuid4().hex
    env = {**os.environ, "DROPOUT_FIGS_TEST_MARK": mark, "MPLBACKEND": "Agg"}
    env.pop("DROPOUT_FIGS_JOBS", None)
    proc = subprocess.Popen(argv, env=env, **kwargs)
    return proc, mark


def _wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def _build(tmp_path, **kwargs):
    argv = [sys.executable, "-m", "dropout_figs", "build", str(tmp_path), "--jobs", "2", "-q"]
    proc, mark = _start(argv, **kwargs)
    # main + fork server + two workers (+ the resource tracker)
    if not _wait_for(lambda: len(_marked(mark)) >= 4 or proc.poll() is not None, 120):
        proc.kill()
        pytest.fail("the build did not start its workers")
    assert proc.poll() is None, "the build ended before it could be killed"
    time.sleep(1.0)  # let the workers get into a figure
    return proc, mark


def test_sigkill_of_a_build_leaves_no_worker(tmp_path):
    proc, mark = _build(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.kill()
    proc.wait()
    assert _wait_for(lambda: not _marked(mark), 10), f"left alive: {_marked(mark)}"


def test_sigterm_of_a_build_returns_quickly_like_ctrl_c(tmp_path):
    proc, mark = _build(tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=20)  # hangs while a worker holds the pipes
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        for pid in _marked(mark):
            os.kill(pid, signal.SIGKILL)
        pytest.fail("the build's pipes stayed open 20 s after SIGTERM")
    assert time.monotonic() - start < 20
    assert proc.returncode == 2
    assert err.decode().strip().splitlines() == ["dropout-figs: error: interrupted"]
    assert _wait_for(lambda: not _marked(mark), 10), f"left alive: {_marked(mark)}"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".df")]


LAB_SCRIPT = textwrap.dedent(
    """
    from dropout_figs.lab import TrainConfig, make_dataset, train_many

    data = make_dataset("moons", n_samples=800, rng=0)
    configs = [TrainConfig(hidden_layers=3, width=256, keep_prob=q, epochs=3000)
               for q in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)]
    train_many(configs, data, seeds=[0, 1], jobs=2, processes=True)
    """
)


def test_sigkill_of_a_lab_sweep_leaves_no_worker():
    proc, mark = _start([sys.executable, "-c", LAB_SCRIPT], stderr=subprocess.PIPE)
    if not _wait_for(lambda: len(_marked(mark)) >= 3 or proc.poll() is not None, 120):
        proc.kill()
        pytest.fail("the sweep did not start its workers")
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    proc.stderr.close()
    assert _wait_for(lambda: not _marked(mark), 10), f"left alive: {_marked(mark)}"
