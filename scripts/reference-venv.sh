#!/usr/bin/env bash
# Creates (or reuses) the private virtualenv that holds the Python reference
# implementation, aster-rpc 0.1.2 with aster-cli 0.1.2, pinned by
# interop/requirements.txt. Prints the venv's python path on the last line.
#
# Used by the conformance generator and by the live interop tests. It fails
# loudly (non-zero exit) when the environment cannot be built: interop tests
# must fail, not skip, when the reference peer is unavailable.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ASTER_REF_VENV:-$root/.venv-ref}"
req="$root/interop/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --disable-pip-version-check -q -r "$req" >&2
  "$venv/bin/python" -c 'import aster, pyfory; assert pyfory.__version__ == "0.16.0", pyfory.__version__' >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
