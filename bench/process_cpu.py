"""The CPU time and peak memory of a command's descendants, and of Dovecot's imap
processes, sampled from /proc while the command runs.

`getrusage(RUSAGE_CHILDREN)` sees only the processes that were waited for: the command
itself, but not its parsing processes, which are the forkserver's children and are never
reaped by anything we wait for. Sampling sees them all (Linux only).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(name, parent pid, CPU seconds so far), or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _pids() -> list[int]:
    return sorted(int(name) for name in os.listdir("/proc") if name.isdigit())


@dataclass
class TreeUsage:
    """What the samples saw: the last CPU reading and the peak RSS of each process."""

    descendants_cpu: dict[int, float] = field(default_factory=dict)
    descendants_peak_mb: dict[int, float] = field(default_factory=dict)
    server_cpu: dict[int, float] = field(default_factory=dict)  # since the command started

    @property
    def descendants_seconds(self) -> float:
        return sum(self.descendants_cpu.values())

    @property
    def server_seconds(self) -> float:
        return sum(self.server_cpu.values())

    @property
    def largest_descendant_mb(self) -> float:
        return max(self.descendants_peak_mb.values(), default=0.0)


class TreeSampler:
    """Samples every `interval` seconds, in a thread, until `stop`."""

    def __init__(self, root: int, interval: float = 0.1,
                 server_names: frozenset[str] = frozenset({"imap"})) -> None:
        self.root, self.interval, self.server_names = root, interval, server_names
        self.usage = TreeUsage()
        self._tree = {root}
        self._ignored: set[int] = set()
        self._server_before = {pid: cpu for pid, (name, _, cpu) in self._read(_pids()).items()
                               if name in server_names}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="tree-sampler")

    @staticmethod
    def _read(pids: list[int]) -> dict[int, tuple[str, int, float]]:
        read = {pid: _stat(pid) for pid in pids}
        return {pid: stat for pid, stat in read.items() if stat is not None}

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> TreeUsage:
        self._stopping.set()
        self._thread.join()
        return self.usage

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.sample()
            self._stopping.wait(self.interval)

    def sample(self) -> None:
        """One reading of every process of the tree and of the server (parents first)."""
        for pid, (name, parent, cpu) in self._read(
                [p for p in _pids() if p not in self._ignored]).items():
            if pid != self.root and (pid in self._tree or parent in self._tree):
                self._tree.add(pid)
                self.usage.descendants_cpu[pid] = cpu
                self.usage.descendants_peak_mb[pid] = max(
                    self.usage.descendants_peak_mb.get(pid, 0.0), _peak_rss_mb(pid))
            elif name in self.server_names:
                self.usage.server_cpu[pid] = cpu - self._server_before.get(pid, 0.0)
            elif pid != self.root:
                self._ignored.add(pid)
