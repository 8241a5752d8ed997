#!/usr/bin/env bash
# What `make up` needs beyond Python: qemu-img for the local agent.
# Installs it when run as root on Debian/Ubuntu; otherwise prints the command and fails.
set -euo pipefail
command -v qemu-img >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "up: installing qemu-utils (qemu-img)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq qemu-utils >/dev/null
  exit 0
fi
echo "up: qemu-img is missing; install it first:" >&2
echo "    sudo apt-get install -y qemu-utils" >&2
exit 1
