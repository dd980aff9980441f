"""Browser-engine benchmarks (`make bench`): numbers against their targets, never a failure.

1. Bundle size: build/web/dropout-figs.js, raw and gzipped (target < 60 KB gzipped).
2. Training speed: epochs per second of the browser engine (node, the same V8 as Chromium)
   against the package's single-model NumPy `train` on the same net and data (moons, 200
   points, 2-32-32-2, batch 32, Adam); the engine trains TWO nets per epoch (without and with
   dropout), so the ratio is per model-epoch.
3. One training-lab frame in headless Chromium (Debian's, never `playwright install`): one
   epoch for both nets, both 100x100 boundaries painted into canvases, the four loss curves
   drawn; the median over 120 frames (target < 16 ms, i.e. 60 frames per second).

Speeds are CPU time (process time: fair on a shared machine); the frame is wall-clock time in
the page, so a busy machine inflates it. Read the ratios more than the absolute numbers.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("DROPOUT_FIGS_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TARGET_GZIP = 60 * 1024
TARGET_FRAME_MS = 16.0
LAB = {"hiddenLayers": 2, "width": 32, "keepProb": 0.8, "batchSize": 32, "lr": 0.003, "seed": 0}

sys.path.insert(0, str(ROOT / "scripts"))
from bundle import ensure_bundle  # noqa: E402

# The frame the training-lab widget draws, done by hand so it measures the engine, not a layout.
FRAME_JS = """
(function () {
  const E = window.dropoutFigs;
  const data = E.makeDataset("moons", { nSamples: 200, seed: 0 });
  const pair = new E.LabPair(data, LAB);
  const canvases = ["plain", "dropout"].map(() => {
    const c = document.createElement("canvas"); c.width = 100; c.height = 100;
    document.body.append(c); return c.getContext("2d");
  });
  const images = canvases.map((ctx) => ctx.createImageData(100, 100));
  const probs = [new Float64Array(10000), new Float64Array(10000)];
  const curveCanvas = document.createElement("canvas");
  curveCanvas.width = 480; curveCanvas.height = 240;
  document.body.append(curveCanvas);
  const cc = curveCanvas.getContext("2d");
  function paint(i, which) {
    pair.boundary(which, probs[i]);
    const px = images[i].data;
    for (let k = 0; k < 10000; k++) {
      const p = probs[i][k];
      px[4 * k] = 255 * (1 - p); px[4 * k + 1] = 160; px[4 * k + 2] = 255 * p; px[4 * k + 3] = 255;
    }
    canvases[i].putImageData(images[i], 0, 0);
  }
  function curves() {
    cc.clearRect(0, 0, 480, 240);
    const c = pair.curves;
    for (const run of [c.plain, c.dropout]) for (const ys of [run.trainLoss, run.valLoss]) {
      cc.beginPath();
      const dx = 480 / Math.max(ys.length - 1, 1);
      for (let e = 0; e < ys.length; e++) cc.lineTo(dx * e, 240 - 100 * ys[e]);
      cc.stroke();
    }
  }
  window.benchFrames = function (n) {
    const times = [];
    for (let f = 0; f < n; f++) {
      const t0 = performance.now();
      pair.step(); paint(0, "plain"); paint(1, "dropout"); curves();
      times.push(performance.now() - t0);
    }
    return times;
  };
})();
"""


def bundle_size() -> None:
    path = ensure_bundle()
    raw = path.read_bytes()
    packed = len(gzip.compress(raw, 9))
    ok = "ok" if packed < TARGET_GZIP else "OVER TARGET"
    print(f"bundle {path.relative_to(ROOT)}: {len(raw) / 1024:.1f} KB raw, "
          f"{packed / 1024:.1f} KB gzipped (target < {TARGET_GZIP // 1024} KB: {ok})")  # fmt: skip


def engine_epochs_per_second(tmp: Path) -> float | None:
    node = shutil.which("node")
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    if node is None or not esbuild.is_file():
        print("engine speed: skipped (node or node_modules/.bin/esbuild missing; run `make setup`)")
        return None
    engine = tmp / "engine.cjs"
    subprocess.run(
        [str(esbuild), "web/src/engine/index.ts", "--bundle", "--format=cjs", "--platform=node",
         "--log-level=warning", f"--outfile={engine}"],
        cwd=ROOT, check=True,
    )  # fmt: skip
    script = f"""
      const E = require({json.dumps(str(engine))});
      const data = E.makeDataset("moons", {{ nSamples: 200, seed: 0 }});
      const pair = new E.LabPair(data, {json.dumps(LAB)});
      for (let e = 0; e < 50; e++) pair.step();            // warm up the JIT
      const times = [];
      for (let r = 0; r < 5; r++) {{
        const t0 = process.cpuUsage();
        for (let e = 0; e < 100; e++) pair.step();
        const t = process.cpuUsage(t0);
        times.push((t.user + t.system) / 1e6 / 100);
      }}
      times.sort((a, b) => a - b);
      const out = new Float64Array(10000);
      const frames = [];
      for (let f = 0; f < 40; f++) {{
        const t0 = process.cpuUsage();
        pair.step(); pair.boundary("plain", out); pair.boundary("dropout", out);
        const t = process.cpuUsage(t0);
        frames.push((t.user + t.system) / 1000);
      }}
      frames.sort((a, b) => a - b);
      console.log(times[2], frames[20]);
    """
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    epoch_s, frame_ms = map(float, done.stdout.split())
    print(
        f"training-lab frame without drawing, CPU time in node's V8: median {frame_ms:.1f} ms "
        f"(an epoch for both nets and both 100x100 boundaries; target < {TARGET_FRAME_MS:.0f} ms)"
    )
    return 1.0 / epoch_s


def numpy_epochs_per_second() -> float:
    import numpy as np

    from dropout_figs.lab import TrainConfig, make_dataset, train

    data = make_dataset("moons", n_samples=200, rng=0)
    config = TrainConfig(hidden_layers=2, width=32, keep_prob=0.8, epochs=200, batch_size=32)
    train(config.replace(epochs=20), data, rng=np.random.default_rng(0))  # warm up
    times = []
    for r in range(3):
        t0 = time.process_time()
        train(config, data, rng=np.random.default_rng(r))
        times.append((time.process_time() - t0) / config.epochs)
    return 1.0 / statistics.median(times)


def chromium_frame_ms() -> list[float] | None:
    if not CHROMIUM.is_file():
        print(f"training-lab frame: skipped ({CHROMIUM} missing; `apt-get install -y chromium`)")
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("training-lab frame: skipped (playwright is not installed in this venv)")
        return None
    bundle = ensure_bundle()
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "frame.html"
        page_path.write_text(
            "<!doctype html><meta charset=utf-8><body>"
            f'<script src="{bundle.as_uri()}"></script>'
            f"<script>const LAB = {json.dumps(LAB)};{FRAME_JS}</script></body>",
            encoding="utf-8",
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_path.as_uri())
            page.evaluate("benchFrames(30)")  # warm up the JIT
            times = page.evaluate("benchFrames(120)")
            browser.close()
        if errors:
            print(f"training-lab frame: page errors {errors}")
            return None
    return times


def main() -> int:
    bundle_size()
    with tempfile.TemporaryDirectory() as tmp:
        js = engine_epochs_per_second(Path(tmp))
    py = numpy_epochs_per_second()
    if js is not None:
        ratio = 2 * js / py
        verdict = "ok" if ratio >= 1 else "BELOW"
        print(
            f"training speed (moons 200, 2-32-32-2, batch 32, CPU time): engine {js:.0f} "
            f"pair-epochs/s (= {2 * js:.0f} model-epochs/s), NumPy train() {py:.0f} epochs/s; "
            f"ratio {ratio:.2f} per model-epoch (target >= 1: {verdict})"
        )
    times = chromium_frame_ms()
    if times:
        med = statistics.median(times)
        p90 = sorted(times)[int(0.9 * len(times))]
        verdict = "ok" if med < TARGET_FRAME_MS else "OVER"
        print(
            f"training-lab frame in headless Chromium (epoch x2 + two 100x100 boundaries + "
            f"curves, wall clock): median {med:.1f} ms, 90th percentile {p90:.1f} ms over "
            f"{len(times)} frames (target < {TARGET_FRAME_MS:.0f} ms: {verdict})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
