#!/usr/bin/env python3
"""A scripted model server for the real-agent end-to-end tests (tests/e2e/agents_test.cc).

It speaks just enough of two APIs for the real CLIs to run a session against it:

  * Anthropic's Messages API (POST /v1/messages, streamed or not): Claude Code with
    ANTHROPIC_BASE_URL pointing here;
  * OpenAI's Responses API (POST /v1/responses, streamed): Codex with a model provider whose
    base_url points here.

Instead of a model, a script: a list of steps. Every request of an agent's main loop (one that
offers a shell tool) is answered with the next step as a tool call, chosen by how many tool
results the conversation already holds; after the last, with a closing text. A step is a shell
command, or "read:PATH": Claude Code's own Read tool (the agent process opens the file itself),
`cat PATH` for Codex, which has no such tool. Requests
that offer no shell tool (titles, summaries, quota probes) get a short text answer.

Every request is logged as one JSON line (--log): the path, the API, the step it was answered
with, and the tool results the agent sent back, so the test can read what each command printed
inside the sandbox.

  model_server.py --script SCRIPT.json --log LOG.jsonl --port-file PORT [--bind ADDR]

SCRIPT.json: {"commands": ["git status", "read:/etc/hostname", ...], "final": "text"}. The server listens on ADDR
(default 127.0.0.1) on a free port, writes the port to PORT when it is ready, and serves until
it is killed.
"""

import argparse
import http.server
import json
import os
import socketserver
import sys
import threading

LOCK = threading.Lock()


def content_text(content):
    """The text of a tool result's content: a string, or a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                if "text" in block:
                    parts.append(str(block["text"]))
                elif "output" in block:
                    parts.append(str(block["output"]))
            else:
                parts.append(str(block))
        return "\n".join(parts)
    return json.dumps(content)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tollgate-model-server/1"

    def log_message(self, fmt, *args):  # quiet: the JSON log is what counts
        pass

    def record(self, entry):
        entry["path"] = self.path
        entry["method"] = self.command
        with LOCK:
            with open(self.server.log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return {}

    def send_json(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_events(self, events):
        """Server-sent events, each (name, data); the body is sent whole, then the connection
        stays usable (Content-Length)."""
        chunks = []
        for name, data in events:
            if name:
                chunks.append("event: %s\n" % name)
            chunks.append("data: %s\n\n" % json.dumps(data))
        payload = "".join(chunks).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_HEAD(self):
        self.record({"api": "other"})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.record({"api": "other"})
        if self.path.split("?")[0].rstrip("/").endswith("/models"):
            self.send_json(200, {"object": "list", "data": [], "models": []})
        else:
            self.send_json(404, {"error": {"type": "not_found", "message": "not scripted"}})

    def do_POST(self):
        request = self.body()
        route = self.path.split("?")[0]
        if route.endswith("/v1/messages"):
            self.anthropic(request)
        elif route.endswith("/v1/messages/count_tokens"):
            self.record({"api": "anthropic-count"})
            self.send_json(200, {"input_tokens": 100})
        elif route.endswith("/responses"):
            self.openai(request)
        else:
            self.record({"api": "other"})
            self.send_json(404, {"error": {"type": "not_found", "message": "not scripted"}})

    # --- Anthropic Messages -------------------------------------------------------------------

    def anthropic(self, request):
        tools = [t.get("name") for t in request.get("tools") or [] if isinstance(t, dict)]
        results = []
        for message in request.get("messages") or []:
            content = message.get("content")
            if message.get("role") != "user" or not isinstance(content, list):
                continue
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    results.append({"id": block.get("tool_use_id"),
                                    "is_error": bool(block.get("is_error")),
                                    "content": content_text(block.get("content"))})
        commands = self.server.script["commands"]
        step = len(results)
        entry = {"api": "anthropic", "tools": tools, "tool_results": results,
                 "model": request.get("model")}
        if "Bash" in tools and step < len(commands):
            entry["step"] = step
            command = commands[step]
            block = {"type": "tool_use", "id": "toolu_tollgate_%02d" % step, "name": "Bash",
                     "input": {"command": command, "description": "scripted step %d" % step}}
            if command.startswith("read:") and "Read" in tools:
                block["name"] = "Read"
                block["input"] = {"file_path": command[len("read:"):]}
            stop = "tool_use"
        else:
            entry["step"] = "final" if "Bash" in tools else "side"
            text = self.server.script.get("final", "done") if "Bash" in tools else "ok"
            block = {"type": "text", "text": text}
            stop = "end_turn"
        self.record(entry)
        message = {"id": "msg_tollgate_%d" % step, "type": "message", "role": "assistant",
                   "model": request.get("model") or "scripted", "content": [],
                   "stop_reason": None, "stop_sequence": None,
                   "usage": {"input_tokens": 10, "output_tokens": 1}}
        if not request.get("stream"):
            message["content"] = [block]
            message["stop_reason"] = stop
            self.send_json(200, message)
            return
        if block["type"] == "tool_use":
            start = dict(block, input={})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        self.send_events([
            ("message_start", {"type": "message_start", "message": message}),
            ("content_block_start",
             {"type": "content_block_start", "index": 0, "content_block": start}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": stop, "stop_sequence": None},
                               "usage": {"output_tokens": 12}}),
            ("message_stop", {"type": "message_stop"}),
        ])

    # --- OpenAI Responses ---------------------------------------------------------------------

    def openai(self, request):
        tools = {}
        for tool in request.get("tools") or []:
            if isinstance(tool, dict):
                tools[tool.get("name") or tool.get("type")] = tool
        results = []
        items = request.get("input") or []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("type") in (
                    "function_call_output", "local_shell_call_output", "custom_tool_call_output"):
                output = item.get("output")
                if isinstance(output, dict):
                    output = output.get("content", json.dumps(output))
                results.append({"id": item.get("call_id"), "content": content_text(output)})
        commands = self.server.script["commands"]
        step = len(results)
        entry = {"api": "openai", "tools": sorted(tools), "tool_results": results,
                 "model": request.get("model")}
        response_id = "resp_tollgate_%d" % step
        events = [("response.created",
                   {"type": "response.created", "response": {"id": response_id}})]
        call_id = "call_tollgate_%02d" % step
        item = None
        if step < len(commands):
            command = commands[step]
            if command.startswith("read:"):
                command = "cat '%s'" % command[len("read:"):]
            if "shell_command" in tools:
                item = {"type": "function_call", "name": "shell_command", "call_id": call_id,
                        "arguments": json.dumps({"command": command})}
            elif "exec_command" in tools:
                item = {"type": "function_call", "name": "exec_command", "call_id": call_id,
                        "arguments": json.dumps({"cmd": command})}
            elif "shell" in tools:
                item = {"type": "function_call", "name": "shell", "call_id": call_id,
                        "arguments": json.dumps({"command": ["bash", "-lc", command]})}
            elif "local_shell" in tools:
                item = {"type": "local_shell_call", "call_id": call_id, "status": "completed",
                        "action": {"type": "exec", "command": ["bash", "-lc", command]}}
        if item is not None:
            entry["step"] = step
            entry["tool"] = item.get("name", item["type"])
        else:
            entry["step"] = "final" if step >= len(commands) else "no-shell-tool"
            item = {"type": "message", "role": "assistant", "id": "msg_tollgate_%d" % step,
                    "content": [{"type": "output_text",
                                 "text": self.server.script.get("final", "done")}]}
        self.record(entry)
        events.append(("response.output_item.done",
                       {"type": "response.output_item.done", "item": item}))
        events.append(("response.completed", {
            "type": "response.completed",
            "response": {"id": response_id,
                         "usage": {"input_tokens": 10, "input_tokens_details": None,
                                   "output_tokens": 10, "output_tokens_details": None,
                                   "total_tokens": 20}}}))
        self.send_events(events)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--script", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args()
    with open(args.script, encoding="utf-8") as f:
        script = json.load(f)
    server = Server((args.bind, 0), Handler)
    server.script = script
    server.log_path = args.log
    with open(args.port_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
