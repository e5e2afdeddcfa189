#!/usr/bin/env bash
# Set up everything the tests need on a bare Debian machine, then run them.
# Used as-is by CI (.ci/run). Safe to run again: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: Dovecot is the real IMAP server of the tests; LibreOffice reads .doc/.wps;
# poppler-utils gives pdftotext for PDF text layers; file(1) checks a handmade encrypted container;
# PostgreSQL's server binaries run the second pass's private cluster (tests/servers.py);
# headless Chromium with a CJK font renders the digest and acknowledgement HTML; unar extracts
# compressed and encrypted RAR members for rarfile (Debian's 7zip has no RAR code, bsdtar no passwords);
# zip -P writes the ZipCrypto archives of the archive tests.
# systemd: only for systemd-analyze, which checks the unit files in deploy/ (tests/test_deploy_guide.py).
# fonts-crosextra-carlito (Calibri's metric twin, which LibreOffice ships on Windows) makes the printed
# workbook's columns and lines as wide as Excel prints them (tests/out/test_workbook_print.py).
APT_PACKAGES=(dovecot-imapd postgresql libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils file
              chromium fonts-wqy-zenhei unar zip systemd fonts-crosextra-carlito)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "需要安装系统软件包：${missing[*]}（请以 root 运行，或先 sudo apt-get install 它们）" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The project and its test dependencies in a private virtual environment.
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

# The whole suite twice: on SQLite, then on PostgreSQL (INTAKE_TEST_DB, tests/conftest.py).
# Both passes always run; the exit status is the first failing pass's, else 0.
status=0
echo "== pytest on SQLite"
.venv/bin/python -m pytest "$@" || status=$?
echo "== pytest on PostgreSQL"
INTAKE_TEST_DB=postgresql .venv/bin/python -m pytest "$@" || { rc=$?; [ "$status" -ne 0 ] || status=$rc; }
exit "$status"
