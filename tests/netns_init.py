"""PID 1 of a test host (see ``tests/netns.py``).

    python tests/netns_init.py [--hostname NAME] --bind SRC:DST ... -- COMMAND ...

Runs inside the host's own network, mount, UTS and PID namespaces: sets its
hostname, bind-mounts each ``SRC`` over ``DST`` (private to this host), starts
``COMMAND`` (its sshd), reaps every process that ends up orphaned in the host
(agents started over SSH, their supervisors) and exits when ``COMMAND`` does. When
it exits, the kernel kills everything left in the host's PID namespace: a host's
death takes all of it."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", action="append", default=[], metavar="SRC:DST")
    parser.add_argument("--hostname")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if options.hostname:
        socket.sethostname(options.hostname)
    for spec in options.bind:
        source, _, target = spec.partition(":")
        subprocess.run(["mount", "--bind", source, target], check=True)
    child = os.fork()
    if child == 0:
        os.execvp(command[0], command)

    def forward(signum: int, _frame: object) -> None:
        os.kill(child, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if pid == child:
            return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
