"""The faults, in turn: every kind of process killed (SIGKILL, then restarted) and
stopped (SIGSTOP, then SIGCONT), and the small pool's filesystem filled."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.chaos.topology import Topology

KINDS = ("gateway", "worker", "beat", "agent", "redis", "postgres")
SCHEDULE: list[tuple[str, str]] = [
    (kind, action) for action in ("kill", "stop") for kind in KINDS
] + [("disk", "fill")]
# A hang longer than a worker waits for an agent's answer (30 s): jobs give up on it.
HANG_SECONDS = 45.0
WITH_HANGS = [*SCHEDULE, ("agent", "hang")]


@dataclass
class Fault:
    kind: str
    action: str
    victim: str
    at: float
    held: float


@dataclass
class Faults:
    topology: Topology
    rng: random.Random
    done: list[Fault] = field(default_factory=list)

    def _victims(self, kind: str) -> list[str]:
        if kind in ("gateway", "worker"):
            return [n for n in self.topology.stack.commands if n.startswith(kind)]
        if kind == "agent":
            return [f"agent{i}" for i in range(len(self.topology.agents))]
        return [kind]

    def _signal(self, victim: str, sig: signal.Signals) -> None:
        top = self.topology
        if victim.startswith("agent"):
            agent = top.agents[int(victim[5:])]
            agent.pause() if sig == signal.SIGSTOP else agent.resume()
        elif victim == "redis":
            assert top.redis.process is not None
            os.kill(top.redis.process.pid, sig)
        elif victim == "postgres":
            top.postgres.signal(sig)
        else:
            top.stack.signal(victim, sig)

    def _kill(self, victim: str) -> Callable[[], None]:
        top = self.topology
        if victim.startswith("agent"):
            agent = top.agents[int(victim[5:])]
            agent.kill()
            return agent.start
        if victim == "redis":
            assert top.redis.process is not None
            top.redis.process.kill()
            top.redis.process.wait()
            return top.redis.start
        if victim == "postgres":
            top.postgres.kill()
            return top.postgres.start
        top.stack.kill(victim)
        return lambda: top.stack.restart(victim)

    def inject(self, kind: str, action: str, hold: float) -> None:
        victim = self.rng.choice(self._victims(kind))
        fault = Fault(kind, action, victim, time.time(), hold)
        if action == "fill":
            filler = self.topology.loop_fs.fill(leave=64 * 1024)
            time.sleep(hold)
            filler.unlink()
        elif action in ("stop", "hang"):
            fault.held = hold = HANG_SECONDS if action == "hang" else hold
            self._signal(victim, signal.SIGSTOP)
            time.sleep(hold)
            self._signal(victim, signal.SIGCONT)
        else:
            restart = self._kill(victim)
            time.sleep(hold)
            restart()
        self.done.append(fault)

    def run(
        self,
        stop: threading.Event,
        *,
        gap: tuple[float, float],
        hold: tuple[float, float],
        schedule: list[tuple[str, str]] = SCHEDULE,
    ) -> None:
        """Injects faults in turn until ``stop``; each ends (restarted, continued) before
        the next."""
        turn = 0
        while not stop.wait(self.rng.uniform(*gap)):
            kind, action = schedule[turn % len(schedule)]
            turn += 1
            try:
                self.inject(kind, action, self.rng.uniform(*hold))
            except Exception as exc:
                print(f"chaos fault {kind}/{action} failed: {exc!r}", flush=True)
