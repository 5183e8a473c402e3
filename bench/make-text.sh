#!/bin/sh
# make-text.sh OUT [MB]
#
# Builds OUT: at least MB (default 200) megabytes (10^6 bytes) of real
# English text for the word-count benchmark (bench/wordcount_local), made
# of what Debian ships, decompressed (.gz, .dz) and repeated until the
# size is reached. It prefers, when installed:
#
#   dict-gcide     /usr/share/dictd/gcide.dict.dz   (about 55 MB of text)
#   dict-wn        /usr/share/dictd/wn.dict.dz
#   jargon-text    /usr/share/doc/jargon-text/jargon.txt.gz
#   linux-doc-6.1  /usr/share/doc/linux-doc-*/ (*.rst, *.txt, .gz or not)
#
#   apt-get install dict-gcide jargon-text linux-doc-6.1
#
# and falls back to /usr/share/common-licenses and
# /usr/share/doc/*/copyright when none of them is. It says which sources it
# used and how many bytes each gave. The repetition cuts the last copy short
# and ends the file with a newline.
set -eu

usage() {
	echo "usage: $0 OUT [MB]" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
out=$1
mb=${2:-200}
case $mb in
'' | *[!0-9]*) usage ;;
esac
[ "$mb" -gt 0 ] || usage
want=$((mb * 1000000))

seed=$(mktemp "${TMPDIR:-/tmp}/make-text.XXXXXX")
trap 'rm -f "$seed"' EXIT INT TERM

# append LABEL FILE...: decompress or copy each file onto the seed; print
# what the label gave.
append() {
	label=$1
	shift
	before=$(wc -c <"$seed")
	for f in "$@"; do
		case $f in
		*.gz | *.dz) gzip -dc -- "$f" >>"$seed" ;;
		*) cat -- "$f" >>"$seed" ;;
		esac
	done
	after=$(wc -c <"$seed")
	echo "  $label: $# file(s), $((after - before)) bytes"
}

echo "make-text: sources used:"
if [ -f /usr/share/dictd/gcide.dict.dz ]; then
	append "dict-gcide /usr/share/dictd/gcide.dict.dz" \
	    /usr/share/dictd/gcide.dict.dz
fi
if [ -f /usr/share/dictd/wn.dict.dz ]; then
	append "dict-wn /usr/share/dictd/wn.dict.dz" /usr/share/dictd/wn.dict.dz
fi
if [ -f /usr/share/doc/jargon-text/jargon.txt.gz ]; then
	append "jargon-text /usr/share/doc/jargon-text/jargon.txt.gz" \
	    /usr/share/doc/jargon-text/jargon.txt.gz
fi
for d in /usr/share/doc/linux-doc-*; do
	[ -d "$d" ] || continue
	list=$(mktemp "${TMPDIR:-/tmp}/make-text-list.XXXXXX")
	find "$d" -type f \( -name '*.rst' -o -name '*.rst.gz' \
	    -o -name '*.txt' -o -name '*.txt.gz' \) | LC_ALL=C sort >"$list"
	if [ -s "$list" ]; then
		# One call per file through xargs would lose the count; the
		# names hold no newlines (find's output of Debian's tree).
		n=$(wc -l <"$list")
		before=$(wc -c <"$seed")
		while IFS= read -r f; do
			case $f in
			*.gz) gzip -dc -- "$f" >>"$seed" ;;
			*) cat -- "$f" >>"$seed" ;;
			esac
		done <"$list"
		after=$(wc -c <"$seed")
		echo "  linux-doc $d (*.rst, *.txt): $n file(s)," \
		    "$((after - before)) bytes"
	fi
	rm -f "$list"
done

missing=
[ -f /usr/share/dictd/gcide.dict.dz ] || missing="$missing dict-gcide"
[ -f /usr/share/doc/jargon-text/jargon.txt.gz ] || missing="$missing jargon-text"
ls -d /usr/share/doc/linux-doc-* >/dev/null 2>&1 || missing="$missing linux-doc-6.1"
if [ -n "$missing" ]; then
	echo "  not installed:$missing (apt-get install$missing)"
fi

if [ ! -s "$seed" ]; then
	echo "  (none of dict-gcide, dict-wn, jargon-text, linux-doc is" \
	    "installed: falling back to licence texts)"
	# shellcheck disable=SC2046 # the names hold no spaces
	append "/usr/share/common-licenses/*" \
	    $(find /usr/share/common-licenses -type f | LC_ALL=C sort)
	# shellcheck disable=SC2046
	append "/usr/share/doc/*/copyright" \
	    $(find /usr/share/doc -mindepth 2 -maxdepth 2 -type f \
	    -name copyright | LC_ALL=C sort)
fi

have=$(wc -c <"$seed")
if [ "$have" -eq 0 ]; then
	echo "make-text: no text found" >&2
	exit 1
fi
copies=$(((want + have - 1) / have))
echo "make-text: $have bytes of text, repeated $copies time(s)" \
    "(the last cut short) to $want bytes"

# Repeat the seed, cut at exactly want bytes, then end the last line.
i=0
while [ "$i" -lt "$copies" ]; do
	cat -- "$seed"
	i=$((i + 1))
done | head -c "$want" >"$out"
if [ "$(tail -c 1 -- "$out" | od -An -c | tr -d ' ')" != '\n' ]; then
	printf '\n' >>"$out"
fi
echo "make-text: wrote $out, $(wc -c <"$out") bytes"
