"""64-bit hashing of byte ranges (MurmurHash3-style mixing, 8 bytes per step).

The hash feeds the distinct-count sketch, the sample priorities and the per-column memo, so it must be
identical in every process and across runs: it depends on the bytes only.  Definition, for ``n`` bytes:
``h = SEED ^ n``; for each full little-endian 8-byte word ``w``: ``h ^= mix(w); h = rotl(h, 27) * 5 +
0x52dce729``; a final partial word (zero-extended) is folded as ``h ^= mix(w)``; the result is
``fmix64(h)``, with 0 replaced by 1 (0 marks an empty slot in hash tables).  ``reference.hash_bytes`` is the
same definition in plain Python.
"""

from __future__ import annotations

import numpy as np

from ._jit import U0, U1, load_u64_le, njit

_C1 = np.uint64(0x87C37B91114253D5)
_C2 = np.uint64(0x4CF5AD432745937F)
_FM1 = np.uint64(0xFF51AFD7ED558CCD)
_FM2 = np.uint64(0xC4CEB9FE1A85EC53)
_N1 = np.uint64(0x52DCE729)
_FIVE = np.uint64(5)
_S8 = np.uint64(8)
_S27 = np.uint64(27)
_S37 = np.uint64(37)
_S31 = np.uint64(31)
_S33 = np.uint64(33)
HASH_SEED = np.uint64(0x9E3779B97F4A7C15)


@njit
def fmix64(k: np.uint64) -> np.uint64:
    """MurmurHash3's 64-bit finaliser: a bijection with full avalanche."""
    k ^= k >> _S33
    k *= _FM1
    k ^= k >> _S33
    k *= _FM2
    k ^= k >> _S33
    return k


@njit
def mix_word(w: np.uint64) -> np.uint64:
    """A word's contribution, xor-ed into the state."""
    w *= _C1
    w = (w << _S31) | (w >> _S33)
    return w * _C2


@njit
def step(h: np.uint64) -> np.uint64:
    """The state after a full word was xor-ed in."""
    h = (h << _S27) | (h >> _S37)
    return h * _FIVE + _N1


@njit
def load_word(data: np.ndarray, i: int, n: int) -> np.uint64:
    """``n`` (0..8) bytes at ``data[i]`` as a zero-extended little-endian uint64, without a loop.

    Near the end of the buffer the last 8 bytes are loaded and shifted instead, so ``data`` must hold at
    least 8 bytes (``buffers.binary_views`` guarantees it for Arrow data, ``profile.column`` for the
    minimum and maximum it keeps).
    """
    size = data.shape[0]
    if i + 8 <= size:
        w = load_u64_le(data, i)
    else:
        w = load_u64_le(data, size - 8) >> np.uint64(8 * (i + 8 - size))
    if n < 8:
        w &= (U1 << np.uint64(8 * n)) - U1
    return w


@njit
def hash_bytes(data: np.ndarray, start: int, end: int) -> np.uint64:
    """Hash ``data[start:end]`` (see the module docstring for the definition)."""
    h = HASH_SEED ^ np.uint64(end - start)
    i = start
    while end - i >= 8:
        h = step(h ^ mix_word(load_u64_le(data, i)))
        i += 8
    if i < end:
        h ^= mix_word(load_word(data, i, end - i))
    h = fmix64(h)
    if h == U0:
        h = U1
    return h


def fmix64_py(k: int) -> int:
    """Plain-integer ``fmix64`` for one-off uses outside kernels (seed mixing)."""
    m = 0xFFFFFFFFFFFFFFFF
    k &= m
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & m
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & m
    k ^= k >> 33
    return k
