// A real MCP client for the `tollgate mcp` end-to-end test: the TypeScript SDK's Client over its
// StdioClientTransport, which spawns the server command (tollgate mcp … -- node server …).
//
//   node client.mjs SPEC.json
//
// SPEC: {"command": "…", "args": […], "env": {…}, "cwd": "…",
//        "calls": [{"name": "read_text_file", "arguments": {…}}, …]}
// Prints one JSON object: {"tools": [names listed], "calls": [{"name", "result"} or
// {"name", "error": {"code", "message", "data"}}], "stderr": "what the command wrote there"}.
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const transport = new StdioClientTransport({
  command: spec.command,
  args: spec.args ?? [],
  env: spec.env,
  cwd: spec.cwd,
  stderr: "pipe",
});
let stderr = "";
transport.stderr?.on("data", (chunk) => {
  stderr += chunk.toString();
});

const out = { tools: [], calls: [], stderr: "" };
const client = new Client({ name: "tollgate-mcp-e2e", version: "1.0.0" });
try {
  await client.connect(transport);
  const listed = await client.listTools();
  out.tools = listed.tools.map((tool) => tool.name);
  for (const call of spec.calls ?? []) {
    try {
      const result = await client.callTool({ name: call.name, arguments: call.arguments ?? {} });
      out.calls.push({ name: call.name, result });
    } catch (error) {
      out.calls.push({
        name: call.name,
        error: { code: error.code ?? null, message: String(error.message), data: error.data ?? null },
      });
    }
  }
} catch (error) {
  out.fatal = String(error && error.stack ? error.stack : error);
} finally {
  await client.close().catch(() => {});
}
out.stderr = stderr;
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(out.fatal ? 1 : 0);
