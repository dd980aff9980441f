"""The built site in a real browser (Debian's Chromium, driven by Playwright), from file://.

Every page: no console error, no request leaving file://, every image decoded. Then
math, search and the dark-mode toggle. The live explorables are driven through their
labelled controls in tests/test_browser_explorables.py. Screenshots go to
build/screenshots/ for a person to look at.

Chromium is Debian's (`apt-get install chromium`), never `playwright install`. Without
it these tests are skipped, unless DROPOUT_FIGS_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("DROPOUT_FIGS_CHROMIUM", "/usr/bin/chromium"))
SHOTS = ROOT / "build" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _unavailable(reason: str):
    message = f"BROWSER TESTS NOT RUN: {reason}"
    if os.environ.get("DROPOUT_FIGS_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " (DROPOUT_FIGS_REQUIRE_BROWSER=1)", pytrace=False)
    print("\n" + "!" * 78 + f"\n{message}\n" + "!" * 78)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing; install it with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


class Visit:
    """A page opened from file:// with everything it logs and requests recorded."""

    def __init__(self, browser, url: str, **context_options):
        viewport = {"width": 1280, "height": 900}
        self.context = browser.new_context(viewport=viewport, **context_options)
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.context.route("**/*", self._route)
        self.page.goto(url, wait_until="load")

    def _console(self, msg):
        if msg.type == "error":
            self.errors.append(f"console: {msg.text} ({msg.location.get('url', '')})")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file://", "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def assert_clean(self) -> None:
        """Nothing requested outside file://, nothing logged as an error."""
        assert not self.outside, f"requests outside file://: {self.outside}"
        assert not self.errors, "\n".join(self.errors)

    def broken_images(self) -> list[str]:
        return self.page.evaluate(
            """() => Array.from(document.images)
                 .filter(img => !img.complete || img.naturalWidth === 0)
                 .map(img => img.getAttribute('src'))"""
        )

    def shot(self, name: str, full_page: bool = True) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, built_site):
    opened: list[Visit] = []

    def open_page(src: str, **options) -> Visit:
        html = built_site.dir / Path(src).with_suffix(".html")
        v = Visit(browser, html.as_uri(), **options)
        opened.append(v)
        return v

    yield open_page
    for v in opened:
        v.close()


def test_page_loads_cleanly_offline(visit, nav_src):
    src = nav_src
    v = visit(src)
    v.page.wait_for_load_state("networkidle")
    v.assert_clean()
    assert not v.broken_images(), f"{src}: images that did not load: {v.broken_images()}"
    if src in {"index.md", "simulator.md", "theory.md", "gallery.md"}:
        v.shot(Path(src).stem)


def test_math_is_rendered(visit):
    v = visit("theory.md")
    counts = v.page.evaluate(
        """() => ({
            math: document.querySelectorAll('.arithmatex').length,
            rendered: document.querySelectorAll('.arithmatex .katex').length,
            unrendered: Array.from(document.querySelectorAll('.arithmatex'))
                .filter(el => !el.querySelector('.katex')).map(el => el.textContent).slice(0, 5),
            errors: document.querySelectorAll('.katex-error').length,
        })"""
    )
    assert counts["math"] > 0
    assert not counts["unrendered"], counts
    assert counts["errors"] == 0
    text = v.page.inner_text(".md-content")
    assert "\\(" not in text
    assert "\\[" not in text
    v.shot("theory-math", full_page=False)


def test_notebook_math_is_rendered(visit):
    nb = json.loads((ROOT / "docs" / "notebooks" / "training-lab.ipynb").read_text())
    has_math = any("$" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    v = visit("notebooks/training-lab.ipynb")
    rendered = v.page.evaluate("() => document.querySelectorAll('.jupyter-wrapper .katex').length")
    if has_math:
        assert rendered > 0
    assert not v.page.evaluate("() => document.querySelectorAll('.katex-error').length")
    v.assert_clean()
    v.shot("notebook", full_page=False)


def test_search_works_offline(visit):
    v = visit("index.md")
    box = v.page.locator("input.md-search__input")
    box.click()
    box.press_sequentially("dropout", delay=20)
    v.page.wait_for_selector(".md-search-result__item", timeout=15_000)
    assert v.page.locator(".md-search-result__item").count() > 0
    v.assert_clean()
    v.shot("search", full_page=False)


def test_dark_mode_toggle(visit):
    v = visit("index.md")

    def scheme():
        return v.page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")

    before = scheme()
    v.page.locator("form[data-md-component='palette'] label:visible").first.click()
    v.page.wait_for_function(
        "s => document.body.getAttribute('data-md-color-scheme') !== s", arg=before
    )
    after = scheme()
    assert {before, after} == {"default", "slate"}
    v.shot("index-dark", full_page=False)


# =========================================================================== explorables
# The live widgets, driven through their labelled controls. The numbers on screen must be
# the package's for the same inputs; the state must survive a reload from the URL; a bad
# value must be refused beside its control with the last good numbers kept.
def _reduced(**options):
    # Paused at the start, so a frame cannot tick between typing and reading.
    return {"reduced_motion": "reduce", **options}


def _field_values(page, scope: str) -> dict[str, str]:
    return page.evaluate(
        """scope => Object.fromEntries(
             Array.from(document.querySelectorAll(scope + ' [data-field]'))
               .map(el => [el.dataset.field, el.dataset.value ?? el.textContent]))""",
        scope,
    )


def _href(page) -> str:
    # page.url learns of replaceState a beat later; the document knows at once.
    return page.evaluate("() => location.href")


def _type(page, label: str, value: str, scope: str = "") -> None:
    box = (
        page.locator(scope).get_by_label(label, exact=True)
        if scope
        else page.get_by_label(label, exact=True)
    )
    box.fill(value)


def _assert_summary(page, scope: str, n: int, q: float, seed: int, mean: float = 1.0) -> None:
    import dropout_figs as df

    want = df.layer_summary(n, keep_prob=q, seed=seed, mean_activation=mean).to_dict()
    got = _field_values(page, scope)
    assert got, "no [data-field] results on screen"
    for key, text in got.items():
        assert key in want, f"data-field {key!r} is not a key of `dropout-figs numbers --json`"
        value, expected = float(text), want[key]
        if isinstance(expected, int):
            assert value == expected, (key, value, expected)
        else:
            assert value == pytest.approx(expected, rel=1e-12), (key, value, expected)


def _package_masks(n: int, q: float, seed: int, frames: int) -> list[str]:
    import numpy as np

    import dropout_figs as df

    rng = np.random.default_rng(seed)
    return [
        "".join("1" if b else "0" for b in df.sample_keep_mask((n,), q, rng=rng))
        for _ in range(frames)
    ]


SIM = "[data-df-widget='simulator']"


def test_simulator_equals_the_package(visit):
    v = visit("simulator.md", **_reduced())
    page = v.page
    page.wait_for_selector(f"{SIM}[data-df-ready]")
    _type(page, "Units in the layer", "137")
    _type(page, "Keep probability q", "0.63")
    _type(page, "Seed", "4242")
    _assert_summary(page, SIM, 137, 0.63, 4242)
    masks = _package_masks(137, 0.63, 4242, 3)
    grid = page.locator(f"{SIM} canvas[data-mask]")
    assert grid.get_attribute("data-mask") == masks[0]  # = mask-grid frame 0
    # Step draws the next masks of the same generator, as mask-grid's frames do.
    for k in (1, 2):
        page.get_by_role("button", name="Step").click()
        assert grid.get_attribute("data-mask") == masks[k]
    _assert_summary(page, SIM, 137, 0.63, 4242)  # the numbers stay those of mask 1
    cmd = page.locator(f"{SIM} .df-cmd__code").inner_text()
    assert "dropout-figs numbers --n 137 --keep-prob 0.63 --seed 4242" in cmd
    _type(page, "Mean activation", "2.5")
    _assert_summary(page, SIM, 137, 0.63, 4242, mean=2.5)
    v.assert_clean()
    v.shot("simulator-137", full_page=True)


def test_simulator_state_round_trips_through_the_url(visit, browser):
    v = visit("simulator.md", **_reduced())
    page = v.page
    page.wait_for_selector(f"{SIM}[data-df-ready]")
    _type(page, "Units in the layer", "300")
    _type(page, "Keep probability q", "0.85")
    _type(page, "Seed", "77")
    url = _href(page)
    assert "sim.n=300" in url
    assert "sim.q=0.85" in url
    assert "sim.seed=77" in url
    again = Visit(browser, url, **_reduced())
    try:
        again.page.wait_for_selector(f"{SIM}[data-df-ready]")
        assert again.page.get_by_label("Units in the layer", exact=True).input_value() == "300"
        _assert_summary(again.page, SIM, 300, 0.85, 77)
        again.assert_clean()
    finally:
        again.close()


@pytest.mark.parametrize(
    ("label", "bad"),
    [
        ("Units in the layer", "0"),
        ("Units in the layer", "1000000000"),
        ("Keep probability q", "0"),
        ("Keep probability q", "1.7"),
        ("Seed", "abc"),
        ("Mean activation", "-1"),
    ],
)
def test_simulator_refuses_bad_input_and_keeps_the_last_good_numbers(visit, label, bad):
    v = visit("simulator.md", **_reduced())
    page = v.page
    page.wait_for_selector(f"{SIM}[data-df-ready]")
    _type(page, "Units in the layer", "137")
    _type(page, "Keep probability q", "0.63")
    _type(page, "Seed", "4242")
    before = _field_values(page, SIM)
    box = page.get_by_label(label, exact=True)
    box.fill(bad)
    assert box.get_attribute("aria-invalid") == "true"
    message = page.locator(f"#{box.get_attribute('aria-describedby')}")
    assert message.is_visible()
    assert label.split()[0] in message.inner_text()
    assert bad in message.inner_text()
    assert _field_values(page, SIM) == before
    assert "NaN" not in page.locator(SIM).inner_text()
    # Still alive: a good value is taken at once and the message goes.
    good = {"Units": "137", "Keep": "0.63", "Seed": "4242", "Mean": "1"}[label.split()[0]]
    box.fill(good)
    assert not message.is_visible()
    assert box.get_attribute("aria-invalid") is None
    _type(page, "Seed", "5")
    _assert_summary(page, SIM, 137, 0.63, 5)
    v.assert_clean()


def test_simulator_above_the_grid_still_computes(visit):
    v = visit("simulator.md", **_reduced())
    page = v.page
    page.wait_for_selector(f"{SIM}[data-df-ready]")
    _type(page, "Units in the layer", "20000")
    _assert_summary(page, SIM, 20000, 0.7, 0)
    note = page.locator(f"{SIM} .df-note")
    assert note.is_visible()
    assert "4,096" in note.inner_text()
    v.assert_clean()


def test_simulator_keyboard(visit):
    v = visit("simulator.md", **_reduced())
    page = v.page
    page.wait_for_selector(f"{SIM}[data-df-ready]")
    box = page.get_by_label("Units in the layer", exact=True)
    box.fill("137")
    box.press("ArrowUp")
    assert box.input_value() == "138"
    _assert_summary(page, SIM, 138, 0.7, 0)
    # Every control can be reached with Tab and has a name.
    unnamed = page.evaluate(
        """s => Array.from(document.querySelectorAll(
               s + ' input, ' + s + ' select, ' + s + ' button'))
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !el.textContent.trim()).length""",
        SIM,
    )
    assert unnamed == 0
    step = page.get_by_role("button", name="Step")
    step.focus()
    page.keyboard.press("Space")
    assert page.locator(f"{SIM} canvas[data-mask]").get_attribute("data-frame") == "1"


def test_simulator_compact_on_home(visit):
    v = visit("index.md", **_reduced())
    page = v.page
    page.wait_for_selector(f"{SIM}[data-df-compact][data-df-ready]")
    _type(page, "Units in the layer", "137")
    _type(page, "Keep probability q", "0.63")
    _type(page, "Seed", "4242")
    _assert_summary(page, SIM, 137, 0.63, 4242)
    link = page.get_by_role("link", name="Open the full simulator")
    link.click()
    page.wait_for_selector(f"{SIM}[data-df-ready]:not([data-df-compact])")
    assert page.get_by_label("Seed", exact=True).input_value() == "4242"
    v.assert_clean()


NET = "[data-df-widget='network']"


def test_network_playground(visit):
    v = visit("theory.md", **_reduced())
    page = v.page
    page.wait_for_selector(f"{NET}[data-df-ready]")
    scope = page.locator(NET)
    scope.get_by_label("Keep probability q of the hidden units", exact=True).fill("0.5")
    scope.get_by_label("Width of each hidden layer", exact=True).fill("8")
    predictions = set()
    for _ in range(8):
        scope.get_by_role("button", name="Step").click()
        fields = _field_values(page, NET)
        predictions.add(fields["prediction"])
        on, of = (int(x) for x in fields["units-h1"].split(" of "))
        assert of == 8
        assert 0 <= on <= 8
    assert len(predictions) > 1, "dropout left on: the same input should get different answers"
    scope.get_by_label("Mode", exact=True).select_option("eval")
    evaluated = set()
    for _ in range(4):
        scope.get_by_role("button", name="Step").click()
        fields = _field_values(page, NET)
        evaluated.add(fields["prediction"])
        assert fields["units-h1"] == "8 of 8"
        assert fields["units-h2"] == "8 of 8"
        assert fields["edges-h2"] == "64 of 64"
    assert len(evaluated) == 1, "evaluation mode must give one answer"
    assert "net.mode=eval" in _href(page)
    assert "net.w=8" in _href(page)
    v.assert_clean()
    v.shot("network-playground", full_page=False)


LAB = "[data-df-widget='training-lab']"


def test_training_lab(visit, browser):
    v = visit("training-lab.md", **_reduced())
    page = v.page
    page.wait_for_selector(f"{LAB}[data-df-ready]")
    scope = page.locator(LAB)
    presets = json.loads(page.locator("script[data-df-presets]").inner_text())
    import dropout_figs as df

    assert [p["name"] for p in presets] == list(df.PRESETS)
    scope.get_by_label("Data set", exact=True).select_option("spiral")
    scope.get_by_label("Hidden layers", exact=True).fill("3")
    scope.get_by_label("Width (units per hidden layer)", exact=True).fill("64")
    scope.get_by_label("Drop rate of the dropout net", exact=True).fill("0.3")
    for _ in range(3):
        scope.get_by_role("button", name="Step").click()
    assert "Epoch 3 of" in scope.locator("[data-field='epoch']").inner_text()
    for which in ("plain", "dropout"):
        text = scope.locator(f"[data-field='{which}-metrics']").inner_text()
        assert "validation loss" in text
        assert "NaN" not in text
    scope.get_by_role("button", name="Play").click()
    page.wait_for_function(
        """s => /Epoch ([0-9]+)/.exec(document.querySelector(s + " [data-field='epoch']")
                   .textContent)[1] >= 10""",
        arg=LAB,
    )
    scope.get_by_role("button", name="Pause").click()
    scope.get_by_role("button", name="Show the MC-dropout spread (30 passes)").click()
    assert scope.locator("figure.df-lab__panel").nth(2).is_visible()
    cmd = scope.locator(".df-cmd__code").inner_text()
    assert "dropout-figs train --dataset spiral" in cmd
    assert "--drop-rate 0.3" in cmd
    url = _href(page)
    assert "lab.data=spiral" in url
    assert "lab.drop=0.3" in url
    again = Visit(browser, url, **_reduced())
    try:
        again.page.wait_for_selector(f"{LAB}[data-df-ready]")
        assert again.page.get_by_label("Data set", exact=True).input_value() == "spiral"
        drop = again.page.get_by_label("Drop rate of the dropout net", exact=True)
        assert drop.input_value() == "0.3"
        again.assert_clean()
    finally:
        again.close()
    scope.get_by_label("Epochs", exact=True).fill("0")
    assert scope.get_by_label("Epochs", exact=True).get_attribute("aria-invalid") == "true"
    v.assert_clean()
    v.shot("training-lab-spiral", full_page=False)


def test_explorables_follow_the_dark_scheme(visit):
    v = visit("simulator.md", **_reduced())
    page = v.page
    page.wait_for_selector(f"{SIM}[data-df-ready]")

    def colours():
        return page.evaluate(
            """s => { const css = getComputedStyle(document.querySelector(s));
                 return ['--df-bg', '--df-fg', '--df-kept']
                   .map(k => css.getPropertyValue(k).trim()); }""",
            SIM,
        )

    before = colours()
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
    after = colours()
    assert before[0] != after[0]
    assert before[1] != after[1]
    v.assert_clean()


def test_explorables_start_paused_with_reduced_motion(visit):
    v = visit("simulator.md", **_reduced())
    v.page.wait_for_selector(f"{SIM}[data-df-ready]")
    assert v.page.get_by_role("button", name="Play").get_attribute("aria-pressed") == "false"


def _page_weight(visit, src: str) -> tuple[int, int]:
    """Bytes of everything the page loads from file://: as stored, and gzipped (as served)."""
    v = visit(src, **_reduced())
    loaded: set[str] = set()
    v.page.on("requestfinished", lambda r: loaded.add(r.url))
    v.page.reload(wait_until="networkidle")
    files = {Path(unquote(urlparse(u).path)) for u in loaded if u.startswith("file://")}
    files = [f for f in files if f.is_file()]
    raw = sum(f.stat().st_size for f in files)
    # Fonts and images are compressed already; a web server sends them as they are.
    packed = sum(
        f.stat().st_size
        if f.suffix in {".woff2", ".png", ".gif"}
        else len(gzip.compress(f.read_bytes(), 6, mtime=0))
        for f in files
    )
    return raw, packed


def test_page_weight(visit):
    sim_raw, sim = _page_weight(visit, "simulator.md")
    home_raw, home = _page_weight(visit, "index.md")
    print(
        f"\npage weight, gzipped (as stored): simulator {sim / 1000:.0f} KB "
        f"({sim_raw / 1000:.0f} KB), home {home / 1000:.0f} KB ({home_raw / 1000:.0f} KB)"
    )
    assert sim < 600_000
    assert home < 1_000_000


@pytest.mark.parametrize("name", ["simulator", "network", "training-lab"])
def test_explorable_file_is_self_contained(browser, tmp_path, name):
    import dropout_figs as df

    try:
        path = df.explorable(name).save(tmp_path / f"{name}.html")
    except df.DropoutFigsError as exc:
        _unavailable(str(exc))
    v = Visit(browser, path.as_uri(), **_reduced())
    try:
        v.page.wait_for_selector(f"[data-df-widget='{name}'][data-df-ready]")
        v.page.wait_for_load_state("networkidle")
        v.assert_clean()
        if name == "simulator":
            _type(v.page, "Units in the layer", "137")
            _type(v.page, "Keep probability q", "0.63")
            _type(v.page, "Seed", "4242")
            _assert_summary(v.page, SIM, 137, 0.63, 4242)
    finally:
        v.close()
