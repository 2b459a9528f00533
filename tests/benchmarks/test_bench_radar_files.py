"""The radar-files benchmark times the backend's own path, stage by stage, on uploads laid out as the real data."""

import sys

import pytest

from benchmarks import bench_radar_files
from tests.helpers import write_composites


@pytest.mark.slow
def test_the_benchmark_times_every_stage_of_each_upload(tmp_path, monkeypatch, capsys):
    pytest.importorskip("h5py", reason="h5py (requirements-radar.txt) reads HDF5 composites")
    pytest.importorskip("pysteps", reason="pysteps (requirements-radar.txt) makes S-PROG")
    for kind, (where, _, _) in zip(("odim", "fmi", "knmi"), bench_radar_files.UPLOADS.values(), strict=True):
        write_composites(tmp_path / where, kind, frames=7)
    monkeypatch.setattr(sys, "argv", ["bench_radar_files", "--data", str(tmp_path), "--repeats", "1"])
    bench_radar_files.main()
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "**" in line]
    assert [row.split(" | ")[0][2:] for row in rows] == list(bench_radar_files.UPLOADS)
    for row in rows:
        cells = [cell.strip(" *|") for cell in row.split(" | ")]
        assert cells[2] == "7" and cells[3] == "160×130 (×1)"  # frames used, the grid
        reading, forecasting, drawing, total = (float(cell) for cell in cells[4:8])
        # Each stage timed (a tiny crop reads in under 5 ms, which the table prints as 0.00) and adding up.
        assert min(reading, forecasting, drawing) >= 0 and forecasting > 0
        assert total == pytest.approx(reading + forecasting + drawing, abs=0.02)
    assert "pysteps' import in a fresh process" in out and "load average" in out
