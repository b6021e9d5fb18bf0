#!/usr/bin/env bash
# Makes the sample on-site photos (验收照片) in samples/photos/<patch id>/*.jpg with GDAL only
# (gdal_translate, Debian 12's gdal-bin): each "photo" is a 320 × 240 crop of samples/basemap.tif
# around the place it claims, a JPEG whose EXIF (written by GDAL's JPEG driver from EXIF_
# metadata items) holds DateTimeOriginal and GPS latitude/longitude:
#   139901SJBG24210007/IMG_0001.jpg  taken inside the patch (its point on surface)
#   139901SJBG24210007/IMG_0002.jpg  taken about 120 m east of it: outside the patch
#   139901SJBG24210024/IMG_0003.jpg  no EXIF at all (a photo without time or place)
# Deterministic; re-run from the repository root: bash scripts/make_sample_photos.sh [out dir].
set -euo pipefail
out=${1:-samples/photos}
base=samples/basemap.tif
# dms <decimal degrees>: the EXIF rational triple GDAL expects, "(d) (m) (s)".
dms() { awk -v x="$1" 'BEGIN { d = int(x); m = int((x - d) * 60); s = ((x - d) * 60 - m) * 60;
                                printf "(%d) (%d) (%.3f)", d, m, s }'; }
# photo <file> <lon> <lat> <time "YYYY:MM:DD HH:MM:SS" or ""> : a crop of 120 × 90 m around
# lon/lat, 320 × 240 px.
photo() {
  local file=$1 lon=$2 lat=$3 when=$4
  mkdir -p "$(dirname "$file")"
  local half_lon=0.00066 half_lat=0.0004 # about 60 m × 45 m either side at 35°N
  local win
  win=$(awk -v x="$lon" -v y="$lat" -v a="$half_lon" -v b="$half_lat" \
        'BEGIN { printf "%.7f %.7f %.7f %.7f", x - a, y + b, x + a, y - b }')
  local exif=()
  if [ -n "$when" ]; then
    exif=(-mo "EXIF_DateTimeOriginal=$when"
          -mo EXIF_GPSLatitudeRef=N -mo "EXIF_GPSLatitude=$(dms "$lat")"
          -mo EXIF_GPSLongitudeRef=E -mo "EXIF_GPSLongitude=$(dms "$lon")"
          -mo "EXIF_Make=tuban samples" -mo "EXIF_Model=make_sample_photos.sh")
  fi
  # shellcheck disable=SC2086
  gdal_translate -q -of JPEG -co QUALITY=80 -outsize 320 240 -projwin $win \
    -projwin_srs EPSG:4490 "${exif[@]}" "$base" "$file"
  rm -f "$file.aux.xml"
}
photo "$out/139901SJBG24210007/IMG_0001.jpg" 117.1125328 35.2059627 "2025:03:20 10:15:32"
photo "$out/139901SJBG24210007/IMG_0002.jpg" 117.1138500 35.2059627 "2025:03:20 10:21:07"
photo "$out/139901SJBG24210024/IMG_0003.jpg" 117.0975349 35.1926573 ""
