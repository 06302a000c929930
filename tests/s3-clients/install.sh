#!/usr/bin/env bash
# Installs, when missing, the S3 clients the S3 endpoint's client tests drive
# (host/tests/it/s3_api_clients.rs), and prints the variables that point the
# tests at them, for `eval`:
#
#   boto3 and the AWS CLI (`awscli`, from PyPI) in a virtual environment under
#   ~/.cache/tiered-s3-clients (TIERED_S3_CLIENTS_VENV to move it), so the
#   system's Python is left alone; rclone from the Debian package.
#
#   eval "$(tests/s3-clients/install.sh)"
#   cargo test -p tiered-host --test it -- --ignored s3_api_clients
set -euo pipefail

venv="${TIERED_S3_CLIENTS_VENV:-$HOME/.cache/tiered-s3-clients/venv}"

if ! "$venv/bin/python" -c 'import boto3, awscli' 2>/dev/null || [[ ! -x "$venv/bin/aws" ]]; then
    echo "installing boto3 and awscli (PyPI) into $venv" >&2
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        apt-get update >&2 && apt-get install -y python3-venv >&2
    fi
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
    "$venv/bin/python" -m pip install --quiet boto3 awscli >&2
fi

if ! command -v rclone >/dev/null; then
    echo "installing rclone (Debian package)" >&2
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y rclone >&2
fi

echo "export TIERED_S3_CLIENTS_PYTHON='$venv/bin/python'"
echo "export TIERED_S3_CLIENTS_AWS='$venv/bin/aws'"
echo "export TIERED_S3_CLIENTS_RCLONE='$(command -v rclone)'"
