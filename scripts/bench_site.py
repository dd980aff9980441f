"""Site benchmarks (`make bench`): prints numbers and targets, never fails on them.

1. Cold build: `mkdocs build --strict` with empty figure and notebook caches, both cores
   (target < 30 s).
2. Warm rebuild: the same build again with nothing changed (target < 1.5 s).
3. Page weights: every byte a page loads from file:// in Chromium (all frames, the search
   worker's too): the home page (target < 1 MB) and the simulator page (target < 600 KB);
   without Chromium, what their tags reference.
4. Mask GIFs: the largest one in the site (target < 150 KB each).
5. `make serve`: seconds from saving a page to the server telling browsers to reload
   (target < 0.5 s). MkDocs polls for changes every 0.5 s and offers no public way to
   change that, so about half of it is spent noticing the save.

The caches of this run live in a temporary folder, so the project's own .cache is
neither used nor disturbed. Run from anywhere: `python scripts/bench_site.py`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("DROPOUT_FIGS_CHROMIUM", "/usr/bin/chromium"))
KB = 1024
TARGET_COLD_S = 30.0
TARGET_WARM_S = 1.5
TARGET_RELOAD_S = 0.5
TARGET_HOME_BYTES = 1_000_000  # the guide: the home page under 1 MB
TARGET_SIMULATOR_BYTES = 600_000  # issue 10: the simulator page with everything it loads
TARGET_GIF_BYTES = 150 * KB


def write_config(tmp: Path, cache: Path | None = None) -> Path:
    """mkdocs.yml with absolute paths and every cache inside ``cache`` (default ``tmp/cache``)."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["docs_dir"] = str(ROOT / "docs")
    config["site_dir"] = str(tmp / "site")
    config["theme"]["custom_dir"] = str(ROOT / config["theme"]["custom_dir"])
    config["hooks"] = [str(ROOT / h) for h in config.get("hooks", [])]
    cache = cache or tmp / "cache"
    caches = {name: cache / name for name in ("dropout-figs", "mkdocs-jupyter")}
    plugins = []
    for item in config["plugins"]:
        name, options = (item, {}) if isinstance(item, str) else next(iter(item.items()))
        if name in caches:
            options = {**(options or {}), "cache_dir": str(caches[name])}
        plugins.append({name: options} if options else name)
    config["plugins"] = plugins
    path = tmp / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def build(config: Path) -> tuple[float, str]:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "-f", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        print(log[-4000:])
        raise SystemExit(f"mkdocs build failed (exit {proc.returncode})")
    return seconds, log


def figure_line(log: str) -> str:
    m = re.search(r"dropout_figs: (\d+ figure files \([^)]*\))", log)
    line = m.group(1) if m else "figures: (no count in the log)"
    m = re.search(r"dropout_figs: (\d+) notebook\(s\) executed", log)
    return f"{line}; {m.group(1) if m else 0} notebook(s) executed"


def verdict(seconds: float, target: float) -> str:
    return f"target < {target:g} s: {'ok' if seconds < target else 'OVER TARGET'}"


# --------------------------------------------------------------------------- page weight
class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in {"script", "img"} and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "link" and a.get("href") and a.get("rel") in {"stylesheet", "icon"}:
            self.urls.append(a["href"])


def weight_from_tags(page: Path) -> dict[str, int]:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    out = {str(page): page.stat().st_size}
    for url in parser.urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            continue
        path = (page.parent / unquote(parts.path)).resolve()
        if path.is_file():
            out[str(path)] = path.stat().st_size
    return out


def weight_in_browser(page: Path) -> dict[str, int] | None:
    """Every file:// request of the page (all frames, the search worker's too)."""
    if not CHROMIUM.is_file():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    loaded: dict[str, int] = {}
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def record(request):
            url = urlsplit(request.url)
            if url.scheme == "file":
                path = Path(unquote(url.path))
                if path.is_file():
                    loaded[str(path)] = path.stat().st_size
            else:
                loaded[request.url] = 0

        context.on("request", record)
        tab = context.new_page()
        tab.goto(page.as_uri(), wait_until="load")
        tab.wait_for_load_state("networkidle")
        tab.wait_for_timeout(1500)  # the search worker loads its index after load
        browser.close()
    return loaded


def page_weight(site: Path, name: str, target: int) -> None:
    page = site / name
    files = weight_in_browser(page)
    how = "loaded by Chromium from file://"
    if files is None:
        files, how = weight_from_tags(page), "referenced by its tags (no Chromium)"
    outside = [f for f in files if not f.startswith("/")]
    total = sum(files.values())
    weight = "ok" if total < target else "OVER TARGET"
    print(
        f"3. {name} weight: {total / 1e3:.0f} KB in {len(files)} files, {how} "
        f"(target < {target / 1e3:g} KB: {weight})"
    )
    for path, size in sorted(files.items(), key=lambda kv: -kv[1])[:6]:
        print(f"     {size / 1e3:8.1f} KB  {Path(path).relative_to(site)}")
    index = site / "search" / "search_index.js"
    if index.is_file() and str(index) not in files:
        # From file:// Material loads the index when the search is opened (no search.highlight).
        extra = index.stat().st_size / 1e3
        print(f"     (+{extra:.1f} KB search/search_index.js once the search is opened)")
    if outside:
        print(f"   REQUESTS OUTSIDE file://: {outside}")


def serve_reload_times(config: Path, tmp: Path, edits: int = 5) -> list[float]:
    """Seconds from saving a page to `mkdocs serve` telling browsers to reload.

    Runs `make serve`'s command (--livereload --dirty) on a copy of docs/,
    appends a comment to one page several times and reads the server's log.
    """
    import queue
    import shutil
    import socket
    import threading

    docs = tmp / "docs-serve"
    shutil.copytree(ROOT / "docs", docs)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["docs_dir"] = str(docs)
    serve_config = tmp / "mkdocs-serve.yml"
    serve_config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.Popen(
        [str(mkdocs), "serve", "-f", str(serve_config), "--livereload", "--dirty", "--no-strict",
         "-a", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put((time.perf_counter(), x)) for x in proc.stdout], daemon=True
    ).start()

    def wait_for(text: str, timeout: float = 300.0) -> float:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            try:
                when, line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if text in line:
                return when
        raise RuntimeError(f"mkdocs serve did not print {text!r}")

    page = docs / "faq.md"
    times = []
    try:
        wait_for("Serving on")
        time.sleep(1.0)
        for i in range(edits):
            with page.open("a", encoding="utf-8") as fh:
                fh.write(f"\n<!-- benchmark edit {i} -->\n")
            saved = time.perf_counter()
            times.append(wait_for("Reloading browsers") - saved)
            time.sleep(0.7)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return times


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the caches in this folder instead of a fresh one (the cold build is then "
        "cold only the first time); for measuring rebuilds and reloads again",
    )
    args = parser.parse_args(argv)
    print("Site benchmarks (numbers, not assertions); 2 cores shared with whatever else runs")
    with tempfile.TemporaryDirectory(prefix="dropout-figs-bench-") as tmp:
        tmp = Path(tmp)
        config = write_config(tmp, args.cache and args.cache.resolve())

        cold, log = build(config)
        print(f"1. cold build, empty caches: {cold:6.1f} s   ({verdict(cold, TARGET_COLD_S)})")
        print(f"   {figure_line(log)}")
        warm, log = build(config)
        print(f"2. warm rebuild, no change:  {warm:6.1f} s   ({verdict(warm, TARGET_WARM_S)})")
        print(f"   {figure_line(log)}")

        site = tmp / "site"
        for name, target in (
            ("index.html", TARGET_HOME_BYTES),
            ("simulator.html", TARGET_SIMULATOR_BYTES),
        ):
            page_weight(site, name, target)

        gifs = sorted(site.glob("figures/mask-grid-*.gif"), key=lambda p: p.stat().st_size)
        if gifs:
            big = gifs[-1].stat().st_size
            over = [g for g in gifs if g.stat().st_size >= TARGET_GIF_BYTES]
            print(
                f"4. mask GIFs: {len(gifs)}, largest {big / KB:.1f} KB, "
                f"median {gifs[len(gifs) // 2].stat().st_size / KB:.1f} KB "
                f"(target < {TARGET_GIF_BYTES / KB:.0f} KB each: "
                f"{'ok' if not over else f'{len(over)} OVER TARGET'})"
            )
        else:
            print("4. mask GIFs: none in the site")
        reloads = serve_reload_times(config, tmp)
        median = sorted(reloads)[len(reloads) // 2]
        print(
            f"5. make serve, page saved -> browsers told to reload: "
            f"{', '.join(f'{t:.2f}' for t in reloads)} s "
            f"(median {median:.2f} s; {verdict(median, TARGET_RELOAD_S)})"
        )
        all_files = [p for p in site.rglob("*") if p.is_file()]
        figures = list(site.glob("figures/*"))
        site_mb = sum(p.stat().st_size for p in all_files) / 1e6
        figures_mb = sum(p.stat().st_size for p in figures) / 1e6
        print(
            f"   site: {site_mb:.1f} MB in {len(all_files)} files; "
            f"figures {figures_mb:.1f} MB in {len(figures)} files"
        )


if __name__ == "__main__":
    main()
