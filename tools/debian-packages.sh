# Sourced by tools/setup-native.sh and tools/setup-postgres.sh: installs the Debian packages of a
# list that are not installed yet, so re-running a setup script only fills in what is missing
# (and runs apt-get update only when something is). The caller's `sudo_cmd` array (empty as
# root, `sudo` otherwise) prefixes apt-get.
#
#   install_missing_debs LABEL package…   LABEL prefixes the one line it prints
install_missing_debs() {
  local label=$1 pkg
  shift
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "$label: installing ${missing[*]}"
  ${sudo_cmd[@]+"${sudo_cmd[@]}"} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${sudo_cmd[@]+"${sudo_cmd[@]}"} apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
