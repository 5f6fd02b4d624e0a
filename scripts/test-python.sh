#!/usr/bin/env bash
# Makes sure the tests' Python exists and prints its path (the only line on stdout):
# a venv in a cache outside the checkout with moto (an S3-compatible server), aiosmtpd
# (the SMTP sink, scripts/smtp-sink.py) and icalendar (reading calendar feeds), from PyPI.
# Installs once; an older venv missing one of them (e.g. moto only) gets what it lacks.
set -euo pipefail
venv="${SHIPGATE_TOOLS_DIR:-$HOME/.cache/shipgate-tools}/moto"
py="$venv/bin/python"
packages=('moto[s3]>=5,<6' flask flask-cors aiosmtpd icalendar)
# Every package imports, and moto is a 5.x.
check='
import importlib.metadata as m, moto, flask, flask_cors, aiosmtpd, icalendar
assert m.version("moto").split(".")[0] == "5"
'
ready() { [[ -x "$py" ]] && "$py" -c "$check" >/dev/null 2>&1; }

if ! ready; then
  mkdir -p "$(dirname "$venv")"
  # Two set-ups at once (a second shell, a parallel job) install one after the other.
  exec 9>"$venv.lock"
  command -v flock >/dev/null && flock 9
  if ! ready; then
    echo "tools: installing the tests' Python packages (moto, aiosmtpd, icalendar) into $venv …" >&2
    # A venv without pip (python3-venv was missing) or whose python is gone is made anew.
    if [[ ! -x "$py" || ! -x "$venv/bin/pip" ]] || ! "$py" -c '' >/dev/null 2>&1; then
      rm -rf "$venv"
      if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null; }
          rm -rf "$venv"; python3 -m venv "$venv" >&2
        else
          echo "test-python: python3 with venv is needed: sudo apt-get install -y python3 python3-venv" >&2; exit 1
        fi
      fi
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}" >&2
    if ! "$py" -c "$check" >&2; then
      echo "test-python: the packages do not import in $venv" >&2; exit 1
    fi
  fi
fi
echo "$py"
