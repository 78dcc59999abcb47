#!/usr/bin/env bash
# Install the optional voice engines of `asr synth --engines ...` from Debian packages (needs root + apt).
#
# Usage:
#   sudo tools/install_voices.sh            # every engine: MBROLA (+ voices), SVOX Pico, festival (+ voices)
#   sudo tools/install_voices.sh --dry-run  # print what it would do
#
# MBROLA voices and SVOX Pico live in Debian's contrib / non-free components: the script adds
# them to the apt sources when they are missing (and says so). MBROLA voices may be copied freely
# but not sold; Pico is Apache-2.0. Reserved for evaluation only and deliberately NOT installed
# here: flite and every voice built from the CMU ARCTIC recordings (festival kal/ked/slt/awb/rms,
# RHVoice English): nothing in asr trains, tunes or selects on them.
set -euo pipefail

DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
run() { echo "+ $*"; [ "$DRY" = 1 ] || "$@"; }

# espeak-ng (Debian's, for its mb-* voice files that drive MBROLA), MBROLA and its diphone voices
# (real speakers: en1 British male, us1-us3 American, de/es/fr/it several each), SVOX Pico, festival
# with voices not built from CMU ARCTIC (rab: British male, don: British male diphone, el: Spanish,
# ita/ital: Italian).
PACKAGES=(
  espeak-ng mbrola
  mbrola-en1 mbrola-us1 mbrola-us2 mbrola-us3
  mbrola-de1 mbrola-de2 mbrola-de4 mbrola-de6
  mbrola-es1 mbrola-es2 mbrola-es3
  mbrola-fr1 mbrola-fr2 mbrola-fr4
  mbrola-it3 mbrola-it4
  libttspico-utils
  festival festvox-rablpc16k festvox-don festvox-ellpc11k festvox-italp16k festvox-itapc16k
)

if [ "$(id -u)" != 0 ] && [ "$DRY" = 0 ]; then
  echo "install_voices.sh: needs root (apt-get install)" >&2
  exit 2
fi
if ! command -v apt-get >/dev/null; then
  echo "install_voices.sh: no apt-get: install espeak-ng, mbrola (+ voices), pico2wave and festival by hand" >&2
  exit 2
fi

# 1. contrib and non-free components (deb822 sources of Debian 12+, else the classic sources.list)
changed=0
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  if grep -q '^Components: main$' "$f"; then
    echo "enabling contrib non-free in $f"
    [ "$DRY" = 1 ] || sed -i 's/^Components: main$/Components: main contrib non-free/' "$f"
    changed=1
  fi
done
if [ -f /etc/apt/sources.list ] && grep -qE '^deb .* main$' /etc/apt/sources.list; then
  echo "enabling contrib non-free in /etc/apt/sources.list"
  [ "$DRY" = 1 ] || sed -i -E 's/^(deb .* main)$/\1 contrib non-free/' /etc/apt/sources.list
  changed=1
fi
[ "$changed" = 1 ] || echo "apt sources: contrib / non-free already enabled (or configured elsewhere)"

# 2. the packages
run apt-get update -q
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"

# 3. what is there now
[ "$DRY" = 1 ] && exit 0
echo
echo "installed engines:"
for cmd in espeak-ng mbrola pico2wave text2wave; do
  printf '  %-10s %s\n' "$cmd" "$(command -v "$cmd" || echo missing)"
done
echo "  mbrola voices: $(ls /usr/share/mbrola 2>/dev/null | tr '\n' ' ')"
echo "  festival voices: $(ls /usr/share/festival/voices/*/ 2>/dev/null | grep -v : | tr '\n' ' ')"
