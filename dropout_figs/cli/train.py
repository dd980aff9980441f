"""``dropout-figs train``: train the NumPy MLP on a toy data set from the command line.

The lead's :mod:`dropout_figs.cli` builds the parser with :func:`add_arguments`
and calls :func:`run`; bad input raises :class:`DropoutFigsError`, which the
CLI prints as one line with exit status 2. Results go to stdout (a small table,
or one JSON object with ``--json``); the progress bar goes to stderr, and only
when stderr is a terminal.
"""

from __future__ import annotations

import json
import math
import sys

from .._validate import DropoutFigsError, as_rng, check_count, drop_name, resolve_keep_prob
from ._progress import Progress

__all__ = ["add_arguments", "run"]

FORMATS = ("png", "svg", "pdf")


def add_arguments(parser) -> None:
    """Add the ``train`` options to ``parser`` (an argparse parser or subparser)."""
    parser.description = (
        "Train a small MLP (NumPy, hand-written backprop) on a toy 2-D data set or the 8x8 "
        "digits and print "
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
        help="blobs, circles, xor, moons, spiral (toy 2-D sets) or digits (8x8 images, "
        "10 classes; default net 64-512-512-10) (default moons)",
    )
    parser.add_argument(
        "--layers", metavar="N", default=None, help="number of hidden layers (default 3)"
    )
    parser.add_argument(
        "--width", metavar="N", default=None, help="units per hidden layer (default 64)"
    )
    for prob, what in (("keep_prob", "a hidden unit"), ("input_keep_prob", "an input")):
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            _flag(prob), metavar="Q", default=None, help=f"probability {what} is kept, in (0, 1]"
        )
        group.add_argument(
            _flag(drop_name(prob)),
            metavar="R",
            default=None,
            help=f"probability {what} is dropped, in [0, 1)",
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
    parser.add_argument(
        "--n-test",
        metavar="N",
        default=None,
        help="held-out test points (default 2000; digits: the remaining images)",
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
        help="also draw the run(s) just trained, loss curves and decision boundaries "
        "(.png/.svg/.pdf)",
    )
    from ..lab import PRESETS

    parser.epilog = "Presets: " + ", ".join(PRESETS)


# --------------------------------------------------------------------------- setup
# TrainConfig field (or make_dataset argument) <- command-line flag, for the flags
# whose value is passed on as typed: TrainConfig and make_dataset validate them,
# and their errors name the field and the value.
_CONFIG_FLAGS = {
    "hidden_layers": "layers",
    "width": "width",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "optimizer": "optimizer",
    "lr": "lr",
    "momentum": "momentum",
    "l2": "l2",
    "max_norm": "max_norm",
    "scheme": "scheme",
}
_DATA_FLAGS = ("n_samples", "noise", "val_fraction", "n_test")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _setup(args):
    """The data set, the training configuration and the training stream from the flags."""
    from ..lab import TrainConfig, get_preset
    from ..lab.config import DATASET_DEFAULTS
    from ..lab.data import make_dataset

    if args.preset is not None:
        preset = get_preset(args.preset)
        dataset, data_kwargs, config = preset.dataset, dict(preset.dataset_kwargs), preset.config
        dataset = args.dataset if args.dataset is not None else dataset
    else:
        dataset = args.dataset if args.dataset is not None else "moons"
        data_kwargs, config = DATASET_DEFAULTS.get(dataset, ({}, TrainConfig()))
        data_kwargs = dict(data_kwargs)
    data_kwargs.update({k: getattr(args, k) for k in _DATA_FLAGS if getattr(args, k) is not None})
    changes = {
        f: getattr(args, a) for f, a in _CONFIG_FLAGS.items() if getattr(args, a) is not None
    }
    for prob in ("keep_prob", "input_keep_prob"):
        keep, drop = getattr(args, prob), getattr(args, drop_name(prob))
        if keep is not None or drop is not None:
            changes[prob] = resolve_keep_prob(keep, drop, name=prob)
    config = config.replace(**changes)
    seed = check_count(args.seed, "seed", low=0, high=2**63 - 1)
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
    return data, config, train_rng


def _check_output(args):
    """Validate -o before training, so a bad path fails fast; return its format."""
    if args.output is None:
        return None
    from types import SimpleNamespace

    from ..render import check_output_path

    _, fmt = check_output_path(args.output, SimpleNamespace(name="train", formats=FORMATS))
    return fmt


def _write_figure(path, fmt, results, data, seed=None):
    """Draw the runs just trained (loss curves, boundaries) and write them atomically."""
    from ..figures.runs import draw_training_runs
    from ..render import encode, write_atomic
    from ..style import style_context

    with style_context():
        drawing = draw_training_runs(results, data, seed=seed)
        write_atomic(path, encode(drawing, fmt))


# --------------------------------------------------------------------------- output
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
        f"{data.name}: {data.n_train} training + {data.n_val} validation points "
        f"(+ {data.n_test} held-out test points), noise {data.noise:g}\n"
        f"network {sizes}, {drop}, {config.optimizer} lr {config.lr:g}, "
        f"batch {config.batch_size}, {config.epochs} epochs"
    )


def _table(columns: dict[str, dict]) -> str:
    rows = [
        ("train loss", "train_loss", "{:.4f}"),
        ("val loss", "val_loss", "{:.4f}"),
        ("test loss", "test_loss", "{:.4f}"),
        ("gap (val - train)", "gap", "{:+.4f}"),
        ("train accuracy", "train_acc", "{:.1%}"),
        ("val accuracy", "val_acc", "{:.1%}"),
        ("test accuracy", "test_acc", "{:.1%}"),
        ("seconds", "seconds", "{:.2f}"),
    ]
    first = next(iter(columns.values()))
    rows = [r for r in rows if r[1] in first]
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
def _finite_or_null(metrics: dict) -> dict:
    # JSON has no NaN or infinity: a diverged loss is written as null
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in metrics.items()
    }


def run(args) -> int:
    """Train as the parsed ``args`` say, print the result; return the exit status.

    A run that diverges (a loss not finite) stops at once: its JSON (with
    ``--json``) records ``"diverged": true`` and the epoch, no figure is written,
    and a one-line error explains it (exit status 2).
    """
    from ..lab import compare, train

    data, config, train_rng = _setup(args)
    fmt = _check_output(args)
    bar = Progress("training both" if args.compare else "training", unit="epoch")
    if args.compare:
        results = compare(config, data, rng=train_rng, progress=bar)
    else:
        results = {"final": train(config, data, rng=train_rng, progress=bar)}
    bar.close()
    metrics = {k: r.metrics() for k, r in results.items()}
    diverged = [r.diverged_epoch for r in results.values() if r.diverged_epoch is not None]
    if args.json:
        out = {k: _finite_or_null(m) for k, m in metrics.items()}
        print(json.dumps(out if args.compare else out["final"]))
    elif not diverged:
        print(_describe(config, data))
        print()
        if args.compare:
            without, with_ = metrics["without_dropout"], metrics["with_dropout"]
            print(_table({"without dropout": without, "with dropout": with_}))
            print()
            print(_explain(without, with_, config))
        else:
            print(_table(metrics))
    if diverged:
        raise DropoutFigsError(
            f"training diverged at epoch {min(diverged)} of {config.epochs} (the loss is no "
            f"longer finite) and was stopped; lower lr (it was {config.lr:g})"
        )
    if fmt is not None:
        _write_figure(args.output, fmt, results, data, seed=check_count(args.seed, "seed", low=0))
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
