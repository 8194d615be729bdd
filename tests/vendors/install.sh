#!/bin/sh
# Install the pinned vendor CLIs (Claude Code, Codex CLI, Gemini CLI) into .vendor/
# (git-ignored) for tests/vendors. Safe to run again: npm skips what is already there.
# Exits 0 when the registry cannot be reached, so the tests skip with that reason.
set -eu
cd "$(dirname "$0")/../.."
CLAUDE_CODE=2.1.332
CODEX=0.171.0
GEMINI_CLI=0.61.0
if ! command -v npm >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
        $SUDO apt-get update -q && $SUDO apt-get install -y -q nodejs npm || true
    fi
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "vendor CLIs: npm is not installed; tests/vendors will skip" >&2
    exit 0
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
    echo "vendor CLIs: node $(node --version 2>/dev/null || echo missing) is older than 20 (Gemini CLI needs 20)" >&2
fi
mkdir -p .vendor
[ -f .vendor/package.json ] || echo '{"name": "agentshell-vendor-clis", "private": true}' > .vendor/package.json
if ! npm install --prefix .vendor --no-audit --no-fund --loglevel=error \
        "@anthropic-ai/claude-code@$CLAUDE_CODE" \
        "@openai/codex@$CODEX" \
        "@google/gemini-cli@$GEMINI_CLI"; then
    echo "vendor CLIs: npm install failed (registry unreachable?); tests/vendors will skip" >&2
fi
exit 0
