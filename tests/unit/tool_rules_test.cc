// Tests of the mediated-tool engine (policy/tool_rules.h) and of the loader's "tools" and
// "examples" sections, on small inline profiles: argv patterns, the sub-command grammar, option,
// environment and path conditions, strictest wins, the default, host rules, every malformed field
// with its line:column, and examples checked at load.
#include "policy/tool_rules.h"
#include "tests/unit/profile_test_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/plan_compiler.h"
#include "policy/profile_loader.h"

namespace tollgate::policy {
namespace {

using test_support::Describe;
using test_support::InMemoryFiles;

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = text.find_first_not_of(' ', i);
    if (start == std::string::npos) break;
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    words.push_back(text.substr(start, end - start));
    i = end;
  }
  return words;
}

// A profile whose "tools" section is line 4, followed by optional examples.
std::string ToolsProfile(const std::string& tools, const std::string& examples = "") {
  std::string text = "{\n  \"name\": \"t\",\n  \"description\": \"d\",\n  \"tools\": " + tools;
  if (!examples.empty()) text += ",\n  \"examples\": " + examples;
  return text + "\n}\n";
}

LoadResult LoadText(const std::string& text, const InMemoryFiles& files = InMemoryFiles()) {
  return ProfileLoader({"/profiles"}, files.Reader(), files.Exists())
      .LoadText("/profiles/t.json", text);
}

// Loads `tools` and returns the tool `name` with its placeholders expanded.
std::optional<ToolSpec> LoadTool(const std::string& tools, const std::string& name) {
  LoadResult result = LoadText(ToolsProfile(tools));
  if (!result.ok()) {
    ADD_FAILURE() << Describe(result.errors);
    return std::nullopt;
  }
  auto found = result.profile->tools.find(name);
  if (found == result.profile->tools.end()) {
    ADD_FAILURE() << "no tool " << name;
    return std::nullopt;
  }
  return ExpandToolSpec(found->second, ExampleContext());
}

// "git -C /x push" as the shim would report it: argv[0]'s basename, the rest as arguments.
ToolCall Call(const std::string& text, const std::string& cwd = "/workspace",
              std::vector<std::string> env = {}) {
  std::vector<std::string> words = Words(text);
  ToolCall call;
  call.invoked_as = words.empty() ? "" : words[0].substr(words[0].rfind('/') + 1);
  if (!words.empty()) call.args.assign(words.begin() + 1, words.end());
  call.cwd = cwd;
  call.env = std::move(env);
  return call;
}

// --- small functions ---

TEST(ToolRulesVerdictTest, NamesParseAndOrderByStrictness) {
  EXPECT_STREQ(ToolVerdictName(ToolVerdict::kAllow), "allow");
  EXPECT_STREQ(ToolVerdictName(ToolVerdict::kAsk), "ask");
  EXPECT_STREQ(ToolVerdictName(ToolVerdict::kDeny), "deny");
  EXPECT_EQ(ParseToolVerdict("allow"), ToolVerdict::kAllow);
  EXPECT_EQ(ParseToolVerdict("ask"), ToolVerdict::kAsk);
  EXPECT_EQ(ParseToolVerdict("deny"), ToolVerdict::kDeny);
  EXPECT_EQ(ParseToolVerdict("Deny"), std::nullopt);
  EXPECT_EQ(ParseToolVerdict(""), std::nullopt);
  EXPECT_LT(ToolVerdict::kAllow, ToolVerdict::kAsk);
  EXPECT_LT(ToolVerdict::kAsk, ToolVerdict::kDeny);
}

struct GlobCase {
  const char* pattern;
  const char* text;
  bool matches;
};

class ToolRulesGlobTest : public ::testing::TestWithParam<GlobCase> {};

TEST_P(ToolRulesGlobTest, MatchesLikeFnmatchWithoutPathname) {
  const GlobCase& c = GetParam();
  EXPECT_EQ(GlobMatches(c.pattern, c.text), c.matches) << c.pattern << " vs " << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesPatterns, ToolRulesGlobTest,
    ::testing::Values(GlobCase{"push", "push", true}, GlobCase{"push", "pushx", false},
                      GlobCase{"push", "Push", false}, GlobCase{"", "", true},
                      GlobCase{"p*", "pull", true}, GlobCase{"p*", "p", true},
                      GlobCase{"*", "/a/b/c", true},  // '*' crosses '/'
                      GlobCase{"a*c", "a/b/c", true}, GlobCase{"?ull", "pull", true},
                      GlobCase{"?ull", "ull", false}, GlobCase{"[a-c]at", "bat", true},
                      GlobCase{"[a-c]at", "rat", false}, GlobCase{"[!./-]*", "lodash", true},
                      GlobCase{"[!./-]*", "./lib", false}, GlobCase{"[!./-]*", "-D", false},
                      GlobCase{"--exec*", "--exec=x", true}, GlobCase{"\\*", "*", true},
                      GlobCase{"\\*", "x", false}, GlobCase{".git", ".git", true}));

struct LexicalCase {
  const char* path;
  const char* cwd;
  const char* absolute;
};

class ToolRulesLexicalTest : public ::testing::TestWithParam<LexicalCase> {};

TEST_P(ToolRulesLexicalTest, AbsoluteAndNormalWithoutTheFilesystem) {
  const LexicalCase& c = GetParam();
  EXPECT_EQ(AbsoluteLexical(c.path, c.cwd), c.absolute) << c.path << " in " << c.cwd;
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesPaths, ToolRulesLexicalTest,
    ::testing::Values(LexicalCase{"a", "/w", "/w/a"}, LexicalCase{"./a/", "/w", "/w/a"},
                      LexicalCase{".", "/w", "/w"}, LexicalCase{"", "/w", "/w"},
                      LexicalCase{"..", "/w", "/"}, LexicalCase{"../../..", "/w", "/"},
                      LexicalCase{"a/../../b", "/w/x", "/w/b"},
                      LexicalCase{"/a/./b/", "/w", "/a/b"}, LexicalCase{"//w//a", "/", "/w/a"},
                      LexicalCase{"///", "/w", "/"}, LexicalCase{"/w/../etc", "/w", "/etc"},
                      LexicalCase{"~", "/w", "/w/~"}));

// --- argv patterns ---

struct PatternCase {
  const char* pattern;  // the rule's "args"
  const char* args;     // the call's arguments
  bool matches;
};

class ToolRulesPatternTest : public ::testing::TestWithParam<PatternCase> {};

TEST_P(ToolRulesPatternTest, MatchesFromTheFirstArgument) {
  const PatternCase& c = GetParam();
  std::optional<ToolSpec> tool = LoadTool(
      std::string(R"({"t": {"paths": ["/bin/t"], "default": "allow", "why": "no rule matched", )") +
          R"("rules": [{"id": "r", "verdict": "deny", "why": "matched", "args": ")" + c.pattern +
          R"("}]}})",
      "t");
  ASSERT_TRUE(tool);
  ToolDecision decision = DecideToolCall(*tool, Call(std::string("t ") + c.args));
  EXPECT_EQ(decision.rule, c.matches ? "r" : "default")
      << "pattern \"" << c.pattern << "\" on \"" << c.args << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesSemantics, ToolRulesPatternTest,
    ::testing::Values(
        // Literals: equal tokens, equal count.
        PatternCase{"push", "push", true}, PatternCase{"push", "push origin", false},
        PatternCase{"push", "", false}, PatternCase{"push", "pull", false},
        PatternCase{"push origin", "push origin", true},
        PatternCase{"push origin", "push main", false},
        // "..." takes any further tokens, none included; it may stand alone.
        PatternCase{"push ...", "push", true}, PatternCase{"push ...", "push origin main", true},
        PatternCase{"push ...", "pull origin", false}, PatternCase{"...", "", true},
        PatternCase{"...", "a b c", true}, PatternCase{"push origin ...", "push", false},
        // The empty pattern matches a call with no arguments only.
        PatternCase{"", "", true}, PatternCase{"", "status", false},
        // Alternatives, each a glob.
        PatternCase{"push|fetch", "fetch", true}, PatternCase{"push|fetch", "pushfetch", false},
        PatternCase{"x|p* origin ...", "pull origin main", true},
        PatternCase{"p* -m *", "put -m msg", true}, PatternCase{"p* -m *", "put -m", false},
        PatternCase{"p* -m *", "put -m a b", false}, PatternCase{"*", "/etc/passwd", true},
        PatternCase{"-* *", "-R dir", true}, PatternCase{"[0-7][0-7][0-7]", "755", true},
        PatternCase{"[0-7][0-7][0-7]", "7555", false},
        // A pattern is positional: a token later in argv does not match an earlier position.
        PatternCase{"push ...", "-v push", false}));

TEST(ToolRulesPatternArrayTest, ArrayTokensMayContainSpaces) {
  std::optional<ToolSpec> tool = LoadTool(
      R"({"t": {"paths": ["/bin/t"], "default": "deny", "why": "w", "rules": [)"
      R"({"id": "msg", "verdict": "allow", "why": "w", "args": ["commit", "-m", "a message"]}]}})",
      "t");
  ASSERT_TRUE(tool);
  ToolCall call = Call("t");
  call.args = {"commit", "-m", "a message"};
  EXPECT_EQ(DecideToolCall(*tool, call).rule, "msg");
  call.args = {"commit", "-m", "a", "message"};
  EXPECT_EQ(DecideToolCall(*tool, call).rule, "default");
}

// --- the sub-command grammar ---

constexpr const char* kGrammarTool = R"({"g": {
  "paths": ["/bin/g"], "default": "deny", "why": "not listed",
  "subcommand": {"flags": ["-p", "--bare"], "value_options": ["-C", "--git-dir"],
                 "dashed_prefix": "g-"},
  "rules": [
    {"id": "none", "verdict": "allow", "args": "", "why": "no sub-command"},
    {"id": "status", "verdict": "allow", "args": "status ...", "why": "reads"},
    {"id": "push", "verdict": "deny", "args": "push ...", "why": "publishes"}]}})";

struct GrammarCase {
  const char* call;
  ToolVerdict verdict;
  const char* rule;
  const char* subcommand;
};

class ToolRulesGrammarTest : public ::testing::TestWithParam<GrammarCase> {};

TEST_P(ToolRulesGrammarTest, FindsTheSubcommandBehindGlobalOptions) {
  const GrammarCase& c = GetParam();
  std::optional<ToolSpec> tool = LoadTool(kGrammarTool, "g");
  ASSERT_TRUE(tool);
  ToolDecision decision = DecideToolCall(*tool, Call(c.call));
  EXPECT_EQ(decision.verdict, c.verdict) << c.call;
  EXPECT_EQ(decision.rule, c.rule) << c.call;
  EXPECT_EQ(decision.subcommand, c.subcommand) << c.call;
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesCalls, ToolRulesGrammarTest,
    ::testing::Values(
        GrammarCase{"g status", ToolVerdict::kAllow, "status", "status"},
        GrammarCase{"g -p status", ToolVerdict::kAllow, "status", "status"},
        GrammarCase{"g --bare -p status -x", ToolVerdict::kAllow, "status", "status"},
        // A value option takes the next token, or its "=value" in the same one.
        GrammarCase{"g -C /x push", ToolVerdict::kDeny, "push", "push"},
        GrammarCase{"g -C push status", ToolVerdict::kAllow, "status", "status"},
        GrammarCase{"g --git-dir /x push", ToolVerdict::kDeny, "push", "push"},
        GrammarCase{"g --git-dir=/x push origin", ToolVerdict::kDeny, "push", "push"},
        GrammarCase{"g -C /a -p --git-dir=/b push", ToolVerdict::kDeny, "push", "push"},
        // After "--" the next token is the sub-command, whatever it looks like.
        GrammarCase{"g -- push", ToolVerdict::kDeny, "push", "push"},
        GrammarCase{"g -p -- status", ToolVerdict::kAllow, "status", "status"},
        // An option the grammar does not know: the sub-command cannot be known.
        GrammarCase{"g --unknown status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -p -c x=y status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -Cdir status", ToolVerdict::kDeny, "grammar", ""},     // no attached values
        GrammarCase{"g -C=dir status", ToolVerdict::kDeny, "grammar", ""},    // "=" is long-only
        GrammarCase{"g --bare=1 status", ToolVerdict::kDeny, "grammar", ""},  // a flag takes none
        GrammarCase{"g --git-dirx=/a status", ToolVerdict::kDeny, "grammar", ""},
        // Options after the sub-command are the sub-command's own.
        GrammarCase{"g status --unknown", ToolVerdict::kAllow, "status", "status"},
        // No sub-command: only global options, or a value option missing its value.
        GrammarCase{"g", ToolVerdict::kAllow, "none", ""},
        GrammarCase{"g -p --bare", ToolVerdict::kAllow, "none", ""},
        GrammarCase{"g -C", ToolVerdict::kAllow, "none", ""},
        GrammarCase{"g -C /x", ToolVerdict::kAllow, "none", ""},
        // A word no rule names: the default.
        GrammarCase{"g pushx", ToolVerdict::kDeny, "default", "pushx"},
        // Dashed names: the rest of the name is the sub-command.
        GrammarCase{"g-push origin", ToolVerdict::kDeny, "push", "push"},
        GrammarCase{"/usr/lib/g-core/g-status -s", ToolVerdict::kAllow, "status", "status"},
        GrammarCase{"g-status -C /x", ToolVerdict::kAllow, "status", "status"}));

TEST(ToolRulesGrammarTest, UnknownOptionReasonNamesTheOptionAndTheTool) {
  std::optional<ToolSpec> tool = LoadTool(kGrammarTool, "g");
  ASSERT_TRUE(tool);
  ToolDecision decision = DecideToolCall(*tool, Call("g -C /x --evil push"));
  EXPECT_EQ(decision.rule, "grammar");
  EXPECT_THAT(decision.reason, HasSubstr("--evil"));
  EXPECT_THAT(decision.reason, HasSubstr("grammar for g"));
  EXPECT_FALSE(decision.run_on_host);
}

TEST(ToolRulesGrammarTest, ArgvIsTheCallAsTheProgramWillSeeIt) {
  std::optional<ToolSpec> tool = LoadTool(kGrammarTool, "g");
  ASSERT_TRUE(tool);
  EXPECT_THAT(DecideToolCall(*tool, Call("g -C /x status")).argv,
              ElementsAre("g", "-C", "/x", "status"));
  // A dashed start is spelled out, so a multi-call program sees the decided sub-command.
  EXPECT_THAT(DecideToolCall(*tool, Call("/usr/lib/g-core/g-push origin main")).argv,
              ElementsAre("g", "push", "origin", "main"));
  EXPECT_THAT(DecideToolCall(*tool, Call("g-status")).argv, ElementsAre("g", "status"));
  // argv[0] is always the tool's own name, whatever path or name it was started as.
  EXPECT_THAT(DecideToolCall(*tool, Call("/opt/bin/g status")).argv, ElementsAre("g", "status"));
  // A grammar denial still reports the call it judged.
  EXPECT_THAT(DecideToolCall(*tool, Call("g --evil push")).argv,
              ElementsAre("g", "--evil", "push"));
}

TEST(ToolRulesGrammarTest, ToolWithoutGrammarMatchesFromTheFirstArgument) {
  std::optional<ToolSpec> tool =
      LoadTool(R"({"t": {"paths": ["/bin/t"], "default": "allow", "why": "w", "rules": [)"
               R"({"id": "push", "verdict": "deny", "why": "w", "args": "push ..."}]}})",
               "t");
  ASSERT_TRUE(tool);
  EXPECT_EQ(DecideToolCall(*tool, Call("t push")).rule, "push");
  EXPECT_EQ(DecideToolCall(*tool, Call("t -C /x push")).rule, "default");
  EXPECT_EQ(DecideToolCall(*tool, Call("t push")).subcommand, "");
  // Without a grammar no dashed name is spelled out: argv[0] is only replaced by the name.
  EXPECT_THAT(DecideToolCall(*tool, Call("t-push x")).argv, ElementsAre("t", "x"));
}

// --- options taken only with a listed value (checked_values) ---

struct SettingCase {
  const char* pattern;
  const char* setting;
  bool matches;
};

class ToolRulesSettingTest : public ::testing::TestWithParam<SettingCase> {};

TEST_P(ToolRulesSettingTest, KeysAsGitReadsThemValuesExactly) {
  const SettingCase& c = GetParam();
  EXPECT_EQ(SettingMatches(c.pattern, c.setting), c.matches) << c.pattern << " vs " << c.setting;
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesSettings, ToolRulesSettingTest,
    ::testing::Values(
        SettingCase{"core.hookspath=/dev/null", "core.hookspath=/dev/null", true},
        // git folds the section and the variable name: every spelling is the same setting.
        SettingCase{"core.hookspath=/dev/null", "core.hooksPath=/dev/null", true},
        SettingCase{"core.hookspath=/dev/null", "CORE.HOOKSPATH=/dev/null", true},
        // The value is compared exactly.
        SettingCase{"core.hookspath=/dev/null", "core.hooksPath=/DEV/NULL", false},
        SettingCase{"core.hookspath=/dev/null", "core.hooksPath=/dev/null/", false},
        SettingCase{"core.hookspath=/dev/null", "core.hooksPath=/tmp/h", false},
        SettingCase{"core.fsmonitor=", "core.fsmonitor=", true},
        SettingCase{"core.fsmonitor=", "core.fsmonitor=true", false},
        // No '=' is git's "true", another setting than an empty value.
        SettingCase{"core.fsmonitor=", "core.fsmonitor", false},
        SettingCase{"x.flag", "x.flag", true}, SettingCase{"x.flag", "x.flag=", false},
        // The subsection keeps its case, as it does in git.
        SettingCase{"hook.pre-commit.enabled=false", "hook.Pre-Commit.enabled=false", false},
        SettingCase{"hook.pre-commit.enabled=false", "HOOK.pre-commit.Enabled=false", true},
        SettingCase{"hook.*.enabled=false", "hook.Pre-Commit.ENABLED=false", true},
        SettingCase{"hook.*.enabled=false", "hook.pre-commit.enabled=true", false},
        // Split at the first '=' (git's split): a '*' in the key never reaches into the value.
        SettingCase{"hook.*.enabled=false", "hook.x=y.enabled=false", false},
        SettingCase{"a.b=*", "a.b=c=d", true}, SettingCase{"a.b=c", "a.b=c=d", false},
        SettingCase{"a.b=c", " a.b=c", false},  // what git would trim is not on a list
        SettingCase{"core.pager=less", "core.pagerx=less", false}));

TEST(ToolRulesSettingTest, CanonicalKeysFoldSectionAndNameOnly) {
  EXPECT_EQ(CanonicalSettingKey("Core.HooksPath"), "core.hookspath");
  EXPECT_EQ(CanonicalSettingKey("URL.HTTPS://Example.Com/.InsteadOf"),
            "url.HTTPS://Example.Com/.insteadof");
  EXPECT_EQ(CanonicalSettingKey("NoSection"), "nosection");
  EXPECT_EQ(CanonicalSettingKey(""), "");
}

constexpr const char* kCheckedTool = R"({"g": {
  "paths": ["/bin/g"], "default": "deny", "why": "not listed",
  "subcommand": {"flags": ["-p"], "value_options": ["-C", "--config-env"],
                 "checked_values": {
                   "-c": {"values": ["core.hookspath=/dev/null", "core.fsmonitor=",
                                     "hook.*.enabled=false", "x.flag"],
                          "why": "only settings that switch things off"},
                   "--set": {"values": ["a.b=1"], "why": "only a.b=1"}}},
  "rules": [
    {"id": "none", "verdict": "allow", "args": "", "why": "no sub-command"},
    {"id": "status", "verdict": "allow", "args": "status ...", "why": "reads"},
    {"id": "config-env", "verdict": "deny", "options": ["--config-env", "--config-env=*"],
     "why": "configuration from the environment"},
    {"id": "push", "verdict": "deny", "args": "push ...", "why": "publishes"}]}})";

class ToolRulesCheckedTest : public ::testing::TestWithParam<GrammarCase> {};

TEST_P(ToolRulesCheckedTest, ACheckedOptionIsTakenOnlyWithAListedValue) {
  const GrammarCase& c = GetParam();
  std::optional<ToolSpec> tool = LoadTool(kCheckedTool, "g");
  ASSERT_TRUE(tool);
  ToolDecision decision = DecideToolCall(*tool, Call(c.call));
  EXPECT_EQ(decision.verdict, c.verdict) << c.call << ": " << decision.reason;
  EXPECT_EQ(decision.rule, c.rule) << c.call;
  EXPECT_EQ(decision.subcommand, c.subcommand) << c.call;
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesCalls, ToolRulesCheckedTest,
    ::testing::Values(
        // A listed value: the option and its value are passed over, the sub-command found.
        GrammarCase{"g -c core.hookspath=/dev/null status", ToolVerdict::kAllow, "status",
                    "status"},
        GrammarCase{"g -c core.hooksPath=/dev/null -p -c core.fsmonitor= status",
                    ToolVerdict::kAllow, "status", "status"},
        GrammarCase{"g -c Core.HooksPath=/dev/null status", ToolVerdict::kAllow, "status",
                    "status"},
        GrammarCase{"g -c hook.pre-commit.enabled=false -c hook.Post-Merge.enabled=false status",
                    ToolVerdict::kAllow, "status", "status"},
        GrammarCase{"g -c x.flag status", ToolVerdict::kAllow, "status", "status"},
        GrammarCase{"g -C /x -c core.fsmonitor= push", ToolVerdict::kDeny, "push", "push"},
        GrammarCase{"g -c core.fsmonitor= -- push", ToolVerdict::kDeny, "push", "push"},
        GrammarCase{"g -c core.fsmonitor=", ToolVerdict::kAllow, "none", ""},
        // A long checked option takes its value as the next token or after '='.
        GrammarCase{"g --set a.b=1 status", ToolVerdict::kAllow, "status", "status"},
        GrammarCase{"g --set=A.b=1 status", ToolVerdict::kAllow, "status", "status"},
        GrammarCase{"g --set=a.b=2 status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g --set a.b=2 status", ToolVerdict::kDeny, "grammar", ""},
        // Any value off the list: the grammar refuses the call.
        GrammarCase{"g -c core.pager=less status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -c alias.x=push x", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -c core.hookspath=/tmp/h status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -c core.fsmonitor=true status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -c core.fsmonitor status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -c hook.pre-commit.enabled=true status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -c hook.x=y.enabled=false status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -c core.fsmonitor= -c core.sshcommand=x status", ToolVerdict::kDeny,
                    "grammar", ""},
        GrammarCase{"g -c -- status", ToolVerdict::kDeny, "grammar", ""},
        // The value is the next token even when it looks like an option: never skipped.
        GrammarCase{"g -c -p status", ToolVerdict::kDeny, "grammar", ""},
        // No value at all: refused (git itself stops there).
        GrammarCase{"g -c", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -p -c", ToolVerdict::kDeny, "grammar", ""},
        // The glued short form is not git's: an unknown option, whatever its value.
        GrammarCase{"g -ccore.fsmonitor= status", ToolVerdict::kDeny, "grammar", ""},
        GrammarCase{"g -c=core.fsmonitor= status", ToolVerdict::kDeny, "grammar", ""},
        // --config-env stays a plain value option, and its own rule refuses it.
        GrammarCase{"g --config-env=core.hookspath=X status", ToolVerdict::kDeny, "config-env",
                    "status"},
        GrammarCase{"g --config-env core.fsmonitor=X status", ToolVerdict::kDeny, "config-env",
                    "status"},
        // After the sub-command, -c is the sub-command's own.
        GrammarCase{"g status -c core.pager=less", ToolVerdict::kAllow, "status", "status"}));

TEST(ToolRulesCheckedTest, ARefusalNamesTheOptionTheValueAndTheProfilesWhy) {
  std::optional<ToolSpec> tool = LoadTool(kCheckedTool, "g");
  ASSERT_TRUE(tool);
  ToolDecision decision = DecideToolCall(*tool, Call("g -c core.fsmonitor= -c core.pager=x log"));
  EXPECT_EQ(decision.rule, "grammar");
  EXPECT_THAT(decision.reason, HasSubstr("the option -c core.pager=x before the sub-command is "
                                         "not on the allowed list of the profile's grammar for g"));
  EXPECT_THAT(decision.reason, HasSubstr("only settings that switch things off"));
  EXPECT_THAT(decision.argv,
              ElementsAre("g", "-c", "core.fsmonitor=", "-c", "core.pager=x", "log"));
  ToolDecision long_form = DecideToolCall(*tool, Call("g --set=a.b=2 status"));
  EXPECT_THAT(long_form.reason, HasSubstr("the option --set a.b=2 before the sub-command is not on "
                                          "the allowed list"));
  EXPECT_THAT(long_form.reason, HasSubstr("only a.b=1"));
  ToolDecision missing = DecideToolCall(*tool, Call("g -c"));
  EXPECT_THAT(missing.reason, HasSubstr("the option -c before the sub-command has no value"));
  EXPECT_THAT(missing.reason, HasSubstr("only settings that switch things off"));
  // An accepted value stays in the argv that runs, as given.
  EXPECT_THAT(DecideToolCall(*tool, Call("g -c Core.HooksPath=/dev/null status")).argv,
              ElementsAre("g", "-c", "Core.HooksPath=/dev/null", "status"));
}

// GIT_CONFIG_PARAMETERS: how git hands `-c` on to the programs it starts.
TEST(ToolRulesConfigParametersTest, SplitsGitsQuotingAndRefusesWhatIsNotInIt) {
  using Settings = std::optional<std::vector<std::string>>;
  EXPECT_EQ(SplitConfigParameters(""), Settings(std::vector<std::string>{}));
  EXPECT_EQ(SplitConfigParameters("'a.b=c' 'd.e'='f g'"),
            Settings(std::vector<std::string>{"a.b=c", "d.e=f g"}));
  EXPECT_EQ(SplitConfigParameters("'x.flag'"), Settings(std::vector<std::string>{"x.flag"}));
  // A quote inside a word is written '\'' (close, escaped quote, open).
  EXPECT_EQ(SplitConfigParameters(R"('a.b='\''q'\''')"),
            Settings(std::vector<std::string>{"a.b='q'"}));
  EXPECT_EQ(SplitConfigParameters(" 'a.b=' \n"), Settings(std::vector<std::string>{"a.b="}));
  for (const char* bad : {"a.b=c", "'a.b=c", "'a.b'=", "'a.b'='c'd", "'a.b''c.d'", "'a.b'x"})
    EXPECT_EQ(SplitConfigParameters(bad), std::nullopt) << bad;
}

constexpr const char* kCheckedEnvTool = R"({"g": {
  "paths": ["/bin/g"], "default": "deny", "why": "not listed",
  "subcommand": {"checked_values": {
                   "-c": {"values": ["core.hookspath=/dev/null", "gc.auto=0"],
                          "why": "only settings that switch things off",
                          "env": ["GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT"]}}},
  "rules": [
    {"id": "status", "verdict": "allow", "args": "status ...", "why": "reads"},
    {"id": "push-main", "verdict": "allow", "args": "push origin main", "run": "host",
     "why": "the broker pushes"},
    {"id": "env", "verdict": "deny", "env": ["GIT_CONFIG_*"], "why": "configuration"}]}})";

TEST(ToolRulesConfigParametersTest, ListedSettingsInTheEnvironmentAreNotCountedAsSet) {
  std::optional<ToolSpec> tool = LoadTool(kCheckedEnvTool, "g");
  ASSERT_TRUE(tool);
  auto decide = [&](const std::string& text, const std::string& parameters) {
    return DecideToolCall(*tool, Call(text, "/workspace", {"GIT_CONFIG_PARAMETERS=" + parameters}));
  };
  EXPECT_EQ(decide("g status", "'Core.HooksPath=/dev/null' 'gc.auto'='0'").rule, "status");
  EXPECT_EQ(decide("g status", "").rule, "status");
  // One setting off the list, or a value git would not have written: the variable counts.
  EXPECT_EQ(decide("g status", "'gc.auto=0' 'core.pager=sh -c x'").rule, "env");
  EXPECT_EQ(decide("g status", "gc.auto=0").rule, "env");
  // GIT_CONFIG_COUNT and the pairs it counts, read as git reads them.
  auto counted = [&](std::vector<std::string> env) {
    return DecideToolCall(*tool, Call("g status", "/workspace", std::move(env))).rule;
  };
  EXPECT_EQ(counted({"GIT_CONFIG_COUNT=2", "GIT_CONFIG_KEY_0=gc.auto", "GIT_CONFIG_VALUE_0=0",
                     "GIT_CONFIG_KEY_1=core.hooksPath", "GIT_CONFIG_VALUE_1=/dev/null"}),
            "status");
  EXPECT_EQ(counted({"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=core.pager", "GIT_CONFIG_VALUE_0=x"}),
            "env");
  EXPECT_EQ(counted({"GIT_CONFIG_COUNT=1"}), "env") << "a pair missing";
  EXPECT_EQ(counted({"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=gc.auto", "GIT_CONFIG_VALUE_0=0",
                     "GIT_CONFIG_KEY_1=core.pager", "GIT_CONFIG_VALUE_1=x"}),
            "env")
      << "a pair beyond the count is left as it is";
  EXPECT_EQ(counted({"GIT_CONFIG_COUNT=x"}), "env");
  EXPECT_EQ(counted({"GIT_CONFIG_PARAMETERS='gc.auto=0'", "GIT_CONFIG_PARAMETERS='core.pager=x'"}),
            "env")
      << "a variable given twice counts as set";
  EXPECT_EQ(counted({"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=gc.auto", "GIT_CONFIG_VALUE_0=0",
                     "GIT_CONFIG_VALUE_0=x"}),
            "env");
  EXPECT_EQ(counted({"GIT_CONFIG_GLOBAL=/tmp/c"}), "env");
  // A call that would run on the host is matched with its environment as it is.
  ToolDecision host = decide("g push origin main", "'gc.auto=0'");
  EXPECT_EQ(host.verdict, ToolVerdict::kDeny);
  EXPECT_EQ(host.rule, "env");
  EXPECT_FALSE(host.run_on_host);
  EXPECT_TRUE(DecideToolCall(*tool, Call("g push origin main")).run_on_host);
}

TEST(ToolRulesConfigParametersTest, TheLoaderChecksTheNames) {
  std::string tools = kCheckedEnvTool;
  tools.replace(tools.find("\"GIT_CONFIG_PARAMETERS\""), 23, "\"GIT CONFIG\"");
  LoadResult result = LoadText(ToolsProfile(tools));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.errors[0].message,
              HasSubstr("\"GIT CONFIG\" is not a variable that carries git's settings"));
  EXPECT_THAT(result.errors[0].json_path, HasSubstr("checked_values"));
}

TEST(ToolRulesFindTest, ByNameThenByDashedPrefix) {
  LoadResult result =
      LoadText(ToolsProfile(R"({"git": {"paths": ["/bin/git"], "default": "deny", "why": "w", )"
                            R"("subcommand": {"dashed_prefix": "git-"}}, )"
                            R"("gitk": {"paths": ["/bin/gitk"], "default": "allow", "why": "w"}, )"
                            R"("npm": {"paths": ["/bin/npm"], "default": "deny", "why": "w"}})"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const auto& tools = result.profile->tools;
  auto name = [&](std::string_view invoked_as) -> std::string {
    const ToolSpec* tool = FindToolByName(tools, invoked_as);
    return tool == nullptr ? "(none)" : tool->name;
  };
  EXPECT_EQ(name("git"), "git");
  EXPECT_EQ(name("gitk"), "gitk");  // its own name first, although it starts like git's
  EXPECT_EQ(name("git-push"), "git");
  EXPECT_EQ(name("git-upload-pack"), "git");
  EXPECT_EQ(name("git-"), "(none)");  // a prefix alone names no sub-command
  EXPECT_EQ(name("gi"), "(none)");
  EXPECT_EQ(name("npm"), "npm");
  EXPECT_EQ(name("npm-cli.js"), "(none)");  // npm has no dashed prefix
  EXPECT_EQ(name(""), "(none)");
}

// --- options and environment ---

struct ConditionCase {
  const char* call;
  std::vector<std::string> env;
  bool matches;
};

class ToolRulesOptionsTest : public ::testing::TestWithParam<ConditionCase> {};

TEST_P(ToolRulesOptionsTest, AnyOptionTokenBeforeDoubleDash) {
  const ConditionCase& c = GetParam();
  std::optional<ToolSpec> tool =
      LoadTool(R"({"t": {"paths": ["/bin/t"], "default": "allow", "why": "w", )"
               R"("subcommand": {"value_options": ["-c"]}, "rules": [)"
               R"({"id": "opt", "verdict": "deny", "why": "w", )"
               R"("options": ["-c", "--upload-pack*", "--exec"]}]}})",
               "t");
  ASSERT_TRUE(tool);
  EXPECT_EQ(DecideToolCall(*tool, Call(c.call)).rule, c.matches ? "opt" : "default") << c.call;
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesOptions, ToolRulesOptionsTest,
    ::testing::Values(ConditionCase{"t -c k=v sub", {}, true},  // before the sub-command
                      ConditionCase{"t sub -c x", {}, true},    // after it
                      ConditionCase{"t sub x -c", {}, true},    // anywhere
                      ConditionCase{"t sub -- -c", {}, false},  // after "--": an operand
                      ConditionCase{
                          "t sub --upload-pack=evil", {}, true},  // a glob on the whole token
                      ConditionCase{"t sub --upload-pack evil", {}, true},
                      ConditionCase{"t sub --exec=cmd", {}, true},  // the part before '='
                      ConditionCase{"t sub --exec", {}, true},
                      ConditionCase{"t sub --executable", {}, false},  // literal: no prefix match
                      ConditionCase{"t sub -cx", {}, false},
                      ConditionCase{"t sub c", {}, false},    // not an option
                      ConditionCase{"t sub - c", {}, false},  // "-" alone is not an option
                      ConditionCase{"t sub", {}, false}));

class ToolRulesEnvTest : public ::testing::TestWithParam<ConditionCase> {};

// NAME (a glob: set), NAME=VALUE (set, value matches the glob), NAME!=VALUE (set, value does not).
TEST_P(ToolRulesEnvTest, AnyVariableMatchingAPattern) {
  const ConditionCase& c = GetParam();
  std::optional<ToolSpec> tool =
      LoadTool(R"({"t": {"paths": ["/bin/t"], "default": "allow", "why": "w", "rules": [)"
               R"({"id": "env", "verdict": "deny", "why": "w", "env": ["GIT_CONFIG_*", "GIT_SSH", )"
               R"("GIT_EXEC_PATH!=/usr/lib/git-core", "MODE=on*", "P*_URL=http://*"]}]}})",
               "t");
  ASSERT_TRUE(tool);
  EXPECT_EQ(DecideToolCall(*tool, Call(c.call, "/workspace", c.env)).rule,
            c.matches ? "env" : "default");
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesVariables, ToolRulesEnvTest,
    ::testing::Values(ConditionCase{"t status", {"GIT_CONFIG_COUNT=1"}, true},
                      ConditionCase{"t status", {"PATH=/bin", "GIT_CONFIG_KEY_0=alias.x"}, true},
                      ConditionCase{"t status", {"GIT_SSH=/tmp/ssh"}, true},
                      ConditionCase{"t status", {"GIT_SSH="}, true},  // set, though empty
                      ConditionCase{"t status", {"GIT_SSH"}, true},   // a name without '='
                      ConditionCase{"t status", {"GIT_SSH_COMMAND=x"}, false},  // literal name
                      ConditionCase{"t status", {"GIT_CONFIG=/x"}, false},
                      ConditionCase{"t status", {"MY_GIT_SSH=x"}, false},
                      ConditionCase{"t status", {"X=GIT_SSH=1"}, false},  // a value is no name
                      ConditionCase{"t status", {}, false},
                      // NAME!=VALUE: set to anything else, empty and '='-less included.
                      ConditionCase{"t status", {"GIT_EXEC_PATH=/usr/lib/git-core"}, false},
                      ConditionCase{"t status", {"GIT_EXEC_PATH=/tmp/bin"}, true},
                      ConditionCase{"t status", {"GIT_EXEC_PATH=/usr/lib/git-core/"}, true},
                      ConditionCase{"t status", {"GIT_EXEC_PATH="}, true},
                      ConditionCase{"t status", {"GIT_EXEC_PATH"}, true},
                      ConditionCase{"t status", {"OTHER=/tmp/bin"}, false},  // unset: no match
                      // NAME=VALUE: the value is a glob; so may the name be.
                      ConditionCase{"t status", {"MODE=online"}, true},
                      ConditionCase{"t status", {"MODE=off"}, false},
                      ConditionCase{"t status", {"MODE"}, false},
                      ConditionCase{"t status", {"PIP_INDEX_URL=http://x/simple"}, true},
                      ConditionCase{"t status", {"PIP_INDEX_URL=https://x/simple"}, false},
                      ConditionCase{"t status", {"MODE=off", "GIT_EXEC_PATH=/x"}, true}));

// --- path operands ---

struct PathCase {
  const char* call;
  const char* cwd;
  bool outside;  // the rule's paths_outside condition holds
};

constexpr const char* kPathTools = R"({
  "rm": {"paths": ["/bin/rm"], "default": "allow", "why": "inside",
         "rules": [{"id": "outside", "verdict": "deny", "why": "outside",
                    "paths_outside": ["{workspace}", "{tmp}"]}]},
  "chmod": {"paths": ["/bin/chmod"], "default": "allow", "why": "inside",
            "rules": [{"id": "outside", "verdict": "deny", "why": "outside",
                       "paths_outside": ["{workspace}", "{tmp}"], "skip_operands": 1}]},
  "cmake": {"paths": ["/bin/cmake"], "default": "allow", "why": "inside",
            "rules": [{"id": "outside", "verdict": "deny", "why": "outside", "args": "-E rm ...",
                       "paths_outside": ["{workspace}", "{tmp}"]}]},
  "g": {"paths": ["/bin/g"], "default": "allow", "why": "inside",
        "subcommand": {"value_options": ["-C"]},
        "rules": [{"id": "outside", "verdict": "deny", "why": "outside", "args": "clean ...",
                   "paths_outside": ["{workspace}"]}]}})";

class ToolRulesPathsTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(ToolRulesPathsTest, SomeOperandNotStrictlyInsideARoot) {
  const PathCase& c = GetParam();
  ToolCall call = Call(c.call, c.cwd);
  std::optional<ToolSpec> tool = LoadTool(kPathTools, call.invoked_as);
  ASSERT_TRUE(tool);
  EXPECT_EQ(DecideToolCall(*tool, call).rule, c.outside ? "outside" : "default")
      << c.call << " in " << c.cwd;
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesOperands, ToolRulesPathsTest,
    ::testing::Values(
        PathCase{"rm -rf build", "/workspace", false},
        PathCase{"rm -rf build/ dist", "/workspace", false},
        PathCase{"rm /tmp/a /workspace/b", "/", false},
        PathCase{"rm -rf sub/../other", "/workspace", false},
        PathCase{"rm -rf ..", "/workspace/src", true},  // the workspace itself
        // A root itself is not inside it, in any spelling.
        PathCase{"rm -rf .", "/workspace", true}, PathCase{"rm -rf ./", "/workspace", true},
        PathCase{"rm -rf /workspace/", "/", true}, PathCase{"rm -rf /tmp", "/workspace", true},
        PathCase{"rm -rf src/..", "/workspace", true},
        // Outside, relative or absolute, and names that only start like a root.
        PathCase{"rm -rf ..", "/workspace", true},
        PathCase{"rm -rf sub/../../etc", "/workspace", true},
        PathCase{"rm -rf /workspacex", "/workspace", true},
        PathCase{"rm -rf /tmpfoo/a", "/workspace", true},
        PathCase{"rm -rf //etc", "/workspace", true}, PathCase{"rm -rf ///", "/workspace", true},
        PathCase{"rm a b /etc/passwd c", "/workspace", true},  // any one operand
        PathCase{"rm x", "/home/agent", true},                 // relative to the cwd
        PathCase{"rm x", "/tmp/sub", false},
        // Options are not operands; after "--" every token is.
        PathCase{"rm -rf --no-preserve-root", "/workspace", false},
        PathCase{"rm", "/workspace", false}, PathCase{"rm -- -rf", "/workspace", false},
        PathCase{"rm -rf -- /", "/workspace", true}, PathCase{"rm -- .", "/workspace", true},
        // skip_operands: the first operand (chmod's mode) is not a path.
        PathCase{"chmod 644 x", "/workspace", false},
        PathCase{"chmod 644 /etc/x", "/workspace", true},
        PathCase{"chmod /etc/x", "/workspace", false},
        PathCase{"chmod -R 755 x .", "/workspace", true},
        PathCase{"chmod -- 644 /etc/x", "/workspace", true},
        PathCase{"chmod -- /etc/x y", "/workspace", false},
        // Operands start after the tokens the rule's pattern names, which are not paths.
        PathCase{"cmake -E rm -rf build", "/workspace", false},
        PathCase{"cmake -E rm /workspace/x", "/home/agent", false},
        PathCase{"cmake -E rm -rf /", "/workspace", true},
        PathCase{"cmake --build /elsewhere", "/workspace", false},  // the pattern must match
        // With a grammar: global options and their values are not operands either.
        PathCase{"g -C /etc clean x", "/workspace", false},
        PathCase{"g clean -f ../x", "/workspace", true}));

// --- the decision: strictest wins, the default, host rules ---

constexpr const char* kStrictTool = R"({"t": {
  "paths": ["/bin/t"], "default": "ask", "why": "nothing matched, so the user is asked",
  "rules": [
    {"id": "a-allow", "verdict": "allow", "args": "a ...", "why": "first allow"},
    {"id": "b-ask", "verdict": "ask", "args": "a b ...", "why": "ask"},
    {"id": "c-deny", "verdict": "deny", "args": "a b c ...", "why": "first deny"},
    {"id": "d-deny", "verdict": "deny", "options": ["-d"], "why": "second deny"},
    {"id": "a-allow-2", "verdict": "allow", "args": "a ...", "why": "second allow"},
    {"id": "e-ask", "verdict": "ask", "env": ["E"], "why": "ask by env"},
    {"id": "f-allow", "verdict": "allow", "args": "f ...", "why": "allow f"}]}})";

struct StrictCase {
  const char* call;
  std::vector<std::string> env;
  ToolVerdict verdict;
  const char* rule;
  const char* reason;
};

class ToolRulesStrictTest : public ::testing::TestWithParam<StrictCase> {};

TEST_P(ToolRulesStrictTest, StrictestMatchingVerdictFirstOfEquals) {
  const StrictCase& c = GetParam();
  std::optional<ToolSpec> tool = LoadTool(kStrictTool, "t");
  ASSERT_TRUE(tool);
  ToolDecision decision = DecideToolCall(*tool, Call(c.call, "/workspace", c.env));
  EXPECT_EQ(decision.verdict, c.verdict) << c.call;
  EXPECT_EQ(decision.rule, c.rule) << c.call;
  EXPECT_EQ(decision.reason, c.reason) << c.call;
  EXPECT_FALSE(decision.run_on_host);
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesCalls, ToolRulesStrictTest,
    ::testing::Values(
        StrictCase{"t a", {}, ToolVerdict::kAllow, "a-allow", "first allow"},
        StrictCase{"t a b", {}, ToolVerdict::kAsk, "b-ask", "ask"},
        StrictCase{"t a b c", {}, ToolVerdict::kDeny, "c-deny", "first deny"},
        StrictCase{"t a b c -d", {}, ToolVerdict::kDeny, "c-deny", "first deny"},
        StrictCase{"t -d a", {}, ToolVerdict::kDeny, "d-deny", "second deny"},
        StrictCase{"t f", {"E=1"}, ToolVerdict::kAsk, "e-ask", "ask by env"},
        StrictCase{"t a b", {"E=1"}, ToolVerdict::kAsk, "b-ask", "ask"},
        StrictCase{"t f", {}, ToolVerdict::kAllow, "f-allow", "allow f"},
        StrictCase{
            "t z", {}, ToolVerdict::kAsk, "default", "nothing matched, so the user is asked"},
        StrictCase{
            "t", {}, ToolVerdict::kAsk, "default", "nothing matched, so the user is asked"}));

TEST(ToolRulesStrictTest, RuleWithoutConditionsMatchesEveryCall) {
  std::optional<ToolSpec> tool =
      LoadTool(R"({"t": {"paths": ["/bin/t"], "default": "allow", "why": "w", "rules": [)"
               R"({"id": "all", "verdict": "deny", "why": "never"}]}})",
               "t");
  ASSERT_TRUE(tool);
  EXPECT_EQ(DecideToolCall(*tool, Call("t")).rule, "all");
  EXPECT_EQ(DecideToolCall(*tool, Call("t anything -x")).rule, "all");
}

TEST(ToolRulesStrictTest, DefaultVerdictAndWhyWhenNoRules) {
  for (const char* verdict : {"allow", "ask", "deny"}) {
    std::optional<ToolSpec> tool =
        LoadTool(std::string(R"({"t": {"paths": ["/bin/t"], )") + R"("default": ")" + verdict +
                     R"(", "why": "because"}})",
                 "t");
    ASSERT_TRUE(tool);
    ToolDecision decision = DecideToolCall(*tool, Call("t x"));
    EXPECT_EQ(decision.verdict, ParseToolVerdict(verdict));
    EXPECT_EQ(decision.rule, "default");
    EXPECT_EQ(decision.reason, "because");
  }
}

constexpr const char* kHostTool = R"({"git": {
  "paths": ["/bin/git"], "default": "deny", "why": "not listed",
  "subcommand": {"value_options": ["-C"]},
  "rules": [
    {"id": "push-any", "verdict": "allow", "args": "push ...", "why": "in the sandbox"},
    {"id": "push-main", "verdict": "allow", "args": "push origin main|dev", "run": "host",
     "why": "the broker pushes these"},
    {"id": "fetch-host", "verdict": "ask", "args": "fetch origin", "run": "host",
     "why": "the broker fetches"},
    {"id": "fetch-any", "verdict": "allow", "args": "fetch ...", "why": "w"},
    {"id": "force", "verdict": "deny", "options": ["--force", "-f"], "why": "no force"}]}})";

TEST(ToolRulesHostTest, AHostRuleIsPreferredAmongEqualsAndNeverRunsADenial) {
  std::optional<ToolSpec> tool = LoadTool(kHostTool, "git");
  ASSERT_TRUE(tool);
  ToolDecision main = DecideToolCall(*tool, Call("git push origin main"));
  EXPECT_EQ(main.rule, "push-main");  // listed after push-any, but it runs on the host
  EXPECT_TRUE(main.run_on_host);

  ToolDecision other = DecideToolCall(*tool, Call("git push origin feature"));
  EXPECT_EQ(other.rule, "push-any");
  EXPECT_FALSE(other.run_on_host);

  ToolDecision extra = DecideToolCall(*tool, Call("git push origin main --tags"));
  EXPECT_EQ(extra.rule, "push-any");  // a host rule matches its argv in full
  EXPECT_FALSE(extra.run_on_host);

  ToolDecision fetch = DecideToolCall(*tool, Call("git fetch origin"));
  EXPECT_EQ(fetch.verdict, ToolVerdict::kAsk);  // stricter than the general allow
  EXPECT_EQ(fetch.rule, "fetch-host");
  EXPECT_TRUE(fetch.run_on_host);

  ToolDecision forced = DecideToolCall(*tool, Call("git push origin main --force"));
  EXPECT_EQ(forced.verdict, ToolVerdict::kDeny);
  EXPECT_EQ(forced.rule, "force");
  EXPECT_FALSE(forced.run_on_host);
}

// A host rule matches argv in full, options before the sub-command included: `git -C dir push`
// names another repository, `--git-dir`, `--work-tree`, `--exec-path`, `--namespace` and `-c`
// change what the host's git does. Such a call is refused with the reason, even when a general
// rule would have let it run in the sandbox.
constexpr const char* kHostGrammarTool = R"({"git": {
  "paths": ["/bin/git"], "default": "deny", "why": "not listed",
  "subcommand": {"flags": ["--no-pager", "--bare", "--exec-path"],
                 "value_options": ["-C", "-c", "--git-dir", "--work-tree", "--namespace",
                                   "--exec-path"],
                 "dashed_prefix": "git-"},
  "rules": [
    {"id": "push-any", "verdict": "allow", "args": "push ...", "why": "in the sandbox"},
    {"id": "push-main", "verdict": "allow", "args": "push origin main", "run": "host",
     "why": "the broker pushes"},
    {"id": "pager-push", "verdict": "ask", "args": "--no-pager push origin dev", "run": "host",
     "why": "spelled out with its option"},
    {"id": "no-namespace", "verdict": "deny", "args": "push ...", "options": ["--namespace"],
     "why": "no namespaces"}]}})";

TEST(ToolRulesHostTest, OptionsBeforeTheSubcommandKeepAHostRuleFromMatching) {
  std::optional<ToolSpec> tool = LoadTool(kHostGrammarTool, "git");
  ASSERT_TRUE(tool);
  for (const char* text :
       {"git -C /elsewhere push origin main", "git --git-dir=/elsewhere/.git push origin main",
        "git --git-dir /elsewhere/.git push origin main", "git --work-tree=/x push origin main",
        "git -c core.hooksPath=/tmp/h push origin main", "git --exec-path=/tmp push origin main",
        "git --exec-path push origin main", "git --bare push origin main",
        "git --no-pager push origin main", "git -- push origin main"}) {
    SCOPED_TRACE(text);
    ToolDecision decision = DecideToolCall(*tool, Call(text));
    EXPECT_EQ(decision.verdict, ToolVerdict::kDeny);
    EXPECT_EQ(decision.rule, "host-options");
    EXPECT_FALSE(decision.run_on_host);
    EXPECT_EQ(decision.subcommand, "push");
    EXPECT_THAT(decision.reason, HasSubstr("rule push-main runs git on the host"));
    EXPECT_THAT(decision.reason, HasSubstr("run `git push origin main` without it"));
  }
  EXPECT_THAT(DecideToolCall(*tool, Call("git -C /elsewhere push origin main")).reason,
              HasSubstr("`-C /elsewhere` before the sub-command is not part of it"));
  // An explicit deny keeps its own rule and reason.
  ToolDecision ns = DecideToolCall(*tool, Call("git --namespace=x push origin main"));
  EXPECT_EQ(ns.verdict, ToolVerdict::kDeny);
  EXPECT_EQ(ns.rule, "no-namespace");
  // Without the options the host rule decides; other pushes stay in the sandbox, options or not.
  EXPECT_TRUE(DecideToolCall(*tool, Call("git push origin main")).run_on_host);
  ToolDecision other = DecideToolCall(*tool, Call("git -C /w push origin feature"));
  EXPECT_EQ(other.rule, "push-any");
  EXPECT_FALSE(other.run_on_host);
  // A rule that spells an option out matches with it, and only with it.
  ToolDecision pager = DecideToolCall(*tool, Call("git --no-pager push origin dev"));
  EXPECT_EQ(pager.rule, "pager-push");
  EXPECT_EQ(pager.verdict, ToolVerdict::kAsk);
  EXPECT_TRUE(pager.run_on_host);
  EXPECT_EQ(pager.subcommand, "push");
  EXPECT_THAT(pager.argv, ElementsAre("git", "--no-pager", "push", "origin", "dev"));
  ToolDecision bare = DecideToolCall(*tool, Call("git push origin dev"));
  EXPECT_EQ(bare.rule, "push-any") << "pager-push starts with --no-pager, not with push";
  EXPECT_FALSE(bare.run_on_host);
  // The dashed form is spelled out before matching: nothing comes before the sub-command.
  ToolDecision dashed = DecideToolCall(*tool, Call("/usr/lib/git-core/git-push origin main"));
  EXPECT_EQ(dashed.rule, "push-main");
  EXPECT_TRUE(dashed.run_on_host);
}

// A checked option on its list is still an option before the sub-command: a host rule, which
// matches argv in full, does not match with it.
TEST(ToolRulesHostTest, ACheckedOptionOnItsListStillKeepsAHostRuleFromMatching) {
  std::optional<ToolSpec> tool = LoadTool(R"({"git": {
    "paths": ["/bin/git"], "default": "deny", "why": "not listed",
    "subcommand": {"checked_values": {"-c": {"values": ["core.hookspath=/dev/null"],
                                              "why": "hooks off only"}}},
    "rules": [
      {"id": "push-any", "verdict": "allow", "args": "push ...", "why": "in the sandbox"},
      {"id": "push-main", "verdict": "allow", "args": "push origin main", "run": "host",
       "why": "the broker pushes"}]}})",
                                          "git");
  ASSERT_TRUE(tool);
  ToolDecision decision =
      DecideToolCall(*tool, Call("git -c core.hooksPath=/dev/null push origin main"));
  EXPECT_EQ(decision.verdict, ToolVerdict::kDeny);
  EXPECT_EQ(decision.rule, "host-options");
  EXPECT_FALSE(decision.run_on_host);
  EXPECT_THAT(decision.reason,
              HasSubstr("`-c core.hooksPath=/dev/null` before the sub-command is not part of it"));
  // Off the list it is the grammar's refusal, as before.
  EXPECT_EQ(DecideToolCall(*tool, Call("git -c core.hooksPath=/tmp/h push origin main")).rule,
            "grammar");
  // Without it the host rule decides, and the broker's own check holds.
  ToolDecision plain = DecideToolCall(*tool, Call("git push origin main"));
  EXPECT_TRUE(plain.run_on_host);
  EXPECT_EQ(HostCallProblem(*tool, plain), "");
  ToolDecision forged = plain;
  forged.argv = {"git", "-c", "core.hookspath=/dev/null", "push", "origin", "main"};
  EXPECT_THAT(HostCallProblem(*tool, forged), HasSubstr("does not spell out this argv in full"));
}

TEST(ToolRulesHostTest, AnExampleThatReachesAHostRuleWithAnOptionFailsTheProfile) {
  LoadResult result = LoadText(ToolsProfile(kHostGrammarTool, R"([
    {"call": "git -C /elsewhere push origin main", "expect": "allow", "rule": "push-main"}])"));
  EXPECT_FALSE(result.profile.has_value());
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_THAT(result.errors[0].message,
              HasSubstr("\"git -C /elsewhere push origin main\" is expected to be allow by rule "
                        "push-main, but rule host-options decides deny"));
}

ToolDecision HostDecision(const ToolSpec& tool, const std::string& text) {
  ToolDecision decision = DecideToolCall(tool, Call(text));
  EXPECT_TRUE(decision.run_on_host) << text;
  return decision;
}

std::optional<std::string> NoVariables(const std::string&) {
  return std::nullopt;
}

TEST(ToolRulesHostTest, TheBrokerChecksTheArgvAgainstTheHostRuleOnceMore) {
  std::optional<ToolSpec> tool = LoadTool(kHostGrammarTool, "git");
  ASSERT_TRUE(tool);
  ToolDecision decision = HostDecision(*tool, "git push origin main");
  EXPECT_EQ(HostCallProblem(*tool, decision), "");
  EXPECT_EQ(HostCallProblem(*tool, HostDecision(*tool, "git --no-pager push origin dev")), "");
  // A decision that does not hold for its rule any more (however it came about) is refused.
  ToolDecision forged = decision;
  forged.argv = {"git", "-C", "/elsewhere", "push", "origin", "main"};
  EXPECT_THAT(HostCallProblem(*tool, forged), HasSubstr("does not spell out this argv in full"));
  forged.argv = {"git", "push", "origin", "evil"};
  EXPECT_THAT(HostCallProblem(*tool, forged),
              HasSubstr("argument 3 (evil) is not spelled out by rule push-main"));
  forged = decision;
  forged.rule = "push-any";
  EXPECT_THAT(HostCallProblem(*tool, forged), HasSubstr("not decided by a rule that runs on"));
  forged.rule = "push-main";
  forged.run_on_host = false;
  EXPECT_NE(HostCallProblem(*tool, forged), "");
  // No invocation is prepared for such a decision.
  tool->host_repository = {true, "/w/.git", "/w/.git", "", "", ""};
  forged = decision;
  forged.argv.push_back("--tags");
  HostInvocation refused = PrepareHostInvocation(*tool, forged, NoVariables);
  EXPECT_NE(refused.error, "");
  EXPECT_THAT(refused.argv, IsEmpty());
}

TEST(ToolRulesHostTest, TheHostsGitIsPinnedToTheRepositoryAndRunsNoHooks) {
  std::optional<ToolSpec> tool = LoadTool(kHostGrammarTool, "git");
  ASSERT_TRUE(tool);
  tool->host_env = {{"HOME", "/home/ann"},
                    {"SSH_AUTH_SOCK", "$SSH_AUTH_SOCK"},
                    {"GONE", "$NOT_SET"},
                    {"GIT_DIR", "/somewhere/else"},
                    {"GIT_AUTHOR_NAME", "Ann"}};
  tool->host_repository = {true, "/src/app/.git/worktrees/w", "/src/app/.git", "", "", ""};
  auto variables = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SSH_AUTH_SOCK") return "/run/user/1000/ssh.sock";
    return std::nullopt;
  };
  HostInvocation run =
      PrepareHostInvocation(*tool, HostDecision(*tool, "git push origin main"), variables);
  ASSERT_EQ(run.error, "");
  EXPECT_THAT(run.argv,
              ElementsAre("git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
                          "-c", "protocol.ext.allow=never", "push", "origin", "main"));
  // host_env, never the agent's; the repository is the one resolved at launch, whatever
  // host_env says; a "$NAME" the supervisor does not have is left out.
  EXPECT_THAT(run.env, ElementsAre("GIT_AUTHOR_NAME=Ann", "GIT_COMMON_DIR=/src/app/.git",
                                   "GIT_DIR=/src/app/.git/worktrees/w", "HOME=/home/ann",
                                   "PATH=/usr/local/bin:/usr/bin:/bin",
                                   "SSH_AUTH_SOCK=/run/user/1000/ssh.sock"));

  HostInvocation pager = PrepareHostInvocation(
      *tool, HostDecision(*tool, "git --no-pager push origin dev"), variables);
  ASSERT_EQ(pager.error, "");
  EXPECT_THAT(pager.argv,
              ElementsAre("git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
                          "-c", "protocol.ext.allow=never", "--no-pager", "push", "origin", "dev"));
}

TEST(ToolRulesHostTest, AHostGitCallWithoutARepositoryResolvedAtLaunchIsRefused) {
  std::optional<ToolSpec> tool = LoadTool(kHostGrammarTool, "git");
  ASSERT_TRUE(tool);
  const ToolDecision decision = HostDecision(*tool, "git push origin main");
  HostInvocation never = PrepareHostInvocation(*tool, decision, NoVariables);
  EXPECT_THAT(never.error, HasSubstr("was not resolved before the run started"));
  EXPECT_THAT(never.argv, IsEmpty());
  tool->host_repository = {true, "", "", "there was no git repository at or above /w", "", ""};
  HostInvocation none = PrepareHostInvocation(*tool, decision, NoVariables);
  EXPECT_EQ(none.error, "there was no git repository at or above /w");
  EXPECT_THAT(none.env, IsEmpty());
}

TEST(ToolRulesHostTest, OtherToolsGetTheirHostEnvironmentAndNoGitPins) {
  std::optional<ToolSpec> tool = LoadTool(R"({"npm": {
    "paths": ["/usr/bin/npm"], "default": "deny", "why": "w",
    "host_env": {"HOME": "/home/ann", "PATH": "/opt/node/bin:/usr/bin"},
    "rules": [{"id": "publish", "verdict": "ask", "args": "publish --ignore-scripts",
               "run": "host", "why": "w"}]}})",
                                          "npm");
  ASSERT_TRUE(tool);
  EXPECT_FALSE(IsGitTool(*tool));
  HostInvocation run = PrepareHostInvocation(
      *tool, HostDecision(*tool, "npm publish --ignore-scripts"), NoVariables);
  ASSERT_EQ(run.error, "");
  EXPECT_THAT(run.argv, ElementsAre("npm", "publish", "--ignore-scripts"));
  EXPECT_THAT(run.env, ElementsAre("HOME=/home/ann", "PATH=/opt/node/bin:/usr/bin"));
}

TEST(ToolRulesHostTest, GitIsKnownByItsNameItsDashedPrefixOrItsPath) {
  ToolSpec tool;
  tool.name = "git";
  EXPECT_TRUE(IsGitTool(tool));
  tool.name = "vcs";
  EXPECT_FALSE(IsGitTool(tool));
  tool.paths = {PathEntry{"/opt/git/bin/git", {}}};
  EXPECT_TRUE(IsGitTool(tool));
  tool.paths = {PathEntry{"/usr/bin/gitk", {}}};
  EXPECT_FALSE(IsGitTool(tool));
  tool.subcommand = SubcommandGrammar{{}, {}, "git-"};
  EXPECT_TRUE(IsGitTool(tool));
  EXPECT_FALSE(HasHostRules(tool));
  ToolRule rule;
  rule.run_on_host = true;
  tool.rules.push_back(rule);
  EXPECT_TRUE(HasHostRules(tool));
}

// --- what the loader builds ---

TEST(ToolRulesLoaderTest, LoadsEveryFieldOfATool) {
  LoadResult result = LoadText(ToolsProfile(R"({"git": {
    "paths": ["/usr/bin/git", "/usr/lib/git-core/git", "/usr/bin/git"],
    "alias_dirs": ["/usr/lib/git-core"],
    "default": "ask", "why": "the default's why",
    "subcommand": {"flags": ["-p"], "value_options": ["-C", "--git-dir"], "dashed_prefix": "git-"},
    "host_env": {"SSH_AUTH_SOCK": "{home}/.ssh/agent.sock"},
    "rules": [
      {"id": "push", "verdict": "deny", "why": "w1", "args": "push|send-pack origin ...",
       "options": ["--force*"], "env": ["GIT_SSH*"]},
      {"id": "rm", "verdict": "allow", "why": "w2", "args": ["rm", "a b"],
       "paths_outside": ["{workspace}", "/srv"], "skip_operands": 2},
      {"id": "main", "verdict": "allow", "why": "w3", "args": "push origin main", "run": "host"},
      {"id": "sandboxed", "verdict": "allow", "why": "w4", "args": "status", "run": "sandbox"}]}})"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const ToolSpec& git = result.profile->tools.at("git");
  EXPECT_EQ(git.name, "git");
  ASSERT_EQ(git.paths.size(), 2u);  // duplicates kept once
  EXPECT_EQ(git.paths[0].path, "/usr/bin/git");
  EXPECT_EQ(git.paths[1].path, "/usr/lib/git-core/git");
  // Tools keep the file they come from; line and column are looked up only for an error (a large
  // profile's rules and examples need no position scan when they load cleanly).
  EXPECT_EQ(git.paths[0].where.file, "/profiles/t.json");
  EXPECT_EQ(git.paths[0].where.line, 0);
  ASSERT_EQ(git.alias_dirs.size(), 1u);
  EXPECT_EQ(git.default_verdict, ToolVerdict::kAsk);
  EXPECT_EQ(git.default_why, "the default's why");
  ASSERT_TRUE(git.subcommand);
  EXPECT_THAT(git.subcommand->flags, ElementsAre("-p"));
  EXPECT_THAT(git.subcommand->value_options, ElementsAre("-C", "--git-dir"));
  EXPECT_EQ(git.subcommand->dashed_prefix, "git-");
  EXPECT_EQ(git.host_env.at("SSH_AUTH_SOCK"), "{home}/.ssh/agent.sock");
  EXPECT_EQ(git.where.file, "/profiles/t.json");
  EXPECT_EQ(git.where.line, 0);

  ASSERT_EQ(git.rules.size(), 4u);
  const ToolRule& push = git.rules[0];
  EXPECT_EQ(push.id, "push");
  EXPECT_EQ(push.verdict, ToolVerdict::kDeny);
  EXPECT_EQ(push.why, "w1");
  EXPECT_TRUE(push.has_args);
  EXPECT_TRUE(push.args_rest);
  ASSERT_EQ(push.args.size(), 2u);
  EXPECT_THAT(push.args[0], ElementsAre("push", "send-pack"));
  EXPECT_THAT(push.args[1], ElementsAre("origin"));
  EXPECT_THAT(push.options, ElementsAre("--force*"));
  EXPECT_THAT(push.env, ElementsAre("GIT_SSH*"));
  EXPECT_FALSE(push.paths_outside);
  EXPECT_FALSE(push.run_on_host);
  EXPECT_EQ(push.where.file, "/profiles/t.json");

  const ToolRule& rm = git.rules[1];
  EXPECT_FALSE(rm.args_rest);
  ASSERT_EQ(rm.args.size(), 2u);
  EXPECT_THAT(rm.args[1], ElementsAre("a b"));  // an array token keeps its space
  ASSERT_TRUE(rm.paths_outside);
  EXPECT_THAT(rm.paths_outside->within, ElementsAre("{workspace}", "/srv"));
  EXPECT_EQ(rm.paths_outside->skip, 2u);

  EXPECT_TRUE(git.rules[2].run_on_host);
  EXPECT_FALSE(git.rules[3].run_on_host);
}

TEST(ToolRulesLoaderTest, LoadsCheckedValues) {
  LoadResult result = LoadText(ToolsProfile(R"({"git": {
    "paths": ["/usr/bin/git"], "default": "deny", "why": "w",
    "subcommand": {"value_options": ["-C"], "checked_values": {
      "-c": {"values": ["core.hookspath=/dev/null", "hook.Pre-Commit.enabled=false", "x.flag",
                        "core.hookspath=/dev/null", "core.fsmonitor="], "why": "only off"},
      "--set": {"values": ["a.b=*"], "why": "any a.b"}}}}})"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const SubcommandGrammar& grammar = *result.profile->tools.at("git").subcommand;
  ASSERT_EQ(grammar.checked_values.size(), 2u);
  // Kept as written, duplicates once; a subsection keeps its case.
  EXPECT_THAT(grammar.checked_values.at("-c").values,
              ElementsAre("core.hookspath=/dev/null", "hook.Pre-Commit.enabled=false", "x.flag",
                          "core.fsmonitor="));
  EXPECT_EQ(grammar.checked_values.at("-c").why, "only off");
  EXPECT_THAT(grammar.checked_values.at("--set").values, ElementsAre("a.b=*"));
  EXPECT_THAT(grammar.value_options, ElementsAre("-C"));
}

TEST(ToolRulesLoaderTest, ARuleWithoutArgsHasNoPattern) {
  LoadResult result = LoadText(
      ToolsProfile(R"({"t": {"paths": ["/bin/t"], "default": "deny", "why": "w", "rules": [)"
                   R"({"id": "a", "verdict": "deny", "why": "w", "env": ["X"]}, )"
                   R"({"id": "b", "verdict": "allow", "why": "w", "args": ""}]}})"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const ToolSpec& tool = result.profile->tools.at("t");
  EXPECT_FALSE(tool.rules[0].has_args);
  EXPECT_TRUE(tool.rules[1].has_args);  // the empty pattern: no arguments at all
  EXPECT_THAT(tool.rules[1].args, IsEmpty());
  EXPECT_FALSE(tool.subcommand);
}

TEST(ToolRulesLoaderTest, ExpandToolSpecExpandsPathsRootsAndHostEnvironment) {
  ToolSpec tool;
  tool.name = "t";
  tool.paths = {PathEntry{"{home}/.cargo/bin/cargo", {}}, PathEntry{"/usr/bin/cargo", {}}};
  tool.alias_dirs = {PathEntry{"{cache}/bin", {}}};
  ToolRule rule;
  rule.id = "r";
  rule.paths_outside = PathCondition{{"{workspace}", "{tmp}/x/../y", "/srv/"}, 1};
  tool.rules.push_back(rule);
  tool.rules.push_back(ToolRule{});  // no roots: left alone
  tool.host_env = {{"SOCK", "{home}/agent.sock"}};
  PlanContext context;
  context.workspace = "/src/app";
  context.home = "/home/ann";
  context.cache = "/home/ann/.cache";
  context.tmp = "/tmp";
  ToolSpec expanded = ExpandToolSpec(tool, context);
  EXPECT_EQ(expanded.paths[0].path, "/home/ann/.cargo/bin/cargo");
  EXPECT_EQ(expanded.paths[1].path, "/usr/bin/cargo");
  EXPECT_EQ(expanded.alias_dirs[0].path, "/home/ann/.cache/bin");
  ASSERT_TRUE(expanded.rules[0].paths_outside);
  EXPECT_THAT(expanded.rules[0].paths_outside->within, ElementsAre("/src/app", "/tmp/y", "/srv"));
  EXPECT_EQ(expanded.rules[0].paths_outside->skip, 1u);
  EXPECT_FALSE(expanded.rules[1].paths_outside);
  EXPECT_EQ(expanded.host_env.at("SOCK"), "/home/ann/agent.sock");
  // The original is untouched: the profile is expanded per launch.
  EXPECT_EQ(tool.paths[0].path, "{home}/.cargo/bin/cargo");
}

// --- loader errors, one at a time, with their position ---

struct ToolErrorCase {
  const char* name;
  const char* tools;  // line 4 of the profile: "tools": <this>
  const char* json_path;
  const char* at;  // the text the error points at: its first character is the column
  int occurrence;  // which occurrence of `at` in the line (1 = the first)
  const char* message;
  const char* hint;
};

// The 1-based column of the `occurrence`th `needle` in `line`.
int ColumnOf(const std::string& line, const std::string& needle, int occurrence) {
  std::size_t at = std::string::npos;
  for (int i = 0; i < occurrence; ++i) {
    at = line.find(needle, at == std::string::npos ? 0 : at + 1);
    if (at == std::string::npos) return -1;
  }
  return static_cast<int>(at) + 1;
}

class ToolRulesLoaderErrorTest : public ::testing::TestWithParam<ToolErrorCase> {};

TEST_P(ToolRulesLoaderErrorTest, ReportsPathPositionMessageAndHint) {
  const ToolErrorCase& c = GetParam();
  std::string line = std::string("  \"tools\": ") + c.tools;
  LoadResult result = LoadText(ToolsProfile(c.tools));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_FALSE(result.profile.has_value());
  const ProfileError& error = result.errors[0];
  EXPECT_EQ(error.file, "/profiles/t.json");
  EXPECT_EQ(error.json_path, c.json_path);
  EXPECT_EQ(error.line, 4);
  EXPECT_EQ(error.column, ColumnOf(line, c.at, c.occurrence)) << line;
  EXPECT_THAT(error.message, HasSubstr(c.message));
  EXPECT_THAT(error.hint, HasSubstr(c.hint));
  EXPECT_FALSE(error.hint.empty()) << "every error says how to fix it";
}

#define TOOL_T(members) R"({"t": {"paths": ["/bin/t"], "default": "deny", "why": "w")" members "}}"
#define RULE(members) \
  TOOL_T(R"(, "rules": [{"id": "r", "verdict": "deny", "why": "w")" members "}]")

const ToolErrorCase kToolErrorCases[] = {
    {"ToolsNotAnObject", R"([])", "/tools", "[", 1, "expected an object, got array", ""},
    {"BadToolName", R"({"g it": {}})", "/tools/g it", "\"g it\"", 1, "is not a tool name",
     "file name"},
    {"ToolNotAnObject", R"({"t": "git"})", "/tools/t", "\"git\"", 1, "expected an object", ""},
    {"UnknownToolKey", TOOL_T(R"(, "colour": 1)"), "/tools/t/colour", "\"colour\"", 1,
     "unknown key \"colour\"", ""},
    {"MissingPaths", R"({"t": {"default": "deny", "why": "w"}})", "/tools/t", "{\"default\"", 1,
     "tool \"t\" has no paths", "\"paths\": [\"/usr/bin/t\"]"},
    {"EmptyPaths", R"({"t": {"paths": [], "default": "deny", "why": "w"}})", "/tools/t",
     "{\"paths\"", 1, "has no paths", "list every path"},
    {"RelativeToolPath", R"({"t": {"paths": ["bin/t"], "default": "deny", "why": "w"}})",
     "/tools/t/paths/0", "\"bin/t\"", 1, "relative path", "absolute"},
    {"MissingDefault", R"({"t": {"paths": ["/bin/t"], "why": "w"}})", "/tools/t", "{\"paths\"", 1,
     "has no default verdict", "\"default\": \"deny\""},
    {"BadDefault", R"({"t": {"paths": ["/bin/t"], "default": "maybe", "why": "w"}})",
     "/tools/t/default", "\"maybe\"", 1, "unknown verdict \"maybe\"", "\"allow\", \"ask\""},
    {"MissingDefaultWhy", R"({"t": {"paths": ["/bin/t"], "default": "deny"}})", "/tools/t",
     "{\"paths\"", 1, "no justification for its default", "\"why\""},
    {"EmptyDefaultWhy", R"({"t": {"paths": ["/bin/t"], "default": "deny", "why": " "}})",
     "/tools/t/why", "\" \"", 1, "empty justification", "the agent is shown it"},
    {"RulesNotAnArray", TOOL_T(R"(, "rules": {})"), "/tools/t/rules", "{}", 1,
     "expected an array of rules, got object", "\"id\""},
    {"RuleNotAnObject", TOOL_T(R"(, "rules": [7])"), "/tools/t/rules/0", "7", 1,
     "expected an object", ""},
    {"UnknownRuleKey", RULE(R"(, "arg": "push")"), "/tools/t/rules/0/arg", "\"arg\"", 1,
     "unknown key \"arg\"", "did you mean \"args\"?"},
    {"MissingRuleId", TOOL_T(R"(, "rules": [{"verdict": "deny", "why": "w"}])"), "/tools/t/rules/0",
     "{\"verdict\"", 1, "a rule needs an \"id\"", "\"id\": \"git-push\""},
    {"BadRuleId", TOOL_T(R"(, "rules": [{"id": "Git_Push", "verdict": "deny", "why": "w"}])"),
     "/tools/t/rules/0/id", "\"Git_Push\"", 1, "is not a rule id", "lowercase"},
    {"DuplicateRuleId",
     TOOL_T(R"(, "rules": [{"id": "r", "verdict": "deny", "why": "w"}, )"
            R"({"id": "r", "verdict": "allow", "why": "w"}])"),
     "/tools/t/rules/1/id", "\"r\"", 2, "duplicate rule id \"r\"", "its own id"},
    {"MissingVerdict", TOOL_T(R"(, "rules": [{"id": "r", "why": "w"}])"), "/tools/t/rules/0",
     "{\"id\"", 1, "a rule needs a \"verdict\"", "\"allow\", \"ask\" or \"deny\""},
    {"BadVerdict", TOOL_T(R"(, "rules": [{"id": "r", "verdict": "block", "why": "w"}])"),
     "/tools/t/rules/0/verdict", "\"block\"", 1, "unknown verdict \"block\"", "\"deny\""},
    {"VerdictNotAString", TOOL_T(R"(, "rules": [{"id": "r", "verdict": 2, "why": "w"}])"),
     "/tools/t/rules/0/verdict", "2", 1, "expected a string, got number", ""},
    {"MissingWhy", TOOL_T(R"(, "rules": [{"id": "r", "verdict": "deny"}])"), "/tools/t/rules/0",
     "{\"id\"", 1, "a rule needs a justification", "the agent is shown it"},
    {"EmptyWhy", TOOL_T(R"(, "rules": [{"id": "r", "verdict": "deny", "why": ""}])"),
     "/tools/t/rules/0/why", "\"\"", 1, "empty justification", ""},
    {"ArgsNotAStringOrArray", RULE(R"(, "args": 5)"), "/tools/t/rules/0/args", "5", 1,
     "expected a string or an array of strings, got number", "push|fetch"},
    {"EllipsisNotLast", RULE(R"(, "args": "push ... origin")"), "/tools/t/rules/0/args",
     "\"push ...", 1, "\"...\" must be the last token", "put it at the end"},
    {"EllipsisNotLastInArray", RULE(R"(, "args": ["push", "...", "x"])"), "/tools/t/rules/0/args/1",
     "\"...\"", 1, "\"...\" must be the last token", ""},
    {"EmptyAlternative", RULE(R"(, "args": "push|")"), "/tools/t/rules/0/args", "\"push|\"", 1,
     "empty alternative in \"push|\"", "\"push|fetch\""},
    {"EmptyArrayToken", RULE(R"(, "args": ["push", ""])"), "/tools/t/rules/0/args/1", "\"\"", 1,
     "empty pattern token", ""},
    {"OptionWithoutDash", RULE(R"(, "options": ["-c", "c"])"), "/tools/t/rules/0/options/1",
     "\"c\"", 1, "\"c\" is not an option pattern", "options start with '-'"},
    {"OptionTooShort", RULE(R"(, "options": ["-"])"), "/tools/t/rules/0/options/0", "\"-\"", 1,
     "is not an option pattern", ""},
    {"OptionsNotAnArray", RULE(R"(, "options": "-c")"), "/tools/t/rules/0/options", "\"-c\"", 1,
     "expected an array of strings, got string", ""},
    {"BadEnvPattern", RULE(R"(, "env": ["GIT-SSH"])"), "/tools/t/rules/0/env/0", "\"GIT-SSH\"", 1,
     "\"GIT-SSH\" is not a variable pattern", "NAME!=VALUE"},
    {"BadEnvValuePatternName", RULE(R"(, "env": ["X", "GIT-X!=/a"])"), "/tools/t/rules/0/env/1",
     "\"GIT-X!=/a\"", 1, "is not a variable pattern", "NAME=VALUE"},
    {"EnvValuePatternWithoutName", RULE(R"(, "env": ["=/a"])"), "/tools/t/rules/0/env/0", "\"=/a\"",
     1, "is not a variable pattern", ""},
    {"RelativeRoot", RULE(R"(, "paths_outside": ["/w", "build"])"),
     "/tools/t/rules/0/paths_outside/1", "\"build\"", 1, "relative path \"build\"", ""},
    {"NoRoots", RULE(R"(, "paths_outside": [])"), "/tools/t/rules/0/paths_outside", "[]", 1,
     "no roots given", "[\"{workspace}\", \"{tmp}\"]"},
    {"SkipWithoutPaths", RULE(R"(, "skip_operands": 1)"), "/tools/t/rules/0/skip_operands", "1", 1,
     "\"skip_operands\" without \"paths_outside\"", "which operands"},
    {"SkipTooLarge", RULE(R"(, "paths_outside": ["/w"], "skip_operands": 17)"),
     "/tools/t/rules/0/skip_operands", "17", 1, "expected a number from 0 to 16, got 17", "chmod"},
    {"SkipNegative", RULE(R"(, "paths_outside": ["/w"], "skip_operands": -1)"),
     "/tools/t/rules/0/skip_operands", "-1", 1, "expected a number from 0 to 16", ""},
    {"UnknownRunLocation", RULE(R"(, "args": "push", "run": "cloud")"), "/tools/t/rules/0/run",
     "\"cloud\"", 1, "unknown run location \"cloud\"", "\"host\""},
    // A rule that runs on the host, where the credentials are, must spell its argv out.
    {"HostRuleWithGlob",
     TOOL_T(R"(, "rules": [{"id": "r", "verdict": "allow", "why": "w", "args": "push *", )"
            R"("run": "host"}])"),
     "/tools/t/rules/0/run", "\"host\"", 1, "must match argv in full", "no globs"},
    {"HostRuleWithEllipsis",
     TOOL_T(R"(, "rules": [{"id": "r", "verdict": "allow", "why": "w", "args": "push ...", )"
            R"("run": "host"}])"),
     "/tools/t/rules/0/run", "\"host\"", 1, "must match argv in full", "no \"...\""},
    {"HostRuleWithBracket",
     TOOL_T(R"(, "rules": [{"id": "r", "verdict": "ask", "why": "w", "args": "push [ab]", )"
            R"("run": "host"}])"),
     "/tools/t/rules/0/run", "\"host\"", 1, "must match argv in full", ""},
    {"HostRuleWithoutArgs",
     TOOL_T(R"(, "rules": [{"id": "r", "verdict": "allow", "why": "w", "run": "host"}])"),
     "/tools/t/rules/0/run", "\"host\"", 1, "must match argv in full", ""},
    {"HostRuleThatDenies",
     TOOL_T(R"(, "rules": [{"id": "r", "verdict": "deny", "why": "w", "args": "push", )"
            R"("run": "host"}])"),
     "/tools/t/rules/0/run", "\"host\"", 1, "a deny rule does not run anywhere", "remove"},
    {"GrammarNotAnObject", TOOL_T(R"(, "subcommand": ["-C"])"), "/tools/t/subcommand", "[\"-C\"]",
     1, "expected an object, got array", ""},
    {"UnknownGrammarKey", TOOL_T(R"(, "subcommand": {"flag": ["-p"]})"), "/tools/t/subcommand/flag",
     "\"flag\"", 1, "unknown key \"flag\"", ""},
    {"GrammarFlagGlob", TOOL_T(R"(, "subcommand": {"flags": ["--no-*"]})"),
     "/tools/t/subcommand/flags", "[\"--no-*\"]", 1, "literal, not globs: --no-*",
     "as it is written"},
    {"GrammarValueOptionWithoutDash", TOOL_T(R"(, "subcommand": {"value_options": ["C"]})"),
     "/tools/t/subcommand/value_options/0", "\"C\"", 1, "is not an option pattern", ""},
    {"EmptyDashedPrefix", TOOL_T(R"(, "subcommand": {"dashed_prefix": ""})"),
     "/tools/t/subcommand/dashed_prefix", "\"\"", 1, "is not a name prefix", "\"git-\""},
    {"DashedPrefixWithSlash", TOOL_T(R"(, "subcommand": {"dashed_prefix": "a/b-"})"),
     "/tools/t/subcommand/dashed_prefix", "\"a/b-\"", 1, "is not a name prefix", ""},
    {"CheckedValuesNotAnObject", TOOL_T(R"(, "subcommand": {"checked_values": ["-c"]})"),
     "/tools/t/subcommand/checked_values", "[\"-c\"]", 1, "expected an object, got array", ""},
    {"CheckedOptionWithoutDash",
     TOOL_T(R"(, "subcommand": {"checked_values": {"c": {"values": ["a.b=1"], "why": "w"}}})"),
     "/tools/t/subcommand/checked_values/c", "\"c\"", 1, "\"c\" is not an option", "\"-c\""},
    {"CheckedOptionGlob",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c*": {"values": ["a.b=1"], "why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c*", "\"-c*\"", 1, "\"-c*\" is not an option", ""},
    {"CheckedOptionNotAnObject", TOOL_T(R"(, "subcommand": {"checked_values": {"-c": ["a.b=1"]}})"),
     "/tools/t/subcommand/checked_values/-c", "[\"a.b=1\"]", 1, "expected an object, got array",
     ""},
    {"CheckedWithoutValues", TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c", "{\"why\"", 1, "no \"values\" listed for -c",
     "\"values\": [\"key=value\""},
    {"CheckedEmptyValues",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"values": [], "why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c/values", "[]", 1, "no values listed for -c",
     "leave the option out"},
    {"CheckedValuesNotAnArray",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"values": "a.b=1", "why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c/values", "\"a.b=1\"", 1,
     "expected an array of strings, got string", ""},
    {"CheckedValueNotAString",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"values": ["a.b=1", 3], "why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c/values/1", "3", 1, "expected a string, got number", ""},
    {"CheckedWithoutWhy",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"values": ["a.b=1"]}}})"),
     "/tools/t/subcommand/checked_values/-c", "{\"values\"", 1,
     "no justification for the list of -c", "\"why\""},
    {"CheckedEmptyWhy",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"values": ["a.b=1"], "why": ""}}})"),
     "/tools/t/subcommand/checked_values/-c/why", "\"\"", 1, "empty justification", ""},
    {"CheckedUnknownKey",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"values": ["a.b=1"], "why": "w", )"
            R"("value": 1}}})"),
     "/tools/t/subcommand/checked_values/-c/value", "\"value\"", 1, "unknown key \"value\"",
     "did you mean \"values\"?"},
    {"CheckedUpperCaseName",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"values": ["core.hooksPath=/dev/null"], )"
            R"("why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c/values/0", "\"core.hooksPath", 1,
     "has upper-case letters in its section or variable name", "lowercase"},
    {"CheckedUpperCaseSection",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"values": ["Hook.*.enabled=false"], )"
            R"("why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c/values/0", "\"Hook", 1, "has upper-case letters", ""},
    {"CheckedEmptyKey",
     TOOL_T(R"(, "subcommand": {"checked_values": {"-c": {"values": ["=x"], "why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c/values/0", "\"=x\"", 1, "has no key before '='", ""},
    // Also a plain value option (or a flag), it would be taken with any value.
    {"CheckedAlsoAValueOption",
     TOOL_T(R"(, "subcommand": {"value_options": ["-c"], )"
            R"("checked_values": {"-c": {"values": ["a.b=1"], "why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c", "\"-c\"", 2,
     "-c is also in \"value_options\", which takes it with any value",
     "\"checked_values\" alone makes it a value option"},
    {"CheckedAlsoAFlag",
     TOOL_T(R"(, "subcommand": {"flags": ["-c"], )"
            R"("checked_values": {"-c": {"values": ["a.b=1"], "why": "w"}}})"),
     "/tools/t/subcommand/checked_values/-c", "\"-c\"", 2, "-c is also in \"flags\"", ""},
    {"BadHostEnvName", TOOL_T(R"(, "host_env": {"1X": "v"})"), "/tools/t/host_env/1X", "\"1X\"", 1,
     "is not a valid variable name", ""},
    {"UnknownPlaceholderInHostEnv", TOOL_T(R"(, "host_env": {"X": "{nope}/a"})"),
     "/tools/t/host_env/X", "\"{nope}", 1, "{nope}", ""},
};

#undef RULE
#undef TOOL_T

INSTANTIATE_TEST_SUITE_P(ToolRulesEveryField, ToolRulesLoaderErrorTest,
                         ::testing::ValuesIn(kToolErrorCases),
                         [](const ::testing::TestParamInfo<ToolErrorCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(ToolRulesLoaderErrorTest, EveryErrorOfOneToolIsCollected) {
  LoadResult result = LoadText(
      ToolsProfile(R"({"t": {"default": "maybe", "rules": [{"id": "A", "verdict": "x"}, 3]}})"));
  std::vector<std::string> paths;
  for (const ProfileError& error : result.errors) paths.push_back(error.json_path);
  // In file order: the tool's own (no paths, no why) at its '{', then its members'.
  EXPECT_THAT(paths,
              ElementsAre("/tools/t", "/tools/t", "/tools/t/default", "/tools/t/rules/0",
                          "/tools/t/rules/0/id", "/tools/t/rules/0/verdict", "/tools/t/rules/1"))
      << Describe(result.errors);
}

// --- examples ---

constexpr const char* kGitTool = R"({"git": {
    "paths": ["/usr/bin/git"], "default": "deny", "why": "not listed",
    "subcommand": {"value_options": ["-C"], "dashed_prefix": "git-"},
    "rules": [
      {"id": "git-status", "verdict": "allow", "args": "status ...", "why": "reads"},
      {"id": "git-fetch", "verdict": "ask", "args": "fetch ...", "why": "network"},
      {"id": "git-push", "verdict": "deny", "args": "push ...", "why": "publishes"},
      {"id": "git-env", "verdict": "deny", "env": ["GIT_SSH*"], "why": "runs another ssh"}]},
  "rm": {"paths": ["/bin/rm"], "default": "allow", "why": "inside",
    "rules": [{"id": "rm-outside", "verdict": "deny", "why": "outside",
               "paths_outside": ["{workspace}", "{tmp}"]}]}})";

TEST(ToolRulesExamplesTest, PassingExamplesLoad) {
  LoadResult result = LoadText(ToolsProfile(kGitTool, R"([
    {"call": "git status", "expect": "allow", "rule": "git-status"},
    {"argv": ["git", "-C", "/a dir", "push"], "expect": "deny", "rule": "git-push"},
    {"call": "/usr/lib/git-core/git-push origin", "expect": "deny", "rule": "git-push"},
    {"call": "git fetch", "expect": "ask"},
    {"call": "git status", "env": {"GIT_SSH_COMMAND": "ssh -i k"}, "expect": "deny",
     "rule": "git-env"},
    {"call": "git log", "expect": "deny", "rule": "default"},
    {"call": "git --bad status", "expect": "deny", "rule": "grammar"},
    {"call": "rm -rf {workspace}/build", "expect": "allow"},
    {"call": "rm -rf {home}/", "expect": "deny", "rule": "rm-outside"},
    {"call": "rm -rf {cache}/x", "expect": "deny"},
    {"call": "rm x", "cwd": "{tmp}", "expect": "allow"},
    {"call": "rm x", "cwd": "{home}", "expect": "deny"},
    {"call": "rm -rf ..", "cwd": "{workspace}/src", "expect": "deny"},
    {"call": "rm -rf ../build", "cwd": "{workspace}/src", "expect": "allow"}])"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  ASSERT_EQ(result.profile->examples.size(), 14u);
  const ToolExample& second = result.profile->examples[1];
  EXPECT_THAT(second.argv, ElementsAre("git", "-C", "/a dir", "push"));
  EXPECT_EQ(second.json_path, "/examples/1");
  EXPECT_EQ(result.profile->examples[4].env, std::vector<std::string>{"GIT_SSH_COMMAND=ssh -i k"});
  EXPECT_EQ(result.profile->examples[10].cwd, "{tmp}");
}

TEST(ToolRulesExamplesTest, AFailingExampleStopsTheLoadAndNamesTheDecidingRule) {
  std::string text = ToolsProfile(kGitTool, R"([
    {"call": "git status", "expect": "allow"},
    {"call": "git push origin main", "expect": "allow"}])");
  LoadResult result = LoadText(text);
  EXPECT_FALSE(result.profile.has_value());
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  const ProfileError& error = result.errors[0];
  EXPECT_EQ(error.file, "/profiles/t.json");
  EXPECT_EQ(error.json_path, "/examples/1");
  EXPECT_EQ(error.line, 17);
  EXPECT_EQ(error.column, 5);
  EXPECT_EQ(error.message,
            "example fails: \"git push origin main\" is expected to be allow, but rule git-push "
            "decides deny");
  EXPECT_THAT(error.hint, HasSubstr("fix the rules or the example"));
}

TEST(ToolRulesExamplesTest, ARuleMismatchFailsEvenWhenTheVerdictIsRight) {
  LoadResult result = LoadText(ToolsProfile(kGitTool, R"([
    {"call": "git push", "expect": "deny", "rule": "git-fetch"},
    {"call": "git pull", "expect": "deny", "rule": "git-push"}])"));
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].json_path, "/examples/0");
  EXPECT_EQ(result.errors[0].message,
            "example fails: \"git push\" is expected to be deny by rule git-fetch, but rule "
            "git-push decides deny");
  EXPECT_EQ(result.errors[1].json_path, "/examples/1");
  EXPECT_THAT(result.errors[1].message,
              HasSubstr("expected to be deny by rule git-push, but rule default decides deny"));
}

TEST(ToolRulesExamplesTest, AnExampleForAToolTheProfileDoesNotMediateFails) {
  LoadResult result = LoadText(ToolsProfile(kGitTool, R"([
    {"call": "/usr/bin/hg push", "expect": "deny"}])"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].message, "example fails: no tool named hg in this profile");
}

TEST(ToolRulesExamplesTest, GrammarAndEnvironmentDecisionsNameTheirRule) {
  LoadResult result = LoadText(ToolsProfile(kGitTool, R"([
    {"call": "git -c alias.x=push x", "expect": "allow"},
    {"call": "git status", "env": {"GIT_SSH": "x"}, "expect": "allow"}])"));
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result.errors);
  EXPECT_THAT(result.errors[0].message, HasSubstr("but rule grammar decides deny"));
  EXPECT_THAT(result.errors[1].message, HasSubstr("but rule git-env decides deny"));
}

TEST(ToolRulesExamplesTest, ExamplesMustBeAnArray) {
  LoadResult result = LoadText(ToolsProfile(kGitTool, R"({"call": "git status"})"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].json_path, "/examples");
  EXPECT_THAT(result.errors[0].message, HasSubstr("expected an array of examples, got object"));
}

struct ExampleErrorCase {
  const char* name;
  const char* example;  // one example, the only element of "examples"
  const char* json_path;
  const char* message;
};

class ToolRulesExampleErrorTest : public ::testing::TestWithParam<ExampleErrorCase> {};

TEST_P(ToolRulesExampleErrorTest, MalformedExamplesAreLoadErrors) {
  const ExampleErrorCase& c = GetParam();
  LoadResult result = LoadText(ToolsProfile(kGitTool, std::string("[\n    ") + c.example + "]"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].json_path, c.json_path);
  EXPECT_EQ(result.errors[0].line, 16);
  EXPECT_THAT(result.errors[0].message, HasSubstr(c.message));
  EXPECT_FALSE(result.errors[0].hint.empty());
}

INSTANTIATE_TEST_SUITE_P(
    ToolRulesEveryField, ToolRulesExampleErrorTest,
    ::testing::Values(
        ExampleErrorCase{"UnknownKey", R"({"call": "git status", "expect": "allow", "why": "x"})",
                         "/examples/0/why", "unknown key \"why\""},
        ExampleErrorCase{"MissingExpect", R"({"call": "git status"})", "/examples/0",
                         "an example needs \"expect\""},
        ExampleErrorCase{"BadExpect", R"({"call": "git status", "expect": "yes"})",
                         "/examples/0/expect", "unknown verdict \"yes\""},
        ExampleErrorCase{"CallAndArgv",
                         R"({"call": "git status", "argv": ["git"], "expect": "allow"})",
                         "/examples/0", "exactly one of \"call\" and \"argv\""},
        ExampleErrorCase{"NeitherCallNorArgv", R"({"expect": "allow"})", "/examples/0",
                         "exactly one of \"call\" and \"argv\""},
        ExampleErrorCase{"EmptyCall", R"({"call": " ", "expect": "allow"})", "/examples/0",
                         "an example needs a call"},
        ExampleErrorCase{"RelativeCwd",
                         R"({"call": "git status", "cwd": "src", "expect": "allow"})",
                         "/examples/0/cwd", "relative path \"src\""},
        ExampleErrorCase{"EnvNotAnObject",
                         R"({"call": "git status", "env": ["A=1"], "expect": "allow"})",
                         "/examples/0/env", "expected an object"},
        ExampleErrorCase{"EnvValueNotAString",
                         R"({"call": "git status", "env": {"A": 1}, "expect": "allow"})",
                         "/examples/0/env/A", "expected a string"},
        ExampleErrorCase{"ArgvNotStrings", R"({"argv": ["git", 1], "expect": "allow"})",
                         "/examples/0/argv/1", "expected a string"}),
    [](const ::testing::TestParamInfo<ExampleErrorCase>& info) {
      return std::string(info.param.name);
    });

// --- extends: a child's tool entry replaces its parent's; examples are each file's own ---

TEST(ToolRulesExtendsTest, AChildsToolReplacesTheParentsAndOnlyItsOwnExamplesAreChecked) {
  InMemoryFiles files;
  files.Add("/profiles/parent.json", R"({
  "name": "parent", "description": "d",
  "tools": {
    "git": {"paths": ["/usr/bin/git"], "default": "deny", "why": "parent",
            "rules": [{"id": "git-push", "verdict": "deny", "args": "push ...", "why": "p"}]},
    "rm": {"paths": ["/bin/rm"], "default": "allow", "why": "parent rm"}},
  "examples": [{"call": "git push", "expect": "deny", "rule": "git-push"}]
})");
  LoadResult child = LoadText(R"({
  "name": "child", "description": "d", "extends": ["parent"],
  "tools": {"git": {"paths": ["/opt/git"], "default": "allow", "why": "child"}},
  "examples": [{"call": "git push", "expect": "allow", "rule": "default"},
               {"call": "rm -rf x", "expect": "allow"}]
})",
                              files);
  ASSERT_TRUE(child.ok()) << Describe(child.errors);
  const ToolSpec& git = child.profile->tools.at("git");
  ASSERT_EQ(git.paths.size(), 1u);
  EXPECT_EQ(git.paths[0].path, "/opt/git");
  EXPECT_THAT(git.rules, IsEmpty());  // nothing of the parent's entry is left
  EXPECT_EQ(git.default_why, "child");
  EXPECT_EQ(child.profile->tools.at("rm").default_why, "parent rm");  // inherited untouched
  ASSERT_EQ(child.profile->examples.size(), 2u);

  // The parent on its own still loads with its own example.
  LoadResult parent = ProfileLoader({"/profiles"}, files.Reader(), files.Exists()).Load("parent");
  ASSERT_TRUE(parent.ok()) << Describe(parent.errors);

  // A child's example is checked against the merged tools: the parent's rm is there.
  LoadResult wrong = LoadText(R"({
  "name": "child", "description": "d", "extends": ["parent"],
  "examples": [{"call": "rm -rf /", "expect": "deny"}]
})",
                              files);
  ASSERT_EQ(wrong.errors.size(), 1u) << Describe(wrong.errors);
  EXPECT_THAT(wrong.errors[0].message,
              HasSubstr("\"rm -rf /\" is expected to be deny, but rule default decides allow"));
}

}  // namespace
}  // namespace tollgate::policy
