"""Reading blobs: a ``FileSystem`` of ranged downloads, sequential streams that fetch one range ahead, and
seekable files that fetch small windows around their reads (Parquet footers and page headers)."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa

from ..base import register_filesystem
from .clients import MAX_CHUNK, Scope, client_for, handles, scope_for, sdk_errors
from .messages import read_error, status_of

#: The first bytes of a blob are fetched in one request and kept (format sniffing, dialect sniffing, a
#: small blob whole): a blob read start to end costs one request when it is no larger than this.
HEAD_BYTES = 256 << 10
#: Sequential reads fetch ranges that grow from the first size to the last, one range ahead of the reader.
FIRST_CHUNK = 1 << 20
#: Random-access reads smaller than this fetch this much around them (Parquet footers and page headers).
MIN_RANDOM_FETCH = 64 << 10
#: Random-access blobs up to this size are fetched whole on the first read.
SMALL_BLOB = 1 << 20
_RANDOM_WINDOWS = 4


@dataclass
class _Head:
    """The first bytes of one blob, its size and its ETag (one ranged request)."""

    url: str
    data: bytes
    size: int
    etag: str | None


def _total_size(content_range: str | None) -> int | None:
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    return None


#: The head of the blob read last in this process (one entry: a file's reads are consecutive).
_HEAD: _Head | None = None


def forget_head() -> None:
    """Drop the kept head (a new run: blobs may have changed since an earlier one)."""
    global _HEAD
    _HEAD = None


class AzureFileSystem:
    """Reads blobs with ranged downloads through this process's clients."""

    def _download(
        self, scope: Scope, name: str, offset: int, length: int, etag: str | None = None
    ) -> tuple[bytes, int | None, str | None]:
        """(bytes, blob size, etag) of ``[offset, offset + length)``; past the end: no bytes."""
        errors = sdk_errors()
        kw: dict[str, Any] = {}
        if etag:
            from azure.core import MatchConditions

            kw = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        blob = client_for(scope).get_blob_client(name)
        try:
            stream = blob.download_blob(offset=offset, length=length, max_concurrency=1, **kw)
            data = stream.readall()
            return data, _total_size(stream.properties.content_range), stream.properties.etag
        except errors.HttpResponseError as err:
            if status_of(err) == 416:  # the range starts at or past the end of the blob
                headers = err.response.headers if err.response is not None else {}
                return b"", _total_size(headers.get("Content-Range")), None
            raise read_error(scope, name, err) from None
        except errors.AzureError as err:
            raise read_error(scope, name, err) from None

    def head(self, url: str) -> _Head:
        """The first ``HEAD_BYTES`` of a blob with its size (cached for the blob last asked about)."""
        global _HEAD
        head = _HEAD
        if head is None or head.url != url:
            scope, name = scope_for(url)
            data, size, etag = self._download(scope, name, 0, HEAD_BYTES)
            head = _HEAD = _Head(url, data, size if size is not None else len(data), etag)
        return head

    def read_range(self, url: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        if offset + length <= HEAD_BYTES:
            return self.head(url).data[offset : offset + length]
        scope, name = scope_for(url)
        return self._download(scope, name, offset, length)[0]

    def open_stream(self, url: str, start: int = 0, end: int | None = None) -> BinaryIO:
        scope, name = scope_for(url)
        if start == 0:
            head = self.head(url)
            stop = head.size if end is None else min(end, head.size)
            first = head.data[:stop]
            return _BlobStream(self, scope, name, len(first), stop, first, head.etag)  # type: ignore[return-value]
        return _BlobStream(self, scope, name, start, end)  # type: ignore[return-value]

    def open_random(self, url: str) -> Any:
        head = self.head(url)
        scope, name = scope_for(url)
        return pa.PythonFile(_RandomBlobFile(self, scope, name, head), mode="r")


class _Prefetch:
    """One ranged download running in a background thread."""

    def __init__(self, fetch: Any, offset: int, length: int) -> None:
        self.offset = offset
        self.length = length
        self._result: tuple[bytes, int | None] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fetch,), daemon=True, name="azure-prefetch")
        self._thread.start()

    def _run(self, fetch: Any) -> None:
        try:
            self._result = fetch(self.offset, self.length)
        except BaseException as err:
            self._error = err

    def result(self) -> tuple[bytes, int | None]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def wait(self) -> None:
        self._thread.join()


class _BlobStream(io.RawIOBase):
    """Bytes ``[start, end)`` of a blob as a sequential stream.

    Ranges grow from ``FIRST_CHUNK`` to ``MAX_CHUNK``; while the reader consumes one, the next downloads in
    a background thread, so at most two ranges (16 MiB) are held whatever the blob's size.
    """

    def __init__(
        self,
        fs: AzureFileSystem,
        scope: Scope,
        name: str,
        start: int,
        end: int | None,
        first: bytes = b"",
        etag: str | None = None,
    ) -> None:
        self._fs = fs
        self._scope = scope
        self._name = name
        self._next = start  # offset of the next range to download
        self._end = end  # None: to the end of the blob (learnt from the first download)
        self._buf = memoryview(first)
        self._etag = etag
        self._chunk = FIRST_CHUNK
        self._pending: _Prefetch | None = None
        self._eof = end is not None and start >= end

    def readable(self) -> bool:
        return True

    def _fetch(self, offset: int, length: int) -> tuple[bytes, int | None]:
        data, size, _etag = self._fs._download(self._scope, self._name, offset, length, self._etag)
        return data, size

    def _next_range(self) -> tuple[int, int] | None:
        if self._end is not None and self._next >= self._end:
            return None
        length = self._chunk if self._end is None else min(self._chunk, self._end - self._next)
        return self._next, length

    def _refill(self) -> bool:
        if self._eof:
            return False
        if self._pending is not None:
            pending, self._pending = self._pending, None
            offset, length = pending.offset, pending.length
            data, size = pending.result()
        else:
            rng = self._next_range()
            if rng is None:
                self._eof = True
                return False
            offset, length = rng
            data, size = self._fetch(offset, length)
        if size is not None:
            self._end = size if self._end is None else min(self._end, size)
        self._next = offset + len(data)
        self._chunk = min(self._chunk * 2, MAX_CHUNK)
        if not data:
            self._eof = True
            return False
        self._buf = memoryview(data)
        rng = self._next_range()
        if rng is not None:
            self._pending = _Prefetch(self._fetch, *rng)
        return True

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        out = memoryview(b).cast("B")
        got = 0
        while got < len(out):
            if not self._buf and not self._refill():
                break
            n = min(len(out) - got, len(self._buf))
            out[got : got + n] = self._buf[:n]
            self._buf = self._buf[n:]
            got += n
        return got

    def close(self) -> None:
        if self._pending is not None:
            self._pending.wait()  # never leave a thread behind (workers are forked after planning)
            self._pending = None
        self._buf = memoryview(b"")
        super().close()


class _RandomBlobFile(io.RawIOBase):
    """A seekable view of a blob: every read is a ranged download, small reads fetch a window around them.

    A blob no larger than ``SMALL_BLOB`` is fetched whole on the first read; otherwise a read smaller than
    ``MIN_RANDOM_FETCH`` fetches that much (ending at the blob's end when it is near it, so a footer and
    the metadata before it come in one request), and a few such windows are kept.
    """

    def __init__(self, fs: AzureFileSystem, scope: Scope, name: str, head: _Head) -> None:
        self._fs = fs
        self._scope = scope
        self._name = name
        self._size = head.size
        self._etag = head.etag
        self._pos = 0
        self._windows: OrderedDict[int, bytes] = OrderedDict()
        if head.data:
            self._windows[0] = head.data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        return self._size

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        pos = base + offset
        if pos < 0:
            raise OSError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def _cached(self, start: int, stop: int) -> bytes | None:
        for at, data in self._windows.items():
            if at <= start and stop <= at + len(data):
                self._windows.move_to_end(at)
                return data[start - at : stop - at]
        return None

    def _get(self, start: int, stop: int) -> bytes:
        hit = self._cached(start, stop)
        if hit is not None:
            return hit
        if self._size <= SMALL_BLOB:
            at, length = 0, self._size
        elif stop - start >= MIN_RANDOM_FETCH:
            at, length = start, stop - start
        else:
            at = min(start, max(0, self._size - MIN_RANDOM_FETCH))
            length = min(MIN_RANDOM_FETCH, self._size - at)
        data, _size, _etag = self._fs._download(self._scope, self._name, at, length, self._etag)
        if length <= max(MIN_RANDOM_FETCH, SMALL_BLOB):
            self._windows[at] = data
            while len(self._windows) > _RANDOM_WINDOWS:
                self._windows.popitem(last=False)
        return data[start - at : stop - at]

    def readinto(self, b: Any) -> int:  # type: ignore[override]
        out = memoryview(b).cast("B")
        stop = min(self._size, self._pos + len(out))
        if stop <= self._pos:
            return 0
        data = self._get(self._pos, stop)
        n = len(data)
        out[:n] = data
        self._pos += n
        return n


register_filesystem(handles, AzureFileSystem)
