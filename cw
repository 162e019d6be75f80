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

# The console's front-end packages come from the npm registry at build time, never from the repo.
build_console() {
  local built="$here/src/commonwatch/web/dist/.built"
  if [ -f "$built" ] && [ -z "$(find "$here/package-lock.json" "$here/src/commonwatch/web/src" \
       "$here/src/commonwatch/web/static" "$here/src/commonwatch/web/build.mjs" -newer "$built" 2>/dev/null | head -n 1)" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the web console will not be built (the API works without it)." >&2
    return 0
  fi
  echo "Building the web console (npm ci && npm run build)..." >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run --silent build >/dev/null)
  touch "$built"
}

bootstrap
build_console
cmd="${1:-up}"
case "$cmd" in
  test) shift; exec "$here/.ci/test" "$@" ;;
  *) exec "$venv/bin/commonwatch" "$@" ;;
esac
