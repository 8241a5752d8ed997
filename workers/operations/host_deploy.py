"""Deploying a host's agent over SSH, for AddKVMHost and ReconnectHost.

The first deploy logs in with the password the client gave (a job secret, gone when
the job ends) and authorizes the management node's own SSH key on the host; later
redeploys (ReconnectHost) log in with that key. Every deploy writes a fresh agent
token. A deploy that fails removes what it made on the host (the agent home it
created, the key it authorized), so a failed AddKVMHost leaves no stray agent.
"""

from __future__ import annotations

import contextlib
import secrets
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from drivers import deploy
from drivers.client import AgentClient
from drivers.release import own_release
from drivers.ssh import SshSession
from schemas.infra import Host, ManagementKey
from volplane.errors import AgentDeployFailed, VolplaneError
from workers.context import JobContext

KEY_NAME = "ssh"


def management_key(ctx: JobContext) -> ManagementKey:
    """The management node's SSH key, made on first use (one for all workers)."""
    key = ctx.session.get(ManagementKey, KEY_NAME)
    if key is not None:
        return key
    private = Ed25519PrivateKey.generate()
    private_text = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public_text = (
        private.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    # Committed at once, apart from the job: two first deploys racing keep one key.
    with (
        Session(bind=ctx.session.get_bind()) as side,
        contextlib.suppress(IntegrityError),
        side.begin(),
    ):
        side.execute(
            insert(ManagementKey).values(
                name=KEY_NAME, private_key=private_text, public_key=public_text
            )
        )
    key = ctx.session.get(ManagementKey, KEY_NAME)
    assert key is not None
    return key


def open_ssh(ctx: JobContext, host: Host, *, password: str | None) -> SshSession:
    """SSH to the host: with the password when given, else with the management key."""
    assert host.ssh_username is not None
    return SshSession.open(
        host.management_ip,
        host.ssh_port or 22,
        host.ssh_username,
        password=password,
        private_key=None if password else management_key(ctx).private_key,
        timeout=ctx.settings.ssh_timeout_seconds,
    )


def _wait_for_agent(ctx: JobContext, host: Host, release: str, ssh: SshSession) -> None:
    deadline = time.monotonic() + ctx.settings.agent_start_timeout_seconds
    last = "no answer"
    while time.monotonic() < deadline:
        ctx.checkpoint()
        try:
            with AgentClient(host.agent_url, host.agent_token, connect_timeout=1.0) as agent:
                health = agent.health()
            if health.release == release:
                return
            last = f"it runs release {health.release}, not {release}"
        except VolplaneError as exc:
            last = exc.details
        time.sleep(0.2)
    home = ctx.settings.host_agent_home
    tail = ssh.run(f"tail -n 20 {home}/agent.log", check=False).stdout
    raise AgentDeployFailed(f"the agent on {host.management_ip} did not come up ({last}):\n{tail}")


def deploy_agent(ctx: JobContext, host: Host, *, password: str | None) -> dict[str, object]:
    """Checks the host, installs this node's release, starts the agent with a fresh
    token (set on ``host``) and waits until it answers. Returns the host's facts
    found over SSH (CPU, memory, OS)."""

    settings = ctx.settings
    home = settings.host_agent_home
    release = own_release()
    with open_ssh(ctx, host, password=password) as ssh:
        report = deploy.check_host(
            ssh, python=settings.host_python, home=home, min_free_bytes=settings.host_min_free_bytes
        )
        ctx.checkpoint()
        host.agent_token = secrets.token_urlsafe(32)
        plan = deploy.AgentPlan(
            home=home,
            python=settings.host_python,
            listen=f"{host.management_ip}:{host.agent_port}",
            token=host.agent_token,
            release=release,
        )
        public_key = management_key(ctx).public_key
        created_home, key_added = False, False
        try:
            created_home, key_added = deploy.install(ssh, plan, public_key)
            _wait_for_agent(ctx, host, release.id, ssh)
        except BaseException:
            with contextlib.suppress(VolplaneError):
                if created_home:
                    deploy.remove(ssh, home, public_key if key_added else None)
                else:
                    deploy.stop(ssh, home)
                    if key_added:
                        deploy.revoke_key(ssh, public_key)
            raise
    return report.facts()


def undeploy_agent(ctx: JobContext, host: Host) -> None:
    """Stops the host's agent and removes its home (the host is being deleted)."""
    with open_ssh(ctx, host, password=None) as ssh:
        deploy.remove(ssh, ctx.settings.host_agent_home, management_key(ctx).public_key)
