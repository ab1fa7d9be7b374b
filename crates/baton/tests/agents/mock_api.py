#!/usr/bin/env python3
"""Loopback mock of the Anthropic Messages, OpenAI Responses and Gemini APIs, for driving the real
claude / codex / gemini CLIs without a network.

A copy of the harness research's mock (shared/harnesses/mock_api.py) for baton's real-CLI tests
(tests/real_clis), which must not depend on files outside the repository. Changes from the
original: PORT 0 and the `listening PORT` line (each test runs its own mock on a free port and
waits for that line instead of sleeping); $MOCK_TOOL_COMMAND; the Gemini API honours `toolw` like
the other two (the original only made a tool call in mode `tool`); the OpenAI tool-call branch
uses the same command for its three shell-tool variants.

usage: mock_api.py PORT   (PORT 0: the system picks a free port)
Once listening it prints one line on stdout, `listening PORT`, and flushes it.
Mode, read per request: the first word of the file named by $MOCK_MODE_FILE, else $MOCK_MODE, else "ok":
  ok | tool | toolw | maxturns | 400 | 401 | 429 | 529 | 500 | 503 | quota | drop
Every request is logged (method, path, some headers) to $MOCK_LOG when it is set, and its JSON body
is kept as $MOCK_BODIES/NNNNN.json ({"path": ..., "body": ...}, numbered in arrival order) when
that is set: the tests read what each CLI sent (the conversation so far, the model).
In modes tool and toolw the model calls its shell tool once; $MOCK_TOOL_COMMAND, when set, is the
command it runs instead of the built-in one (toolw: create created-by-tool.txt / created-by-codex.txt).
In mode mcp (Anthropic API only) the model calls the tool named $MOCK_TOOL_NAME once, when the CLI
offers it, with the JSON object in the file $MOCK_TOOL_INPUT_FILE (read per request) as its input.
Point the CLIs at it: ANTHROPIC_BASE_URL=http://127.0.0.1:PORT ANTHROPIC_API_KEY=sk-ant-mock claude ...;
codex exec -c openai_base_url=http://127.0.0.1:PORT/v1 (with CODEX_API_KEY=...); gemini needs
GOOGLE_GEMINI_BASE_URL plus settings security.auth.selectedType "gemini-api-key" (see
shared/harnesses/README.md).
"""
import os
import json, sys, time, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 18080
LOG = os.environ.get("MOCK_LOG")
BODIES = os.environ.get("MOCK_BODIES")
lock = threading.Lock()
counter = [0]


def keep_body(path, body):
    if not BODIES:
        return
    with lock:
        counter[0] += 1
        n = counter[0]
    os.makedirs(BODIES, exist_ok=True)
    with open(os.path.join(BODIES, f"{n:05d}.json"), "w") as f:
        json.dump({"path": path, "body": body}, f)


def mode():
    path = os.environ.get("MOCK_MODE_FILE")
    if path:
        try:
            return open(path).read().split()[0]
        except Exception:
            pass
    return os.environ.get("MOCK_MODE", "ok")


def named_tool():
    """(name, input) of the tool mode mcp calls."""
    name = os.environ.get("MOCK_TOOL_NAME")
    try:
        with open(os.environ.get("MOCK_TOOL_INPUT_FILE", "")) as f:
            return name, json.load(f)
    except Exception:
        return name, {}


def tool_command(default):
    return os.environ.get("MOCK_TOOL_COMMAND") or default


def log(s):
    if not LOG:
        return
    with lock:
        with open(LOG, "a") as f:
            f.write(s + "\n")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _body(self):
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except Exception:
            return {"_raw": raw[:200].decode("latin1")}

    def _json(self, status, obj, extra=None):
        b = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(b)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(b)

    def _sse(self, events, gemini=False):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        for name, data in events:
            if gemini:
                chunk = "data: " + json.dumps(data) + "\r\n\r\n"
            else:
                chunk = (f"event: {name}\n" if name else "") + "data: " + json.dumps(data) + "\n\n"
            self.wfile.write(chunk.encode())
            self.wfile.flush()
            time.sleep(0.02)
        self.close_connection = True

    def do_GET(self):
        log(f"GET {self.path} ua={self.headers.get('user-agent')}")
        if self.headers.get("upgrade", "").lower() == "websocket":
            self._json(404, {"error": {"message": "no websocket here"}})
            return
        self._json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        body = self._body()
        m = mode()
        hdrs = {k: self.headers.get(k) for k in ("x-api-key", "authorization", "anthropic-version", "x-goog-api-key", "user-agent") if self.headers.get(k)}
        for k in ("x-api-key", "authorization", "x-goog-api-key"):
            if k in hdrs:
                hdrs[k] = hdrs[k][:12] + "..."
        keep_body(self.path, body)
        log(f"POST {self.path} mode={m} hdrs={hdrs} keys={list(body.keys())[:15]} model={body.get('model')} ntools={len(body.get('tools') or [])}")
        if m == "drop":
            self.close_connection = True
            self.connection.close()
            return
        p = self.path
        if "/v1/messages" in p:
            return self.anthropic(body, m, p)
        if p.rstrip("/").endswith("/responses") or "/responses" in p:
            return self.openai(body, m)
        if ":streamGenerateContent" in p or ":generateContent" in p or ":countTokens" in p:
            return self.gemini(body, m, p)
        self._json(404, {"error": {"message": "unknown path " + p}})

    # ---------------- Anthropic ----------------
    def anthropic(self, body, m, p):
        if "count_tokens" in p:
            return self._json(200, {"input_tokens": 42})
        errs = {
            "401": (401, "authentication_error", "invalid x-api-key"),
            "429": (429, "rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute."),
            "529": (529, "overloaded_error", "Overloaded"),
            "500": (500, "api_error", "Internal server error"),
            "400": (400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum"),
        }
        if m in errs:
            st, t, msg = errs[m]
            extra = {"request-id": "req_mock123"}
            if st == 429:
                extra["retry-after"] = "1"
            return self._json(st, {"type": "error", "error": {"type": t, "message": msg}, "request_id": "req_mock123"}, extra)
        model = body.get("model", "claude-mock")
        msgs = body.get("messages") or []
        last = msgs[-1] if msgs else {}
        has_tool_result = isinstance(last.get("content"), list) and any(
            isinstance(c, dict) and c.get("type") == "tool_result" for c in last["content"])
        tool_names = [t.get("name") for t in (body.get("tools") or [])]
        want_tool = m in ("tool", "toolw", "maxturns") and "Bash" in tool_names and (m == "maxturns" or not has_tool_result)
        mcp_name, mcp_input = named_tool()
        want_mcp = m == "mcp" and mcp_name in tool_names and not has_tool_result
        if not body.get("stream"):
            return self._json(200, {"id": "msg_mock", "type": "message", "role": "assistant", "model": model,
                                    "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                                    "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}})
        ev = [("message_start", {"type": "message_start", "message": {"id": "msg_mock01", "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 120, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1}}})]
        if want_mcp:
            ev += [
                ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_mcp%d" % int(time.time() * 1000 % 100000), "name": mcp_name, "input": {}}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": json.dumps(mcp_input)}}),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {"output_tokens": 30}}),
            ]
        elif want_tool:
            ev += [
                ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "I'll run a command."}}),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_mock%d" % int(time.time() * 1000 % 100000), "name": "Bash", "input": {}}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": json.dumps({"command": tool_command("touch created-by-tool.txt && echo wrote" if m == "toolw" else "echo hi-from-tool"), "description": "Echo a greeting"})}}),
                ("content_block_stop", {"type": "content_block_stop", "index": 1}),
                ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {"output_tokens": 30}}),
            ]
        else:
            ev += [
                ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " from the mock."}}),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 7}}),
            ]
        ev.append(("message_stop", {"type": "message_stop"}))
        self._sse(ev)

    # ---------------- OpenAI Responses ----------------
    def openai(self, body, m):
        errs = {
            "401": (401, {"message": "Incorrect API key provided: sk-fake. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}),
            "429": (429, {"message": "Rate limit reached for gpt-5 in organization org-mock on tokens per min (TPM): Limit 30000, Used 30000, Requested 100. Please try again in 1.5s.", "type": "tokens", "param": None, "code": "rate_limit_exceeded"}),
            "quota": (429, {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}),
            "500": (500, {"message": "The server had an error while processing your request.", "type": "server_error", "param": None, "code": None}),
            "503": (503, {"message": "The engine is currently overloaded, please try again later", "type": "server_error", "param": None, "code": None}),
            "529": (503, {"message": "The engine is currently overloaded, please try again later", "type": "server_error", "param": None, "code": None}),
        }
        if m in errs:
            st, e = errs[m]
            extra = {"x-request-id": "req_mock456"}
            if st == 429:
                extra["retry-after"] = "1"
            return self._json(st, {"error": e}, extra)
        model = body.get("model", "gpt-mock")
        inp = body.get("input") or []
        has_out = any(isinstance(i, dict) and i.get("type") in ("function_call_output", "custom_tool_call_output") for i in inp)
        tools = [t.get("name") for t in (body.get("tools") or []) if isinstance(t, dict)]
        log("  openai tools=" + json.dumps(tools))
        blob = json.dumps(body)
        if "PIRATE" in blob:
            idx = blob.index("PIRATE")
            log("  PIRATE found in body: ..." + blob[max(0, idx-200):idx+40])
        for i in inp:
            if isinstance(i, dict) and i.get("type") in ("function_call_output", "custom_tool_call_output"):
                log("  fco=" + json.dumps(i)[:600])
        rid = "resp_mock%d" % int(time.time() * 1000 % 100000)
        ev = [("response.created", {"type": "response.created", "response": {"id": rid, "object": "response", "status": "in_progress", "model": model, "output": []}})]
        usage = {"input_tokens": 1200, "input_tokens_details": {"cached_tokens": 1000}, "output_tokens": 25, "output_tokens_details": {"reasoning_tokens": 10}, "total_tokens": 1225}
        out_items = []
        tool = None
        for cand in ("exec_command", "shell_command", "shell"):
            if cand in tools:
                tool = cand
                break
        if m in ("tool", "toolw") and tool and not has_out:
            cmd = tool_command("touch created-by-codex.txt && echo wrote" if m == "toolw" else "echo hi-from-tool")
            if tool == "exec_command":
                args = {"cmd": cmd}
            elif tool == "shell_command":
                args = {"command": cmd}
            else:
                args = {"command": ["bash", "-lc", cmd]}
            item = {"type": "function_call", "id": "fc_mock1", "call_id": "call_mock1", "name": tool, "arguments": json.dumps(args), "status": "completed"}
            ev.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": dict(item, status="in_progress", arguments="")}))
            ev.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}))
            out_items.append(item)
        else:
            text = "Hello from the mock."
            ev.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "msg_mock1", "status": "in_progress", "role": "assistant", "content": []}}))
            ev.append(("response.content_part.added", {"type": "response.content_part.added", "item_id": "msg_mock1", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}))
            ev.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_mock1", "output_index": 0, "content_index": 0, "delta": text}))
            ev.append(("response.output_text.done", {"type": "response.output_text.done", "item_id": "msg_mock1", "output_index": 0, "content_index": 0, "text": text}))
            item = {"type": "message", "id": "msg_mock1", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": text, "annotations": []}]}
            ev.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}))
            out_items.append(item)
        ev.append(("response.completed", {"type": "response.completed", "response": {"id": rid, "object": "response", "status": "completed", "model": model, "output": out_items, "usage": usage}}))
        self._sse(ev)

    # ---------------- Gemini ----------------
    def gemini(self, body, m, p):
        errs = {
            "401": (400, {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}),
            "429": (429, {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}),
            "quota": (429, {"code": 429, "message": "You exceeded your current quota, please check your plan and billing details.", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}),
            "500": (500, {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}),
            "503": (503, {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}),
            "529": (503, {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}),
        }
        if ":countTokens" in p:
            return self._json(200, {"totalTokens": 42})
        if m in errs:
            st, e = errs[m]
            return self._json(st, {"error": e})
        model = p.split("/models/")[-1].split(":")[0]
        usage = {"promptTokenCount": 900, "candidatesTokenCount": 12, "totalTokenCount": 930, "cachedContentTokenCount": 0, "thoughtsTokenCount": 18}
        contents = body.get("contents") or []
        last = contents[-1] if contents else {}
        has_fr = any("functionResponse" in (part or {}) for part in (last.get("parts") or []))
        decls = []
        for t in body.get("tools") or []:
            for d in t.get("functionDeclarations") or []:
                decls.append(d.get("name"))
        if ":generateContent" in p:
            # used by routing classifier / next-speaker checks etc.; reply with small JSON text
            txt = json.dumps({"reasoning": "simple", "complexity_score": 10, "model_choice": "flash", "next_speaker": "user"})
            return self._json(200, {"candidates": [{"content": {"parts": [{"text": txt}], "role": "model"}, "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 10, "totalTokenCount": 60}, "modelVersion": model})
        if m in ("tool", "toolw") and "run_shell_command" in decls and not has_fr:
            cmd = tool_command("touch created-by-tool.txt && echo wrote" if m == "toolw" else "echo hi-from-tool")
            chunks = [{"candidates": [{"content": {"parts": [{"functionCall": {"name": "run_shell_command", "args": {"command": cmd, "description": "echo"}}}], "role": "model"}, "finishReason": "STOP", "index": 0}], "usageMetadata": usage, "modelVersion": model}]
        else:
            chunks = [
                {"candidates": [{"content": {"parts": [{"text": "Hello"}], "role": "model"}, "index": 0}], "modelVersion": model},
                {"candidates": [{"content": {"parts": [{"text": " from the mock."}], "role": "model"}, "finishReason": "STOP", "index": 0}], "usageMetadata": usage, "modelVersion": model},
            ]
        self._sse([(None, c) for c in chunks], gemini=True)


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", PORT), H)
    port = srv.server_address[1]
    log(f"--- mock listening on {port}")
    # The bound port, for PORT 0; printed after bind+listen, so a reader may connect at once.
    print(f"listening {port}", flush=True)
    srv.serve_forever()
