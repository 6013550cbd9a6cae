"""Null-token detection and whitespace trimming on raw bytes."""

from __future__ import annotations

import numpy as np

from ._jit import njit


def pack_tokens(tokens: tuple[str, ...] | list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Pack tokens into (data, offsets) arrays for the kernels (tokens are matched after trimming)."""
    encoded = [t.strip(" \t").encode("utf-8") for t in tokens]
    encoded = [t for t in encoded if t]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    for i, t in enumerate(encoded):
        offsets[i + 1] = offsets[i] + len(t)
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy() if encoded else np.zeros(0, np.uint8)
    return data, offsets


@njit
def trim(data: np.ndarray, a: int, b: int) -> tuple[int, int]:
    """Strip ASCII spaces and tabs from both ends of ``data[a:b]``."""
    while a < b and (data[a] == 32 or data[a] == 9):
        a += 1
    while b > a and (data[b - 1] == 32 or data[b - 1] == 9):
        b -= 1
    return a, b


@njit
def token_lengths(tok_off: np.ndarray) -> np.uint64:
    """Bit ``n`` is set when some token is ``n`` bytes long (tokens of 64 bytes or more set bit 63)."""
    mask = np.uint64(0)
    for t in range(tok_off.shape[0] - 1):
        n = tok_off[t + 1] - tok_off[t]
        mask |= np.uint64(1) << np.uint64(n if n < 63 else 63)
    return mask


@njit
def maybe_token(n: int, lengths: np.uint64) -> bool:
    """False when no token is ``n`` bytes long (so the value cannot be one)."""
    return ((lengths >> np.uint64(n if n < 63 else 63)) & np.uint64(1)) != np.uint64(0)


@njit
def is_null_token(data: np.ndarray, a: int, b: int, tok_data: np.ndarray, tok_off: np.ndarray) -> bool:
    """True when the trimmed value ``data[a:b]`` equals one of the packed tokens."""
    n = b - a
    for t in range(tok_off.shape[0] - 1):
        ts = tok_off[t]
        if tok_off[t + 1] - ts != n:
            continue
        same = True
        for j in range(n):
            if data[a + j] != tok_data[ts + j]:
                same = False
                break
        if same:
            return True
    return False
