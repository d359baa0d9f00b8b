"""The session journal: append-only, crash-safe, tamper-evident JSON lines (``tradespec.journal/1``).

API (docs/journal.md has the format, the guarantees and the fsync policies)::

    load_key(key_file=None) -> (key: bytes, key_id: str) | None
        --key-file wins over the environment variable TRADESPEC_JOURNAL_KEY; None = no key.

    w = JournalWriter(path, key, key_id, fp, fsync="bar")   # fsync: "always" | "bar" | "never"
    w.start(fields)                    # creates the file (refuses an existing one); line 0 = session_start
    w.append(type, fields) -> seq      # one line, written and flushed to the OS before it returns
    w.append_many([(type, fields), ...]) -> [seq, ...]   # one os.write: the group is all or nothing
    w.commit()                         # end of a bar: fsync under "bar"
    w.stop(fields)                     # session_stop (fsync unless "never"); no appends after it
    w.close()                          # also a context manager (closing does not stop the session)

    w, read = open_for_resume(path, key, key_id, fp, fsync="bar")
        # reopens a crashed session: drops a torn tail (writing a `recovered` event), continues the
        # MAC chain; refuses another key, another spec, a stopped or damaged journal, a locked file.

    read_journal(path, key) -> JournalRead     # the good events, last seq/MAC, torn tail, first problem
    verify(path, key) -> VerifyReport          # .render(), .to_dict(), .exit_code (0 ok, 1 problem, 2 no key)

Every line is one JSON object (keys sorted, compact, shortest round-trip floats, non-finite
numbers as null, ASCII) with ``v``, ``seq``, ``type``, ``fp`` and ``mac``:
``mac_i = HMAC-SHA256(key, mac_{i-1} || canonical_json(line_i without "mac"))`` where
``mac_{i-1}`` is the previous line's 32 raw MAC bytes (32 zero bytes before line 0), stored as
64 lowercase hex digits. Lines written by one ``append_many`` call of n > 1 events also carry
``grp: [i, n]``; a group cut short at the end of the file is part of the torn tail.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from dsl.errors import Diagnostic, DslError

try:  # advisory lock: one writer per journal (absent on Windows)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

SCHEMA = "tradespec.journal/1"
VERSION = 1
ENV_KEY = "TRADESPEC_JOURNAL_KEY"
FSYNC_POLICIES = ("always", "bar", "never")
KINDS = ("edited", "deleted", "reordered", "truncated", "foreign", "malformed")
#: keys the journal writes itself; caller fields may not use them
RESERVED = frozenset({"v", "seq", "type", "fp", "mac", "grp"})
#: event types only the journal writes
SYSTEM_TYPES = frozenset({"session_start", "session_stop", "recovered"})
NO_KEY = "no key: set TRADESPEC_JOURNAL_KEY or pass --key-file"
ZERO_MAC = bytes(32)

_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_MAC_RE = re.compile(r"^[0-9a-f]{64}$")
_fsync = getattr(os, "fdatasync", os.fsync)  # data + size; the directory entry is synced on create


class JournalError(DslError):
    """A journal cannot be written, read or resumed. A :class:`DslError` (code U101), so the
    CLI renders it like any other error; ``kind`` names the problem when there is one."""

    def __init__(self, message: str, hint: str | None = None, kind: str | None = None) -> None:
        super().__init__([Diagnostic("U101", message, None, hint)])
        self.kind = kind


# ---------------------------------------------------------------- encoding


def _clean(v: Any) -> Any:
    """Plain JSON values: non-finite floats -> None, numpy scalars -> Python, tuples -> lists.
    Field names must be strings."""
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return v
    if t is float:
        return v if math.isfinite(v) else None
    if t is dict:
        out = {}
        for k, x in v.items():
            if type(k) is not str:
                if not isinstance(k, str):
                    raise TypeError(f"journal field names must be strings, not {type(k).__name__} ({k!r})")
                k = str(k)
            tx = type(x)  # the common leaves inline (a journal line is mostly these)
            if tx is str or tx is int or tx is bool or x is None:
                out[k] = x
            elif tx is float:
                out[k] = x if x - x == 0.0 else None  # False for inf and nan
            else:
                out[k] = _clean(x)
        return out
    if t is list or t is tuple:
        return [_clean(x) for x in v]
    # subclasses and numpy scalars (np.float64 is a float; np.int64, np.bool_ have .item())
    if isinstance(v, str):
        return str(v)
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return _clean(float(v))
    if isinstance(v, dict):
        return _clean(dict(v))
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    item = getattr(v, "item", None)
    if callable(item) and not isinstance(v, (bytes, bytearray)):
        try:
            x = item()
        except (TypeError, ValueError):
            x = v
        if x is not v and isinstance(x, (bool, int, float, str)):
            return _clean(x)
    raise TypeError(f"cannot write a {type(v).__name__} to the journal ({v!r}); "
                    "use numbers, strings, booleans, None, lists and dicts")


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _fast_dumps() -> Any:
    """json's C encoder built once (json.dumps builds one per call: twice as slow on a small
    line). Used only if it writes the same text as json.dumps on a sample; else json.dumps."""
    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]

        def default(o: Any) -> Any:
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

        enc = c_make_encoder(None, default, encode_basestring_ascii, None, ":", ",", True, False, False)
        sample = {"z": [1, -0.0, 1e300, 0.1 + 0.2, None, True], "a": {"é\n\"": "\u2028x"}, "m": 12345678901234567890}
        fast = lambda obj: "".join(enc(obj, 0))  # noqa: E731
        if fast(sample) == _dumps(sample):
            try:
                fast({"x": float("nan")})
            except ValueError:
                return fast
    except Exception:  # pragma: no cover - another Python's json
        pass
    return _dumps  # pragma: no cover


_encode_json = _fast_dumps()


def canonical(obj: dict[str, Any]) -> bytes:
    """The canonical bytes of a (clean) JSON object: sorted keys, compact, ASCII."""
    return _encode_json(obj).encode("ascii")


#: the "mac" member with a placeholder value, as it sits in a canonical line ("fp" sorts before
#: "mac", "seq"/"type"/"v" after, so it always has a comma on each side)
_PLACEHOLDER = "0" * 64


def _split(line: bytes, mac: str) -> tuple[bytes, bytes] | None:
    """``line`` (canonical, with ``"mac":mac``) cut around its mac member: (head, tail) with
    body = head + "," + tail. None when the member is not found exactly once."""
    slot = b',"mac":"' + mac.encode("ascii") + b'",'
    i = line.find(slot)
    if i < 0 or line.find(slot, i + 1) >= 0:
        return None
    return line[:i], line[i + len(slot):]


def _halves(obj: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical bytes of ``obj`` (without "mac") as (head, tail) cut where "mac" sorts:
    one encoding gives both the MACed body (head + "," + tail) and the line (head + mac + tail)."""
    obj["mac"] = _PLACEHOLDER
    try:
        text = canonical(obj)
    finally:
        del obj["mac"]
    cut = _split(text, _PLACEHOLDER)
    if cut is None:  # the placeholder also appears in a value: encode the two sides apart
        lo = {k: x for k, x in obj.items() if k < "mac"}
        hi = {k: x for k, x in obj.items() if k > "mac"}
        return canonical(lo)[:-1], canonical(hi)[1:]
    return cut


def _body(head: bytes, tail: bytes) -> bytes:
    return head + b"," + tail


def _line(head: bytes, mac: str, tail: bytes) -> bytes:
    return head + b',"mac":"' + mac.encode("ascii") + b'",' + tail + b"\n"


def key_id_of(key: bytes) -> str:
    """The key's public id: the first 16 hex digits of its sha256."""
    return hashlib.sha256(key).hexdigest()[:16]


def _mac(key: bytes, prev: bytes, body: bytes) -> str:
    return hmac.digest(key, prev + body, "sha256").hex()


def load_key(key_file: str | Path | None = None) -> tuple[bytes, str] | None:
    """The journal key and its id, from ``key_file`` (bytes, one trailing newline stripped) or,
    without one, from ``TRADESPEC_JOURNAL_KEY`` (text, UTF-8). None when neither is set (an
    empty variable counts as unset). An unreadable or empty key file is an error."""
    if key_file is not None:
        p = Path(key_file)
        try:
            key = p.read_bytes()
        except OSError as exc:
            raise JournalError(f"cannot read the journal key file '{p}': {exc.strerror or exc}",
                               "pass --key-file PATH to a readable file, or set TRADESPEC_JOURNAL_KEY") from exc
        if key.endswith(b"\r\n"):
            key = key[:-2]
        elif key.endswith(b"\n"):
            key = key[:-1]
        if not key:
            raise JournalError(f"the journal key file '{p}' is empty", "write a secret into it, e.g. "
                               "`head -c 32 /dev/urandom | base64 > FILE`")
        return key, key_id_of(key)
    text = os.environ.get(ENV_KEY)
    if not text:
        return None
    key = text.encode("utf-8")
    return key, key_id_of(key)


# ---------------------------------------------------------------- writer


class JournalWriter:
    """Appends events to one journal file; see the module docstring for the API.

    Every ``append``/``append_many`` encodes its lines, chains their MACs and hands them to the
    OS in one ``os.write`` on an ``O_APPEND`` descriptor before returning, so an action may take
    effect as soon as the call returns (a process crash cannot lose it; a machine crash can,
    unless it was fsynced: see ``fsync``). The file is locked (``flock``) while open.
    """

    def __init__(self, path: str | Path, key: bytes, key_id: str | None, fp: str, fsync: str = "bar") -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync policy must be one of {', '.join(FSYNC_POLICIES)}, not {fsync!r}")
        if not isinstance(key, (bytes, bytearray)) or not key:
            raise ValueError("the journal key must be non-empty bytes (see load_key)")
        real_id = key_id_of(bytes(key))
        if key_id is not None and key_id != real_id:
            raise ValueError(f"key_id {key_id!r} is not the id of this key ({real_id})")
        if not isinstance(fp, str) or not fp:
            raise ValueError("fp (the spec fingerprint) must be a non-empty string")
        self.path = Path(path)
        self.key_id = real_id
        self.fp = fp[:12]
        self.fsync = fsync
        self._key = bytes(key)
        self._fd: int | None = None
        self._seq = 0
        self._prev = ZERO_MAC
        self._state = "new"  # new | open | stopped | closed | broken
        self._dirty = False  # written since the last fsync

    # -- state

    @property
    def seq(self) -> int:
        """The seq the next line will get."""
        return self._seq

    @property
    def last_mac(self) -> str:
        return self._prev.hex()

    @property
    def stopped(self) -> bool:
        return self._state == "stopped"

    def __enter__(self) -> "JournalWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    # -- writing

    def start(self, fields: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create the journal and write line 0, ``session_start``, with ``fields`` plus
        ``schema``, ``key_id`` and ``fsync``. Returns the line as written."""
        if self._state != "new":
            raise JournalError(f"journal '{self.path}' is already started")
        fields = dict(fields or {})
        for k, mine in (("schema", SCHEMA), ("key_id", self.key_id), ("fsync", self.fsync)):
            if k in fields and fields[k] != mine:
                raise ValueError(f"session_start field {k!r} is {fields[k]!r}, but the journal writes {mine!r}")
            fields[k] = mine
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags, 0o644)
        except FileExistsError:
            raise JournalError(f"journal '{self.path}' already exists",
                               "resume it (open_for_resume) or choose a new file", kind="exists") from None
        except OSError as exc:
            raise JournalError(f"cannot create journal '{self.path}': {exc.strerror or exc}") from exc
        _lock(fd, self.path)
        self._fd = fd
        self._state = "open"
        if self.fsync != "never":
            _fsync_dir(self.path)
        data, obj = self._encode([("session_start", fields)], system=True)
        self._write(data, obj)
        self._sync(force=True)
        return obj[0]

    def append(self, type: str, fields: dict[str, Any] | None = None) -> int:
        """Write one event; returns its seq. Flushed to the OS on return; fsynced under "always"."""
        data, objs = self._encode([(type, fields or {})])
        self._write(data, objs)
        if self.fsync == "always":
            self._sync()
        return objs[0]["seq"]

    def append_many(self, events: Iterable[tuple[str, dict[str, Any]]]) -> list[int]:
        """Write several events with one ``os.write`` (a bar's events: all or nothing, as the
        reader drops a group cut short by a crash). Returns their seqs."""
        events = list(events)
        if not events:
            return []
        data, objs = self._encode(events)
        self._write(data, objs)
        if self.fsync == "always":
            self._sync()
        return [o["seq"] for o in objs]

    def commit(self) -> None:
        """The end of a bar: fsync under "bar" (under "always" every append already did;
        under "never" nothing is fsynced)."""
        self._check_open()
        if self.fsync == "bar":
            self._sync()

    def stop(self, fields: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write ``session_stop`` and fsync (unless "never"). The file stays open until close()."""
        data, objs = self._encode([("session_stop", dict(fields or {}))], system=True)
        self._write(data, objs)
        self._sync(force=True)
        self._state = "stopped"
        return objs[0]

    def close(self) -> None:
        """Release the file (fsyncs pending lines under "bar"). Does not write session_stop."""
        if self._fd is None:
            if self._state in ("new", "open"):
                self._state = "closed"
            return
        try:
            if self._state in ("open", "stopped") and self.fsync == "bar" and self._dirty:
                _fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None
            if self._state != "broken":
                self._state = "closed"

    # -- internals

    def _check_open(self) -> None:
        if self._state == "open":
            return
        why = {"new": "not started (call start() first)", "stopped": "stopped (session_stop was written)",
               "closed": "closed", "broken": "broken by a failed write (resume it with open_for_resume)"}
        raise JournalError(f"journal '{self.path}' is {why[self._state]}")

    def _encode(self, events: list[tuple[str, dict[str, Any]]], system: bool = False) -> tuple[bytes, list[dict]]:
        self._check_open()
        n = len(events)
        prev, seq = self._prev, self._seq
        parts: list[bytes] = []
        objs: list[dict] = []
        for i, ev in enumerate(events):
            try:
                typ, fields = ev
            except (TypeError, ValueError):
                raise TypeError(f"events must be (type, fields) pairs, not {ev!r}") from None
            if not isinstance(typ, str) or not _TYPE_RE.match(typ):
                raise ValueError(f"event type must be lowercase letters, digits and '_', not {typ!r}")
            if typ in SYSTEM_TYPES and not system:
                raise ValueError(f"'{typ}' events are written by the journal itself")
            if not isinstance(fields, dict):
                raise TypeError(f"event fields must be a dict, not {type(fields).__name__}")
            bad = RESERVED.intersection(fields)
            if bad:
                raise ValueError(f"field name(s) {', '.join(sorted(bad))} are reserved by the journal")
            obj = _clean(fields)
            obj.update(v=VERSION, seq=seq, type=typ, fp=self.fp)
            if n > 1:
                obj["grp"] = [i, n]
            head, tail = _halves(obj)
            mac = _mac(self._key, prev, _body(head, tail))
            obj["mac"] = mac
            parts.append(_line(head, mac, tail))
            objs.append(obj)
            prev = bytes.fromhex(mac)
            seq += 1
        return b"".join(parts), objs

    def _write(self, data: bytes, objs: list[dict]) -> None:
        assert self._fd is not None
        view = memoryview(data)
        try:
            while view:  # one call unless the OS writes short (disk full, signal)
                n = os.write(self._fd, view)
                view = view[n:]
        except BaseException:
            self._state = "broken"  # part of the lines may be on disk: only resume can repair that
            raise
        self._seq = objs[-1]["seq"] + 1
        self._prev = bytes.fromhex(objs[-1]["mac"])
        self._dirty = True

    def _recovered(self, r: "JournalRead") -> None:
        data, objs = self._encode([("recovered", {"dropped_bytes": r.torn_bytes, "dropped_lines": r.torn_lines,
                                                  "after_seq": r.last_seq})], system=True)
        self._write(data, objs)
        self._sync(force=True)

    def _sync(self, force: bool = False) -> None:
        if self._fd is None or self.fsync == "never":
            return
        if self._dirty or force:
            _fsync(self._fd)
            self._dirty = False


def _lock(fd: int, path: Path) -> None:
    if fcntl is None:  # pragma: no cover
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise JournalError(f"journal '{path}' is in use by another process",
                               "is the paper session still running? stop it before resuming",
                               kind="locked") from None
        raise


def _fsync_dir(path: Path) -> None:
    try:
        dfd = os.open(path.parent if str(path.parent) else ".", os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(dfd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dfd)


# ---------------------------------------------------------------- reader


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with a journal. ``line`` is 1-based (as editors count);
    ``seq`` the line's seq when it could be read; ``offset`` the byte offset of the line."""

    kind: str  # edited | deleted | reordered | truncated | foreign | malformed
    line: int
    message: str
    seq: int | None = None
    offset: int | None = None
    severity: str = "error"  # error | warning

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "line": self.line, "seq": self.seq, "offset": self.offset,
                "severity": self.severity, "message": self.message}


@dataclass
class JournalRead:
    """What :func:`read_journal` found.

    ``events`` are the good lines (dicts as written, ``mac`` included) up to the first problem
    or the torn tail; ``last_seq``/``last_mac`` belong to the last of them (-1 and 64 zeros when
    there is none), ``good_bytes`` is where they end. The torn tail (``torn_bytes`` bytes from
    ``good_bytes``) is an incomplete last line, or a write group cut short by the end of the
    file (``torn_lines`` of its lines were complete). ``problem`` is anything else wrong (the
    torn tail is not a problem here: :func:`verify` reports it, :func:`open_for_resume`
    repairs it). ``verified`` is False when read without a key (MACs not checked).
    """

    path: Path
    verified: bool
    events: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int = -1
    last_mac: str = ZERO_MAC.hex()
    good_bytes: int = 0
    torn_bytes: int = 0
    torn_lines: int = 0
    torn_line: int | None = None  # 1-based line number where the torn tail starts
    problem: Problem | None = None
    key_id: str | None = None
    fp: str | None = None
    stopped: bool = False
    lines: int = 0  # lines that passed every check (len(events) unless a problem cut a write group)
    recoveries: int = 0
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def torn(self) -> bool:
        return self.torn_bytes > 0

    @property
    def session_start(self) -> dict[str, Any] | None:
        return self.events[0] if self.events and self.events[0].get("type") == "session_start" else None


def _lines(f: Any, size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, line) for the first ``size`` bytes of ``f``; a line keeps its b"\\n" (the last may lack one)."""
    buf = b""
    pos = 0
    remaining = size
    while remaining > 0:
        chunk = f.read(min(1 << 20, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        buf += chunk
        start = 0
        while True:
            i = buf.find(b"\n", start)
            if i < 0:
                break
            yield pos + start, buf[start:i + 1]
            start = i + 1
        pos += start
        buf = buf[start:]
    if buf:
        yield pos, buf


def _seq_of(body: bytes) -> int | None:
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    s = obj.get("seq") if isinstance(obj, dict) else None
    return s if isinstance(s, int) and not isinstance(s, bool) else None


def _classify_seq(path: Path, size: int, after: int, line: int, s: int, e: int) -> tuple[str, str]:
    """Why line ``line`` has seq ``s`` where ``e`` was expected: look at the lines after it."""
    later: dict[int, int] = {}
    nxt: int | None = None
    with open(path, "rb") as f:
        f.seek(after)
        for k, (_, raw) in enumerate(_lines(f, size - after)):
            q = _seq_of(raw)
            if k == 0:
                nxt = q
            if q is not None and q not in later:
                later[q] = line + 1 + k
    if s > e and e in later:
        return "reordered", (f"line {line} has seq {s} but seq {e} comes later (line {later[e]}): "
                             "lines were reordered")
    if nxt == e + 1:
        return "edited", f"line {line} has seq {s} where {e} belongs (the next line has {e + 1}): its seq was changed"
    if s > e:
        n = s - e
        gone = f"seq {e}" if n == 1 else f"seqs {e}-{s - 1}"
        return "deleted", (f"{gone} missing before line {line} (which has seq {s}): "
                           f"{n} line{'s' if n > 1 else ''} deleted")
    return "reordered", (f"line {line} has seq {s}, already seen (expected {e}): a line was copied "
                         "or moved back")


def read_journal(path: str | Path, key: bytes | None) -> JournalRead:
    """Read and check a journal, stopping at the first problem (see :class:`JournalRead`).
    With ``key=None`` the structure is checked but no MAC (``verified`` is False)."""
    return _scan(Path(path), key, keep=True)


def _scan(path: Path, key: bytes | None, keep: bool) -> JournalRead:
    r = JournalRead(path=path, verified=key is not None)
    want_id = key_id_of(key) if key is not None else None
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise JournalError(f"cannot read journal '{path}': {exc.strerror or exc}") from exc
    with f:
        size = os.fstat(f.fileno()).st_size
        r.size = size
        prev = ZERO_MAC
        expect = 0
        lineno = 0
        # a group being read: (start offset, start line, lines accepted before it, seq/mac before it, size, next index)
        group: tuple[int, int, int, int, str, int, int] | None = None

        def fail(kind: str, msg: str, off: int, seq: int | None = None) -> None:
            r.problem = Problem(kind, lineno, msg, seq, off)

        for off, raw in _lines(f, size):
            lineno += 1
            end = off + len(raw)
            last = end >= size
            complete = raw.endswith(b"\n")
            obj: Any = None
            if complete:
                try:
                    obj = json.loads(raw[:-1])
                except (ValueError, UnicodeDecodeError):
                    obj = None
            if not complete or (obj is None and last):
                # torn tail: an incomplete final line (no newline, or not JSON)
                start = group[0] if group else off
                r.torn_line = group[1] if group else lineno
                r.torn_bytes = size - start
                r.torn_lines = lineno - group[1] if group else 0
                break
            if not isinstance(obj, dict):
                what = "not valid JSON" if obj is None else "not a JSON object"
                fail("malformed", f"line {lineno} is {what}", off)
                break
            seq = obj.get("seq")
            missing = [k for k in ("v", "seq", "type", "fp", "mac") if k not in obj]
            if missing:
                fail("malformed", f"line {lineno} lacks {', '.join(missing)}", off,
                     seq if isinstance(seq, int) else None)
                break
            if (not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(obj["type"], str)
                    or not isinstance(obj["fp"], str) or not isinstance(obj["mac"], str)
                    or not _MAC_RE.match(obj["mac"])):
                fail("malformed", f"line {lineno} has a seq, type, fp or mac of the wrong form", off)
                break
            if obj["v"] != VERSION:
                fail("malformed", f"line {lineno} has journal version {obj['v']!r}; this tradespec reads {VERSION}",
                     off, seq)
                break
            if seq != expect:
                kind, msg = _classify_seq(path, size, end, lineno, seq, expect)
                fail(kind, msg, off, seq)
                break
            if lineno == 1 and obj["type"] == "session_start":
                r.key_id = obj.get("key_id") if isinstance(obj.get("key_id"), str) else None
                if want_id is not None and r.key_id != want_id:
                    fail("foreign", f"the journal was written with key id {r.key_id}, the key given has id "
                                    f"{want_id}: it cannot verify this journal", off, seq)
                    break
            mac = obj.pop("mac")
            # fast path: the MAC over the line's own bytes with its mac member taken out
            cut = _split(raw[:-1], mac) if key is not None else None
            if cut is None or not hmac.compare_digest(_mac(key, prev, _body(*cut)), mac):  # type: ignore[arg-type]
                try:
                    head, tail = _halves(obj)
                except ValueError:
                    fail("malformed", f"line {lineno} holds a number JSON cannot write back (inf or nan)", off, seq)
                    break
                if key is not None and not hmac.compare_digest(_mac(key, prev, _body(head, tail)), mac):
                    what = "edited after it was written, or forged without the key"
                    if lineno == 1:
                        what = "edited after it was written (or the journal was rewritten with another key)"
                    fail("edited", f"line {lineno} (seq {seq}): MAC does not match: {what}", off, seq)
                    break
                if _line(head, mac, tail) != raw:
                    fail("edited", f"line {lineno} (seq {seq}): its bytes were rewritten (not in canonical form)",
                         off, seq)
                    break
            obj["mac"] = mac
            typ = obj["type"]
            # semantics (a key holder could write these; without the key the MAC already failed)
            if lineno == 1:
                if typ != "session_start":
                    fail("malformed", f"line 1 is a '{typ}' event, not session_start", off, seq)
                    break
                if obj.get("schema") != SCHEMA or r.key_id is None:
                    fail("malformed", f"line 1 is not a {SCHEMA} session_start (schema {obj.get('schema')!r})",
                         off, seq)
                    break
                r.fp = obj["fp"]
            else:
                if r.stopped:
                    fail("malformed", f"line {lineno} (seq {seq}) comes after session_stop", off, seq)
                    break
                if typ == "session_start":
                    fail("malformed", f"line {lineno} is a second session_start", off, seq)
                    break
                if obj["fp"] != r.fp:
                    fail("malformed", f"line {lineno} has spec fingerprint {obj['fp']}, the session has {r.fp}",
                         off, seq)
                    break
            grp = obj.get("grp")
            if grp is not None:
                ok = (isinstance(grp, list) and len(grp) == 2 and all(type(x) is int for x in grp)
                      and 0 <= grp[0] < grp[1] and grp[1] > 1)
                if not ok:
                    fail("malformed", f"line {lineno} has a bad grp {grp!r}", off, seq)
                    break
                if group is None:
                    if grp[0] != 0:
                        fail("malformed", f"line {lineno} starts a write group at index {grp[0]}", off, seq)
                        break
                    group = (off, lineno, r.lines, r.last_seq, r.last_mac, grp[1], 1)
                elif grp != [group[6], group[5]]:
                    fail("malformed", f"line {lineno} has grp {grp}, expected {[group[6], group[5]]}", off, seq)
                    break
                else:
                    group = group[:6] + (group[6] + 1,)
                if group[6] == group[5]:
                    group = None
            elif group is not None:
                fail("malformed", f"line {lineno} interrupts a write group of {group[5]} lines", off, seq)
                break
            # accepted
            r.lines += 1
            if typ == "session_stop":
                r.stopped = True
            elif typ == "recovered":
                r.recoveries += 1
            if keep:
                r.events.append(obj)
            prev = bytes.fromhex(mac)
            expect = seq + 1
            r.last_seq, r.last_mac = seq, mac
            if group is None:
                r.good_bytes = end
        else:
            if group is not None:  # the file ends inside a write group: a torn tail of whole lines
                r.torn_line = group[1]
                r.torn_bytes = size - group[0]
                r.torn_lines = lineno - group[1] + 1
        if group is not None:
            # drop the incomplete group's lines (torn tail, or cut short by a problem)
            if r.problem is None:
                r.lines = group[2]
            if keep:
                del r.events[group[2]:]
            r.last_seq, r.last_mac = group[3], group[4]
    return r


# ---------------------------------------------------------------- resume


def open_for_resume(path: str | Path, key: bytes, key_id: str | None, fp: str,
                    fsync: str = "bar") -> tuple[JournalWriter, JournalRead]:
    """Reopen a journal whose session did not stop, to continue it.

    Locks the file, reads it with ``key``, and refuses (JournalError) a journal written with
    another key, for another spec fingerprint, already stopped, without a complete
    session_start, or damaged anywhere but its tail. A torn tail (an incomplete last line, or a
    write group cut short) is truncated and recorded as a ``recovered`` event
    (``dropped_bytes``, ``dropped_lines``, ``after_seq``); the MAC chain continues from the
    last good line. Returns the writer (ready for ``append``) and what was read before the
    repair (``read.events`` is the state to rebuild).
    """
    w = JournalWriter(path, key, key_id, fp, fsync)
    p = w.path
    try:
        fd = os.open(p, os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise JournalError(f"no journal '{p}' to resume", "start a new session instead") from None
    except OSError as exc:
        raise JournalError(f"cannot open journal '{p}': {exc.strerror or exc}") from exc
    _lock(fd, p)
    try:
        r = read_journal(p, w._key)
        if r.problem is not None:
            pr = r.problem
            if pr.kind == "foreign":
                raise JournalError(f"journal '{p}' was written with key id {r.key_id}; the key given has id "
                                   f"{w.key_id}", "resume with the key the session started with "
                                   "(TRADESPEC_JOURNAL_KEY or --key-file)", kind="foreign")
            raise JournalError(f"journal '{p}' cannot be resumed: line {pr.line}: {pr.kind}: {pr.message}",
                               "only a torn last line is repaired; check it with `tradespec journal verify`",
                               kind=pr.kind)
        if not r.events:
            raise JournalError(f"journal '{p}' has no complete session_start to resume from",
                               "the session died while starting: move the file away and start again",
                               kind="truncated")
        if r.fp != w.fp:
            raise JournalError(f"journal '{p}' is for spec fingerprint {r.fp}; this spec's is {w.fp}",
                               "resume with the spec the session started with", kind="fingerprint")
        if r.stopped:
            raise JournalError(f"journal '{p}' ends with session_stop: the session is over",
                               "start a new session with a new journal file", kind="stopped")
        w._fd = fd
        w._state = "open"
        w._seq = r.last_seq + 1
        w._prev = bytes.fromhex(r.last_mac)
        if r.torn:
            os.ftruncate(fd, r.good_bytes)
            _fsync(fd)  # the cut is durable before anything follows it
            w._recovered(r)
    except BaseException:
        if w._fd is None:
            os.close(fd)
        else:
            w.close()
        raise
    return w, r


# ---------------------------------------------------------------- verify


@dataclass
class VerifyReport:
    """The answer of :func:`verify`. ``status``: ``verified`` (every line checked; a journal
    without session_stop is verified with a warning), ``problem`` (the first one, in
    ``problem``), or ``no_key`` (nothing could be checked: never a success)."""

    path: str
    status: str
    problem: Problem | None = None
    warnings: list[Problem] = field(default_factory=list)
    lines: int = 0
    last_seq: int = -1
    last_mac: str | None = None  # of the last verified line: note it elsewhere to detect a later cut
    key_id: str | None = None
    fp: str | None = None
    stopped: bool = False
    recoveries: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "verified"

    @property
    def exit_code(self) -> int:
        return {"verified": 0, "problem": 1, "no_key": 2}[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "exit_code": self.exit_code, "ok": self.ok,
                "problem": self.problem.to_dict() if self.problem else None,
                "warnings": [w.to_dict() for w in self.warnings], "lines": self.lines,
                "last_seq": self.last_seq, "last_mac": self.last_mac, "key_id": self.key_id, "fp": self.fp,
                "stopped": self.stopped, "recoveries": self.recoveries, "schema": SCHEMA}

    def render(self) -> str:
        if self.status == "no_key":
            out = [f"{self.path}: verification impossible: {NO_KEY}"]
            if self.key_id:
                out.append(f"  the journal was written with key id {self.key_id}")
            out.append("  NOT verified: without the key nothing in this file can be trusted (anyone can rewrite it)")
            return "\n".join(out)
        span = f"seq 0-{self.last_seq}" if self.last_seq >= 0 else "no lines"
        who = f"key id {self.key_id}" + (f", spec {self.fp}" if self.fp else "")
        if self.status == "verified":
            out = [f"{self.path}: verified: {self.lines} line{'s' if self.lines != 1 else ''} ({span}), {who}"]
            if self.stopped:
                out[0] += ", ends with session_stop"
            if self.recoveries:
                out.append(f"  {self.recoveries} torn tail{'s' if self.recoveries > 1 else ''} repaired on resume "
                           "(see the recovered events)")
            out += [f"  warning: {w.message}" for w in self.warnings]
            if self.last_mac:
                out.append(f"  last MAC {self.last_mac} (keep it elsewhere to detect a later cut at a line end)")
            return "\n".join(out)
        p = self.problem
        assert p is not None
        out = [f"{self.path}:{p.line}: {p.kind}: {p.message}"]
        good = self.lines
        if good == 1:
            out.append("  line 1 verified (seq 0)")
        else:
            out.append(f"  lines 1-{good} verified ({span})" if good else "  no line before it verified")
        if p.kind == "truncated" and good:
            out.append("  a crash while writing leaves this; resuming the session drops it (recorded as 'recovered')")
        return "\n".join(out)


def verify(path: str | Path, key: bytes | None) -> VerifyReport:
    """Check every line of a journal and report the first problem (see :class:`VerifyReport`)."""
    p = Path(path)
    if key is None:
        rep = VerifyReport(str(path), "no_key")
        try:
            with open(p, "rb") as f:
                first = f.readline(1 << 20)
        except OSError as exc:
            raise JournalError(f"cannot read journal '{p}': {exc.strerror or exc}") from exc
        try:
            obj = json.loads(first)
        except (ValueError, UnicodeDecodeError):
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("key_id"), str):
            rep.key_id = obj["key_id"]
        return rep
    r = _scan(p, key, keep=False)
    rep = VerifyReport(str(path), "verified", lines=r.lines, last_seq=r.last_seq, key_id=r.key_id,
                       fp=r.fp, stopped=r.stopped, recoveries=r.recoveries)
    if r.problem is not None:
        rep.status, rep.problem = "problem", r.problem
        rep.lines = r.problem.line - 1  # every line before the first problem passed
        rep.last_seq = rep.lines - 1
        return rep
    rep.last_mac = r.last_mac if r.last_seq >= 0 else None
    if r.torn:
        rep.status = "problem"
        assert r.torn_line is not None
        grp = (f"{r.torn_lines} complete line{'s' if r.torn_lines > 1 else ''} of a write group cut short, "
               if r.torn_lines else "")
        rep.problem = Problem("truncated", r.torn_line,
                              f"torn last write: {grp}{r.torn_bytes} bytes in all from line {r.torn_line} "
                              "(the process died while writing)", None, r.good_bytes)
        rep.lines = r.torn_line - 1
        rep.last_seq = r.last_seq
        return rep
    if r.lines == 0:
        rep.status = "problem"
        rep.problem = Problem("truncated", 1, "the journal is empty (no session_start)", None, 0)
        return rep
    if not r.stopped:
        rep.warnings.append(Problem("truncated", r.lines + 1, "ends without session_stop (still running or crashed)",
                                    None, r.good_bytes, "warning"))
    return rep
