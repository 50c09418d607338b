"""The writer process: the hot paths' audit records and buffered events written outside the server.

Under ``olly serve`` the audit records of allowed reads (``AuditTrail.submit``) and the buffered
events (``BufferedPublisher``: the eligibility ``verified`` events) are not written by threads of the
server but by a child process, with the same ``AuditTrail`` and ``BufferedPublisher`` code: the same
chains, hashes and batches, the same outbox rows. At 1,000 eligibility checks a second those threads
cost the server's interpreter 0.21 ms of CPU per check, against 0.51 ms for the event loop, and their
bursts held the interpreter lock while checks waited (docs/enrollment.md).

**The hand-off.** An item becomes a tuple of plain values where it is submitted (a few
microseconds), and a sender thread marshals what gathered in ``HANDOFF_INTERVAL`` into one message
on a Unix ``SOCK_SEQPACKET`` socket pair: a message is read whole or not at all, so a writer that
dies never leaves half of one for the next. The server keeps the reading end open too, so what is in
the socket when a writer dies waits there for the next one. The pair is made by the server and shared
only with its child (same user, same machine; nothing on disk or on the network). Records carry
identifiers (subjects, member ids): they are never logged, here or in the child.

**Back-pressure.** The sender holds at most ``max_pending`` items and the socket a few messages: when
the writer process falls behind, the sender waits, then submitters wait, as with the in-process writer.

**A writer's death.** A monitor thread waits on the child; when it exits the server logs the exit
code and starts another, which reads on from the next message. After more than ``MAX_RESTARTS`` exits
in ``RESTART_WINDOW_SECONDS`` the server gives up on it and writes in its own threads what is left in
the socket and everything handed over afterwards.

**What a crash loses.** If the server dies: what it had not sent yet (the last ``HANDOFF_INTERVAL``,
5 ms, and, while the writer is behind, what waits to be sent); the writer reads what is in the socket,
commits it and exits. If the writer dies: what it had read and not committed, the last 15 ms of audit
records and 45 ms of events (while the database refuses writes it stops reading, and the rest waits
in the socket for the next writer). Both at once: no more than the in-process writers' 20 ms and 50 ms
(and, as with them, what waits while the database refuses writes).

**Shutting down** (``close``) sends what is buffered, asks the writer to commit everything and exit,
and writes here whatever a dead writer left in the socket. Where ``SOCK_SEQPACKET`` is missing (it is
Linux's), ``start`` says so and the writers stay in process.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import typing
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from importlib import import_module
from typing import Any, Final, Generic, TypeVar

from pydantic import SecretStr

from olly.config import Settings
from olly.kernel.events import EventPayload
from olly.platform.audit import AuditRecord, AuditTrail
from olly.platform.batching import BatchWriter
from olly.platform.bus.buffered import BufferedPublisher, Pending
from olly.platform.logging import get_logger

log = get_logger("olly.writer_process")

T = TypeVar("T")
Item = tuple[Any, ...]

#: How long the server gathers items before sending them (its share of the crash-loss window).
HANDOFF_INTERVAL: Final = 0.005
#: The writer's group-commit intervals: with the hand-off's 5 ms, no record waits longer to be
#: committed than with the in-process writers (20 ms for audit records, 50 ms for events).
AUDIT_FLUSH_INTERVAL: Final = 0.015
EVENTS_FLUSH_INTERVAL: Final = 0.045
HANDOFF_BATCH_SIZE: Final = 256
#: The most records (or events) the writer commits in one transaction, as the in-process writers.
WRITER_BATCH_SIZE: Final = 500
#: A message is read whole, into a buffer of this size; larger batches are split.
MAX_MESSAGE_BYTES: Final = 65_536
MAX_RESTARTS: Final = 5
RESTART_WINDOW_SECONDS: Final = 60.0
#: How often a blocked send or a flush looks at the writer's state (restarted, given up, closed).
POLL_SECONDS: Final = 0.2
STOP_TIMEOUT_SECONDS: Final = 60.0

# A message's first byte.
_BATCH: Final = b"B"
_FLUSH: Final = b"F"
_FLUSHED: Final = b"A"
_STOP: Final = b"S"
# An item's first element.
_AUDIT: Final = 1
_EVENT: Final = 2
_EVENT_PICKLED: Final = 3
# Tags of an event field's value that marshal cannot carry as it is.
_UUID: Final = 0
_DATE: Final = 1
_DATETIME: Final = 2
_PLAIN: Final = frozenset({str, int, float, bool, type(None)})
_ONE_MICROSECOND: Final = timedelta(microseconds=1)


# -- encoding -------------------------------------------------------------------------------------
def encode_audit(record: AuditRecord) -> Item:
    """A record as plain values (marshal carries them; no pickling on the request path)."""
    tenant = record.tenant_id
    return (
        _AUDIT,
        record.subject,
        record.role,
        record.action,
        record.resource_type,
        record.resource_id,
        record.outcome,
        record.purpose,
        record.request_id,
        None if tenant is None else tenant.int,
        record.detail or None,
    )


def decode_audit(item: Item) -> AuditRecord:
    _, subject, role, action, resource_type, resource_id, outcome, purpose, request_id, tenant, detail = item
    return AuditRecord(
        subject,
        role,
        action,
        resource_type,
        resource_id,
        outcome,
        purpose,
        request_id,
        None if tenant is None else _tenant(tenant),
        detail or {},
    )


_TENANTS: dict[int, uuid.UUID] = {}


def _tenant(value: int) -> uuid.UUID:
    """A tenant's id (a handful per installation, so kept rather than built for every item)."""
    found = _TENANTS.get(value)
    if found is None:
        if len(_TENANTS) >= 1024:
            _TENANTS.clear()
        found = _TENANTS[value] = uuid.UUID(int=value)
    return found


class _NotPlain(Exception):
    pass


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is uuid.UUID:
        return (_UUID, value.int)
    if kind is datetime:
        offset = value.utcoffset()
        return (
            _DATETIME,
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            None if offset is None else offset // _ONE_MICROSECOND,
        )
    if kind is date:
        return (_DATE, value.toordinal())
    raise _NotPlain


def _unplain(value: tuple[Any, ...]) -> Any:
    tag = value[0]
    if tag == _UUID:
        return uuid.UUID(int=value[1])
    if tag == _DATE:
        return date.fromordinal(value[1])
    offset = value[8]
    zone = None if offset is None else UTC if offset == 0 else timezone(timedelta(microseconds=offset))
    _, year, month, day, hour, minute, second, microsecond, _ = value
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=zone)


_CLASS_REFS: dict[type, str] = {}
_CLASSES: dict[str, type[EventPayload]] = {}


def _class_ref(cls: type) -> str:
    ref = _CLASS_REFS.get(cls)
    if ref is None:
        ref = _CLASS_REFS[cls] = f"{cls.__module__}:{cls.__qualname__}"
    return ref


def _payload_class(ref: str) -> type[EventPayload]:
    cls = _CLASSES.get(ref)
    if cls is None:
        module, _, name = ref.partition(":")
        found: Any = import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
        if not (isinstance(found, type) and issubclass(found, EventPayload)):
            raise TypeError("not an event payload class")
        cls = _CLASSES[ref] = found
    return cls


def encode_event(pending: Pending) -> Item:
    """An event as its class and its fields' plain values; a payload with other kinds of values
    (none so far) is pickled."""
    tenant_id, payload, key = pending
    try:
        plain = _PLAIN
        fields = {name: value if type(value) in plain else _plain(value) for name, value in payload.__dict__.items()}
    except _NotPlain:
        return (_EVENT_PICKLED, tenant_id.int, key, pickle.dumps(payload))
    return (_EVENT, tenant_id.int, key, _class_ref(type(payload)), fields)


def decode_event(item: Item) -> Pending:
    tenant_id = _tenant(item[1])
    if item[0] == _EVENT_PICKLED:
        payload = pickle.loads(item[3])  # noqa: S301 - written by this server over its private socket
        if not isinstance(payload, EventPayload):
            raise TypeError("not an event payload")
    else:
        payload = _payload_class(item[3]).model_validate(
            {name: _unplain(value) if type(value) is tuple else value for name, value in item[4].items()}
        )
    return tenant_id, payload, item[2]


#: The settings the writer is given (on its standard input): what it needs to write, nothing more.
WRITER_SETTINGS: Final = frozenset(
    {"env", "data_dir", "database_url", "database_pool_size", "audit_chains", "log_level", "log_format"}
)


def _secret_fields() -> frozenset[str]:
    """Settings kept out of the writer's environment too: the master keys, signing keys, secrets."""
    return frozenset(
        name
        for name, field in Settings.model_fields.items()
        if field.annotation is SecretStr or SecretStr in typing.get_args(field.annotation)
    )


# -- the server's side ----------------------------------------------------------------------------
class _HandOff(Generic[T]):
    """The sink ``AuditTrail`` or ``BufferedPublisher`` submits to: encode, then queue for sending."""

    __slots__ = ("_encode", "_flush", "_submit")

    def __init__(
        self, encode: Callable[[T], Item], submit: Callable[[Item], None], flush: Callable[[float], None]
    ) -> None:
        self._encode = encode
        self._submit = submit
        self._flush = flush

    def submit(self, item: T) -> None:
        self._submit(self._encode(item))

    def flush(self, timeout: float = 30.0) -> None:
        self._flush(timeout)


class WriterProcess:
    """Starts the writer process, hands it ``audit``'s submitted records and ``events``' events, keeps
    it running, and stops it (``close``). ``command`` is for tests (a writer that fails to start)."""

    def __init__(
        self,
        settings: Settings,
        audit: AuditTrail,
        events: BufferedPublisher,
        *,
        command: Sequence[str] | None = None,
        handoff_interval: float = HANDOFF_INTERVAL,
        max_pending: int = 50_000,
    ) -> None:
        self.settings = settings
        self.audit = audit
        self.events = events
        self._command = list(command or [sys.executable, "-m", "olly.platform.writer_process"])
        self._sender: BatchWriter[Item] = BatchWriter(
            self._send,
            name="olly-writer-handoff",
            batch_size=HANDOFF_BATCH_SIZE,
            flush_interval=handoff_interval,
            max_pending=max_pending,
        )
        self.audit_sink: _HandOff[AuditRecord] = _HandOff(encode_audit, self._sender.submit, self.flush)
        self.event_sink: _HandOff[Pending] = _HandOff(encode_event, self._sender.submit, self.flush)
        self._ours: socket.socket | None = None
        self._theirs: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._monitor: threading.Thread | None = None
        self._lock = threading.Lock()  # the process, its generation, the exits, stopping
        self._drain_lock = threading.Lock()  # reading the socket here and writing what was read, in order
        self._flush_lock = threading.Lock()
        self._flush_token = 0
        self._generation = 0
        self._exits: list[float] = []
        self._stopping = False
        self._closed = False
        self.in_process = False
        """No writer reads any more (given up after repeated exits, or stopped): this process writes."""

    @property
    def pid(self) -> int | None:
        """The running writer's process id (``None`` before ``start``)."""
        return self._process.pid if self._process is not None else None

    @property
    def restarts(self) -> int:
        return self._generation

    def start(self) -> bool:
        """Start the writer and hand ``audit`` and ``events`` over to it; ``False`` (logged) where it
        cannot run, and they keep writing in this process."""
        if self._process is not None:
            return not self._closed
        seqpacket = getattr(socket, "SOCK_SEQPACKET", None)
        if seqpacket is None or not hasattr(socket, "AF_UNIX"):
            log.warning("no writer process on this platform: audit records and events are written in process")
            return False
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, seqpacket)
        except OSError as exc:
            log.warning("no writer process: socket pair refused", error=type(exc).__name__)
            return False
        ours.settimeout(POLL_SECONDS)
        self._ours, self._theirs = ours, theirs
        try:
            self._process = self._spawn()
        except OSError as exc:
            log.warning("no writer process: it could not be started", error=type(exc).__name__)
            ours.close()
            theirs.close()
            self._ours = self._theirs = None
            return False
        self._monitor = threading.Thread(target=self._watch, name="olly-writer-monitor", daemon=True)
        self._monitor.start()
        self.audit.hand_over_to(self.audit_sink)
        self.events.hand_over_to(self.event_sink)
        log.info("writer process started", pid=self._process.pid)
        return True

    def flush(self, timeout: float = 30.0) -> None:
        """Block until everything handed over so far is committed (by the writer, or here)."""
        deadline = time.monotonic() + timeout
        self._sender.flush(timeout)
        ours = self._ours
        if ours is None or self._closed:
            return
        with self._flush_lock:
            self._flush_token += 1
            token = self._flush_token.to_bytes(8, "big")
            generation = -1
            while True:
                if self._writer_gone():
                    self._write_what_is_left()
                    return
                if generation != self._generation:  # (again) to a writer started since
                    generation = self._generation
                    self._deliver(_FLUSH + token, deadline)
                try:
                    reply = ours.recv(64)
                except TimeoutError:
                    reply = b""
                if reply[:1] == _FLUSHED and reply[1:] >= token:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError("the writer process did not write in time")

    def close(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Send what is buffered, let the writer commit it and exit, write here what a dead writer left,
        and hand ``audit`` and ``events`` back to their in-process writers."""
        ours = self._ours
        if self._process is None or ours is None or self._closed:
            return
        deadline = time.monotonic() + timeout
        self.audit.hand_over_to(None)
        self.events.hand_over_to(None)
        try:
            self._sender.flush(timeout)  # everything handed over is in the socket
        except TimeoutError:
            log.error("writer process: the hand-off was not sent in time")
        with self._lock:
            self._stopping = True
            process = self._process
        if process.poll() is None:
            self._deliver(_STOP, deadline)
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.error("writer process did not stop in time: killed", pid=process.pid)
            process.kill()
            process.wait()
        if process.returncode:
            log.warning("writer process stopped", exit_code=process.returncode)
        # No writer reads the socket any more: what is left in it, then what the sender still holds
        # (if the writer was stuck), is written here, in that order.
        self.in_process = True
        if self._monitor is not None:
            self._monitor.join(5)
        self._write_what_is_left()
        self._sender.close()
        self._closed = True
        ours.close()
        if self._theirs is not None:
            self._theirs.close()

    def _writer_gone(self) -> bool:
        """No writer will read the socket again (given up, or stopped at shutdown)."""
        process = self._process
        return self.in_process or (self._stopping and (process is None or process.poll() is not None))

    # -- sending --------------------------------------------------------------------------------
    def _send(self, items: list[Item]) -> None:
        """The sender thread's ``write``: one message per chunk that fits, in order."""
        for chunk, message in self._messages(items):
            if message is None:
                log.warning("items too large for the writer process: written here", items=len(chunk))
                self._write_here(chunk)
            elif not self._deliver(message):
                self._write_what_is_left()
                self._write_here(chunk)

    def _messages(self, items: list[Item]) -> list[tuple[list[Item], bytes | None]]:
        try:
            message: bytes | None = _BATCH + marshal.dumps(items)
        except ValueError:  # a value marshal cannot carry (an audit detail that is not plain JSON)
            message = None
        if message is not None and len(message) <= MAX_MESSAGE_BYTES:
            return [(items, message)]
        if len(items) == 1:
            return [(items, None)]
        half = len(items) // 2
        return self._messages(items[:half]) + self._messages(items[half:])

    def _deliver(self, message: bytes, deadline: float | None = None) -> bool:
        """Put ``message`` in the socket, waiting while it is full; ``False`` once the writer has been
        given up, the hand-off closed, or ``deadline`` passed."""
        ours = self._ours
        while ours is not None and not self.in_process and not self._closed:
            try:
                ours.send(message)
                return True
            except TimeoutError:
                if deadline is not None and time.monotonic() > deadline:
                    return False
            except OSError as exc:
                log.error("writer process: message not sent", error=type(exc).__name__)
                return False
        return False

    # -- writing here ---------------------------------------------------------------------------
    def _write_what_is_left(self) -> None:
        """Write what is in the socket (no writer reads it any more), then return."""
        theirs = self._theirs
        with self._drain_lock:
            while theirs is not None and theirs.fileno() != -1:
                try:
                    message = theirs.recv(MAX_MESSAGE_BYTES, socket.MSG_DONTWAIT)
                except (BlockingIOError, InterruptedError):
                    return
                if not message:
                    return
                if message[:1] == _BATCH:
                    self._write_items(marshal.loads(message[1:]))  # noqa: S302 - from this server

    def _write_here(self, items: list[Item]) -> None:
        with self._drain_lock:
            self._write_items(items)

    def _write_items(self, items: list[Item]) -> None:
        audit = [decode_audit(item) for item in items if item[0] == _AUDIT]
        events = [decode_event(item) for item in items if item[0] != _AUDIT]
        if audit:
            self.audit.write_batch(audit)
        if events:
            self.events.write_batch(events)

    # -- the child ------------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen[bytes]:
        assert self._theirs is not None
        secrets = _secret_fields()
        hidden = {f"OLLY_{name.upper()}" for name in secrets}
        environment = {name: value for name, value in os.environ.items() if name.upper() not in hidden}
        fd = self._theirs.fileno()
        process = subprocess.Popen(  # noqa: S603 - this interpreter and a module of ours
            [*self._command, str(fd)], pass_fds=(fd,), stdin=subprocess.PIPE, env=environment, close_fds=True
        )
        assert process.stdin is not None
        try:
            process.stdin.write(self.settings.model_dump_json(include=set(WRITER_SETTINGS)).encode())
            process.stdin.close()
        except OSError:  # it died at once: the monitor sees it exit
            pass
        return process

    def _watch(self) -> None:
        """Wait on the writer; start another when it exits, or give it up after too many exits."""
        while True:
            process = self._process
            assert process is not None
            code = process.wait()
            with self._lock:
                if self._stopping:
                    return
                now = time.monotonic()
                self._exits = [t for t in self._exits if now - t < RESTART_WINDOW_SECONDS] + [now]
                if len(self._exits) > MAX_RESTARTS:
                    log.error(
                        "writer process keeps exiting: writing audit records and events in this process",
                        exit_code=code,
                        exits=len(self._exits),
                    )
                    self.in_process = True
                    return
                log.error("writer process exited: starting another", exit_code=code, pid=process.pid)
                pause = min(0.05 * 2 ** len(self._exits), 2.0)
            time.sleep(pause)
            with self._lock:
                if self._stopping:
                    return
                try:
                    self._process = self._spawn()
                except OSError as exc:
                    log.error("writer process could not be started: writing in this process", error=type(exc).__name__)
                    self.in_process = True
                    return
                self._generation += 1


# -- the writer's side ----------------------------------------------------------------------------
class _GroupCommit(Generic[T]):
    """What the writer has read of one kind, written ``interval`` after the first of it arrived (or
    at once when ``WRITER_BATCH_SIZE`` items wait), in batches of at most that many."""

    def __init__(self, write: Callable[[list[T]], None], interval: float) -> None:
        self._write = write
        self.interval = interval
        self.items: list[T] = []
        self.due = float("inf")

    def add(self, item: T) -> None:
        if not self.items:
            self.due = time.monotonic() + self.interval
        self.items.append(item)

    def write(self, now: float | None = None) -> None:
        """Write what waits, if it is due (``now`` given) or in any case."""
        items = self.items
        if not items or (now is not None and now < self.due and len(items) < WRITER_BATCH_SIZE):
            return
        self.items, self.due = [], float("inf")
        for start in range(0, len(items), WRITER_BATCH_SIZE):
            self._write(items[start : start + WRITER_BATCH_SIZE])


def run_writer(settings: Settings, channel: socket.socket) -> int:
    """Read messages from ``channel`` and write them, until told to stop, the server is gone (end of
    file, after reading everything it sent) or SIGTERM (what is unread stays for the next writer).

    One thread reads and writes, as the in-process writers' threads write: the audit records with
    ``AuditTrail.write_batch`` (retried until written), the events with ``BufferedPublisher.write_batch``.
    While it writes it does not read, so a slow database fills the socket and the server waits (and
    what it has not read survives its death). No thread hands items to another inside the writer.
    """
    from olly.platform.bus.outbox import install_outbox
    from olly.platform.db import Database

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Ctrl-C in a terminal reaches every process of the group: the server stops the writer in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop)
    db = Database(settings)
    install_outbox(db)
    audit = _GroupCommit(AuditTrail(db).write_batch, AUDIT_FLUSH_INTERVAL)
    events = _GroupCommit(BufferedPublisher(db).write_batch, EVENTS_FLUSH_INTERVAL)
    try:
        while not stopping:
            wait = min(audit.due, events.due, time.monotonic() + 0.5) - time.monotonic()
            message = None
            if wait > 0:  # otherwise a group commit is due: write it first
                channel.settimeout(wait)
                with contextlib.suppress(TimeoutError):
                    message = channel.recv(MAX_MESSAGE_BYTES)
            if message == b"":
                break
            if message is not None:
                kind = message[:1]
                if kind == _BATCH:
                    for item in marshal.loads(message[1:]):  # noqa: S302 - from the server, over its private socket
                        _read(item, audit, events)
                elif kind == _FLUSH:
                    audit.write()
                    events.write()
                    channel.settimeout(POLL_SECONDS)
                    with contextlib.suppress(TimeoutError):  # the server's flush gives up in time
                        channel.send(_FLUSHED + message[1:])
                elif kind == _STOP:
                    break
            now = time.monotonic()
            audit.write(now)
            events.write(now)
    finally:
        audit.write()
        events.write()
        db.dispose()
    return 0


def _read(item: Item, audit: _GroupCommit[AuditRecord], events: _GroupCommit[Pending]) -> None:
    try:
        if item[0] == _AUDIT:
            audit.add(decode_audit(item))
        else:
            events.add(decode_event(item))
    except Exception as exc:  # noqa: BLE001 - a bug, not data: logged without the item (it holds identifiers)
        log.error("item not written: it could not be read", error=type(exc).__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m olly.platform.writer_process FD``, the settings as JSON on standard input."""
    from olly.platform.logging import configure_logging

    args = list(sys.argv[1:] if argv is None else argv)
    settings = Settings(**json.loads(sys.stdin.read()))
    configure_logging(settings.log_level, settings.log_format)
    return run_writer(settings, socket.socket(fileno=int(args[0])))


if __name__ == "__main__":
    raise SystemExit(main())
