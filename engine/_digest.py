"""BLAKE2b without ``hashlib``: importing ``hashlib`` loads OpenSSL's libcrypto (~2.5 ms of every run,
for digests of a few kilobytes).  CPython's own BLAKE2, which ``hashlib.blake2b`` is, lives in the
built-in ``_blake2`` module; elsewhere ``hashlib`` serves."""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover  (an interpreter without CPython's built-in module)
    from hashlib import blake2b

__all__ = ["blake2b"]
