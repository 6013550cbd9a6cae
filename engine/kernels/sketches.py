"""Mergeable summaries updated value by value: the distinct-count sketch and the bottom-k sample.

Distinct count.  Values are hashed to 64 bits.  Up to ``EXACT_LIMIT`` distinct hashes are kept exactly in
an open-addressing table (so small columns get exact counts); past that the table is folded into a
HyperLogLog with ``2**HLL_P`` registers and only the registers are updated.  Because the registers of a
set are the registers of its hashes, "exact set or registers of the same hashes" is a function of the
set of hashes alone, which makes the merge exact, associative and commutative.

Sample.  Every value gets the priority ``fmix64(hash ^ seed)``; a column keeps the ``k`` distinct values
with the smallest priorities (a bottom-k sample).  The priority depends only on the value and the seed,
so the sample is the same whatever the chunking, the order of merges or the number of workers.
"""

from __future__ import annotations

import numpy as np

from ._jit import U0, clz64, njit
from .hashing import fmix64

EXACT_LIMIT = 4096  # the contract wants exact counts up to 1,000; dates over ten years need ~3,700
TABLE_CAP = 8192  # power of two, twice EXACT_LIMIT: load factor <= 0.5
HLL_P = 14  # 16384 registers: standard error 1.04 / sqrt(16384) = 0.8 %
HLL_M = 1 << HLL_P

_SHIFT_IDX = np.uint64(64 - HLL_P)
_SHIFT_P = np.uint64(HLL_P)
_MAX_RANK = 64 - HLL_P + 1
_UMAX = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit
def hll_add(registers: np.ndarray, h: np.uint64) -> None:
    """Fold hash ``h`` into the HyperLogLog registers (rank = leading zeros of the low bits + 1)."""
    idx = np.int64(h >> _SHIFT_IDX)
    z = clz64(h << _SHIFT_P)
    rank = (z if z < _MAX_RANK - 1 else _MAX_RANK - 1) + 1
    if registers[idx] < rank:
        registers[idx] = rank


@njit
def table_slot(table: np.ndarray, h: np.uint64) -> int:
    """-1 when ``h`` (never 0) is in the open-addressing table, else the empty slot it would go to."""
    mask = table.shape[0] - 1
    slot = np.int64(h & np.uint64(mask))
    while True:
        cur = table[slot]
        if cur == U0:
            return slot
        if cur == h:
            return -1
        slot = (slot + 1) & mask


@njit
def table_to_registers(table: np.ndarray, registers: np.ndarray) -> None:
    for i in range(table.shape[0]):
        if table[i] != U0:
            hll_add(registers, table[i])


@njit
def sample_priority(h: np.uint64, seed_mix: np.uint64) -> np.uint64:
    return fmix64(h ^ seed_mix)


@njit
def offer_sample(prio: np.uint64, idx: int, s_prio: np.ndarray, s_idx: np.ndarray) -> None:
    """Keep the ``len(s_prio)`` smallest distinct priorities; empty slots hold the maximum uint64."""
    k = s_prio.shape[0]
    worst = 0
    for j in range(k):
        p = s_prio[j]
        if p == prio:
            return  # the same value again (the priority is a function of the value)
        if p > s_prio[worst]:
            worst = j
    if prio < s_prio[worst]:
        s_prio[worst] = prio
        s_idx[worst] = idx


@njit
def sample_threshold(s_prio: np.ndarray) -> np.uint64:
    """The largest priority the bottom-k sample holds: a value with a smaller one may enter it."""
    threshold = U0
    for j in range(s_prio.shape[0]):
        if s_prio[j] > threshold:
            threshold = s_prio[j]
    return threshold


@njit
def sample_new(
    h: np.uint64, idx: int, seed_mix: np.uint64, threshold: np.uint64, s_prio: np.ndarray, s_idx: np.ndarray
) -> np.uint64:
    """Offer a value not seen before (hash ``h``, index ``idx``) to the sample; returns the new threshold."""
    if s_prio.shape[0] == 0:
        return threshold
    p = sample_priority(h, seed_mix)
    if p < threshold:
        offer_sample(p, idx, s_prio, s_idx)
        return sample_threshold(s_prio)
    return threshold


@njit
def add_new(h: np.uint64, slot: int, ndistinct: int, table: np.ndarray, registers: np.ndarray,
            memo: np.ndarray) -> int:  # fmt: skip
    """Fold a value not seen before into the distinct sketch (``slot``: its empty table slot, or its memo
    slot, or -1 while the memo pauses); returns the exact count, -1 once the sketch is registers."""
    if ndistinct >= 0:
        table[slot] = h
        ndistinct += 1
        if ndistinct > EXACT_LIMIT:
            table_to_registers(table, registers)
            ndistinct = -1
        return ndistinct
    if slot >= 0:
        memo[slot] = h
    hll_add(registers, h)
    return ndistinct


def empty_sample(k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(k, _UMAX, dtype=np.uint64), np.full(k, -1, dtype=np.int64)
