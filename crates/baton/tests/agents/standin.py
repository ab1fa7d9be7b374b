#!/usr/bin/env python3
"""A stand-in for the claude, codex and gemini CLIs in baton's end-to-end tests.

It is invoked as `standin.py FLAVOUR ARGS...` (tests install wrappers named claude/codex/gemini
first on PATH), reads the prompt from stdin, and behaves like an agent: it reads its own job
through the real `baton` CLI (the BATON_* variables the runner sets), follows directives found
in the job's context (or, for PM jobs, in the assignment's north star), and prints the real
event format of the CLI it impersonates (shapes taken from captures of the real CLIs).

Directives (words starting with @ in the context / north star):
  @write NAME TEXT      write TEXT to file NAME in the working directory (before any @hang)
  @commit NAME TEXT     write TEXT to file NAME and commit it with git, as an agent that commits would
  @fail-429-once        first attempt fails with a rate limit (429), later attempts succeed
  @fail-429             every attempt fails with a rate limit
  @auth-fail            fail with an authentication error
  @hang                 start a child process, then hang (for timeouts); pids go to $STANDIN_PIDS
  @hang-once            hang on the first attempt only
  @stubborn             start a child that ignores SIGTERM (in the agent's process group), then hang;
                        pids go to $STANDIN_PIDS
  @daemon               start a daemon that double-forks, calls setsid and ignores SIGTERM, then hang;
                        pids go to $STANDIN_PIDS
  @stubborn-once / @daemon-once   the same on the first attempt only; a later attempt first writes
                        the pids of $STANDIN_PIDS still alive to $STANDIN_STATE/survivors
  @linger               trap SIGTERM, then hang; once stopped keep appending to lingered.txt in the
                        working directory until the test creates $STANDIN_STATE/linger-release (at
                        most 4.5 s, within the runner's 5 s kill grace), write a last line, leave
                        $STANDIN_STATE/linger-done and exit; its pid goes to $STANDIN_STATE/linger-pid.
                        A PM job that starts after it records what it found at its first line in
                        $STANDIN_STATE/pm-start-<job id>.json
  @no-result            print some events and exit 0 without the result event
  @stale-call-once      first attempt: wait until the test creates $STANDIN_STATE/release, try
                        `baton insert-job` (recording the outcome to $STANDIN_CALLS), then hang;
                        later attempts succeed
  @try-complete         try to complete the assignment (recording the outcome to $STANDIN_CALLS)
  @garbage              emit malformed and non-UTF-8 lines before succeeding
  @echo-prompt          the final result is the prompt itself
  @together NAME N      wait until N runs with `@together NAME` have started, so they provably overlap
  @wait-release         record the agent's pid, wait until $STANDIN_STATE/release exists, then go on
                        (each leaves a marker in $STANDIN_STATE/together-NAME/)
  @big N                emit N bytes of assistant text in 1000-byte events
  @over-budget          claude: with --max-budget-usd X, end as claude does when its cost passes X
                        (`error_max_budget_usd`, cost X + 0.001, exit 1); without the flag, succeed
PM jobs (BATON_JOB_TYPE=pm), directives in the north star:
  @flow T1,T2,...       queue the next job type that has not run yet; complete when all ran
                        (with work already queued, decide nothing)
  @pm-silent            make no decision
  @pm-block REASON...   block the assignment with REASON
  The protocol probes act in the assignment's first PM job only (later PMs complete it); each
  `baton` call's outcome goes to $STANDIN_CALLS:
  @pm-twice             two `insert-job` calls (review, then implement)
  @pm-plain-insert      `insert-job --type review` without --after
  @pm-insert-complete   `insert-job --type review`, then `update-assignment --status complete`
  @pm-proceed           `proceed` (twice)
  @pm-heredoc           `insert-job --type implement --context-file - <<'EOF'` through sh, with the
                        text of $STANDIN_STATE/instructions.txt as the heredoc's body
  @pm-mcp               through `baton mcp` (an MCP client speaking JSON-RPC on its stdio), the
                        tools proceed, create and merge; each result goes to $STANDIN_CALLS as
                        {"mcp": TOOL, "is_error": …, "text": …}
Every run appends a JSON line to $STANDIN_LOG when set: job, type, attempt, pid, start, end, cwd,
argv and session (the id it ran under, and how: new, resume or fork); and writes its prompt to
$STANDIN_PROMPTS/<job id>.md when that is set.

Sessions, as the real CLIs take them: claude `--session-id ID` (a new session with that id),
`--resume ID` and `--resume ID --fork-session [--session-id NEW]`; codex `exec resume [OPTS] ID -`
and `exec fork [OPTS] ID -`; gemini `--session-id ID` and `--resume ID`. Each session a run uses is
remembered as a file in $STANDIN_STATE/sessions/; resuming or forking one that is not there fails
the way the real CLI does ("No conversation found", "no rollout found", "Invalid session
identifier"), so a test that deletes the folder sees a session the CLI does not know.
"""
import json
import os
import signal
import subprocess
import sys
import time
import uuid

FLAVOUR = sys.argv[1] if len(sys.argv) > 1 else "claude"
ENV = os.environ
JOB = ENV.get("BATON_JOB_ID", "")
AID = ENV.get("BATON_ASSIGNMENT_ID", "")
JOB_TYPE = ENV.get("BATON_JOB_TYPE", "")
ARGV = sys.argv[2:]


def flag_value(name):
    """The value after the last `name` in the command line, if any."""
    found = None
    for i, arg in enumerate(ARGV[:-1]):
        if arg == name:
            found = ARGV[i + 1]
    return found


def session_request():
    """(how, id it resumes or forks, id it was given): how is new, resume or fork."""
    if FLAVOUR == "codex":
        if len(ARGV) >= 3 and ARGV[0] == "exec" and ARGV[1] in ("resume", "fork"):
            # The id is the positional right before the stdin marker `-`.
            return ("resume" if ARGV[1] == "resume" else "fork", ARGV[-2], None)
        return ("new", None, None)
    resumed = flag_value("--resume")
    chosen = flag_value("--session-id")
    if resumed and FLAVOUR == "claude" and "--fork-session" in ARGV:
        return ("fork", resumed, chosen)
    if resumed:
        return ("resume", resumed, None)
    return ("new", None, chosen)


SESSION_HOW, SESSION_FROM, SESSION_CHOSEN = session_request()
SESSION = SESSION_FROM if SESSION_HOW == "resume" else (SESSION_CHOSEN or str(uuid.uuid4()))


def sessions_dir():
    folder = os.path.join(ENV.get("STANDIN_STATE", "/tmp/standin-state"), "sessions")
    os.makedirs(folder, exist_ok=True)
    return folder


def unknown_session():
    """Fails as the real CLI does when asked to resume a session it does not have."""
    if FLAVOUR == "claude":
        text = f"No conversation found with session ID: {SESSION_FROM}"
        emit({"type": "result", "subtype": "error_during_execution", "is_error": True, "num_turns": 0,
              "session_id": SESSION_FROM, "total_cost_usd": 0, "usage": {"input_tokens": 0, "output_tokens": 0},
              "errors": [text]})
        sys.stderr.write(text + "\n")
        return 1
    if FLAVOUR == "codex":
        sys.stderr.write(f"Error: thread/resume: thread/resume failed: no rollout found for thread id {SESSION_FROM} "
                         "(code -32600)\n")
        return 1
    sys.stderr.write(f"Error resuming session: Invalid session identifier \"{SESSION_FROM}\".\n")
    return 42


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def baton(*args, check=True):
    out = subprocess.run(["baton", *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        sys.stderr.write(f"baton {' '.join(args)} failed: {out.stderr}\n")
        sys.exit(3)
    return out.stdout


def record_pids():
    if ENV.get("STANDIN_PIDS"):
        with open(ENV["STANDIN_PIDS"], "a") as f:
            f.write(f"{os.getpid()}\n")


def record_call(args):
    out = subprocess.run(["baton", *args], capture_output=True, text=True)
    if ENV.get("STANDIN_CALLS"):
        with open(ENV["STANDIN_CALLS"], "a") as f:
            f.write(json.dumps({"args": args, "rc": out.returncode, "stderr": out.stderr}) + "\n")


def wait_for_file(path, what):
    """Polls until `path` exists; gives up (failing the run) after a minute."""
    deadline = time.time() + 60
    while not os.path.exists(path):
        if time.time() > deadline:
            sys.stderr.write(f"standin: gave up waiting for {what}\n")
            sys.exit(4)
        time.sleep(0.01)


def together(name, count):
    """Leaves this job's marker for `name` and waits until `count` markers are there."""
    folder = os.path.join(ENV["STANDIN_STATE"], "together-" + name)
    os.makedirs(folder, exist_ok=True)
    open(os.path.join(folder, JOB or "nojob"), "w").close()
    deadline = time.time() + 60
    while len(os.listdir(folder)) < count:
        if time.time() > deadline:
            sys.stderr.write(f"standin: only {len(os.listdir(folder))} of {count} runs of @together {name} started\n")
            sys.exit(4)
        time.sleep(0.01)


def stubborn_child():
    """A `sleep` that ignores SIGTERM (an ignored signal stays ignored across exec)."""
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.execvp("sleep", ["sleep", "1000"])
    return pid


def daemon():
    """A double-forked, setsid daemon that ignores SIGTERM: it leaves the agent's process group
    and session, and its parent is gone. Its pid, once known, comes back through a pipe."""
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        os.setsid()
        grandchild = os.fork()
        if grandchild == 0:
            os.close(read_end)
            os.close(write_end)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.chdir("/")
            os.execvp("sleep", ["sleep", "1000"])
        os.write(write_end, str(grandchild).encode())
        os._exit(0)
    os.close(write_end)
    pid = int(os.read(read_end, 32).decode())
    os.close(read_end)
    return pid


def linger():
    """An agent that takes its time to stop: see @linger."""
    state = ENV["STANDIN_STATE"]

    def stopped(signum, frame):
        deadline = time.time() + 4.5
        n = 0
        while not os.path.exists(os.path.join(state, "linger-release")) and time.time() < deadline:
            n += 1
            with open("lingered.txt", "a") as f:
                f.write(f"written {n} after the stop\n")
            time.sleep(0.02)
        with open("lingered.txt", "a") as f:
            f.write("last line\n")
        write_atomically(os.path.join(state, "linger-done"), str(time.time()))
        os._exit(143)

    signal.signal(signal.SIGTERM, stopped)
    write_atomically(os.path.join(state, "linger-pid"), str(os.getpid()))
    while True:
        time.sleep(1000)


def write_atomically(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def record_pm_start():
    """A PM's first line, after a @linger agent: is that agent gone, and did it finish?"""
    state = ENV.get("STANDIN_STATE")
    lingering = os.path.join(state or "", "linger-pid")
    if JOB_TYPE != "pm" or not state or not os.path.exists(lingering):
        return
    pid = int(open(lingering).read())
    found = {"linger_alive": alive(pid), "linger_done": os.path.exists(os.path.join(state, "linger-done"))}
    write_atomically(os.path.join(state, f"pm-start-{JOB}.json"), json.dumps(found))


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def record_survivors():
    path = ENV.get("STANDIN_PIDS")
    pids = [int(p) for p in open(path).read().split()] if path and os.path.exists(path) else []
    with open(os.path.join(ENV["STANDIN_STATE"], "survivors"), "w") as f:
        f.write(" ".join(str(p) for p in pids if alive(p)))


def directives(text):
    found = {}
    for chunk in text.split("@")[1:]:
        words = chunk.split()
        if words:
            found[words[0]] = words[1:]
    return found


def attempt_number():
    state_dir = ENV.get("STANDIN_STATE")
    if not state_dir:
        return 1
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, JOB or "nojob")
    n = int(open(path).read()) + 1 if os.path.exists(path) else 1
    with open(path, "w") as f:
        f.write(str(n))
    return n


# --- output in each CLI's real format -------------------------------------------------------

def start():
    if FLAVOUR == "claude":
        emit({"type": "system", "subtype": "init", "cwd": os.getcwd(), "session_id": SESSION,
              "tools": ["Bash", "Edit", "Read"], "mcp_servers": [], "model": "claude-sonnet-4-5",
              "permissionMode": "bypassPermissions", "apiKeySource": "ANTHROPIC_API_KEY",
              "claude_code_version": "2.1.197", "uuid": str(uuid.uuid4())})
    elif FLAVOUR == "codex":
        emit({"type": "thread.started", "thread_id": SESSION})
        emit({"type": "turn.started"})
    else:
        emit({"type": "init", "timestamp": "2026-11-28T07:00:00.000Z", "session_id": SESSION, "model": "gemini-2.5-pro"})


def say(text):
    if FLAVOUR == "claude":
        emit({"type": "assistant", "message": {"id": "msg_1", "type": "message", "role": "assistant",
              "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": text}], "stop_reason": None,
              "usage": {"input_tokens": 10, "output_tokens": 5}}, "parent_tool_use_id": None,
              "session_id": SESSION, "uuid": str(uuid.uuid4())})
    elif FLAVOUR == "codex":
        emit({"type": "item.completed", "item": {"id": "item_0", "type": "agent_message", "text": text}})
    else:
        emit({"type": "message", "timestamp": "2026-11-28T07:00:01.000Z", "role": "assistant", "content": text, "delta": True})


def tool(command, output):
    if FLAVOUR == "claude":
        emit({"type": "assistant", "message": {"id": "msg_1", "role": "assistant", "model": "claude-sonnet-4-5",
              "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": command}}]},
              "session_id": SESSION})
        emit({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
              "content": output, "is_error": False}]}, "session_id": SESSION})
    elif FLAVOUR == "codex":
        emit({"type": "item.completed", "item": {"id": "item_1", "type": "command_execution", "command": command,
              "aggregated_output": output, "exit_code": 0, "status": "completed"}})
    else:
        emit({"type": "tool_use", "timestamp": "2026-11-28T07:00:01.000Z", "tool_name": "run_shell_command",
              "tool_id": "t1", "parameters": {"command": command}})
        emit({"type": "tool_result", "timestamp": "2026-11-28T07:00:01.000Z", "tool_id": "t1", "status": "success", "output": output})


def succeed(text):
    if FLAVOUR == "claude":
        say(text)
        emit({"type": "result", "subtype": "success", "is_error": False, "api_error_status": None, "duration_ms": 5,
              "num_turns": 1, "result": text, "stop_reason": "end_turn", "session_id": SESSION,
              "total_cost_usd": 0.0125, "usage": {"input_tokens": 120, "cache_creation_input_tokens": 0,
              "cache_read_input_tokens": 0, "output_tokens": 7}})
    elif FLAVOUR == "codex":
        say(text)
        emit({"type": "turn.completed", "usage": {"input_tokens": 120, "cached_input_tokens": 0, "output_tokens": 7}})
    else:
        say(text)
        emit({"type": "result", "timestamp": "2026-11-28T07:00:02.000Z", "status": "success",
              "stats": {"total_tokens": 127, "input_tokens": 120, "output_tokens": 7, "duration_ms": 5, "tool_calls": 0}})
    return 0


def rate_limited():
    if FLAVOUR == "claude":
        emit({"type": "system", "subtype": "api_retry", "attempt": 1, "max_retries": 1, "retry_delay_ms": 1000,
              "error_status": 429, "error": "rate_limit", "session_id": SESSION})
        text = "API Error: Request rejected (429) · This request would exceed the rate limit for your organization."
        emit({"type": "assistant", "message": {"id": "m", "model": "<synthetic>", "role": "assistant",
              "content": [{"type": "text", "text": text}]}, "session_id": SESSION, "error": "rate_limit"})
        emit({"type": "result", "subtype": "success", "is_error": True, "api_error_status": 429, "duration_ms": 2610,
              "num_turns": 1, "result": text, "session_id": SESSION, "total_cost_usd": 0,
              "usage": {"input_tokens": 0, "output_tokens": 0}})
        return 1
    if FLAVOUR == "codex":
        emit({"type": "error", "message": "Reconnecting... 1/5 (unexpected status 429 Too Many Requests)"})
        emit({"type": "turn.failed", "error": {"message": "exceeded retry limit, last status: 429 Too Many Requests, request id: req_1"}})
        return 1
    emit({"type": "result", "timestamp": "2026-11-28T07:00:02.000Z", "status": "error",
          "error": {"type": "unknown", "message": "[API Error: Resource has been exhausted (e.g. check quota).]"},
          "stats": {"total_tokens": 0, "input_tokens": 0, "output_tokens": 0, "duration_ms": 0, "tool_calls": 0}})
    return 173


def auth_failed():
    if FLAVOUR == "claude":
        emit({"type": "assistant", "message": {"id": "m", "model": "<synthetic>", "role": "assistant",
              "content": [{"type": "text", "text": "Invalid API key · Fix external API key"}]},
              "session_id": SESSION, "error": "authentication_failed"})
        emit({"type": "result", "subtype": "success", "is_error": True, "api_error_status": 401, "duration_ms": 900,
              "num_turns": 1, "result": "Invalid API key · Fix external API key", "session_id": SESSION,
              "total_cost_usd": 0, "usage": {"input_tokens": 0, "output_tokens": 0}})
        return 1
    if FLAVOUR == "codex":
        emit({"type": "turn.failed", "error": {"message": "unexpected status 401 Unauthorized: Incorrect API key provided, url: http://127.0.0.1/v1/responses, request id: req_2"}})
        return 1
    sys.stderr.write("Please set an Auth method in your /root/.gemini/settings.json or specify one of the following "
                     "environment variables before running: GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA\n")
    return 41


# --- behaviour ------------------------------------------------------------------------------

def first_pm(chain):
    return [j["id"] for j in chain if j["type"] == "pm"][:1] == [JOB]


def heredoc_insert(instructions):
    script = f"baton insert-job {AID} --type implement --context-file - <<'EOF'\n{instructions}\nEOF\n"
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    if ENV.get("STANDIN_CALLS"):
        with open(ENV["STANDIN_CALLS"], "a") as f:
            f.write(json.dumps({"args": ["sh", "-c", script], "rc": out.returncode, "stderr": out.stderr}) + "\n")


def mcp_calls(calls):
    """Calls each (tool, arguments) through `baton mcp`, as an MCP client would, and records the results."""
    server = subprocess.Popen(["baton", "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(message):
        server.stdin.write(json.dumps(message) + "\n")
        server.stdin.flush()

    def request(rid, method, params):
        send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            answer = json.loads(server.stdout.readline())
            if answer.get("id") == rid:
                return answer

    request(0, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                              "clientInfo": {"name": "standin", "version": "1"}})
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    for rid, (tool, arguments) in enumerate(calls, start=1):
        result = request(rid, "tools/call", {"name": tool, "arguments": arguments}).get("result", {})
        text = "".join(c.get("text", "") for c in result.get("content", []))
        if ENV.get("STANDIN_CALLS"):
            with open(ENV["STANDIN_CALLS"], "a") as f:
                f.write(json.dumps({"mcp": tool, "is_error": result.get("isError"), "text": text}) + "\n")
    server.stdin.close()
    server.wait()


def protocol_probe(d):
    """The PM protocol probes; True when one ran."""
    if "pm-twice" in d:
        record_call(["insert-job", AID, "--type", "review", "--context", "first decision"])
        record_call(["insert-job", AID, "--type", "implement", "--context", "second decision"])
    elif "pm-plain-insert" in d:
        record_call(["insert-job", AID, "--type", "review", "--context", "the PM's next step"])
    elif "pm-insert-complete" in d:
        record_call(["insert-job", AID, "--type", "review", "--context", "inserted"])
        record_call(["update-assignment", AID, "--status", "complete"])
    elif "pm-proceed" in d:
        record_call(["proceed", AID])
        record_call(["proceed", AID])
    elif "pm-heredoc" in d:
        with open(os.path.join(ENV["STANDIN_STATE"], "instructions.txt")) as f:
            heredoc_insert(f.read())
    elif "pm-mcp" in d:
        mcp_calls([("proceed", {"assignment_id": AID}), ("create", {"north_star": "More work"}),
                   ("merge", {"assignment_id": AID})])
    else:
        return False
    return True


def pm(north_star):
    d = directives(north_star)
    chain = json.loads(baton("assignment", AID, "--json"))["jobs"]
    if first_pm(chain) and protocol_probe(d):
        return succeed("Decided.")
    if any(k.startswith("pm-") and k not in ("pm-silent", "pm-block") for k in d):
        baton("update-assignment", AID, "--status", "complete")
        return succeed("Done probing; completing.")
    if "pm-silent" in d:
        return succeed("I looked at it and have nothing to decide.")
    if "pm-block" in d:
        reason = " ".join(d["pm-block"]) or "a person must decide"
        baton("update-assignment", AID, "--status", "blocked", "--reason", reason)
        return succeed(f"Blocked: {reason}")
    flow = d.get("flow", [""])[0].split(",") if "flow" in d else []
    chain = json.loads(baton("assignment", AID, "--json"))["jobs"]
    if any(j["status"] == "pending" and j["type"] != "pm" for j in chain):
        return succeed("Work is already queued; nothing to decide.")
    done = [j["type"] for j in chain if j["type"] != "pm" and j["status"] in ("complete", "failed")]
    for job_type in [t for t in flow if t]:
        if job_type not in done:
            baton("insert-job", AID, "--after", JOB, "--type", job_type, "--context", f"do the {job_type} step")
            return succeed(f"Queued {job_type}.")
    baton("update-assignment", AID, "--status", "complete")
    return succeed("The north star is met; completing.")


def log_run(started, attempt, rc):
    if ENV.get("STANDIN_LOG"):
        with open(ENV["STANDIN_LOG"], "a") as f:
            f.write(json.dumps({"job": JOB, "type": JOB_TYPE, "attempt": attempt, "pid": os.getpid(),
                                "start": started, "end": time.time(), "flavour": FLAVOUR, "rc": rc,
                                "cwd": os.getcwd(), "argv": ARGV, "session": SESSION,
                                "session_how": SESSION_HOW, "session_from": SESSION_FROM}) + "\n")


def main():
    record_pm_start()
    prompt = sys.stdin.read()
    if ENV.get("STANDIN_PROMPTS") and JOB:
        os.makedirs(ENV["STANDIN_PROMPTS"], exist_ok=True)
        with open(os.path.join(ENV["STANDIN_PROMPTS"], JOB + ".md"), "w") as f:
            f.write(prompt)
    started = time.time()
    attempt = attempt_number()
    if SESSION_FROM and not os.path.exists(os.path.join(sessions_dir(), SESSION_FROM)):
        rc = unknown_session()
        log_run(started, attempt, rc)
        sys.exit(rc)
    open(os.path.join(sessions_dir(), SESSION), "w").close()
    job = json.loads(baton("job", JOB, "--json")) if JOB else {"context": ""}
    start()
    rc = 0
    if JOB_TYPE == "pm":
        assignment = json.loads(baton("assignment", AID, "--json"))
        rc = pm(assignment["north_star"])
    else:
        d = directives(job.get("context", ""))
        if "together" in d:
            together(d["together"][0], int(d["together"][1]))
        if "wait-release" in d:
            record_pids()
            wait_for_file(os.path.join(ENV["STANDIN_STATE"], "release"), "the test's release")
        if "stale-call-once" in d and attempt == 1:
            record_pids()
            wait_for_file(os.path.join(ENV["STANDIN_STATE"], "release"), "the test's release")
            record_call(["insert-job", AID, "--type", "review", "--context", "from a stale agent"])
            time.sleep(1000)
        if "over-budget" in d and FLAVOUR == "claude" and "--max-budget-usd" in ARGV:
            limit = ARGV[ARGV.index("--max-budget-usd") + 1]
            say("spending")
            emit({"type": "result", "subtype": "error_max_budget_usd", "is_error": True, "num_turns": 1,
                  "session_id": SESSION, "total_cost_usd": float(limit) + 0.001,
                  "usage": {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                            "output_tokens": 0}, "errors": [f"Reached maximum budget (${limit})"]})
            log_run(started, attempt, 1)
            sys.exit(1)
        if "try-complete" in d:
            record_call(["update-assignment", AID, "--status", "complete"])
        if "write" in d:
            name, *words = d["write"]
            with open(name, "w") as f:
                f.write(" ".join(words) + "\n")
            tool(f"write {name}", "ok")
        if "commit" in d:
            name, *words = d["commit"]
            with open(name, "w") as f:
                f.write(" ".join(words) + "\n")
            identity = ["-c", "user.name=standin agent", "-c", "user.email=agent@standin.invalid"]
            subprocess.run(["git", *identity, "add", name], check=True)
            subprocess.run(["git", *identity, "commit", "-q", "-m", f"agent: add {name}"], check=True)
            tool(f"git commit {name}", "ok")
        for kind, start_it in (("stubborn", stubborn_child), ("daemon", daemon)):
            if kind in d or (kind + "-once" in d and attempt == 1):
                helper = start_it()
                if ENV.get("STANDIN_PIDS"):
                    with open(ENV["STANDIN_PIDS"], "a") as f:
                        f.write(f"{os.getpid()}\n{helper}\n")
                time.sleep(1000)
            elif kind + "-once" in d:
                record_survivors()
        if "linger" in d:
            linger()
        if "no-result" in d:
            say("I did some work and then stopped without a verdict.")
            sys.exit(0)
        if "hang" in d or ("hang-once" in d and attempt == 1):
            child = subprocess.Popen(["sleep", "1000"])
            if ENV.get("STANDIN_PIDS"):
                with open(ENV["STANDIN_PIDS"], "a") as f:
                    f.write(f"{os.getpid()}\n{child.pid}\n")
            time.sleep(1000)
        if "garbage" in d:
            sys.stdout.write("this is not json\n")
            sys.stdout.flush()
            sys.stdout.buffer.write(b"\xff\xfe\x00 binary \xc3\x28 bytes\n")
            sys.stdout.buffer.write(b'{"type": "totally_unknown_event", "x": 1}\n')
            sys.stdout.buffer.flush()
        if "big" in d:
            remaining = int(d["big"][0])
            while remaining > 0:
                say("x" * min(1000, remaining))
                remaining -= 1000
        if "auth-fail" in d:
            rc = auth_failed()
        elif "fail-429" in d or ("fail-429-once" in d and attempt == 1):
            rc = rate_limited()
        elif "echo-prompt" in d:
            rc = succeed(prompt)
        else:
            rc = succeed(f"Done with {JOB_TYPE} (attempt {attempt}).")
    log_run(started, attempt, rc)
    sys.exit(rc)


if __name__ == "__main__":
    main()
