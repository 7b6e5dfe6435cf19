# Sourced by the measuring scripts: `need COMMAND` installs the Debian package
# of that name when the command is missing (as root, with apt-get), or stops
# with what to install.
need() {
  command -v "$1" >/dev/null && return 0
  echo "$1 not found; installing the Debian package" >&2
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >/dev/null
  else
    echo "install $1 (e.g. 'sudo apt-get install $1') and run again" >&2
    exit 1
  fi
}
