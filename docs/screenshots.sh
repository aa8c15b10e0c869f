#!/usr/bin/env bash
# Regenerates the pictures of the three page types in docs/ (run, sweep/advise, compare)
# from today's build, with the commands the README shows. Needs chromium; the pages are
# drawn at 3/4 scale to keep the PNGs small, and quantised with pngquant when it is installed.
#
#   bash docs/screenshots.sh            (HOLDTIME=target/debug/holdtime to skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${HOLDTIME:-}" ]; then
  cargo build --release --quiet
fi
holdtime=${HOLDTIME:-target/release/holdtime}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome)

"$holdtime" run reference --html "$work/run.html" >/dev/null
"$holdtime" sweep reference --runs 200 --set bgp.hold_time=30s,90s,180s \
  --format json --out "$work/sweep.json" 2>/dev/null
"$holdtime" report "$work/sweep.json" --html "$work/sweep.html"
"$holdtime" advise reference --runs 30 --healthy-runs 2 --horizon 6h --yes \
  --json "$work/advise.json" >/dev/null 2>&1
"$holdtime" report "$work/advise.json" --html "$work/advise.html"
"$holdtime" compare reference tuned-10-30 --runs 100 --html "$work/compare.html" >/dev/null

shot() { # page fragment size out.png
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$work/profile" --virtual-time-budget=2000 --force-device-scale-factor=0.75 \
    --window-size="$3" --screenshot="$work/$4" "file://$work/$1$2" 2>/dev/null
  if command -v pngquant >/dev/null; then
    pngquant --force --quality=70-95 --output "docs/$4" "$work/$4"
  else
    cp "$work/$4" "docs/$4"
  fi
}
shot run.html '#detection=1' 1280,1700 page-run.png
shot sweep.html '' 1000,1100 page-sweep.png
shot advise.html '' 1000,1000 page-advise.png
shot compare.html '' 1000,1150 page-compare.png
ls -l docs/page-*.png
