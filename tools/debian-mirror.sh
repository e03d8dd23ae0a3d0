# Sourced by tools/setup-native.sh and tools/dev/check-gpu-build.sh: prints the Debian mirror this
# machine already uses (deb822 .sources files first, Debian 12's default, then one-line
# sources.list entries; security mirrors and comments, which often name unreachable snapshot
# mirrors, are skipped). Prints nothing when none is configured.
debian_mirror() {
  local mirror
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -E '^URIs:' | awk '{print $2}' \
             | grep -v security | head -n1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '^deb ' \
               | sed -E 's/\[[^]]*\]//' | awk '{print $2}' | grep -v security | head -n1 || true)
  fi
  printf '%s' "$mirror"
}
