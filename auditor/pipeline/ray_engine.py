"""`--engine ray`: the pipeline's tasks as Ray tasks, on a local Ray or a cluster.

Ray is an optional extra (`pip install "call-auditor[ray]"`): it is imported only here, and
only when the engine is asked for. Without `--ray-address` a local Ray starts with this
machine's cores; with it the run joins that cluster (`auto`, `ray://host:10001`). Every node
needs call-auditor installed, and the inputs and `--work` must be at the same paths on every
node (a shared file system): the tasks read the inputs and write their Parquet there.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from auditor.errors import UsageError
from auditor.pipeline.runner import Outcome, Task, no_report

INSTALL = 'pip install "call-auditor[ray]"'


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError(f"--engine ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


def connect(address: str | None) -> RayRunner:
    """A runner on the Ray this process is already connected to, else on `address` (None: a
    local Ray with this machine's cores, no dashboard)."""
    ray = _ray()
    if not ray.is_initialized():
        try:
            # Ray Client warns before it raises (e.g. a timeout): the error line says it all.
            # Only while connecting: the process's own warning filters stay as they were.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", module=r"ray\.")
                if address is None:
                    ray.init(
                        num_cpus=os.cpu_count() or 1,
                        include_dashboard=False,
                        logging_level="ERROR",
                        log_to_driver=False,
                    )
                else:
                    ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "a local Ray"
            raise UsageError(f"--engine ray: cannot start or join {where} ({exc})") from None
    return RayRunner()


class RayRunner:
    """Each task a Ray task (one CPU); outcomes in task order, `done` as they complete.
    A task that raised comes back as the exception it raised, not Ray's wrapper, so that an
    unreadable input is the same one-line error as on the local engine."""

    name = "ray"

    def run(
        self, tasks: Sequence[Task], done: Callable[[int, Outcome], None] = no_report
    ) -> list[Outcome]:
        ray = _ray()
        remote: dict[Callable[..., Any], Any] = {}
        refs = []
        for fn, args in tasks:
            if fn not in remote:
                remote[fn] = ray.remote(num_cpus=1)(fn)
            refs.append(remote[fn].remote(*args))
        index = {ref: i for i, ref in enumerate(refs)}
        outcomes: list[Outcome | None] = [None] * len(refs)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                try:
                    outcome = Outcome(ray.get(ref))
                except ray.exceptions.RayTaskError as exc:
                    outcome = Outcome(None, exc.cause if exc.cause is not None else exc)
                outcomes[index[ref]] = outcome
                done(index[ref], outcome)
        return [o for o in outcomes if o is not None]
