#!/usr/bin/env bash
# Make sure the real services the tests use are running: PostgreSQL on 127.0.0.1:5432
# (trust auth, database "test") and Redis on 127.0.0.1:6379. Uses the ones already
# listening; otherwise installs them from Debian packages and starts them.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "services.sh: not root and no sudo; skipping service setup" >&2; exit 0
  fi
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# OCR for scanned PDFs and images; Chromium for the inbox's browser tests (Playwright
# drives Debian's build: its own browser download cannot work offline).
missing=()
command -v tesseract >/dev/null || missing+=(tesseract-ocr)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
  echo "Installed ${missing[*]}"
fi

if listening 6379; then
  echo "Redis: using the server on 127.0.0.1:6379"
else
  command -v redis-server >/dev/null || apt_install redis-server
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do listening 6379 && break; sleep 0.1; done
  echo "Redis: started on 127.0.0.1:6379"
fi

if listening 5432; then
  echo "PostgreSQL: using the server on 127.0.0.1:5432"
else
  ls /etc/postgresql/*/main >/dev/null 2>&1 || apt_install postgresql
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Test machines only: trust local TCP connections, like the CI image does.
  if ! $SUDO grep -q "frontdesk-tests" "$hba"; then
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust # frontdesk-tests' "$hba"
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || $SUDO pg_ctlcluster "$version" main start
  for _ in $(seq 100); do listening 5432 && break; sleep 0.1; done
  echo "PostgreSQL: started $version on 127.0.0.1:5432"
fi
psql_cmd=(psql -h 127.0.0.1 -U postgres -d postgres -tAc)
if ! "${psql_cmd[@]}" "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  "${psql_cmd[@]}" "CREATE DATABASE test" >/dev/null
fi
