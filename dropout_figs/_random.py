"""Normal draws the browser engine can repeat bit for bit.

NumPy's ``Generator.standard_normal`` uses a table-driven ziggurat that is not
worth porting to the browser. The lab draws its normals (data-set jitter,
initial weights) here instead, by the Box-Muller transform of ``rng.random()``
pairs, which ``web/src/engine/random.ts`` (``normalPair``) repeats from its port
of the same stream. Only ``log1p``, ``sqrt``, ``cos`` and ``sin`` differ between
C and JavaScript, by an ulp at most.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["standard_normal"]


def standard_normal(rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    """Standard normals of shape ``size``, Box-Muller from ``rng.random()`` pairs.

    Draws ``ceil(m / 2)`` pairs of uniforms ``(u, v)`` for ``m`` values, in order;
    each pair gives ``r cos t`` then ``r sin t`` with ``r = sqrt(-2 log(1 - u))``
    and ``t = 2 pi v`` (``1 - u`` lies in (0, 1], so the log is finite). For an
    odd ``m`` the last pair's second value is dropped, as the browser does.
    """
    shape = (size,) if isinstance(size, int) else tuple(size)
    m = math.prod(shape)
    u = rng.random(((m + 1) // 2, 2))
    r = np.sqrt(-2.0 * np.log1p(-u[:, 0]))
    t = 2.0 * math.pi * u[:, 1]
    pairs = np.empty_like(u)
    pairs[:, 0] = r * np.cos(t)
    pairs[:, 1] = r * np.sin(t)
    return pairs.ravel()[:m].reshape(shape)
