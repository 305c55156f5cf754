# tests/lib/tap.sh -- TAP output for the shell tests (sourced). tests/run counts the lines.
#   check "what" command args...   ok if the command succeeds
#   ok_if "what" <status>          ok if status is 0 (e.g. ok_if "x" $(( a < b ? 0 : 1 )))
#   is "what" got want             ok if the strings are equal
#   skip "what" "why"              an ok line marked SKIP (printed reason)
#   diag "text"                    a comment line
# At exit, tap_done prints a plan; the test script's status is 1 if anything failed.
_tap_n=0
_tap_failed=0

_tap_line() { # status what
    _tap_n=$((_tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $_tap_n - $2"
    else
        echo "not ok $_tap_n - $2"
        _tap_failed=$((_tap_failed + 1))
    fi
}
check() {
    local what=$1
    shift
    "$@"
    _tap_line $? "$what"
}
ok_if() { _tap_line "$2" "$1"; }
is() {
    if [ "$2" = "$3" ]; then
        _tap_line 0 "$1"
    else
        _tap_line 1 "$1"
        echo "#   got:  '$2'"
        echo "#   want: '$3'"
    fi
}
skip() {
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - $1 # SKIP $2"
}
diag() { echo "# $*"; }
tap_done() {
    echo "1..$_tap_n"
    [ "$_tap_failed" -eq 0 ]
}
