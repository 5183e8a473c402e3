#!/usr/bin/env bash
# Install sluice into a temporary prefix and build, check and load the
# example plugin (examples/plugin-template) against that install alone, the
# way a third party would: pkg-config and the installed headers, nothing of
# the source tree.
#
#   out_of_tree_plugin.sh BUILD_DIR SOURCE_DIR
#   (or SL_BINARY_DIR / SL_SOURCE_DIR in the environment)
#
# Exits 0 when every check passed, 77 (skipped) when a tool it needs is
# missing, 1 on the first failed check.
set -euo pipefail

BUILD=${1:-${SL_BINARY_DIR:-}}
SRC=${2:-${SL_SOURCE_DIR:-}}
if [[ -z $BUILD || -z $SRC ]]; then
	echo "usage: $0 BUILD_DIR SOURCE_DIR (or set SL_BINARY_DIR, SL_SOURCE_DIR)" >&2
	exit 2
fi
BUILD=$(cd "$BUILD" && pwd)
SRC=$(cd "$SRC" && pwd)

step() { printf '== %s\n' "$*"; }
pass() { printf '   ok: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$1" >&2
	if [[ $# -gt 1 && -s $2 ]]; then
		sed 's/^/   | /' "$2" >&2
	fi
	exit 1
}

for tool in cmake make pkg-config cc nm; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool not found" >&2
		exit 77
	fi
done

# Nothing from the caller's environment may help or hinder.
unset SLUICE_PLUGIN_PATH

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sl-oot.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix
LOG=$TMP/log

step "install $BUILD into a temporary prefix"
cmake --install "$BUILD" --prefix "$PREFIX" >"$LOG" 2>&1 ||
	fail "cmake --install $BUILD --prefix $PREFIX" "$LOG"
pass "installed"

SLUICE=$PREFIX/bin/sluice
[[ -x $SLUICE ]] || fail "no executable bin/sluice in the prefix"
pass "bin/sluice"
[[ -f $PREFIX/include/sluice/plugin.h && -f $PREFIX/include/sluice/shuffle.h ]] ||
	fail "include/sluice/plugin.h or shuffle.h not installed"
pass "include/sluice/plugin.h, shuffle.h"

PC=$(find "$PREFIX" -path '*/pkgconfig/sluice-plugin.pc' | head -n1)
[[ -n $PC ]] || fail "sluice-plugin.pc not installed under $PREFIX/lib*/pkgconfig"
PCDIR=$(dirname "$PC")
pass "${PC#"$PREFIX"/}"

PLUGDIR=$(find "$PREFIX" -type d -path '*/sluice/plugins.d' | head -n1)
[[ -n $PLUGDIR ]] || fail "no lib*/sluice/plugins.d in the prefix"
BUNDLED=$(find "$PLUGDIR" -maxdepth 1 -name '*.so' -printf '%f ')
[[ -n $BUNDLED ]] || fail "no bundled plugin in ${PLUGDIR#"$PREFIX"/}"
pass "${PLUGDIR#"$PREFIX"/}: $BUNDLED"

step "the installed binary finds its bundled plugins"
"$SLUICE" plugins >"$LOG" 2>&1 || fail "sluice plugins exited $?" "$LOG"
grep -Eq '(^|[[:space:]])memory([[:space:]]|$)' "$LOG" ||
	fail "sluice plugins does not list the bundled memory shuffle" "$LOG"
pass "sluice plugins lists memory"

# Only the installed .pc: PKG_CONFIG_LIBDIR replaces the default search path.
export PKG_CONFIG_PATH=$PCDIR PKG_CONFIG_LIBDIR=$PCDIR
unset CPATH C_INCLUDE_PATH CFLAGS CPPFLAGS LDFLAGS SLUICE_CFLAGS

step "pkg-config sees the installed prefix"
CFL=$(pkg-config --cflags sluice-plugin 2>"$LOG") || fail "pkg-config --cflags sluice-plugin" "$LOG"
echo "   cflags: $CFL"
want=$(realpath "$PREFIX/include")
found=
for flag in $CFL; do
	if [[ $flag == -I* && $(realpath -m -- "${flag#-I}") == "$want" ]]; then
		found=1
	fi
done
[[ -n $found ]] ||
	fail "sluice-plugin.pc does not point into the prefix it was installed to:
      -I$PREFIX/include expected. A prefix fixed at configure time breaks
      'cmake --install --prefix'; make the .pc relocatable with
      prefix=\${pcfiledir}/ and the way up to the prefix (../.. from lib/pkgconfig)"
pass "-I$PREFIX/include"

step "build the template with make"
cp -r "$SRC/examples/plugin-template" "$TMP/tpl"
rm -rf "$TMP/tpl/build" "$TMP/tpl"/*.so
make -C "$TMP/tpl" >"$LOG" 2>&1 || fail "make in the template copy" "$LOG"
if grep -q -- "-I$SRC/api" "$LOG"; then
	fail "the build used headers of the source tree" "$LOG"
fi
SO=$TMP/tpl/sluice-shuffle-template.so
[[ -f $SO ]] || fail "make did not produce sluice-shuffle-template.so" "$LOG"
pass "built ${SO#"$TMP"/}"
EXPORTS=$(nm -D --defined-only "$SO" | awk '$2 != "A" { print $3 }' |
	grep -Ev '^(_init|_fini|_edata|_end|__bss_start)$' | tr '\n' ' ')
[[ $EXPORTS == "sl_plugin_entry " ]] ||
	fail "the plugin must export only sl_plugin_entry, it exports: $EXPORTS"
pass "exports only sl_plugin_entry"

step "sluice plugins --check accepts it"
"$SLUICE" plugins --check "$SO" >"$LOG" 2>&1 || fail "--check refused the template" "$LOG"
grep -q '^ok' "$LOG" || fail "--check succeeded but printed no 'ok' line" "$LOG"
sed 's/^/   /' "$LOG"

step "sluice plugins --plugin-dir loads it"
"$SLUICE" plugins --plugin-dir "$TMP/tpl" >"$LOG" 2>&1 ||
	fail "sluice plugins --plugin-dir exited $?" "$LOG"
grep -Eq '(^|[[:space:]])template([[:space:]]|$)' "$LOG" ||
	fail "no line names the template plugin" "$LOG"
grep -E '(^|[[:space:]])template([[:space:]]|$)' "$LOG" | sed 's/^/   /'

step "the template builds with its CMakeLists.txt too"
cmake -S "$TMP/tpl" -B "$TMP/tpl-cmake" >"$LOG" 2>&1 || fail "cmake configure of the template" "$LOG"
cmake --build "$TMP/tpl-cmake" >>"$LOG" 2>&1 || fail "cmake build of the template" "$LOG"
"$SLUICE" plugins --check "$TMP/tpl-cmake/sluice-shuffle-template.so" >"$LOG" 2>&1 ||
	fail "--check refused the CMake-built template" "$LOG"
pass "cmake build accepted by --check"

# A broken copy of the template, built and given to --check, which must
# refuse it. $1: a name; $2: what is wrong; $3: a sed expression applied to
# template.c; $4: a word (ERE, case-insensitive) the refusal must contain.
refused() {
	local dir=$TMP/bad-$1 rc=0
	cp -r "$TMP/tpl" "$dir"
	rm -f "$dir/sluice-shuffle-template.so"
	sed -i "$3" "$dir/template.c"
	if cmp -s "$dir/template.c" "$TMP/tpl/template.c"; then
		fail "sed '$3' changed nothing in template.c"
	fi
	# the copy may leave a static function unused
	make -C "$dir" CFLAGS="-O2 -Wno-unused-function" >"$LOG" 2>&1 ||
		fail "make of the copy with $2" "$LOG"
	"$SLUICE" plugins --check "$dir/sluice-shuffle-template.so" >"$LOG" 2>&1 || rc=$?
	[[ $rc -ne 0 ]] || fail "--check accepted a plugin with $2" "$LOG"
	grep -Eqi -- "$4" "$LOG" || fail "--check refused $2 (exit $rc) without saying '$4'" "$LOG"
	pass "$2: refused (exit $rc): $(head -n1 "$LOG")"
}

step "broken copies are refused"
refused magic "a bad magic" 's/\.magic = SL_PLUGIN_MAGIC,/.magic = 0x0badf00du,/' 'magic'
refused abi "a newer ABI major" 's/\.abi_major = SL_ABI_MAJOR,/.abi_major = SL_ABI_MAJOR + 1,/' 'ABI'
refused op "no register_partition" 's/\.register_partition = master_register,//' 'register_partition'

step "a refused file does not stop the others from loading"
mkdir "$TMP/mixed"
cp "$TMP/bad-magic/sluice-shuffle-template.so" "$TMP/mixed/sluice-shuffle-broken.so"
cp "$SO" "$TMP/mixed/"
"$SLUICE" plugins --plugin-dir "$TMP/mixed" >"$LOG" 2>&1 || true
grep -Eq '(^|[[:space:]])template([[:space:]]|$)' "$LOG" ||
	fail "the good plugin was not listed beside a broken one" "$LOG"
grep -q 'sluice-shuffle-broken.so' "$LOG" ||
	fail "the broken file was not reported by its path" "$LOG"
pass "template listed, broken file reported"

# Executables land in BUILD/bin; look beside the test's source dir too.
CONF=
for c in "$BUILD/bin/shuffle_conformance" "$BUILD/tests/conformance/shuffle_conformance"; do
	if [[ -x $c ]]; then
		CONF=$c
		break
	fi
done
step "conformance suite"
if [[ -n $CONF ]]; then
	"$CONF" "$SO" >"$LOG" 2>&1 || fail "$CONF $SO" "$LOG"
	tail -n 5 "$LOG" | sed 's/^/   /'
	pass "the template passes the shuffle conformance suite"
else
	echo "   skipped: shuffle_conformance is not built in $BUILD"
fi

echo "PASS: out-of-tree plugin"
