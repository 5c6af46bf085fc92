#!/usr/bin/env bash
# Install the built program for the current user (no root, no Python needed at run time):
#   ~/.local/opt/handviewer/   the one-folder build (dist/handviewer)
#   ~/.local/bin/handviewer    a link to its program
#   the .desktop entry and the icon, so that handviewer appears in the desktop's application menu.
# Usage: packaging/install-desktop.sh [dist/handviewer]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../dist/handviewer}"
[ -x "$build/handviewer" ] || { echo "no build at $build: run 'make package' first" >&2; exit 1; }
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
rm -rf "$HOME/.local/opt/handviewer"
mkdir -p "$HOME/.local/opt" "$HOME/.local/bin" "$prefix/applications" "$prefix/icons/hicolor/256x256/apps"
cp -a "$build" "$HOME/.local/opt/handviewer"
ln -sf "$HOME/.local/opt/handviewer/handviewer" "$HOME/.local/bin/handviewer"
sed "s|^Exec=handviewer|Exec=$HOME/.local/bin/handviewer|" "$here/handviewer.desktop" > "$prefix/applications/handviewer.desktop"
cp "$here/../assets/icon.png" "$prefix/icons/hicolor/256x256/apps/handviewer.png"
command -v update-desktop-database >/dev/null && update-desktop-database "$prefix/applications" || true
echo "installed: $HOME/.local/bin/handviewer and the application menu entry"
