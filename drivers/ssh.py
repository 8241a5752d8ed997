"""SSH to a host (paramiko), with its failures mapped to volplane's errors once, here.

    with SshSession.open(address, port, username, password=pw, timeout=10) as ssh:
        ssh.run("qemu-img --version")
        ssh.put((data, "/var/lib/volplane-agent/release.zip", 0o644))

Host keys are accepted on first sight (what ZStack does when it adds a host). The
password is held only by paramiko for the login and never logged.
"""

from __future__ import annotations

import io
import shlex
from dataclasses import dataclass
from types import TracebackType

import paramiko

from volplane.errors import HostCommandFailed, HostSshAuthFailed, HostUnreachable


@dataclass(frozen=True)
class CommandResult:
    exit_status: int
    stdout: str
    stderr: str


def load_private_key(text: str) -> paramiko.PKey:
    return paramiko.Ed25519Key.from_private_key(io.StringIO(text))


class SshSession:
    def __init__(self, client: paramiko.SSHClient, where: str, timeout: float) -> None:
        self._client = client
        self.where = where
        self.timeout = timeout

    @classmethod
    def open(
        cls,
        address: str,
        port: int,
        username: str,
        *,
        password: str | None = None,
        private_key: str | None = None,
        timeout: float = 10.0,
    ) -> SshSession:
        where = f"{username}@{address}:{port}"
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            client.connect(
                address,
                port=port,
                username=username,
                password=password,
                pkey=load_private_key(private_key) if private_key else None,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                look_for_keys=False,
                allow_agent=False,
            )
        except paramiko.AuthenticationException as exc:
            client.close()
            raise HostSshAuthFailed(f"{where}: the host refused the credentials") from exc
        except (OSError, paramiko.SSHException, EOFError) as exc:
            client.close()
            raise HostUnreachable(f"{where}: {type(exc).__name__}: {exc}") from exc
        return cls(client, where, timeout)

    def __enter__(self) -> SshSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def run(
        self, command: str, *, check: bool = True, timeout: float | None = None
    ) -> CommandResult:
        """Runs ``command`` through the login shell; a nonzero exit raises unless not ``check``."""
        try:
            _, stdout, stderr = self._client.exec_command(command, timeout=timeout or self.timeout)
            out = stdout.read().decode(errors="replace")
            err = stderr.read().decode(errors="replace")
            status = stdout.channel.recv_exit_status()
        except (TimeoutError, OSError, paramiko.SSHException, EOFError) as exc:
            raise HostUnreachable(f"{self.where}: lost during a command: {exc}") from exc
        if check and status != 0:
            first = shlex.split(command)[0] if command.strip() else command
            raise HostCommandFailed(f"{self.where}: {first} exited {status}: {err.strip()[-500:]}")
        return CommandResult(status, out, err)

    def put(self, *files: tuple[bytes, str, int]) -> None:
        """Writes each ``(data, path, mode)`` on the host (one SFTP session); the mode is
        set before the data goes in, so a secret is never readable by others."""
        try:
            with self._client.open_sftp() as sftp:
                for data, path, mode in files:
                    with sftp.open(path, "wb") as remote:
                        sftp.chmod(path, mode)
                        remote.set_pipelined(True)
                        remote.write(data)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise HostUnreachable(f"{self.where}: could not write files: {exc}") from exc
