#!/usr/bin/env bash
# Refresh the JavaScript the review app ships (kaokore_mm/review/static/vendor/) from npm, at pinned
# versions, with their licence files. Needs npm; the package itself never does (the files are committed).
#   bash tools/vendor_js.sh
set -euo pipefail
OSD_VERSION=${OSD_VERSION:-4.1.1}                 # OpenSeadragon, BSD-3-Clause
ANNOTORIOUS_VERSION=${ANNOTORIOUS_VERSION:-2.7.19}  # @recogito/annotorious-openseadragon, BSD-3-Clause
DEST="$(cd "$(dirname "$0")/.." && pwd)/kaokore_mm/review/static/vendor"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "openseadragon@$OSD_VERSION" "@recogito/annotorious-openseadragon@$ANNOTORIOUS_VERSION" >/dev/null
rm -rf "$DEST" && mkdir -p "$DEST/openseadragon" "$DEST/annotorious"
tar xzf "openseadragon-$OSD_VERSION.tgz"
cp package/build/openseadragon/openseadragon.min.js "$DEST/openseadragon/"
cp -r package/build/openseadragon/images "$DEST/openseadragon/images"
cp package/LICENSE.txt "$DEST/openseadragon/LICENSE.txt"
rm -rf package
tar xzf "recogito-annotorious-openseadragon-$ANNOTORIOUS_VERSION.tgz"
cp package/dist/openseadragon-annotorious.min.js package/dist/annotorious.min.css "$DEST/annotorious/"
cp package/dist/openseadragon-annotorious.min.js.LICENSE.txt "$DEST/annotorious/"
cp package/LICENSE "$DEST/annotorious/LICENSE"
printf 'openseadragon %s (BSD-3-Clause)\n@recogito/annotorious-openseadragon %s (BSD-3-Clause)\n' \
    "$OSD_VERSION" "$ANNOTORIOUS_VERSION" > "$DEST/VERSIONS"
echo "vendored into $DEST:"; cat "$DEST/VERSIONS"
