#!/usr/bin/env bash
# Installs the Debian packages a headless Qt + VTK run needs (Xvfb, GL, xcb), only those missing.
# Safe to run repeatedly; does nothing when everything is present or when not on Debian/Ubuntu.
set -euo pipefail
pkgs=(xvfb xauth libgl1 libegl1 libglu1-mesa libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
      libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
      libxcb-xkb1 libdbus-1-3 libfontconfig1 libxrender1 libxi6)
command -v dpkg-query >/dev/null 2>&1 || { echo "install-system-deps: not a Debian system, skipping"; exit 0; }
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-system-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
