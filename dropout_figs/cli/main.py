"""The ``dropout-figs`` command line: a thin adapter over the catalogue and the maths.

Every subcommand turns bad input into one line on stderr and exit status 2;
files are written to a temporary name and renamed, so a failed run leaves
nothing half-written.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from .. import __version__
from .._validate import DropoutFigsError, check_count, check_finite, resolve_keep_prob
from ._progress import Progress

PROG = "dropout-figs"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class _UsageError(Exception):
    """Raised inside a command for an argument problem found after parsing."""


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


# --------------------------------------------------------------------------- list
def _cmd_list(args) -> int:
    from ..figures import iter_figures

    specs = list(iter_figures())
    if args.json:
        out = [
            {
                "name": s.name,
                "summary": s.summary,
                "group": s.group,
                "formats": list(s.formats),
                "size": list(s.size),
                "seed": s.seed,
                "params": [
                    {
                        "name": p.name,
                        "flags": list(p.flags),
                        "kind": p.kind,
                        "default": p.default,
                        "low": p.low,
                        "high": p.high,
                        "choices": list(p.choices),
                        "help": p.help,
                    }
                    for p in s.params
                ],
            }
            for s in specs
        ]
        print(json.dumps(out, indent=2))
        return 0
    for s in specs:
        print(f"{s.name}  [{', '.join(s.formats)}]  {s.summary}")
        for p, flags in zip(s.params, s.flag_names(), strict=True):
            print(f"    {flags:<28} {p.help} ({p.describe()})")
        print(f"    {'--seed':<28} random seed (default {s.seed})")
    return 0


# --------------------------------------------------------------------------- render
def _figure_parser(spec) -> _Parser:
    from .._validate import drop_name

    parser = _Parser(prog=f"{PROG} render {spec.name}", add_help=False, allow_abbrev=False)
    for p in spec.params:
        if p.kind == "prob":
            drop = drop_name(p.name)
            parser.add_argument(*p.flags, dest=p.name, default=None)
            parser.add_argument("--" + drop.replace("_", "-"), dest=drop, default=None)
        else:
            parser.add_argument(*p.flags, dest=p.name, default=None)
    return parser


def _parse_figure_params(spec, extra: list[str]) -> dict:
    parser = _figure_parser(spec)
    ns, unknown = parser.parse_known_args(extra)
    if unknown:
        bad = next((u for u in unknown if u.startswith("-")), unknown[0])
        raise DropoutFigsError(
            f"figure {spec.name!r} has no parameter {bad!r}; its parameters are: "
            f"{', '.join(spec.flag_names())}, --seed"
        )
    return {k: v for k, v in vars(ns).items() if v is not None}


def _cmd_render(args, extra: list[str]) -> int:
    from ..figures import get_figure
    from ..render import render

    spec = get_figure(args.name)
    params = _parse_figure_params(spec, extra)
    render(
        spec.name,
        args.output,
        seed=args.seed,
        size=args.size,
        dpi=args.dpi,
        style=args.style,
        **params,
    )
    if not args.quiet:
        print(args.output)
    return 0


# --------------------------------------------------------------------------- numbers
def _cmd_numbers(args) -> int:
    from ..maths import layer_summary

    s = layer_summary(
        check_count(args.n, "n_units"),
        keep_prob=resolve_keep_prob(args.keep_prob, args.drop_rate),
        seed=check_count(args.seed, "seed", low=0, high=2**63 - 1),
        mean_activation=check_finite(args.mean_activation, "mean_activation", low=0, low_open=True),
    )
    if args.json:
        print(json.dumps(s.to_dict()))
        return 0
    rows = [
        ("units n", f"{s.n_units:,}"),
        ("keep probability q", f"{s.keep_prob:g}   (drop rate {s.drop_rate:g})"),
        ("kept", f"{s.kept:,}   (seed {s.seed})"),
        ("dropped", f"{s.dropped:,}"),
        ("scale factor 1/q", f"{s.scale_factor:.4g}"),
        ("expected active n·q", f"{s.expected_active:,.6g}"),
        ("sub-networks 2^n", s.subnetworks),
        ("output scale ratio", f"{s.output_scale_ratio:.4f}   (this draw; averages to 1)"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


# --------------------------------------------------------------------------- build
def _build_progress():
    """The progress bar for ``build``: the count and the figure being drawn."""
    bar = Progress()

    def report(done, total, request):
        bar(done, total, f"{request.name if request is not None else 'cached':<28}")

    return report


def build_figures(
    outdir,
    names=None,
    *,
    params=None,
    seed=None,
    size=None,
    dpi=None,
    style=None,
    formats=None,
    jobs=None,
    cache_dir=None,
    progress=None,
):
    """Render figures of the catalogue into ``outdir`` with the numbers behind each.

    Every figure is written in each of its formats (or ``formats``), plus
    ``NAME.json`` holding its parameters, seed, alt text, numbers and the
    command that rebuilds it. ``params`` apply to each chosen figure that has
    them. Unchanged figures come from a content-hash cache (default
    ``outdir/.cache``) and are not drawn again.

    Returns
    -------
    list of Path
        The files written.
    """
    from ..figures import figure_names, get_figure
    from ..render import Request, check_output_folder, render_many, write_atomic

    outdir = check_output_folder(outdir)
    names = list(names or figure_names())
    specs = [get_figure(n) for n in names]
    params = dict(params or {})
    # Each figure takes the given parameters it has; every parameter must fit some figure.
    own: dict[str, dict] = {}
    for spec in specs:
        own[spec.name] = {}
        for key, value in params.items():
            try:
                spec.canonical_name(key)
            except DropoutFigsError:
                continue
            own[spec.name][key] = value
    used = {key for mine in own.values() for key in mine}
    unused = [k for k in params if k not in used]
    if unused:
        raise DropoutFigsError(
            f"no chosen figure has the parameter {unused[0]!r} ({', '.join(names)})"
        )
    requests = []
    for spec in specs:
        if formats is None:
            fmts = ["gif", "png"] if spec.animated else ["png", "svg"]
        else:
            fmts = [f for f in formats if f in spec.formats]
            if not fmts:
                raise DropoutFigsError(
                    f"figure {spec.name!r} is written as {', '.join(spec.formats)}, none of "
                    f"--formats {','.join(formats)}; add one of them or leave the figure out"
                )
        for fmt in fmts:
            requests.append(
                Request.make(
                    spec.name, own[spec.name], fmt=fmt, seed=seed, size=size, dpi=dpi, style=style
                )
            )
    cache_dir = Path(cache_dir) if cache_dir else outdir / ".cache"
    entries = render_many(requests, cache_dir, jobs=jobs, progress=progress)
    written = []
    for request, entry in entries.items():
        target = outdir / f"{request.name}.{request.fmt}"
        data = entry.read_bytes()  # checked against its hash once more
        if not (target.is_file() and target.read_bytes() == data):
            write_atomic(target, data)
        written.append(target)
        meta = outdir / f"{request.name}.json"
        if meta not in written:
            # The hash is the cache's check of one format's file, not a fact about the figure.
            info = {k: v for k, v in entry.info.items() if k != "sha256"}
            write_atomic(meta, (json.dumps(info, indent=1, sort_keys=True) + "\n").encode())
            written.append(meta)
    return written


def _parse_sets(items) -> dict:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DropoutFigsError(
                f"--set takes KEY=VALUE (e.g. --set keep_prob=0.5); got {item!r}"
            )
        out[key.strip()] = value.strip()
    return out


def _cmd_build(args) -> int:
    params = _parse_sets(args.set)
    for flag in ("n", "keep_prob", "drop_rate"):
        value = getattr(args, flag)
        if value is not None:
            params[flag] = value
    formats = None
    if args.formats:
        from ..figures.catalogue import FORMATS

        formats = [f.strip().lower().lstrip(".") for f in args.formats.split(",") if f.strip()]
        bad = [f for f in formats if f not in FORMATS]
        if bad or not formats:
            raise DropoutFigsError(
                f"--formats takes a comma-separated list of {', '.join(FORMATS)}; "
                f"got {args.formats!r}"
            )
    jobs = None if args.jobs is None else check_count(args.jobs, "--jobs", low=1, high=256)
    written = build_figures(
        args.outdir,
        args.names,
        params=params,
        seed=args.seed,
        size=args.size,
        dpi=args.dpi,
        style=args.style,
        formats=formats,
        jobs=jobs,
        cache_dir=args.cache,
        progress=_build_progress(),
    )
    if not args.quiet:
        print(f"{len(written)} files in {args.outdir}")
    return 0


# --------------------------------------------------------------------------- the parser
# --------------------------------------------------------------------------- explorable
def _cmd_explorable(args) -> int:
    from ..explorables import explorable

    if not args.output.lower().endswith((".html", ".htm")):
        return _fail(f"-o must name an .html file; got {args.output!r}")
    path = explorable(args.name).save(args.output)
    if not args.quiet:
        print(path)
    return 0


def _add_output_options(p):
    p.add_argument("--seed", default=None, help="random seed (default: the figure's)")
    p.add_argument("--style", default=None, help="matplotlib style name or .mplstyle file")
    p.add_argument(
        "--size",
        default=None,
        help="WxH in pixels (e.g. 1920x1080) or web, square, slide, slide-4k, slide-4x3",
    )
    p.add_argument("--dpi", default=None, type=float, help="dots per inch (default: width / 8)")


def make_parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Figures, numbers and a training lab for understanding dropout. "
        "keep_prob = probability a unit is kept; drop_rate = 1 - keep_prob.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("list", help="list the figures with their parameters", allow_abbrev=False)
    p.add_argument("--json", action="store_true", help="print the catalogue as JSON")

    p = sub.add_parser(
        "render",
        help="render one figure to a file (format by suffix)",
        allow_abbrev=False,
        usage=f"{PROG} render NAME -o PATH [--PARAM VALUE ...] [--seed N] [--style S] "
        "[--size WxH] [--dpi D]",
        epilog="Figure parameters: see `dropout-figs list`.",
    )
    p.add_argument("name", help="figure name (see `dropout-figs list`)")
    p.add_argument("-o", "--output", required=True, help="output file: .png, .svg, .pdf or .gif")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the path written")
    _add_output_options(p)

    p = sub.add_parser("numbers", help="the numbers behind one dropout layer", allow_abbrev=False)
    p.add_argument("--n", "--n-units", dest="n", required=True, help="number of units")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--keep-prob", default=None, help="probability a unit is kept, in (0, 1]")
    group.add_argument("--drop-rate", default=None, help="probability a unit is dropped, in [0, 1)")
    p.add_argument("--seed", default="0", help="random seed (default 0)")
    p.add_argument("--mean-activation", default="1.0", help="mean activation a > 0 (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser(
        "build",
        help="render every figure (or some) into a folder, with the numbers behind each",
        allow_abbrev=False,
    )
    p.add_argument("outdir", help="existing output folder")
    p.add_argument("names", nargs="*", help="figures to build (default: all)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a figure parameter")
    p.add_argument("--n", "--n-units", dest="n", default=None, help="number of units")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--keep-prob", default=None, help="probability a unit is kept")
    group.add_argument("--drop-rate", default=None, help="probability a unit is dropped")
    p.add_argument("--formats", default=None, help="comma-separated, e.g. png,svg,pdf")
    p.add_argument("--jobs", default=None, help="worker processes, 1 to 256 (default: all cores)")
    p.add_argument("--cache", default=None, help="cache folder (default OUTDIR/.cache)")
    p.add_argument("-q", "--quiet", action="store_true")
    _add_output_options(p)

    p = sub.add_parser(
        "explorable",
        help="write a live explorable (simulator, network, training-lab) as one HTML file",
        allow_abbrev=False,
    )
    p.add_argument("name", help="simulator, network or training-lab")
    p.add_argument("-o", "--output", required=True, help="output .html file")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the path written")

    from . import train as train_cli

    p = sub.add_parser(
        "train",
        help="train the NumPy MLP on a toy data set, with or without dropout",
        allow_abbrev=False,
    )
    train_cli.add_arguments(p)
    return parser


def _terminate(signum, frame):
    # SIGTERM ends a run the way Ctrl-C does: worker pools are torn down, no
    # half-written file is left, one line on stderr.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    parser = make_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # argparse: --help, --version or a usage error
        return int(exc.code or 0)
    try:
        if args.command == "render":
            return _cmd_render(args, extra)
        if extra:
            return _fail(f"unrecognized arguments: {' '.join(extra)}")
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "numbers":
            return _cmd_numbers(args)
        if args.command == "build":
            return _cmd_build(args)
        if args.command == "explorable":
            return _cmd_explorable(args)
        from . import train as train_cli

        return train_cli.run(args)
    except DropoutFigsError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")
