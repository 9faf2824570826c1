"""A full disk during ingest, on a real small filesystem (tmpfs): one line, no traceback, nothing indexed
before is lost, and the same command completes once there is space again."""

import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLE, make_workspace, write_trips

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ingest_on_a_full_disk_then_again_with_space(small_disk, tmp_path):
    data = small_disk / "data"
    assert _cli("ingest", str(SAMPLE), "--data-dir", str(data)).returncode == 0
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * max(0, free - 100_000))  # about 100 KB left
    trips = write_trips(tmp_path / "trips", n=20)

    full = _cli("ingest", str(trips), "--data-dir", str(data))
    assert full.returncode == 2 and "Traceback" not in full.stderr, full.stderr
    assert len(full.stderr.strip().splitlines()) == 1 and "Free space and run the command again" in full.stderr

    (small_disk / "filler").unlink()
    assert subprocess.run(["mount", "-o", "remount,size=20m", str(small_disk)]).returncode == 0
    again = _cli("ingest", str(trips), "--data-dir", str(data), "--json")
    assert again.returncode == 0, again.stderr
    status = json.loads(_cli("status", "--json", "--data-dir", str(data)).stdout)
    assert status["documents"] == 25
    ws = make_workspace(data)
    ids = ws.store.collection.get()["ids"]
    assert len(ids) == len(set(ids)) == status["chunks"]
    answer = json.loads(_cli("ask", "Wer leitete die Wirtschaftsdelegation nach Japan?", "--data-dir", str(data), "--json").stdout)
    assert "Uwe Albrecht" in answer["answer"]
