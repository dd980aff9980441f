"""The digits experiment in PyTorch: one wide MLP trained without and with dropout.

Needs torch and scikit-learn (for its bundled 8x8 digits; nothing is downloaded).
Run it as ``python digits_torch.py --seeds 5``. The settings below are those of
the site's ``digits-over-seeds`` figure (a test checks that they agree); the
numbers differ from the NumPy lab's because PyTorch draws its own initial
weights, batches and masks.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

N_SAMPLES = 500  # training + validation images, half each; the other 1,297 are the test set
HIDDEN_LAYERS, WIDTH = 2, 64
KEEP_PROB, INPUT_KEEP_PROB = 0.8, 1.0  # probability a unit is KEPT (the paper's p)
EPOCHS, BATCH_SIZE, LR = 20, 16, 3e-3


def make_model(keep_prob=KEEP_PROB, input_keep_prob=INPUT_KEEP_PROB, width=WIDTH):
    # PyTorch's p is the probability of DROPPING a unit: p = 1 - keep_prob.
    # nn.Dropout is inverted dropout: it scales kept units by 1 / keep_prob while training.
    layers, n_in = [nn.Dropout(p=1 - input_keep_prob)], 64
    for _ in range(HIDDEN_LAYERS):
        layers += [nn.Linear(n_in, width), nn.ReLU(), nn.Dropout(p=1 - keep_prob)]
        n_in = width
    layers.append(nn.Linear(n_in, 10))  # never dropout on the output layer
    return nn.Sequential(*layers)


def load_splits(seed, n_samples=N_SAMPLES):
    """Training, validation and test images of one seed, pixels scaled to [0, 1]."""
    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    n_train = n_samples // 2
    parts = order[:n_train], order[n_train:n_samples], order[n_samples:]
    return [(x[i], y[i]) for i in parts]


def evaluate(model, x, y):
    """Loss and accuracy with dropout OFF: model.eval(). (torch.no_grad() alone leaves it on.)"""
    model.eval()
    with torch.no_grad():
        logits = model(x)
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def train(model, splits, *, epochs=EPOCHS, seed=0):
    """Adam on mini-batches with dropout ON (model.train()); validation loss/accuracy per epoch."""
    (x, y), (x_val, y_val), _ = splits
    batches = torch.Generator().manual_seed(seed)  # the same batch order for both networks
    optimiser = torch.optim.Adam(model.parameters(), lr=LR)
    history = []
    for _ in range(epochs):
        model.train()  # dropout on: a fresh mask for every example of every batch
        for idx in torch.randperm(len(y), generator=batches).split(BATCH_SIZE):
            optimiser.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            optimiser.step()
        history.append(evaluate(model, x_val, y_val))
    return history


def compare(seed, *, epochs=EPOCHS):
    """One seed: the same data, initial weights and batches; only the dropout differs."""
    splits = load_splits(seed)
    out = {}
    for name, keep in (("without", 1.0), ("with", KEEP_PROB)):
        torch.manual_seed(seed)  # the same initial weights (nn.Dropout has none)
        model = make_model(keep_prob=keep, input_keep_prob=INPUT_KEEP_PROB if keep < 1 else 1.0)
        history = train(model, splits, epochs=epochs, seed=seed)
        test_loss, test_acc = evaluate(model, *splits[2])
        out[name] = {"history": history, "test_loss": test_loss, "test_acc": test_acc}
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="paired seeds (default 5)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    torch.set_num_threads(1)  # matrices this small: a second thread costs more than it saves
    diffs = []
    for seed in range(args.seeds):
        r = compare(seed, epochs=args.epochs)
        d_loss = r["with"]["test_loss"] - r["without"]["test_loss"]
        d_acc = r["with"]["test_acc"] - r["without"]["test_acc"]
        diffs.append((d_loss, d_acc))
        print(
            f"seed {seed}: test accuracy {r['without']['test_acc']:.1%} without, "
            f"{r['with']['test_acc']:.1%} with dropout (loss {d_loss:+.3f})"
        )
    d = torch.tensor(diffs)
    print(f"mean change with dropout: loss {d[:, 0].mean():+.3f}, accuracy {d[:, 1].mean():+.1%}")
