// tollgate mcp end to end (docs/MCP.md), with the real @modelcontextprotocol/server-filesystem
// in the sandbox and the real TypeScript SDK client (tests/mcp/client.mjs) on the other side,
// both installed by tests/npm_setup.sh (from tests/mcp) into the build's share/tollgate-mcp-test:
// denied tools are missing from the list, a denied call is answered with tollgate's error and
// reason, reads outside the view or of a hidden file are refused before the server sees them,
// allowed calls work, and every call is an mcp.call record of the same run as run.start and
// run.end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr int kRefusedByPolicy = -32010;  // supervisor/mcp_shim.h

// Where setup.sh installed the server and the client, or empty with the reason.
std::string McpInstall(std::string* why) {
  char* real = ::realpath((escapes::BinDir() + "/../share/tollgate-mcp-test").c_str(), nullptr);
  if (real == nullptr) {
    *why = "the MCP test install is missing (" + escapes::BinDir() +
           "/../share/tollgate-mcp-test): run tests/npm_setup.sh tests/mcp "
           "BUILD/share/tollgate-mcp-test "
           "(ctest runs it as the mcp.setup fixture)";
    return "";
  }
  std::string dir = real;
  ::free(real);
  for (const char* needed :
       {"/.installed", "/client.mjs",
        "/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js"}) {
    if (::access((dir + needed).c_str(), R_OK) != 0) {
      *why = dir + needed + " is missing or unreadable for uid " + std::to_string(::getuid()) +
             ": run tests/npm_setup.sh tests/mcp " + dir;
      return "";
    }
  }
  return dir;
}

// node as the host's PATH finds it (the test starts the client without a shell).
std::string NodePath() {
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) {
    const std::string path = std::string(dir) + "/node";
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

class McpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TOLLGATE_SKIP_WITHOUT_NAMESPACES();
    if (NodePath().empty())
      GTEST_SKIP() << "node is not installed: the MCP server and client are Node programs";
    std::string why;
    install_ = McpInstall(&why);
    if (install_.empty()) GTEST_SKIP() << why;
    char outside[] = "/var/tmp/tollgate-mcp-outside.XXXXXX";
    ASSERT_NE(::mkdtemp(outside), nullptr);
    outside_ = outside;
    ASSERT_TRUE(escapes::WriteFile(outside_ + "/secret.txt", "outside the view\n"));
    ASSERT_TRUE(escapes::WriteFile(ws_ / "hello.txt", "hello from the workspace\n"));
    ASSERT_TRUE(escapes::WriteFile(ws_ / ".env", "API_TOKEN=decoy\n"));
    ws_.Handover();
  }
  void TearDown() override {
    if (!outside_.empty()) escapes::RemoveTree(outside_);
  }

  std::string WriteProfile() const {
    Json profile = {
        {"name", "mcp-e2e"},
        {"description", "the MCP e2e test: the server's install readable, the workspace writable"},
        {"extends", {"base"}},
        {"filesystem",
         {{"read", {install_}}, {"write", {"{workspace}"}}, {"hide", {"{workspace}/.env"}}}},
        {"mcp", {{"tools", {{"deny", {"write_file", "move_*"}}}}}}};
    const std::string path = side_ / "mcp-e2e.json";
    escapes::WriteFile(path, profile.dump(2));
    return path;
  }

  // Runs the SDK client against `tollgate mcp … -- node server-filesystem WORKSPACE`.
  Json RunClient(const Json& calls) {
    const std::string log = side_ / "audit";
    Json spec = {
        {"command", escapes::BinDir() + "/tollgate"},
        {"args",
         {"mcp", "--profile", WriteProfile(), "--workspace", ws_.path(), "--audit-log", log, "--",
          "node", install_ + "/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js",
          ws_.path()}},
        {"env", {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"LANG", "C.UTF-8"}, {"HOME", Home()}}},
        {"cwd", ws_.path()},
        {"calls", calls}};
    const std::string spec_path = side_ / "spec.json";
    escapes::WriteFile(spec_path, spec.dump());
    escapes::ProcessSpec process;
    process.argv = {NodePath(), install_ + "/client.mjs", spec_path};
    process.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HOME=" + Home()};
    process.cwd = side_.path();
    process.stdout_path = side_ / "client.out";
    process.stderr_path = side_ / "client.err";
    process.timeout_seconds = 120;
    escapes::ProcessResult result = escapes::RunProcess(process);
    EXPECT_FALSE(result.timed_out);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    Json out = Json::parse(result.out, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << result.out << result.err;
    if (out.is_discarded()) return Json::object();
    EXPECT_FALSE(out.contains("fatal")) << out.dump(2);
    return out;
  }

  static std::string Home() {
    const char* home = ::getenv("HOME");
    return home ? home : "/";
  }

  const Json& Call(const Json& out, std::size_t i) const { return out["calls"].at(i); }

  std::string install_;
  std::string outside_;
  Scratch ws_;
  Scratch side_;
};

TEST_F(McpTest, RealServerAndClientThroughTheShim) {
  const Json calls = Json::array({
      {{"name", "read_text_file"}, {"arguments", {{"path", ws_ / "hello.txt"}}}},
      {{"name", "write_file"}, {"arguments", {{"path", ws_ / "x.txt"}, {"content", "x"}}}},
      {{"name", "read_text_file"}, {"arguments", {{"path", outside_ + "/secret.txt"}}}},
      {{"name", "read_text_file"}, {"arguments", {{"path", ws_ / ".env"}}}},
      {{"name", "create_directory"}, {"arguments", {{"path", "/usr/tollgate-mcp-e2e"}}}},
      {{"name", "create_directory"}, {"arguments", {{"path", ws_ / "made-by-mcp"}}}},
  });
  Json out = RunClient(calls);
  ASSERT_TRUE(out.contains("calls")) << out.dump(2);
  ASSERT_EQ(out["calls"].size(), calls.size()) << out.dump(2);

  // The list: the server's tools but the denied ones.
  std::vector<std::string> tools = out["tools"];
  EXPECT_THAT(tools, Contains("read_text_file")) << out.dump(2);
  EXPECT_THAT(tools, Contains("create_directory"));
  EXPECT_THAT(tools, Not(Contains("write_file")));
  EXPECT_THAT(tools, Not(Contains("move_file")));

  // An allowed read works.
  const Json& read = Call(out, 0);
  ASSERT_TRUE(read.contains("result")) << read.dump(2);
  EXPECT_THAT(read["result"].dump(), HasSubstr("hello from the workspace"));

  // A denied tool: tollgate's error, with the rule and the reason; nothing written.
  const Json& write = Call(out, 1);
  ASSERT_TRUE(write.contains("error")) << write.dump(2);
  EXPECT_EQ(write["error"]["code"], kRefusedByPolicy);
  EXPECT_THAT(write["error"]["message"].get<std::string>(),
              HasSubstr("MCP tool write_file denied by rule mcp.tools.deny"));
  EXPECT_THAT(write["error"]["message"].get<std::string>(),
              HasSubstr("is denied by the profile (pattern write_file)"));
  struct stat st {};
  EXPECT_NE(::stat((ws_ / "x.txt").c_str(), &st), 0);

  // Outside the view (and outside the server's allowed directory): refused by tollgate, before
  // the server could answer with its own error.
  const Json& outside = Call(out, 2);
  ASSERT_TRUE(outside.contains("error")) << outside.dump(2);
  EXPECT_EQ(outside["error"]["code"], kRefusedByPolicy);
  EXPECT_THAT(outside["error"]["message"].get<std::string>(),
              HasSubstr("argument path (read " + outside_ + "/secret.txt)"));
  EXPECT_THAT(outside["error"]["message"].get<std::string>(), HasSubstr("no entry of the profile"));

  // Inside the server's allowed directory, but hidden by the profile.
  const Json& hidden = Call(out, 3);
  ASSERT_TRUE(hidden.contains("error")) << hidden.dump(2);
  EXPECT_EQ(hidden["error"]["code"], kRefusedByPolicy);
  EXPECT_THAT(hidden["error"]["message"].get<std::string>(), HasSubstr("hides"));
  EXPECT_THAT(out.dump(), Not(HasSubstr("decoy")));

  // A write tool on a read-only path; and one in the workspace, which works.
  const Json& usr = Call(out, 4);
  ASSERT_TRUE(usr.contains("error")) << usr.dump(2);
  EXPECT_EQ(usr["error"]["code"], kRefusedByPolicy);
  EXPECT_THAT(usr["error"]["message"].get<std::string>(),
              HasSubstr("(write /usr/tollgate-mcp-e2e)"));
  const Json& made = Call(out, 5);
  EXPECT_TRUE(made.contains("result")) << made.dump(2);
  EXPECT_EQ(::stat((ws_ / "made-by-mcp").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));

  // The records: one run, started and ended, with every call in it.
  std::vector<Json> records = ReadAuditLog(side_ / "audit");
  std::vector<Json> starts = OfKind(records, "run.start");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["details"]["mcp"], true);
  const std::string run = starts[0]["run"];
  ASSERT_EQ(OfKind(records, "run.end").size(), 1u);
  EXPECT_EQ(OfKind(records, "run.end")[0]["run"], run);
  std::vector<Json> mcp = OfKind(records, "mcp.call");
  ASSERT_EQ(mcp.size(), 1u + calls.size()) << "one tools/list and each call";
  for (const Json& record : mcp) EXPECT_EQ(record["run"], run);
  EXPECT_LT(starts[0]["seq"].get<long>(), mcp.front()["seq"].get<long>());
  EXPECT_GT(OfKind(records, "run.end")[0]["seq"].get<long>(), mcp.back()["seq"].get<long>());
  const Json& list = mcp[0];
  EXPECT_EQ(list["details"]["method"], "tools/list");
  EXPECT_THAT(list["details"]["removed"].dump(), HasSubstr("write_file"));
  EXPECT_THAT(list["details"]["removed"].dump(), HasSubstr("move_file"));
  const char* verdicts[] = {"allow", "deny", "deny", "deny", "deny", "allow"};
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const Json& record = mcp[i + 1];
    EXPECT_EQ(record["details"]["method"], "tools/call");
    EXPECT_EQ(record["details"]["tool"], calls[i]["name"]) << i;
    EXPECT_EQ(record["verdict"], verdicts[i]) << record.dump();
  }
  EXPECT_THAT(mcp[2]["rule"].get<std::string>(), HasSubstr("mcp.tools.deny"));
  EXPECT_EQ(mcp[3]["rule"], "filesystem: not in the view");
  EXPECT_EQ(mcp[1]["details"]["paths"][0]["path"], ws_ / "hello.txt");
}

}  // namespace
}  // namespace tollgate::e2e
