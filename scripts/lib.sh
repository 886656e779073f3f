# Shared by scripts/*: a virtualenv with Steward installed, and a PostgreSQL
# server on loopback for the tests (installed with apt-get when missing).
VENV="${STEWARD_VENV:-$PWD/.venv}"
PG_PORT="${STEWARD_TEST_PG_PORT:-55432}"
PG_DIR="${STEWARD_TEST_PG_DIR:-/tmp/steward-test-pg}"
PG_URL="postgresql://steward@127.0.0.1:${PG_PORT}/steward_test"

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  if ! "$VENV/bin/python" -c "import steward, pytest, mastodon" 2>/dev/null \
     || [ pyproject.toml -nt "$VENV/.steward-installed" ]; then
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e '.[test]'
    touch "$VENV/.steward-installed"
  fi
}

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

ensure_postgres() {
  if ! pg_bin >/dev/null; then
    echo "installing PostgreSQL..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  local bin; bin="$(pg_bin)"
  if "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q 2>/dev/null; then
    return 0
  fi
  local run_as=()
  if [ "$(id -u)" = "0" ]; then run_as=(runuser -u postgres --); fi
  if [ ! -s "$PG_DIR/PG_VERSION" ]; then
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = "0" ]; then chown postgres "$PG_DIR"; fi
    "${run_as[@]}" "$bin/initdb" -D "$PG_DIR" -U steward --auth=trust -E UTF8 >/dev/null
  fi
  "${run_as[@]}" "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U steward steward_test 2>/dev/null || true
}

# Debian's chromium for the console's browser test (Playwright drives it; its own
# browser download does not work here). Idempotent; no prompts (CI has no stdin).
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return 0
  fi
  echo "installing chromium..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
}
