// policy/mcp_rules: which MCP tools a profile allows, which arguments are paths, and the path
// check against the mount plan (docs/MCP.md).
#include "policy/mcp_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tollgate::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using Json = nlohmann::json;

McpToolPattern Pattern(const std::string& glob) {
  return McpToolPattern{glob, SourceRef{"p.json", 7, 3}};
}

// The workspace /work/p writable with its .env hidden and .git/hooks protected, /usr read-only,
// a home at /home/u.
SandboxPlan Plan() {
  SandboxPlan plan;
  plan.profile_name = "p";
  plan.cwd = "/work/p";
  plan.env.vars = {{"HOME", "/home/u"}, {"PATH", "/usr/bin"}};
  auto& ops = plan.mounts.ops;
  ops.push_back(
      {.kind = MountOpKind::kBind, .source = "/usr", .target = "/usr", .why = "read /usr"});
  ops.push_back(
      {.kind = MountOpKind::kTmpfs, .target = "/home/u", .writable = true, .why = "home"});
  ops.push_back({.kind = MountOpKind::kBind,
                 .source = "/work/p",
                 .target = "/work/p",
                 .writable = true,
                 .why = "write {workspace}"});
  ops.push_back({.kind = MountOpKind::kProtect,
                 .source = "/work/p/.git/hooks",
                 .target = "/work/p/.git/hooks",
                 .why = "protect hooks"});
  ops.push_back({.kind = MountOpKind::kHide, .target = "/work/p/.env", .why = "hide .env"});
  return plan;
}

std::vector<std::string> Found(const std::vector<McpPathArgument>& paths) {
  std::vector<std::string> out;
  for (const McpPathArgument& p : paths) out.push_back(p.argument + "=" + p.path);
  return out;
}

TEST(McpTool, WithoutASectionEveryToolIsAllowedByTheDefault) {
  McpDecision d = DecideMcpTool(McpSpec{}, "anything");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rule, "mcp.default");
}

TEST(McpTool, DenyWinsOverAllowAndNamesItsPattern) {
  McpSpec spec;
  spec.allow = {Pattern("*_file")};
  spec.deny = {Pattern("write_*")};
  McpDecision d = DecideMcpTool(spec, "write_file");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "mcp.tools.deny (p.json:7:3)");
  EXPECT_THAT(d.reason, HasSubstr("write_file is denied by the profile (pattern write_*)"));
  McpDecision read = DecideMcpTool(spec, "read_file");
  EXPECT_TRUE(read.allowed);
  EXPECT_EQ(read.rule, "mcp.tools.allow (p.json:7:3)");
}

TEST(McpTool, DefaultDenyAllowsOnlyListedToolsAndSaysWhy) {
  McpSpec spec;
  spec.default_allow = false;
  spec.allow = {Pattern("read_*"), Pattern("list_directory")};
  EXPECT_TRUE(DecideMcpTool(spec, "read_text_file").allowed);
  EXPECT_TRUE(DecideMcpTool(spec, "list_directory").allowed);
  McpDecision d = DecideMcpTool(spec, "list_directory_with_sizes");
  EXPECT_FALSE(d.allowed) << "globs match the whole name";
  EXPECT_EQ(d.rule, "mcp.default");
  EXPECT_THAT(d.reason, HasSubstr("not on the profile's mcp.tools.allow list"));
  spec.why = "only reading is allowed here";
  EXPECT_THAT(DecideMcpTool(spec, "write_file").reason,
              HasSubstr("write_file: only reading is allowed here"));
}

TEST(McpTool, NamesAreCaseSensitive) {
  McpSpec spec;
  spec.deny = {Pattern("write_file")};
  EXPECT_FALSE(DecideMcpTool(spec, "write_file").allowed);
  EXPECT_TRUE(DecideMcpTool(spec, "Write_File").allowed)
      << "MCP tool names are case-sensitive: a server that offers Write_File offers another tool";
}

TEST(McpWriteTools, BuiltinsAndTheProfilesOwn) {
  McpSpec spec;
  for (const char* tool : {"write_file", "edit_file", "create_directory", "move_file"})
    EXPECT_TRUE(IsMcpWriteTool(spec, tool)) << tool;
  for (const char* tool : {"read_text_file", "list_directory", "search_files", "get_file_info"})
    EXPECT_FALSE(IsMcpWriteTool(spec, tool)) << tool;
  EXPECT_FALSE(IsMcpWriteTool(spec, "notebook_store"));
  spec.write_tools = {Pattern("notebook_*")};
  EXPECT_TRUE(IsMcpWriteTool(spec, "notebook_store"));
}

TEST(McpPathArguments, KeysNamedLikePathsAtAnyDepthAndInArrays) {
  Json arguments = {{"path", "src/a.c"},
                    {"paths", {"/etc/hosts", "b.txt"}},
                    {"options", {{"Destination", "/tmp/x"}, {"depth", 3}}},
                    {"file-path", "~/notes"},
                    {"head", 10}};
  std::vector<McpPathArgument> found =
      FindMcpPathArguments(McpSpec{}, "read_x", arguments, McpContextFor(Plan()));
  EXPECT_THAT(
      Found(found),
      UnorderedElementsAre("path=/work/p/src/a.c", "paths/0=/etc/hosts", "paths/1=/work/p/b.txt",
                           "options/Destination=/tmp/x", "file-path=/home/u/notes"));
  for (const McpPathArgument& p : found) EXPECT_EQ(p.access, FileAccess::kRead);
}

TEST(McpPathArguments, TopLevelValuesThatLookLikePathsButNotContent) {
  Json arguments = {{"notebook", "/work/p/n.ipynb"},
                    {"uri", "file:///home/u/doc.md"},
                    {"content", "/* a C comment, not a path */"},
                    {"newText", "/etc/passwd"},
                    {"glob", "/work/p/*.c"},
                    {"note", "/two\nlines"},
                    {"nested", {{"deep", "/etc/shadow"}}}};
  std::vector<McpPathArgument> found =
      FindMcpPathArguments(McpSpec{}, "t", arguments, McpContextFor(Plan()));
  EXPECT_THAT(Found(found), UnorderedElementsAre("notebook=/work/p/n.ipynb", "uri=/home/u/doc.md"));
}

TEST(McpPathArguments, TheProfileNamesMoreArgumentsAndDotsAreResolved) {
  McpSpec spec;
  spec.path_arguments = {"sheet_name"};
  Json arguments = {{"SheetName", "data/../../../etc/x"}, {"path", "/work/p/./a//b"}};
  EXPECT_THAT(Found(FindMcpPathArguments(spec, "t", arguments, McpContextFor(Plan()))),
              UnorderedElementsAre("SheetName=/etc/x", "path=/work/p/a/b"));
}

TEST(McpCall, AnAllowedReadInTheWorkspace) {
  McpDecision d = DecideMcpCall(McpSpec{}, Plan(), "read_text_file", {{"path", "src/main.c"}});
  EXPECT_TRUE(d.allowed) << d.reason;
  ASSERT_EQ(d.paths.size(), 1u);
  EXPECT_EQ(d.paths[0].path, "/work/p/src/main.c");
}

TEST(McpCall, AReadOutsideTheViewIsRefusedWithTheArgumentAndPath) {
  McpDecision d = DecideMcpCall(McpSpec{}, Plan(), "read_text_file", {{"path", "/var/secret/key"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "filesystem: not in the view");
  EXPECT_THAT(d.reason, HasSubstr("argument path (read /var/secret/key)"));
}

TEST(McpCall, AHiddenPathIsRefusedEvenThroughDotDot) {
  McpDecision d = DecideMcpCall(McpSpec{}, Plan(), "read_text_file", {{"path", "src/../.env"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "hide .env");
}

TEST(McpCall, WriteToolsNeedWritablePathsForEveryPathArgument) {
  EXPECT_TRUE(
      DecideMcpCall(McpSpec{}, Plan(), "create_directory", {{"path", "/work/p/new"}}).allowed);
  McpDecision usr =
      DecideMcpCall(McpSpec{}, Plan(), "write_file", {{"path", "/usr/bin/evil"}, {"content", "x"}});
  EXPECT_FALSE(usr.allowed);
  EXPECT_THAT(usr.reason, HasSubstr("(write /usr/bin/evil)"));
  EXPECT_THAT(usr.reason, HasSubstr("read-only"));
  McpDecision hooks =
      DecideMcpCall(McpSpec{}, Plan(), "move_file",
                    {{"source", "/work/p/a"}, {"destination", ".git/hooks/pre-commit"}});
  EXPECT_FALSE(hooks.allowed);
  EXPECT_EQ(hooks.rule, "protect hooks");
  // The same path read by a read tool is fine.
  EXPECT_TRUE(
      DecideMcpCall(McpSpec{}, Plan(), "read_text_file", {{"path", ".git/hooks/pre-commit"}})
          .allowed);
}

TEST(McpCall, TheToolIsDecidedBeforeItsPaths) {
  McpSpec spec;
  spec.deny = {Pattern("read_*")};
  McpDecision d = DecideMcpCall(spec, Plan(), "read_text_file", {{"path", "/var/x"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "mcp.tools.deny (p.json:7:3)");
}

TEST(McpCall, MalformedArgumentsFailClosed) {
  EXPECT_FALSE(DecideMcpCall(McpSpec{}, Plan(), "t", Json::array({"/etc"})).allowed)
      << "arguments must be an object";
  EXPECT_TRUE(DecideMcpCall(McpSpec{}, Plan(), "t", Json()).allowed) << "no arguments at all";
  EXPECT_FALSE(DecideMcpCall(McpSpec{}, Plan(), "t", {{"path", std::string("a\0b", 3)}}).allowed)
      << "a NUL byte";
  Json many = Json::array();
  for (std::size_t i = 0; i <= kMaxMcpPathArguments; ++i) many.push_back("f" + std::to_string(i));
  McpDecision d = DecideMcpCall(McpSpec{}, Plan(), "t", {{"paths", many}});
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason, HasSubstr("more than 256 path arguments"));
  Json deep = {{"path", "/work/p/x"}};
  for (int i = 0; i < 20; ++i) deep = {{"options", deep}};
  EXPECT_FALSE(DecideMcpCall(McpSpec{}, Plan(), "t", deep).allowed) << "nested too deep to search";
}

}  // namespace
}  // namespace tollgate::policy
