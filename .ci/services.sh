#!/usr/bin/env bash
# Installs and starts what volplane's tests need: qemu-img, Redis, PostgreSQL, Chromium,
# sshd and iproute2, and the network-storage servers (NFS, SMB).
# Idempotent: does nothing for what is already there and running.
set -euo pipefail

need_apt=()
command -v qemu-img >/dev/null 2>&1 || need_apt+=(qemu-utils)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v losetup >/dev/null 2>&1 || need_apt+=(mount)
command -v mkfs.ext4 >/dev/null 2>&1 || need_apt+=(e2fsprogs)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
# Network pools (tests/netstore.py): NFS served by nfs-ganesha (VFS) and its own rpcbind
# in a network namespace, reached by qemu's nfs:// driver and libnfs; no kernel client.
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
command -v ganesha.nfsd >/dev/null 2>&1 || need_apt+=(nfs-ganesha)
[ -e /usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so ] || need_apt+=(nfs-ganesha-vfs)
command -v rpcbind >/dev/null 2>&1 || need_apt+=(rpcbind)
command -v nfs-ls >/dev/null 2>&1 || need_apt+=(libnfs-utils)
ls /usr/lib/x86_64-linux-gnu/qemu/block-nfs.so >/dev/null 2>&1 || need_apt+=(qemu-block-extra)
# SMB: smbd in a namespace, mounted by the agent with smbnetfs (FUSE).
command -v smbd >/dev/null 2>&1 || need_apt+=(samba)
command -v smbclient >/dev/null 2>&1 || need_apt+=(smbclient)
command -v smbnetfs >/dev/null 2>&1 || need_apt+=(smbnetfs)
command -v fusermount >/dev/null 2>&1 || need_apt+=(fuse3)
# Test hosts on a real network (tests/netns.py): namespaces, and an sshd in each.
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
# (also docs/webhooks.md's shell recipe, tests/unit/test_webhook_doc.py)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# `make bench` measures backups against restic and borg.
command -v restic >/dev/null 2>&1 || need_apt+=(restic)
command -v borg >/dev/null 2>&1 || need_apt+=(borgbackup)
# The operator console's browser test (tests/e2e) drives Debian's headless Chromium.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "services: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

pg_ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_ready; then
  echo "services: starting postgresql"
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    pg_createcluster "$version" main >/dev/null
  fi
  conf=/etc/postgresql/$version/main
  # Tests connect as postgres over TCP without a password, as on the dev machines.
  if ! grep -q "volplane-test" "$conf/pg_hba.conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust # volplane-test\nhost all all ::1/128 trust # volplane-test' "$conf/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null

redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
pg_ready
echo "services: qemu-img $(qemu-img --version | head -1 | awk '{print $3}'), redis and postgresql ready"
