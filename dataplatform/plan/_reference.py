"""The plan of a referenced platform stack, made in a child process while the domain's own
program runs: on two cores a domain plans in about the time of the longer of the two,
not of both. The child is spawned, not forked: forking a process that has gRPC or other
threads running (a policy pack client, a test runner) can deadlock the child.

The program only needs the platform's outputs when its StackReference registers, which
happens after all of its component code (and the imports that code triggers) has run.
`PendingOutputs` is what the mocks read them from: it waits for the child there. The
child's log lines (the platform program's warnings) are replayed in this process, and
its error, if any, is raised here as if the platform had been planned first.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
from collections.abc import Iterator, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

Outputs = tuple[dict[str, Any], list[str]]
"""A stack's raw outputs (secrets in clear, in memory only) and its secret output names."""


class PendingOutputs(Mapping[str, Outputs]):
    """`{fully qualified stack name: Outputs}` of one referenced stack, planned by a child."""

    def __init__(self, fq_name: str, stack: str, stacks_dir: Path, seen: tuple[str, ...]):
        self.fq_name = fq_name
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe(duplex=False)
        self._proc = context.Process(target=_plan_reference, name=f"plan-{stack}",
                                     args=(child_conn, stack, stacks_dir, seen), daemon=True)
        self._proc.start()
        child_conn.close()
        self._result: tuple[Outputs | None, BaseException | None] | None = None

    def _get(self) -> Outputs:
        if self._result is None:
            try:
                outputs, error, records = pickle.loads(self._conn.recv_bytes())
            except Exception as exc:  # the child died, or sent what cannot be read back
                self._proc.join()
                outputs, error, records = None, RuntimeError(
                    f"planning the referenced stack failed ({exc or type(exc).__name__}, "
                    f"exit {self._proc.exitcode})"), []
            self._result = (outputs, error)
            for record in records:
                logging.getLogger().handle(record)
        outputs, error = self._result
        if error is not None:
            raise error
        assert outputs is not None  # no error
        return outputs

    @property
    def error(self) -> BaseException | None:
        """The referenced plan's error, once the child answered."""
        return None if self._result is None else self._result[1]

    def close(self) -> None:
        """Wait for the child (it has answered or is answering) and release it."""
        with contextlib.suppress(BaseException):  # raised where the outputs are read
            self._get()
        self._proc.join()
        self._conn.close()

    def __getitem__(self, key: str) -> Outputs:
        if key != self.fq_name:
            raise KeyError(key)
        return self._get()

    def __iter__(self) -> Iterator[str]:
        return iter([self.fq_name])

    def __len__(self) -> int:
        return 1


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.args, record.msg = None, record.getMessage()  # picklable
        record.exc_info = None
        self.records.append(record)


def _plan_reference(conn: Connection, stack: str, stacks_dir: Path,
                    seen: tuple[str, ...]) -> None:
    from dataplatform.plan.engine import plan_stack

    records = _Records()
    root = logging.getLogger()
    root.handlers = [records]  # the parent prints them, with its own handlers
    outputs: Outputs | None = None
    error: BaseException | None = None
    try:
        ref = plan_stack(stack, stacks_dir, seen)
        outputs = (ref.raw_outputs, ref.secret_outputs)
    except BaseException as exc:  # sent to the parent, raised there
        error = exc
    try:
        payload = pickle.dumps((outputs, error, records.records))
    except Exception as exc:  # an unpicklable error: its text instead
        payload = pickle.dumps((None, RuntimeError(str(error or exc)), records.records))
    conn.send_bytes(payload)
    conn.close()
