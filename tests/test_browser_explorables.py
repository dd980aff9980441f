"""The live explorables in Chromium, from file://, driven through their labelled controls.

The numbers on screen must be the package's for the same inputs; the state must survive a
reload from the URL; a bad value must be refused beside its control with the last good
numbers kept. The browser, the page recorder and the built site come from
tests/test_browser.py and tests/conftest.py (skipped loudly without Chromium).
"""

# ruff: noqa: F811 (pytest fixtures imported from test_browser, then used as arguments)
from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

# The fixtures `browser` and `visit` are test_browser.py's; test arguments name them.
from test_browser import Visit, _unavailable, browser, visit  # noqa: F401

pytestmark = pytest.mark.browser


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
