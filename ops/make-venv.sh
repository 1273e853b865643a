#!/bin/sh
# Create the project's virtual environment: make-venv.sh PYTHON DIR.
# Stock Debian 12 ships python3 without ensurepip (package python3-venv): as root it is
# installed with apt-get, otherwise the command to run is printed. Nothing is installed
# into the system's Python (PEP 668 forbids it there, rightly).
set -eu
PYTHON=$1
DIR=$2
if ! "$PYTHON" -c "import sys; sys.exit(sys.version_info < (3, 11))" 2>/dev/null; then
    echo "error: $PYTHON is not Python >= 3.11 (make PYTHON=/path/to/python3.11)" >&2
    exit 1
fi
if ! "$PYTHON" -c "import ensurepip, venv" 2>/dev/null; then
    pkg="python3-venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing $pkg (ensurepip is missing) ..."
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg"; }
    else
        echo "error: $PYTHON cannot create a virtual environment; run: sudo apt-get install $pkg" >&2
        exit 1
    fi
fi
"$PYTHON" -m venv "$DIR"
"$DIR/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
echo "created $DIR with $("$DIR/bin/python" --version)"
