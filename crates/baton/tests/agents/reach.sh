#!/bin/sh
# A stand-in agent that tries to reach past its job, for the tests of job-scoped calls and the
# sandbox (tests/run/keys.rs, tests/run/sandbox.rs). It records what each try did in the folder
# given as $1, one set of files per job: NAME.rc (exit code), NAME.out and NAME.err.
#
# $2, when given, is how many agents run together: each then waits for the others' sockets
# to appear and tries its own token on them.
out="$1"
together="${2:-1}"
me="$out/$BATON_JOB_ID"
cat > /dev/null

try() { # NAME COMMAND…
    name=$1
    shift
    "$@" > "$me.$name.out" 2> "$me.$name.err"
    echo $? > "$me.$name.rc"
}

env > "$me.env"
printf '%s\n%s\n%s\n' "$BATON_AGENT_SOCKET" "$BATON_JOB_TOKEN" "$PWD" > "$me.socket.tmp"
mv "$me.socket.tmp" "$me.socket"

# Allowed: reading its job, and the prompt it was given.
try job baton job "$BATON_JOB_ID" --json
printf 'review what %s did, `as is` $HOME\n' "$BATON_JOB_ID" > "$out/$BATON_JOB_ID.context.md"
try context baton insert-job "$BATON_ASSIGNMENT_ID" --type review --context-file "$out/$BATON_JOB_ID.context.md"
# Answered as `baton` itself would: a usage error (in the runner's process), help (spawned).
try usage baton --json insert-job "$BATON_ASSIGNMENT_ID" --type nonsense
try help baton help queue
# Refused by the runner: commands beyond the queue, another namespace, a forged token.
try run baton run --until-idle
try namespace baton --namespace elsewhere queue
try forged env BATON_JOB_TOKEN=0123456789abcdef0123456789abcdef baton queue
# Refused by the scope rules, as ever: only a PM changes an assignment's status.
if [ -f "$out/stale-token" ]; then
    try stale env BATON_JOB_TOKEN="$(cat "$out/stale-token")" baton queue
fi
try status baton update-assignment "$BATON_ASSIGNMENT_ID" --status complete
# Reaching the database without baton.
db="${BATON_TEST_DB_FILE:-}"
if [ -n "$db" ]; then
    try sqlite sqlite3 "$db" "update assignments set status = 'complete'"
    try dbdir ls "$(dirname "$db")"
fi
if [ -n "${BATON_TEST_PG_URL:-}" ]; then
    try psql psql "$BATON_TEST_PG_URL" -c "update assignments set status = 'complete'"
fi
# Writing outside its worktree.
if [ -n "${BATON_TEST_CHECKOUT:-}" ]; then
    try checkout sh -c "echo tampered > '$BATON_TEST_CHECKOUT/tampered.txt'"
fi
if [ -n "${BATON_TEST_WORKTREES:-}" ]; then
    try worktrees sh -c "for w in '$BATON_TEST_WORKTREES'/*; do [ \"\$w\" = \"\$PWD\" ] || echo tampered > \"\$w/tampered.txt\" || exit 1; done"
fi
# Writing its own worktree.
try own sh -c "echo 'work of $BATON_JOB_ID' > own-$BATON_JOB_ID.txt"

if [ "$together" -gt 1 ]; then
    # Wait (bounded) until every agent has published its socket, then knock on the others'.
    i=0
    while [ "$(ls "$out"/*.socket 2>/dev/null | wc -l)" -lt "$together" ] && [ $i -lt 1200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    for other in "$out"/*.socket; do
        [ "$other" = "$me.socket" ] && continue
        socket=$(head -n 1 "$other")
        try peer env BATON_AGENT_SOCKET="$socket" baton queue
        try peertree sh -c "echo tampered > '$(sed -n 3p "$other")/tampered.txt'"
    done
    # Stay until every agent has knocked, so that no socket is gone before it is tried.
    touch "$me.knocked"
    i=0
    while [ "$(ls "$out"/*.knocked 2>/dev/null | wc -l)" -lt "$together" ] && [ $i -lt 1200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
fi
echo "Summary: probed what job $BATON_JOB_ID can reach"
