"""End-to-end latency of the app's requests, in-process and under load.

    python -m benchmarks.bench_app                  # from the repository root
    python -m benchmarks.bench_app --load-seconds 0 # in-process part only

1. In-process, what one request does (no HTTP; in a worker thread, as gradio runs it): a
   Moving MNIST request (generate, ConvLSTM and ConvLSTM+advection beside it, both baselines,
   scores, rendering of the video, grid PNG and downloads), p50/p95 over --requests runs; and a
   ~10 MB MP4 upload (read, then the same work); and the radar tab's real
   example (FMI loop, bundled radar model).
2. A load run: `python app.py` in a subprocess, --clients gradio_client clients (each its own
   session) calling /forecast_moving_mnist in a loop for --load-seconds, over loopback only.
   Latency here includes waiting in the app's queue (it runs CONCURRENCY requests at once).
Prints markdown tables. Targets on a 2-core CPU: Moving MNIST p50 ≤ 1.0 s, 10 MB MP4 ≤ 3 s, the real
radar example ≤ 1 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from convlstm.data import limits
from convlstm.data.uploads import read_sequence
from convlstm.serve.requests import REAL_RADAR_EXAMPLE, Backend
from convlstm.viz import render

ROOT = Path(__file__).resolve().parent.parent


def percentiles(times: list[float]) -> tuple[float, float]:
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


class Stopwatch:
    """A request's progress callback that notes when each of its stages begins (compare and render
    report them), so one backend call is timed stage by stage."""

    def __init__(self):
        self.marks = {"start": time.perf_counter()}

    def __call__(self, fraction: float, text: str) -> None:
        self.marks.setdefault(text, time.perf_counter())

    def stages(self, first: str) -> dict[str, float]:
        m = self.marks
        end = time.perf_counter()
        return {first: m["ConvLSTM forecast"] - m["start"],
                "forecasts + scores": m["frame grid"] - m["ConvLSTM forecast"],
                "render": end - m["frame grid"], "total": end - m["start"]}


def timed(first: str, request, *args) -> dict[str, float]:
    """One backend request (the app's own function for it), timed by stage."""
    watch = Stopwatch()
    request(*args, progress=watch)
    return watch.stages(first)


def big_mp4(path: Path, target_mb: float = 10) -> Path:
    """An MP4 of moving noise blobs, grown until it is about target_mb (mp4v compresses noise poorly)."""
    rng = np.random.default_rng(0)
    frames_per_try = 60
    base = rng.random((frames_per_try, 60, 60), dtype=np.float32)
    for count in (60, 120, 240, 480, 960):
        frames = np.concatenate([np.roll(base, k, axis=2) for k in range(count // frames_per_try)])
        render.write_mp4(frames, path, fps=10, scale=8)  # 480 × 480 pixels
        if path.stat().st_size >= target_mb * limits.MB:
            break
    return path


def table(title: str, runs: list[dict[str, float]]) -> str:
    lines = [f"**{title}** ({len(runs)} runs)", "", "| step | p50 (s) | p95 (s) |", "|---|---|---|"]
    for step in runs[0]:
        p50, p95 = percentiles([r[step] for r in runs])
        lines.append(f"| {step} | {p50:.3f} | {p95:.3f} |")
    return "\n".join(lines)


def free_port() -> int:
    for port in range(7861, 7870):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit("no free port in 7861-7869")


def load_run(clients: int, seconds: float) -> str:
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = os.environ | {"GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        app = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env | {"TMPDIR": tmp},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 120
            while True:
                try:
                    urllib.request.urlopen(url, timeout=2)
                    break
                except OSError:
                    if time.time() > deadline or app.poll() is not None:
                        raise SystemExit("the app did not start") from None
                    time.sleep(0.5)
            latencies: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()
            stop = time.time() + seconds

            def worker(index: int) -> None:
                client = Client(url, verbose=False, download_files=os.path.join(tmp, f"client{index}"))
                seed = index * 10_000
                while time.time() < stop:
                    seed += 1
                    start = time.perf_counter()
                    try:
                        client.predict(seed, 2, 10, api_name="/forecast_moving_mnist")
                        with lock:
                            latencies.append(time.perf_counter() - start)
                    except Exception as error:  # counted and reported, not raised
                        with lock:
                            errors.append(f"{type(error).__name__}: {error}")

            started = time.time()
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=seconds + 120)
            elapsed = time.time() - started
        finally:
            app.terminate()
            app.wait(timeout=30)
    p50, p95 = percentiles(latencies) if latencies else (float("nan"),) * 2
    lines = [f"**Load run**: {clients} gradio_client clients, {seconds:.0f} s, /forecast_moving_mnist "
             f"(app queue runs 2 at once)", "",
             "| requests | errors | requests/s | p50 (s) | p95 (s) |", "|---|---|---|---|---|",
             f"| {len(latencies)} | {len(errors)} | {len(latencies) / elapsed:.2f} | {p50:.2f} | {p95:.2f} |"]
    if errors:
        lines += ["", "First errors:"] + [f"- {e}" for e in errors[:5]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="model folder or Hub repo id (default: the bundled checkpoint)")
    p.add_argument("--requests", type=int, default=20, help="in-process Moving MNIST requests to time")
    p.add_argument("--uploads", type=int, default=3, help="in-process 10 MB MP4 requests to time")
    p.add_argument("--clients", type=int, default=8, help="concurrent gradio_client clients in the load run")
    p.add_argument("--load-seconds", type=float, default=60, help="length of the load run; 0 skips it")
    args = p.parse_args(argv)

    backend = Backend(args.model)
    backend.start()
    model = backend.default.model
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; model {model.num_parameters() / 1e6:.2f} M parameters on "
          f"{next(model.parameters()).device}\n")

    # Requests run in a worker thread, as gradio runs callbacks. It matters on a busy CPU: there
    # torch's 2-thread OpenMP pool on the main thread was measured 8-10x slower than in a worker.
    with ThreadPoolExecutor(1) as worker:
        def run(*request):
            return worker.submit(timed, *request).result()

        for seed in range(2):  # warm-up: first calls pay for lazy initialisation
            run("generate", backend.moving_mnist, seed, 2, model.horizon)
        runs = [run("generate", backend.moving_mnist, 100 + i, 2, model.horizon) for i in range(args.requests)]
        print(table("Moving MNIST request, in-process (10 → 10, 64×64)", runs) + "\n")

        with tempfile.TemporaryDirectory() as folder:
            mp4 = big_mp4(Path(folder) / "upload.mp4")
            frames = read_sequence(mp4)
            runs = [run("read", backend.upload, [mp4], model.context_frames, model.horizon)
                    for _ in range(args.uploads)]
            size = mp4.stat().st_size / limits.MB
        print(table(f"MP4 upload, in-process ({size:.1f} MB, read as {frames.shape[0]} frames of "
                    f"{frames.shape[1]}×{frames.shape[2]})", runs) + "\n")

        example = REAL_RADAR_EXAMPLE
        run("read", backend.radar_upload, example, "mm/h", 5)  # warm-up
        runs = [run("read", backend.radar_upload, example, "mm/h", 5) for _ in range(args.requests)]
        print(table(f"Real radar example, in-process ({example.name}, 5 → 15, bundled radar model)", runs) + "\n")

    if args.load_seconds > 0:
        print(load_run(args.clients, args.load_seconds))


if __name__ == "__main__":
    main()
