// McpRelay: what `tollgate mcp` does with each message (docs/MCP.md) — tools/list responses
// filtered by request id, refused tools/call answered and never forwarded, malformed and
// oversized input failing closed, and a record before every action. RunMcpRelay over pipes.
#include "supervisor/mcp_shim.h"

#include <fcntl.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace tollgate {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class McpRelayTest : public ::testing::Test {
 protected:
  McpRelayTest() {
    spec_.deny = {policy::McpToolPattern{"write_*", policy::SourceRef{"p.json", 9, 5}}};
    plan_.profile_name = "p";
    plan_.cwd = "/work/p";
    plan_.mounts.ops.push_back({.kind = policy::MountOpKind::kBind,
                                .source = "/work/p",
                                .target = "/work/p",
                                .writable = true,
                                .why = "write {workspace}"});
  }

  McpRelay& Relay(std::size_t max = kDefaultMcpMessageBytes) {
    McpRelayOptions options;
    options.spec = &spec_;
    options.plan = &plan_;
    options.profile = "p";
    options.max_message_bytes = max;
    options.record = [this](const audit::Event& event) {
      records_.push_back(event);
      return record_ok_;
    };
    relay_.emplace(std::move(options));
    return *relay_;
  }

  static std::string Request(const Json& id, const std::string& method, const Json& params) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
  }
  static std::string ListResult(const Json& id, const std::vector<std::string>& names) {
    Json tools = Json::array();
    for (const std::string& name : names)
      tools.push_back({{"name", name}, {"inputSchema", {{"type", "object"}}}});
    return Json{
        {"jsonrpc", "2.0"}, {"id", id}, {"result", {{"tools", tools}, {"nextCursor", "c2"}}}}
        .dump();
  }
  static std::vector<std::string> Names(const std::string& line) {
    std::vector<std::string> names;
    const Json message = Json::parse(line);
    for (const Json& tool : message["result"]["tools"]) names.push_back(tool["name"]);
    return names;
  }

  policy::McpSpec spec_;
  policy::SandboxPlan plan_;
  std::vector<audit::Event> records_;
  bool record_ok_ = true;
  std::optional<McpRelay> relay_;
};

TEST_F(McpRelayTest, ToolsListResponsesAreFilteredByTheirRequestId) {
  McpRelay& relay = Relay();
  RelayAction request = relay.FromClient(Request(7, "tools/list", Json::object()));
  ASSERT_TRUE(request.forward);
  EXPECT_FALSE(request.reply);
  RelayAction response = relay.FromServer(ListResult(7, {"read_file", "write_file", "write_x"}));
  ASSERT_TRUE(response.forward);
  EXPECT_THAT(Names(*response.forward), ::testing::ElementsAre("read_file"));
  EXPECT_EQ(Json::parse(*response.forward)["result"]["nextCursor"], "c2") << "the rest is kept";
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].kind, "mcp.call");
  EXPECT_EQ(records_[0].details["method"], "tools/list");
  EXPECT_EQ(records_[0].details["listed"], 3);
  EXPECT_EQ(records_[0].details["removed"], Json({"write_file", "write_x"}));
}

TEST_F(McpRelayTest, AResponseToAnotherRequestIsNotTouchedEvenWithTheSameIdOfAnotherType) {
  McpRelay& relay = Relay();
  relay.FromClient(Request(7, "tools/list", Json::object()));
  // Id "7" (a string) is not id 7 (a number): not the tools/list's response.
  const std::string other = ListResult("7", {"write_file"});
  RelayAction passed = relay.FromServer(other);
  ASSERT_TRUE(passed.forward);
  EXPECT_EQ(*passed.forward, other);
  // A request *from* the server with the same id is a request, not the response.
  const std::string server_request = Request(7, "roots/list", Json::object());
  EXPECT_EQ(*relay.FromServer(server_request).forward, server_request);
  EXPECT_THAT(Names(*relay.FromServer(ListResult(7, {"write_file", "a"})).forward),
              ::testing::ElementsAre("a"));
}

TEST_F(McpRelayTest, ASecondAnswerToAToolsListIsDroppedAndItsIdCannotBeReused) {
  McpRelay& relay = Relay();
  relay.FromClient(Request(1, "tools/list", Json::object()));
  relay.FromServer(ListResult(1, {"a"}));
  RelayAction again = relay.FromServer(ListResult(1, {"write_file"}));
  EXPECT_FALSE(again.forward) << "an unfiltered second answer never reaches the client";
  EXPECT_THAT(again.note, HasSubstr("second response"));
  RelayAction reuse = relay.FromClient(Request(1, "tools/call", {{"name", "a"}}));
  EXPECT_FALSE(reuse.forward);
  ASSERT_TRUE(reuse.reply);
  EXPECT_EQ(Json::parse(*reuse.reply)["error"]["code"], kJsonRpcInvalidRequest);
}

TEST_F(McpRelayTest, ADeniedCallIsAnsweredWithTheReasonAndNeverForwarded) {
  McpRelay& relay = Relay();
  RelayAction action = relay.FromClient(
      Request("c-1", "tools/call", {{"name", "write_file"}, {"arguments", {{"path", "a"}}}}));
  EXPECT_FALSE(action.forward);
  ASSERT_TRUE(action.reply);
  Json reply = Json::parse(*action.reply);
  EXPECT_EQ(reply["id"], "c-1");
  EXPECT_EQ(reply["error"]["code"], kMcpRefusedByPolicy);
  EXPECT_THAT(reply["error"]["message"].get<std::string>(),
              HasSubstr("MCP tool write_file denied by rule mcp.tools.deny (p.json:9:5) of "
                        "profile p: MCP tool write_file is denied by the profile (pattern "
                        "write_*)"));
  EXPECT_EQ(reply["error"]["data"]["tollgate"]["rule"], "mcp.tools.deny (p.json:9:5)");
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].verdict, audit::Verdict::kDeny);
  EXPECT_EQ(records_[0].details["tool"], "write_file");
  EXPECT_EQ(records_[0].details["id"], "\"c-1\"");
}

TEST_F(McpRelayTest, AnAllowedCallIsRecordedThenForwardedAsParsed) {
  McpRelay& relay = Relay();
  RelayAction action = relay.FromClient(
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read_file","name":"write_file","arguments":{"path":"a.txt"}}})");
  // The duplicate key: what was decided is what the server gets.
  ASSERT_EQ(records_.size(), 1u);
  const std::string decided = records_[0].details["tool"];
  if (action.forward) {
    EXPECT_EQ(Json::parse(*action.forward)["params"]["name"], decided);
    EXPECT_EQ(decided, "read_file");
  } else {
    EXPECT_EQ(decided, "write_file");
  }
  records_.clear();
  RelayAction read = relay.FromClient(
      Request(4, "tools/call", {{"name", "read_file"}, {"arguments", {{"path", "a.txt"}}}}));
  ASSERT_TRUE(read.forward);
  EXPECT_FALSE(read.reply);
  EXPECT_EQ(records_.at(0).verdict, audit::Verdict::kAllow);
  EXPECT_EQ(records_[0].details["paths"][0]["path"], "/work/p/a.txt");
}

TEST_F(McpRelayTest, APathOutsideTheViewIsRefused) {
  McpRelay& relay = Relay();
  RelayAction action = relay.FromClient(
      Request(5, "tools/call", {{"name", "read_file"}, {"arguments", {{"path", "/etc/shadow"}}}}));
  EXPECT_FALSE(action.forward);
  Json reply = Json::parse(*action.reply);
  EXPECT_THAT(reply["error"]["message"].get<std::string>(),
              HasSubstr("argument path (read /etc/shadow)"));
  EXPECT_EQ(records_.at(0).rule, "filesystem: not in the view");
}

TEST_F(McpRelayTest, MalformedClientInputIsAnsweredAndDropped) {
  McpRelay& relay = Relay();
  struct Case {
    std::string line;
    int code;
    const char* says;
  };
  const Case cases[] = {
      {"{not json", kJsonRpcParseError, "not JSON"},
      {R"([{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_file"}}])",
       kJsonRpcInvalidRequest, "batches"},
      {R"("a string")", kJsonRpcInvalidRequest, "not an object"},
      {R"({"id":1,"method":"tools/call","params":{"name":"read_file"}})", kJsonRpcInvalidRequest,
       "\"jsonrpc\""},
      {R"({"jsonrpc":"2.0","method":"tools/call","params":{"name":"write_file"}})",
       kJsonRpcInvalidRequest, "without an id"},
      {R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})", kJsonRpcInvalidRequest, "request id"},
      {R"({"jsonrpc":"2.0","id":2,"method":7})", kJsonRpcInvalidRequest, "not a string"},
      {R"({"jsonrpc":"2.0","id":2})", kJsonRpcInvalidRequest, "neither"},
      {R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{}}})",
       kJsonRpcInvalidParams, "params.name"},
      {R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":"write_file"})",
       kJsonRpcInvalidParams, "params"},
      {std::string(100, '[') + std::string(100, ']'), kJsonRpcInvalidRequest, "nested deeper"},
  };
  for (const Case& c : cases) {
    records_.clear();
    RelayAction action = relay.FromClient(c.line);
    EXPECT_FALSE(action.forward) << c.line;
    ASSERT_TRUE(action.reply) << c.line;
    Json reply = Json::parse(*action.reply);
    EXPECT_EQ(reply["error"]["code"], c.code) << c.line;
    EXPECT_THAT(reply["error"]["message"].get<std::string>(), HasSubstr(c.says)) << c.line;
    ASSERT_EQ(records_.size(), 1u) << c.line;
    EXPECT_EQ(records_[0].verdict, audit::Verdict::kDeny) << c.line;
  }
  EXPECT_FALSE(relay.FromClient("  \r").reply) << "a blank line is ignored";
}

TEST_F(McpRelayTest, OtherMessagesPassBothWays) {
  McpRelay& relay = Relay();
  const std::string notification = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";
  EXPECT_EQ(Json::parse(*relay.FromClient(notification).forward), Json::parse(notification));
  const std::string answer = R"({"jsonrpc":"2.0","id":0,"result":{"roots":[]}})";
  EXPECT_EQ(*relay.FromClient(answer).forward, answer) << "the client's answer to the server";
  const std::string log = R"({"jsonrpc":"2.0","method":"notifications/message","params":{}})";
  EXPECT_EQ(*relay.FromServer(log).forward, log);
  EXPECT_TRUE(records_.empty()) << "only tools are recorded";
}

TEST_F(McpRelayTest, MalformedServerOutputIsDroppedAndRecorded) {
  McpRelay& relay = Relay();
  for (const std::string line : {"Server started on stdio", "[1,2]", "42"}) {
    records_.clear();
    RelayAction action = relay.FromServer(line);
    EXPECT_FALSE(action.forward) << line;
    EXPECT_FALSE(action.reply) << line;
    EXPECT_THAT(action.note, HasSubstr("dropped")) << line;
    ASSERT_EQ(records_.size(), 1u) << line;
    EXPECT_EQ(records_[0].rule, "mcp.malformed");
  }
  // A tools/list answer without a tools array is turned into an error, not relayed.
  relay.FromClient(Request(9, "tools/list", Json::object()));
  RelayAction odd =
      relay.FromServer(R"({"jsonrpc":"2.0","id":9,"result":{"tools":{"write_file":{}}}})");
  ASSERT_TRUE(odd.forward);
  Json reply = Json::parse(*odd.forward);
  EXPECT_EQ(reply["id"], 9);
  EXPECT_EQ(reply["error"]["code"], kJsonRpcInternalError);
}

TEST_F(McpRelayTest, OversizedMessagesAreRefusedEitherWay) {
  McpRelay& relay = Relay(2048);
  RelayAction client = relay.ClientOversized(5000);
  ASSERT_TRUE(client.reply);
  EXPECT_THAT(Json::parse(*client.reply)["error"]["message"].get<std::string>(),
              HasSubstr("more than 2048 bytes"));
  RelayAction server = relay.ServerOversized(5000);
  EXPECT_FALSE(server.forward);
  EXPECT_THAT(server.note, HasSubstr("more than 2048 bytes"));
  ASSERT_EQ(records_.size(), 2u);
  EXPECT_EQ(records_[0].rule, "mcp.size");
  EXPECT_EQ(records_[0].details["bytes"], 5000);
}

TEST_F(McpRelayTest, NoRecordNoAction) {
  record_ok_ = false;
  McpRelay& relay = Relay();
  RelayAction action =
      relay.FromClient(Request(1, "tools/call", {{"name", "read_file"}, {"arguments", {}}}));
  EXPECT_FALSE(action.forward) << "an allowed call that could not be recorded does not go on";
  ASSERT_TRUE(action.reply);
  EXPECT_EQ(Json::parse(*action.reply)["error"]["code"], kMcpAuditFailed);
  EXPECT_TRUE(action.end_session);
  EXPECT_TRUE(relay.audit_failed());
}

// The relay over pipes: a fake client and server, each message on its own line.
TEST_F(McpRelayTest, RelaysOverPipesAndSkipsAnOversizedLine) {
  McpRelay& relay = Relay(4096);
  int c2r[2], r2c[2], r2s[2], s2r[2];
  ASSERT_EQ(::pipe(c2r), 0);
  ASSERT_EQ(::pipe(r2c), 0);
  ASSERT_EQ(::pipe(r2s), 0);
  ASSERT_EQ(::pipe(s2r), 0);
  bool ok = false;
  std::thread relay_thread([&] { ok = RunMcpRelay(relay, c2r[0], r2c[1], r2s[1], s2r[0]); });

  const std::string input = Request(1, "tools/list", Json::object()) + "\n" +
                            std::string(10000, 'x') + "\n" +
                            Request(2, "tools/call", {{"name", "write_file"}}) + "\n" +
                            Request(3, "tools/call", {{"name", "read_file"}}) + "\n";
  ASSERT_EQ(::write(c2r[1], input.data(), input.size()), ssize_t(input.size()));
  ::close(c2r[1]);
  // The server reads what was forwarded until the relay closes its input.
  std::string to_server;
  char buffer[4096];
  for (ssize_t n; (n = ::read(r2s[0], buffer, sizeof buffer)) > 0;) to_server.append(buffer, n);
  const std::string output = ListResult(1, {"read_file", "write_file"}) + "\n";
  ASSERT_EQ(::write(s2r[1], output.data(), output.size()), ssize_t(output.size()));
  ::close(s2r[1]);
  relay_thread.join();
  EXPECT_TRUE(ok);
  ::close(r2c[1]);
  std::string to_client;
  for (ssize_t n; (n = ::read(r2c[0], buffer, sizeof buffer)) > 0;) to_client.append(buffer, n);

  EXPECT_THAT(to_server, HasSubstr("\"tools/list\""));
  EXPECT_THAT(to_server, HasSubstr("read_file"));
  EXPECT_THAT(to_server, ::testing::Not(HasSubstr("write_file"))) << to_server;
  EXPECT_EQ(std::count(to_server.begin(), to_server.end(), '\n'), 2);
  // To the client: the oversized line's error, the refusal of 2, the filtered list.
  std::vector<Json> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = to_client.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(Json::parse(to_client.substr(start, end - start)));
  ASSERT_EQ(lines.size(), 3u) << to_client;
  EXPECT_TRUE(lines[0]["id"].is_null());
  EXPECT_EQ(lines[1]["id"], 2);
  EXPECT_EQ(lines[1]["error"]["code"], kMcpRefusedByPolicy);
  EXPECT_EQ(lines[2]["result"]["tools"].size(), 1u);
  for (int fd : {c2r[0], r2c[0], r2s[0], s2r[0]}) ::close(fd);
}

}  // namespace
}  // namespace tollgate
