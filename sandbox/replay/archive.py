"""Segment's storage archives and fsspec URLs as event input.

Segment's S3 (and GCS) destinations write every call a source received as gzipped JSON lines,
grouped by the UTC day the API received them:

    <bucket>/segment-logs/<source-id>/<received-day>/<file>.gz

where `<received-day>` is the Unix timestamp of that day's 00:00 UTC in milliseconds (Segment's
S3 destination documentation: "the UTC date unix timestamp"), e.g. `1704067200000` for
2024-01-01. An archive is a directory holding `segment-logs/` (or the `segment-logs` directory
itself), local or at any fsspec URL (`s3://bucket/`, `gs://bucket/`, `file:///path/`). Its
sources and days are partitions: `Selection` picks them (`--source`, `--since`, `--until`), and
`partitions` lists the chosen files in replay order: day by day (oldest first), within a day
source by source (by id), within a source file by file (by name). A day directory named as an
ISO date (`2024-01-01`) is read as that day too.

A URL that is not an archive is a file or a directory of event files, read as local ones are
(`sandbox.replay.events`). Credentials come from each filesystem's usual chain (for S3: the
environment, ~/.aws, instance roles; `AWS_ENDPOINT_URL` points s3fs at another S3 server).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from typing import IO, Any, NamedTuple, cast

from sandbox.errors import InputError

ARCHIVE_DIR = "segment-logs"

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DAY_MS = 86_400_000


def is_url(path: str) -> bool:
    return bool(_URL.match(path))


class Selection(NamedTuple):
    """Which partitions of an archive to read: source ids (empty: all) and an inclusive range of
    received days (None: open). (A named tuple: no dataclass to generate at every start-up.)"""

    sources: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def is_everything(self) -> bool:
        return not self.sources and self.since is None and self.until is None

    def wants(self, source: str, day: dt.date) -> bool:
        if self.sources and source not in self.sources:
            return False
        if self.since is not None and day < self.since:
            return False
        return self.until is None or day <= self.until


def parse_day(text: str, flag: str) -> dt.date:
    """--since/--until: an ISO date (2024-03-05), or a received-day directory name."""
    day = day_of(text.strip())
    if day is None:
        raise InputError(f"expected a date such as 2024-03-05, got {text!r}", flag)
    return day


def day_of(name: str) -> dt.date | None:
    """A received-day directory name as a date: Unix milliseconds of 00:00 UTC (Segment's form),
    or an ISO date (2024-03-05, or 20240305: eight digits are a date, as milliseconds they would
    be the first day of 1970); None for anything else."""
    if name.isdigit() and len(name) != 8:
        try:
            return dt.datetime.fromtimestamp(int(name) / 1000, tz=dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None


def day_name(day: dt.date) -> str:
    """The received-day directory Segment writes for `day`."""
    return str((day - dt.date(1970, 1, 1)).days * _DAY_MS)


# -- filesystems -----------------------------------------------------------------------------------


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem and path of a URL, with a one-line error for an unknown scheme or a
    filesystem whose package is missing."""
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a dependency
        raise InputError("reading URLs needs the fsspec package (pip install fsspec)", url) from None
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as exc:
        raise InputError(f"this kind of URL needs another package: {exc}", url) from None
    except ValueError as exc:
        raise InputError(f"not a usable URL: {exc}", url) from None
    except Exception as exc:  # noqa: BLE001 - fsspec backends raise anything at construction
        raise InputError(f"cannot use this URL: {_reason(exc)}", url) from None


def _reason(exc: BaseException) -> str:
    """One line for a storage error: credentials, permissions, missing objects."""
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if name in ("NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError"):
        return f"no credentials found ({text}); set them as the storage's SDK expects (for S3: AWS_ACCESS_KEY_ID, ~/.aws)"
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "InvalidAccessKeyId" in text:
        return f"access denied ({text}); check the credentials"
    if isinstance(exc, FileNotFoundError):
        return "no such file, directory or bucket"
    return text if name in text else f"{name}: {text}"


def _call(where: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - storage backends raise many kinds
        raise InputError(f"cannot read: {_reason(exc)}", where) from None


def file_identity(file: str) -> tuple[Any, ...]:
    """What tells whether a file (or URL) changed between two runs: its name, size and
    modification time; a URL's size and whatever of ETag, modification time and checksum its
    filesystem reports."""
    if is_url(file):
        fs, path = filesystem(file)
        info = _call(file, fs.info, path)
        marks = ("size", "ETag", "etag", "LastModified", "mtime", "updated", "md5Hash")
        return (file, tuple((key, str(info[key])) for key in marks if key in info))
    try:
        stat = os.stat(file)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file) from None
    return (file, stat.st_size, stat.st_mtime_ns)


def open_binary(file: str) -> IO[bytes]:
    """A remote (URL) file opened for reading bytes, gunzipped when its name ends in .gz."""
    import gzip

    fs, path = filesystem(file)
    handle = _call(file, fs.open, path, "rb")
    if file.endswith(".gz"):
        return cast(IO[bytes], gzip.GzipFile(fileobj=handle, mode="rb"))
    return cast(IO[bytes], handle)


# -- archives --------------------------------------------------------------------------------------


def archive_root(path: str) -> str | None:
    """The `segment-logs` directory of `path` (itself, or its child), or None when `path` is not an
    archive. Local paths and URLs alike."""
    path = path.rstrip("/") or path
    if is_url(path):
        fs, inner = filesystem(path)
        inner = inner.rstrip("/")
        if inner.rsplit("/", 1)[-1] == ARCHIVE_DIR:
            return path if _call(path, fs.isdir, inner) else None
        child = f"{inner}/{ARCHIVE_DIR}" if inner else ARCHIVE_DIR
        return f"{path}/{ARCHIVE_DIR}" if _call(path, fs.isdir, child) else None
    if os.path.basename(os.path.normpath(path)) == ARCHIVE_DIR and os.path.isdir(path):
        return path
    child = os.path.join(path, ARCHIVE_DIR)
    return child if os.path.isdir(child) else None


def partitions(root: str, selection: Selection) -> list[str]:
    """The files of the archive at `root` (a `segment-logs` directory) that `selection` picks, in
    replay order (day, source, file name). Files are paths for a local archive, URLs otherwise."""
    entries = _remote_tree(root) if is_url(root) else _local_tree(root)
    chosen: list[tuple[dt.date, str, str, str]] = []
    days_seen = 0
    for source, day_dir, name, file in entries:
        day = day_of(day_dir)
        if day is None:
            continue
        days_seen += 1
        if selection.wants(source, day):
            chosen.append((day, source, name, file))
    if not chosen:
        if not entries or not days_seen:
            raise InputError(
                f"no archive files here (expected {ARCHIVE_DIR}/<source-id>/<received-day>/<file>.gz)", root
            )
        raise InputError("no archive files match --source/--since/--until", root)
    chosen.sort()
    return [file for *_, file in chosen]


def _local_tree(root: str) -> list[tuple[str, str, str, str]]:
    out = []
    for source in _listdir(root):
        source_dir = os.path.join(root, source)
        if source.startswith(".") or not os.path.isdir(source_dir):
            continue
        for day in _listdir(source_dir):
            day_dir = os.path.join(source_dir, day)
            if not os.path.isdir(day_dir):
                continue
            for name in _listdir(day_dir):
                file = os.path.join(day_dir, name)
                # a symbolic link that leads nowhere is kept: reading it says so (as over file://)
                if (
                    name.endswith(".gz")
                    and not name.startswith(".")
                    and (os.path.isfile(file) or os.path.islink(file))
                ):
                    out.append((source, day, name, file))
    return out


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None


def _remote_tree(root: str) -> list[tuple[str, str, str, str]]:
    fs, inner = filesystem(root)
    inner = inner.rstrip("/")
    scheme = root.split("://", 1)[0]
    found = _call(root, fs.find, inner)
    out = []
    for key in found:
        rest = key[len(inner) :].strip("/").split("/")
        if len(rest) != 3 or not rest[2].endswith(".gz") or rest[2].startswith("."):
            continue
        source, day, name = rest
        out.append((source, day, name, f"{scheme}://{key}" if scheme != "file" else f"file://{key}"))
    return out


def remote_files(url: str) -> list[str]:
    """A URL that is no archive: the file itself, or a directory's event files in name order."""
    from sandbox.replay.events import EVENT_SUFFIXES, _is_event_file

    fs, inner = filesystem(url)
    if not _call(url, fs.exists, inner):
        raise InputError("no such file, directory or bucket", url)
    if not _call(url, fs.isdir, inner):
        return [url]
    scheme = url.split("://", 1)[0]
    names = sorted(
        str(p) for p in _call(url, fs.ls, inner, detail=False) if _is_event_file(str(p).rsplit("/", 1)[-1])
    )
    if not names:
        raise InputError(
            f"no event files in this directory (looked for {', '.join(EVENT_SUFFIXES)}, optionally .gz)", url
        )
    return [f"{scheme}://{p}" for p in names]


def expand(paths: Sequence[str], selection: Selection) -> list[str]:
    """Every input file of `paths`, archives expanded into their chosen partitions. A selection
    given with no archive among the inputs is an error (it would pick nothing)."""
    from sandbox.replay.events import expand_path

    out: list[str] = []
    archives = 0
    for path in paths:
        root = None if path == "-" else archive_root(path)
        if root is not None:
            archives += 1
            out.extend(partitions(root, selection))
        elif is_url(path):
            out.extend(remote_files(path))
        else:
            out.extend(expand_path(path))
    if archives == 0 and not selection.is_everything:
        raise InputError(
            f"--source/--since/--until pick partitions of a Segment archive ({ARCHIVE_DIR}/…), and no EVENTS is one"
        )
    return out
