"""``dropout-figs train``: train the NumPy MLP on a toy data set from the command line.

The lead's :mod:`dropout_figs.cli` builds the parser with :func:`add_arguments`
and calls :func:`run`; bad input raises :class:`DropoutFigsError`, which the
CLI prints as one line with exit status 2. Results go to stdout (a small table,
or one JSON object with ``--json``); the progress bar goes to stderr, and only
when stderr is a terminal.
"""

from __future__ import annotations

import json
import sys

from .._validate import DropoutFigsError, as_rng, check_count, check_finite, resolve_keep_prob

__all__ = ["add_arguments", "run"]

FIGURE = "loss-curves"


def add_arguments(parser) -> None:
    """Add the ``train`` options to ``parser`` (an argparse parser or subparser)."""
    parser.description = (
        "Train a small MLP (NumPy, hand-written backprop) on a toy 2-D data set and print "
        "the final losses and accuracies. keep_prob = probability a hidden unit is kept; "
        "drop_rate = 1 - keep_prob. Flags override the values of --preset."
    )
    parser.add_argument(
        "--preset", metavar="NAME", default=None, help="start from a tuned preset (see below)"
    )
    parser.add_argument(
        "--dataset",
        metavar="NAME",
        default=None,
        help="blobs, circles, xor, moons or spiral (default moons)",
    )
    parser.add_argument(
        "--layers", metavar="N", default=None, help="number of hidden layers (default 3)"
    )
    parser.add_argument(
        "--width", metavar="N", default=None, help="units per hidden layer (default 64)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--drop-rate",
        metavar="R",
        default=None,
        help="probability a hidden unit is dropped, in [0, 1)",
    )
    group.add_argument(
        "--keep-prob",
        metavar="Q",
        default=None,
        help="probability a hidden unit is kept, in (0, 1]",
    )
    parser.add_argument(
        "--input-drop-rate",
        metavar="R",
        default=None,
        help="probability an input is dropped (default 0)",
    )
    parser.add_argument("--epochs", metavar="N", default=None, help="training epochs (default 150)")
    parser.add_argument(
        "--batch-size", metavar="N", default=None, help="mini-batch size (default 32)"
    )
    parser.add_argument(
        "--optimizer", metavar="NAME", default=None, help="adam or sgd (default adam)"
    )
    parser.add_argument("--lr", metavar="LR", default=None, help="learning rate (default 1e-3)")
    parser.add_argument("--momentum", metavar="M", default=None, help="SGD momentum (default 0.9)")
    parser.add_argument("--l2", metavar="L2", default=None, help="L2 weight penalty (default 0)")
    parser.add_argument(
        "--max-norm", metavar="C", default=None, help="max-norm of incoming weights"
    )
    parser.add_argument(
        "--scheme",
        metavar="NAME",
        default=None,
        help="inverted (default) or classic (weight scaling at test)",
    )
    parser.add_argument(
        "--n-samples", metavar="N", default=None, help="points, training + validation"
    )
    parser.add_argument(
        "--noise", metavar="SD", default=None, help="std of the jitter added to the points"
    )
    parser.add_argument(
        "--val-fraction", metavar="F", default=None, help="share held out (default 0.5)"
    )
    parser.add_argument("--seed", metavar="N", default="0", help="random seed (default 0)")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="train the same network without and with dropout (same initial weights and data)",
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        default=None,
        help=f"also write the {FIGURE} figure (.png/.svg/.pdf) for this preset, keep "
        "probability, epochs and width",
    )
    from ..lab import PRESETS

    parser.epilog = "Presets: " + ", ".join(PRESETS)


# --------------------------------------------------------------------------- setup
def _setup(args):
    """The data set, the training configuration and the seed from the parsed flags."""
    from ..lab import TrainConfig, get_preset
    from ..lab.data import DATASETS, make_dataset

    if args.preset is not None:
        preset = get_preset(args.preset)
        dataset, data_kwargs, config = preset.dataset, dict(preset.dataset_kwargs), preset.config
    else:
        dataset, data_kwargs, config = "moons", {}, TrainConfig()
    if args.dataset is not None:
        if args.dataset not in DATASETS:
            raise DropoutFigsError(
                f"--dataset must be one of {', '.join(DATASETS)}; got {args.dataset!r}"
            )
        dataset = args.dataset
    if args.n_samples is not None:
        data_kwargs["n_samples"] = check_count(args.n_samples, "--n-samples", low=4)
    if args.noise is not None:
        data_kwargs["noise"] = check_finite(args.noise, "--noise", low=0.0, high=10.0)
    if args.val_fraction is not None:
        data_kwargs["val_fraction"] = check_finite(
            args.val_fraction, "--val-fraction", low=0.0, high=1.0, low_open=True, high_open=True
        )

    changes = {}
    if args.layers is not None:
        changes["hidden_layers"] = check_count(args.layers, "--layers", low=0, high=16)
    if args.width is not None:
        changes["width"] = check_count(args.width, "--width", low=1, high=4096)
    if args.keep_prob is not None or args.drop_rate is not None:
        changes["keep_prob"] = resolve_keep_prob(args.keep_prob, args.drop_rate)
    if args.input_drop_rate is not None:
        changes["input_keep_prob"] = resolve_keep_prob(drop_rate=args.input_drop_rate)
    if args.epochs is not None:
        changes["epochs"] = check_count(args.epochs, "--epochs", low=1, high=100_000)
    if args.batch_size is not None:
        changes["batch_size"] = check_count(args.batch_size, "--batch-size", low=1)
    if args.optimizer is not None:
        if args.optimizer not in ("adam", "sgd"):
            raise DropoutFigsError(f"--optimizer must be adam or sgd; got {args.optimizer!r}")
        changes["optimizer"] = args.optimizer
    if args.lr is not None:
        changes["lr"] = check_finite(args.lr, "--lr", low=0.0, high=10.0, low_open=True)
    if args.momentum is not None:
        changes["momentum"] = check_finite(
            args.momentum, "--momentum", low=0.0, high=1.0, high_open=True
        )
    if args.l2 is not None:
        changes["l2"] = check_finite(args.l2, "--l2", low=0.0, high=100.0)
    if args.max_norm is not None:
        changes["max_norm"] = check_finite(args.max_norm, "--max-norm", low=0.0, low_open=True)
    if args.scheme is not None:
        if args.scheme not in ("inverted", "classic"):
            raise DropoutFigsError(f"--scheme must be inverted or classic; got {args.scheme!r}")
        changes["scheme"] = args.scheme
    config = config.replace(**changes)
    seed = check_count(args.seed, "--seed", low=0, high=2**63 - 1)
    explicit_drop = args.keep_prob is not None or args.drop_rate is not None
    if args.compare and not config.uses_dropout and not explicit_drop:
        # e.g. --preset severe-overfitting --compare: compare with the usual drop rate
        config = config.replace(keep_prob=0.5)
    if args.compare and not config.uses_dropout:
        raise DropoutFigsError(
            "--compare needs dropout: give --drop-rate above 0 (or --keep-prob below 1)"
        )
    data_rng, train_rng = as_rng(seed, "--seed").spawn(2)
    data = make_dataset(dataset, rng=data_rng, **data_kwargs)
    return data, config, seed, train_rng


def _check_output(args):
    """Validate -o before training, so a bad path fails fast."""
    if args.output is None:
        return None
    from ..figures import figure_names, get_figure
    from ..render import check_output_path

    if FIGURE not in figure_names():
        raise DropoutFigsError(f"figure not available: {FIGURE!r} is not in this catalogue")
    spec = get_figure(FIGURE)
    check_output_path(args.output, spec)
    return spec


def _write_figure(spec, args, config, data, seed):
    from ..lab import PRESETS
    from ..render import render

    wanted = {
        "preset": args.preset if args.preset is not None else data.name,
        "keep_prob": config.keep_prob,
        "n_epochs": config.epochs,
        "width": config.width,
    }
    if wanted["preset"] not in PRESETS:
        raise DropoutFigsError(f"figure not available for data set {data.name!r}")
    known = spec.param
    params = {k: v for k, v in wanted.items() if k in known}
    if "keep_prob" in params and params["keep_prob"] >= 1.0:
        # the figure compares without and with dropout; it needs a drop rate above 0
        params.pop("keep_prob")
    render(FIGURE, args.output, seed=seed, **params)


# --------------------------------------------------------------------------- output
class _Bar:
    """``[#####.....] epoch 40/150`` on stderr, redrawn in place; only on a terminal."""

    def __init__(self, label, stream=None):
        self.stream = stream or sys.stderr
        self.label = label
        self.enabled = self.stream.isatty()

    def __call__(self, epoch, n_epochs):
        if not self.enabled:
            return
        width = 30
        filled = width * epoch // n_epochs
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] epoch {epoch}/{n_epochs}")
        if epoch == n_epochs:
            self.stream.write("\n")
        self.stream.flush()


def _describe(config, data):
    sizes = "-".join(str(s) for s in config.layer_sizes(data.x_train.shape[1], data.n_classes))
    drop = (
        f"keep prob {config.keep_prob:g} (drop rate {config.drop_rate:g})"
        if config.keep_prob < 1
        else "no dropout"
    )
    if config.input_keep_prob < 1:
        drop += f", input drop rate {1 - config.input_keep_prob:g}"
    return (
        f"{data.name}: {data.n_train} training + {data.n_val} validation points, "
        f"noise {data.noise:g}\n"
        f"network {sizes}, {drop}, {config.optimizer} lr {config.lr:g}, "
        f"batch {config.batch_size}, {config.epochs} epochs"
    )


def _table(columns: dict[str, dict]) -> str:
    rows = [
        ("train loss", "train_loss", "{:.4f}"),
        ("val loss", "val_loss", "{:.4f}"),
        ("gap (val - train)", "gap", "{:+.4f}"),
        ("train accuracy", "train_acc", "{:.1%}"),
        ("val accuracy", "val_acc", "{:.1%}"),
        ("seconds", "seconds", "{:.2f}"),
    ]
    head = ["", *columns]
    body = [[label] + [fmt.format(m[key]) for m in columns.values()] for label, key, fmt in rows]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = []
    for r in [head, *body]:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _explain(without: dict, with_: dict, config) -> str:
    drop = f"drop rate {config.drop_rate:g}"
    if with_["gap"] < without["gap"] and with_["val_loss"] < without["val_loss"]:
        text = (
            f"With dropout ({drop}) the gap between validation and training loss shrank from "
            f"{without['gap']:.3f} to {with_['gap']:.3f} and the validation loss fell from "
            f"{without['val_loss']:.3f} to {with_['val_loss']:.3f}: the network fits the "
            "training points less exactly"
        )
        if with_["val_acc"] >= without["val_acc"]:
            return text + " and generalises better."
        # Loss and accuracy can disagree on a few dozen validation points: say so.
        return text + (
            ", and it is far less overconfident on new points. Validation accuracy did not "
            f"improve on this seed ({without['val_acc']:.1%} -> {with_['val_acc']:.1%}): on "
            "a small validation set a few points near the boundary decide it."
        )
    if with_["gap"] < without["gap"]:
        return (
            f"With dropout ({drop}) the gap shrank from {without['gap']:.3f} to "
            f"{with_['gap']:.3f}, but the validation loss did not fall "
            f"({without['val_loss']:.3f} -> {with_['val_loss']:.3f}): here dropout mostly "
            "slowed the fit (try more epochs, or a smaller drop rate)."
        )
    return (
        f"With dropout ({drop}) the gap did not shrink ({without['gap']:.3f} -> "
        f"{with_['gap']:.3f}): this network was not overfitting much, so there was little "
        "for dropout to fix (try fewer points, more noise or a wider network)."
    )


# --------------------------------------------------------------------------- run
def run(args) -> int:
    """Train as the parsed ``args`` say, print the result; return the exit status."""
    from ..lab import compare, train

    data, config, seed, train_rng = _setup(args)
    spec = _check_output(args)
    if args.compare:
        results = compare(config, data, rng=train_rng, progress=_Bar("training both"))
        metrics = {k: r.metrics() for k, r in results.items()}
        if args.json:
            print(json.dumps(metrics))
        else:
            print(_describe(config, data))
            print()
            print(
                _table(
                    {
                        "without dropout": metrics["without_dropout"],
                        "with dropout": metrics["with_dropout"],
                    }
                )
            )
            print()
            print(_explain(metrics["without_dropout"], metrics["with_dropout"], config))
    else:
        result = train(config, data, rng=train_rng, progress=_Bar("training"))
        metrics = result.metrics()
        if args.json:
            print(json.dumps(metrics))
        else:
            print(_describe(config, data))
            print()
            print(_table({"final": metrics}))
    if spec is not None:
        _write_figure(spec, args, config, data, seed)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
