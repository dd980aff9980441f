"""One run, one source: a page prints the configuration a lab figure actually trained.

* Every figure that trains puts a complete run record in ``data["run"]``
  (:func:`dropout_figs.lab.record.run_record`), its parameter count computed
  from the layer sizes.
* A page that shows a lab figure never reads configuration from
  ``df.PRESETS[...]`` in its Jinja (the figure may override the preset): it
  reads the figure's record (static check on the page source).
* In the built site, every ``run_config`` block carries the record it printed
  (``data-df-run``) and the figure it came from; both must equal that figure's
  data, and the sentence must be :func:`describe_run` of it. Every lab figure
  with a record that a page shows has such a block on that page.

The site tests build the site once per session (tests/conftest.py); the figure
data are then read from the plugin's warm cache, so these checks cost little.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import shlex
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

import dropout_figs as df
from dropout_figs.cli import main
from dropout_figs.figures import iter_figures
from dropout_figs.lab import PRESETS, TrainConfig, make_dataset
from dropout_figs.lab.record import RUN_KEYS, describe_run, n_parameters, run_record
from dropout_figs.mkdocs.markdown import split_code, targets_outside_code
from dropout_figs.render import Request, ensure_rendered

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CACHE = ROOT / ".cache" / "dropout-figs"
_OPTIONS = {"fmt", "format", "size", "dpi", "style"}

# What "trains" means: a builder that calls one of these (directly or through the
# lab kit) fits a network, so its data must say which network, on which data.
_TRAINING_CALLS = re.compile(
    r"\b(train|compare|train_many|paired_runs|sweep_keep_prob|sweep_dataset_size|"
    r"paired_over_seeds|regulariser_table)\("
)

#: Lab figures whose modules belong to other pieces of work in progress (issue 9):
#: they carry their configuration in their own keys until they adopt ``data["run"]``.
#: Checked when they have a record; skipped, saying so, while they have none.
# Sweeps whose data sets and training streams are all spawned from the figure's one seed (no
# integer seed per replicate): their record holds that seed.
ONE_SEED_SWEEPS = {"keep-prob-sweep", "dataset-size-sweep"}
PENDING: dict[str, str] = {}  # figures that train but do not record their run yet: none


def training_figures() -> dict[str, object]:
    return {s.name: s for s in iter_figures() if _TRAINING_CALLS.search(inspect.getsource(s.build))}


# =========================================================================== the record
def test_a_run_record_is_complete_and_computed():
    data = make_dataset("moons", n_samples=80, noise=0.5, rng=0)
    config = TrainConfig(hidden_layers=3, width=64, keep_prob=0.8, epochs=7, batch_size=16)
    run = run_record(config, data, seeds=5, paired=True)
    assert tuple(run) == RUN_KEYS
    assert run["layer_sizes"] == [2, 64, 64, 64, 2]
    # (2 + 1) * 64 + 2 * (64 + 1) * 64 + (64 + 1) * 2 weights and biases
    assert run["n_params"] == 8642 == n_parameters(run["layer_sizes"])
    assert (run["n_train"], run["n_val"], run["noise"]) == (40, 40, 0.5)
    assert run["updates_per_epoch"] == 3
    assert run["n_updates"] == 21
    assert run["drop_rate"] == 0.2
    assert run["input_drop_rate"] == 0.0
    assert run["momentum"] is None
    assert run["seeds"] == [5]
    assert run["changed_from_preset"] == []
    assert run["preset"] is None
    assert json.loads(json.dumps(run)) == run
    assert run == run_record(config, data, seeds=5, paired=True)
    preset = PRESETS["severe-overfitting"]
    mine = preset.config.replace(epochs=preset.config.epochs + 1)
    from_preset = run_record(mine, preset.make_data(rng=0), seeds=0, preset=preset.name)
    assert from_preset["changed_from_preset"] == ["epochs"]  # the rest is the preset's
    assert "severe-overfitting preset with its epochs changed" in describe_run(from_preset)
    sgd = run_record(config.replace(optimizer="sgd", momentum=0.95), data, seeds=[1, 2])
    assert sgd["momentum"] == 0.95
    assert sgd["seeds"] == [1, 2]
    text = describe_run(run)
    for needle in ("2-64-64-64-2", "8,642 parameters", "40 training", "7 epochs (21 updates)"):
        assert needle in text
    assert "keep probability 0.8 (drop rate 0.2)" in text
    assert "seed 5" in text


def test_every_figure_that_trains_records_its_run():
    specs = training_figures()
    assert {"loss-curves", "decision-boundaries", "mc-dropout-uncertainty"} <= set(specs)
    tiny = {"n_epochs": 2, "n_frames": 2, "n_passes": 2, "width": 8}
    for name, spec in specs.items():
        if name in PENDING:
            continue
        params = {p.name: tiny[p.name] for p in spec.params if p.name in tiny}
        data = spec.draw(params).data
        run = data.get("run")
        assert run is not None, f"{name}: no data['run']"
        assert tuple(run) == RUN_KEYS, name
        assert run["n_params"] == n_parameters(run["layer_sizes"]), name
        assert run["epochs"] == params.get("n_epochs", run["epochs"]), name
        if "width" in params:
            assert run["width"] == params["width"], name
        if name in ONE_SEED_SWEEPS:  # replicates spawned from the figure's seed: it is recorded
            assert run["seeds"] == [spec.seed], name
        elif "n_seeds" in spec.param:  # an experiment over seeds records all of them
            assert len(set(run["seeds"])) == spec.defaults()["n_seeds"], name
        else:
            assert run["seeds"] == [spec.seed], name


@pytest.mark.parametrize(
    ("name", "params", "check"),
    [
        # A pair: compare's numbers, as the loss-curves table prints them.
        (
            "loss-curves",
            {"n_epochs": 3, "width": 8},
            lambda d, out: (
                d["with_dropout"]["val_loss"] == round(out["with_dropout"]["val_loss"], 4)
            ),
        ),
        # One network: its eval-mode validation accuracy.
        (
            "forgot-eval-mode",
            {"n_epochs": 3, "n_frames": 1},
            lambda d, out: d["eval_val_acc"] == round(out["val_acc"], 4),
        ),
    ],
)
def test_the_recorded_command_repeats_the_figures_run(capsys, name, params, check):
    """``data["run"]["command"]`` run with ``--json`` gives the figure's own numbers."""
    data = df.draw_figure(name, **params).data
    command = data["run"]["command"]
    assert command is not None, f"{name}: no command in its run record"
    argv = shlex.split(command)
    assert argv[:2] == ["dropout-figs", "train"]
    assert main([*argv[1:], "--json"]) == 0
    assert check(data, json.loads(capsys.readouterr().out))


# =========================================================================== the pages
def _call_args(text: str, start: int):
    """The literal arguments of the call whose name ends just before ``text[start]``."""
    depth, i = 0, start
    while i < len(text):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            break
        i += 1
    call = ast.parse("f" + text[start : i + 1], mode="eval").body
    try:
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except ValueError:
        return None  # computed arguments: not a fixed figure
    return args, kwargs


def _identity(name: str, params: dict) -> tuple:
    params = {k: v for k, v in params.items() if k not in _OPTIONS}
    seed = params.pop("seed", None)
    req = Request.make(name, params, seed=seed)
    return req.name, req.params, req.seed


def page_uses(text: str):
    """(kind, identity, params) of every figure a page source uses outside code."""
    for code, seg in split_code(text):
        if code:
            continue
        for m in re.finditer(r"\b(figure_data|figure_url|figure_alt|run_config)\(", seg):
            parsed = _call_args(seg, m.end() - 1)
            if parsed is None:
                continue
            (name, *_), kwargs = parsed
            yield m[1], _identity(name, kwargs), kwargs
    for target in targets_outside_code(text):
        name, _, query = target.partition("?")
        if name:
            kwargs = dict(parse_qsl(query.replace("&amp;", "&")))
            yield "link", _identity(name, kwargs), kwargs


PAGES = sorted(DOCS.glob("*.md"))


def _jinja(text: str) -> list[str]:
    return re.findall(r"\{\{.*?\}\}|\{%.*?%\}", text, flags=re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_read_a_lab_figures_configuration_from_its_data(page):
    """No ``PRESETS[...]`` (or ``get_preset``) in a page's Jinja where it shows a lab figure."""
    text = page.read_text(encoding="utf-8")
    lab = training_figures()
    shown = sorted({ident[0] for _, ident, _ in page_uses(text) if ident[0] in lab})
    if not shown:
        return
    bad = [
        expr
        for code, seg in split_code(text)
        if not code
        for expr in _jinja(seg)
        if re.search(r"PRESETS\s*\[|get_preset\(|preset_data\(", expr)
    ]
    assert not bad, (
        f"{page.name} shows the lab figures {', '.join(shown)} but reads configuration from "
        f"the presets: {bad}; print the figure's data['run'] (run_config or its fields)"
    )


# =========================================================================== the built site
class RunBlocks(HTMLParser):
    """Every ``<span class="df-run">``: its attributes and its text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[dict, list[str]]] = []
        self._depth = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "span" and "df-run" in (attrs.get("class") or "").split():
            self.blocks.append((attrs, []))
            self._depth = 1
        elif self._depth and tag == "span":
            self._depth += 1

    def handle_endtag(self, tag):
        if self._depth and tag == "span":
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.blocks[-1][1].append(data)


def figure_data(name: str, params: dict) -> dict:
    params = {k: v for k, v in params.items() if k not in _OPTIONS}
    seed = params.pop("seed", None)
    # The plugin's cache, warm after the site build: the data the page was built from.
    return ensure_rendered(Request.make(name, params, seed=seed), CACHE).data


def built_page(site: Path, src: Path) -> Path:
    stem = src.stem
    return site / f"{stem}.html"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_printed_configuration_equals_the_figures_data(built_site, page):
    html_file = built_page(built_site.dir, page)
    if not html_file.is_file():
        pytest.skip(f"{page.name} is not built (not in the nav)")
    blocks = RunBlocks(html_file.read_text(encoding="utf-8")).blocks
    source = page.read_text(encoding="utf-8")
    assert len(blocks) == sum(1 for kind, *_ in page_uses(source) if kind == "run_config")
    printed = set()
    for attrs, text in blocks:
        name, params = attrs["data-df-figure"], json.loads(attrs["data-df-params"])
        run = json.loads(attrs["data-df-run"])
        data = figure_data(name, params)
        assert run == data["run"], f"{page.name}: {name} {params}: printed run is not its data"
        assert " ".join("".join(text).split()) == " ".join(describe_run(run).split())
        printed.add(_identity(name, params))
    lab = training_figures()
    for kind, ident, params in page_uses(source):
        name = ident[0]
        if name not in lab or kind == "run_config":
            continue
        data = figure_data(name, params)
        if "run" not in data:
            assert name in PENDING, f"{name} trains but has no data['run']"
            continue
        assert set(data["run"]) == set(RUN_KEYS), f"{name}: incomplete run record"
        assert data["run"]["n_params"] == n_parameters(data["run"]["layer_sizes"])
        assert ident in printed, (
            f"{page.name} shows {name} {params} but prints no run_config for it"
        )
