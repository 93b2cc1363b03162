"""The policy check of one stack, run beside its program: the pack analyses each resource
as the program registers it, on the other core, instead of after the whole plan.

A thread waits for the pack (it may still be booting), configures it for the stack, then
sends each resource the recording monitor hands over. `finish()` sends what is left (the
objects charts render) and the stack as a whole, and returns the findings.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from dataplatform.plan.engine import PlannedResource
from dataplatform.plan.policy import Analysis, PolicyPackClient

_DONE = object()


class StreamedCheck:
    """Analysis of one stack while its program runs; `add` is the monitor's listener."""

    def __init__(self, pack: PolicyPackClient, stack: str, profile: str,
                 overrides: Mapping[str, Any]):
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._analysis: Analysis | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(pack, stack, profile, overrides),
                                        name=f"policy-{stack}", daemon=True)
        self._thread.start()

    def add(self, resource: PlannedResource) -> None:
        self._queue.put(resource)

    def _run(self, pack: PolicyPackClient, stack: str, profile: str,
             overrides: Mapping[str, Any]) -> None:
        try:
            pack.ready()
            pack.configure(stack, profile, overrides)
            self._analysis = Analysis(pack, stack)
            while (item := self._queue.get()) is not _DONE:
                self._analysis.send(item)
        except BaseException as exc:  # re-raised by finish(), in the caller's thread
            self._error = exc

    def close(self) -> None:
        """Stop sending (the program failed, or everything was sent)."""
        self._queue.put(_DONE)
        self._thread.join()

    def finish(self, resources: Iterable[PlannedResource]) -> list[dict[str, str]]:
        """The findings on `resources` (the plan's, then any rendered objects)."""
        self.close()
        if self._error is not None:
            raise self._error
        assert self._analysis is not None  # set before the thread consumed anything
        return self._analysis.finish(resources)
