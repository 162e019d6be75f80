#!/usr/bin/env bash
# Commonwatch's one entry point on a fresh machine: it makes .venv from the lock file on first use,
# then runs the platform (`./cw up --demo`), the tests (`./cw test`) or any `commonwatch` command.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${COMMONWATCH_VENV:-$here/.venv}"

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "commonwatch needs Python 3.11 or newer on PATH" >&2
  return 1
}

bootstrap() {
  local stamp="$venv/.commonwatch-installed"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$here/requirements.lock" ] && [ "$stamp" -nt "$here/pyproject.toml" ]; then
    return 0
  fi
  echo "Setting up $venv from requirements.lock (first run only)..." >&2
  [ -x "$venv/bin/python" ] || "$(pick_python)" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.lock"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$here"
  touch "$stamp"
}

bootstrap
cmd="${1:-up}"
case "$cmd" in
  test) shift; exec "$here/.ci/test" "$@" ;;
  *) exec "$venv/bin/commonwatch" "$@" ;;
esac
