// Tests of the strict profile loader: every error kind with its JSON path and line:column, error
// collection, the extends chain, the position scanner, and the shipped profiles.
#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/json_locations.h"
#include "policy/profile_loader.h"
#include "tests/unit/profile_test_files.h"

namespace tollgate::policy {
namespace {

using test_support::Describe;
using test_support::InMemoryFiles;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string Paths(const std::vector<PathEntry>& entries) {
  std::string joined;
  for (const PathEntry& entry : entries) joined += (joined.empty() ? "" : " ") + entry.path;
  return joined;
}

// A profile whose first three lines are fixed, so the line under test is always line 4.
std::string ProfileWithLine(const std::string& line) {
  return "{\n  \"name\": \"p\",\n  \"description\": \"d\",\n  " + line + "\n}\n";
}

class ProfileLoaderTest : public ::testing::Test {
 protected:
  ProfileLoader Loader() const {
    return ProfileLoader({"/profiles"}, files_.Reader(), files_.Exists());
  }
  LoadResult LoadProfile(const std::string& name, const std::string& text) {
    files_.Add("/profiles/" + name + ".json", text);
    return Loader().Load(name);
  }
  InMemoryFiles files_;
};

// --- one error at a time ---

struct SingleErrorCase {
  const char* name;
  const char* line;  // line 4 of the profile
  const char* json_path;
  int line_number;
  int column;
  const char* message;  // substring of the message
  const char* hint;     // substring of the hint
};

class ProfileLoaderSingleErrorTest : public ::testing::TestWithParam<SingleErrorCase> {};

TEST_P(ProfileLoaderSingleErrorTest, ReportsPathPositionMessageAndHint) {
  const SingleErrorCase& c = GetParam();
  InMemoryFiles files;
  files.Add("/profiles/p.json", ProfileWithLine(c.line));
  LoadResult result = ProfileLoader({"/profiles"}, files.Reader(), files.Exists()).Load("p");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.profile.has_value());
  const ProfileError& error = result.errors[0];
  EXPECT_EQ(error.file, "/profiles/p.json");
  EXPECT_EQ(error.json_path, c.json_path);
  EXPECT_EQ(error.line, c.line_number);
  EXPECT_EQ(error.column, c.column);
  EXPECT_THAT(error.message, HasSubstr(c.message));
  EXPECT_THAT(error.hint, HasSubstr(c.hint));
  EXPECT_FALSE(error.hint.empty()) << "every error says how to fix it";
}

const SingleErrorCase kSingleErrorCases[] = {
    {"EvidenceNotObject", R"("evidence": [])", "/evidence", 4, 15, "expected an object, got array",
     ""},
    {"EvidenceUnknownKey", R"("evidence": {"reports": []})", "/evidence/reports", 4, 16,
     "unknown key \"reports\"", "test_results"},
    {"EvidenceListNotArray", R"("evidence": {"artifacts": "dist/*"})", "/evidence/artifacts", 4, 29,
     "expected an array of strings, got string", "dist/*.tar.gz"},
    {"EvidenceGlobNotString", R"("evidence": {"test_results": ["a.xml", 1]})",
     "/evidence/test_results/1", 4, 42, "expected a string, got number", ""},
    {"EvidenceEmptyPattern", R"("evidence": {"test_results": [""]})", "/evidence/test_results/0", 4,
     33, "empty pattern", "relative to the workspace"},
    {"EvidenceAbsolute", R"("evidence": {"artifacts": ["/dist/*.tar.gz"]})",
     "/evidence/artifacts/0", 4, 30, "absolute path \"/dist/*.tar.gz\"",
     "relative to the workspace"},
    {"EvidencePlaceholder", R"("evidence": {"artifacts": ["{workspace}/dist/*"]})",
     "/evidence/artifacts/0", 4, 30, "placeholder {workspace} in a pattern", "already relative"},
    {"EvidenceDotDot", R"("evidence": {"test_results": ["build/../../x.xml"]})",
     "/evidence/test_results/0", 4, 33, "'..' segment", "inside the workspace"},
    {"EvidenceDot", R"("evidence": {"test_results": ["./report.xml"]})", "/evidence/test_results/0",
     4, 33, "'.' segment", ""},
    {"EvidenceEmptySegment", R"("evidence": {"test_results": ["build//x.xml"]})",
     "/evidence/test_results/0", 4, 33, "empty segment ('//')", "single '/'"},
    {"EvidenceTrailingSlash", R"("evidence": {"artifacts": ["dist/"]})", "/evidence/artifacts/0", 4,
     30, "trailing '/'", ""},
    {"EvidenceDoubleStarInName", R"("evidence": {"test_results": ["out/a**.xml"]})",
     "/evidence/test_results/0", 4, 33, "inside the segment \"a**.xml\"", "stands alone"},
    {"EvidenceUnclosedClass", R"("evidence": {"test_results": ["TEST-[0-9.xml"]})",
     "/evidence/test_results/0", 4, 33, "unclosed '['", "close the character class"},
    {"EvidenceControlCharacter", R"("evidence": {"artifacts": ["a\u0007b"]})",
     "/evidence/artifacts/0", 4, 30, "control character U+0007", ""},
    {"ScratchRelative", R"("filesystem": {"scratch": ["build"]})", "/filesystem/scratch/0", 4, 30,
     "relative path \"build\"", "absolute"},
    {"ScratchDotDot", R"("filesystem": {"scratch": ["{workspace}/../x"]})", "/filesystem/scratch/0",
     4, 30, "'..' component", ""},
    {"ScratchNotAList", R"("filesystem": {"scratch": "{workspace}/build"})", "/filesystem/scratch",
     4, 29, "expected an array of strings, got string", ""},
    {"UnknownTopLevelKey", R"("filesystm": {})", "/filesystm", 4, 3, "unknown key \"filesystm\"",
     "did you mean \"filesystem\"?"},
    {"SectionNotObject", R"("filesystem": [])", "/filesystem", 4, 17,
     "expected an object, got array", ""},
    {"PathListNotArray", R"("filesystem": {"read": "/usr"})", "/filesystem/read", 4, 26,
     "expected an array of strings, got string", ""},
    {"PathNotString", R"("filesystem": {"read": ["/usr", 7]})", "/filesystem/read/1", 4, 35,
     "expected a string, got number", ""},
    {"RelativePath", R"("filesystem": {"write": ["/ok", "build/out"]})", "/filesystem/write/1", 4,
     35, "relative path \"build/out\"", "absolute"},
    {"DotDotComponent", R"("filesystem": {"write": ["{workspace}/../etc"]})", "/filesystem/write/0",
     4, 28, "'..' component", ""},
    {"DotComponent", R"("filesystem": {"read": ["/usr/./lib"]})", "/filesystem/read/0", 4, 27,
     "'.' component", ""},
    {"DoubleSlash", R"("filesystem": {"read": ["/usr//lib"]})", "/filesystem/read/0", 4, 27, "'//'",
     ""},
    {"TrailingSlash", R"("filesystem": {"read": ["/usr/lib/"]})", "/filesystem/read/0", 4, 27,
     "trailing '/'", "\"/usr/lib\""},
    {"UnknownPlaceholder", R"("filesystem": {"hide": ["{foo}/x"]})", "/filesystem/hide/0", 4, 27,
     "unknown placeholder {foo}", "{workspace}"},
    {"PlaceholderNotAtStart", R"("filesystem": {"hide": ["/x/{home}/y"]})", "/filesystem/hide/0", 4,
     27, "placeholder {home} may only start a path", ""},
    {"PlaceholderWithoutSlash", R"("filesystem": {"exec": ["{workspace}bin"]})",
     "/filesystem/exec/0", 4, 27, "must be followed by '/'", "\"{workspace}/bin\""},
    {"ControlCharacterInPath", R"("filesystem": {"protect": ["/x\u0001y"]})",
     "/filesystem/protect/0", 4, 30, "control character U+0001", ""},
    {"NulInPath", R"("filesystem": {"protect": ["/x\u0000y"]})", "/filesystem/protect/0", 4, 30,
     "control character U+0000", ""},
    {"BadTmpSize", R"("filesystem": {"tmp": "lots"})", "/filesystem/tmp", 4, 25,
     "\"lots\" is not a size", "512M"},
    {"BadHomeMode", R"("filesystem": {"home": "shared"})", "/filesystem/home", 4, 26,
     "unknown home mode \"shared\"", ""},
    {"UnknownFilesystemKey", R"("filesystem": {"mount": []})", "/filesystem/mount", 4, 18,
     "unknown key \"mount\"", ""},
    {"UnknownNetworkMode", R"("network": {"mode": "vpn"})", "/network/mode", 4, 23,
     "unknown network mode \"vpn\"", "\"proxy\""},
    {"NetworkAllowNotAList", R"("network": {"mode": "proxy", "allow": "a.test"})", "/network/allow",
     4, 41, "expected an array", ""},
    {"NetworkAllowSuffixConfusion", R"("network": {"mode": "proxy", "allow": ["*example.com"]})",
     "/network/allow/0", 4, 42, "*example.com", "*."},
    {"NetworkDenyUserinfo", R"("network": {"mode": "proxy", "deny": ["user@evil.test"]})",
     "/network/deny/0", 4, 41, "user@evil.test", ""},
    {"NetworkCidrHostBits", R"("network": {"mode": "proxy", "deny": ["10.0.0.1/8"]})",
     "/network/deny/0", 4, 41, "host bits", "10.0.0.0/8"},
    {"NetworkBadPort", R"("network": {"mode": "proxy", "allow": ["a.test:0"]})", "/network/allow/0",
     4, 42, "port", ""},
    {"NetworkSocketRelative", R"("network": {"sockets": ["agent.sock"]})", "/network/sockets/0", 4,
     27, "relative path", ""},
    {"NetworkLimitsUnknownKey", R"("network": {"limits": {"bandwidth": 1}})",
     "/network/limits/bandwidth", 4, 26, "unknown key \"bandwidth\"", ""},
    {"NetworkHeaderSizeTooSmall", R"("network": {"limits": {"header_size": 100}})",
     "/network/limits/header_size", 4, 41, "between 1K and 1M", ""},
    {"NetworkIdleTimeoutBad", R"("network": {"limits": {"idle_timeout": "soon"}})",
     "/network/limits/idle_timeout", 4, 42, "is not a duration", ""},
    {"UnknownSyscall", R"("syscalls": {"deny": ["ptrace", "ptrac"]})", "/syscalls/deny/1", 4, 35,
     "unknown syscall \"ptrac\"", "did you mean \"ptrace\"?"},
    {"UnknownSyscallGroup", R"("syscalls": {"allow": ["@debgu"]})", "/syscalls/allow/0", 4, 26,
     "unknown syscall group \"@debgu\"", "did you mean \"@debug\"?"},
    {"SyscallNotString", R"("syscalls": {"log": [false]})", "/syscalls/log/0", 4, 24,
     "expected a string, got boolean", ""},
    {"UnknownErrno", R"("syscalls": {"errno": "EPERN"})", "/syscalls/errno", 4, 25,
     "unknown errno \"EPERN\"", "did you mean \"EPERM\"?"},
    {"ErrnoOutOfRange", R"("syscalls": {"errno": 5000})", "/syscalls/errno", 4, 25,
     "errno 5000 is out of range", "4095"},
    {"ErrnoZero", R"("syscalls": {"errno": 0})", "/syscalls/errno", 4, 25,
     "errno 0 is out of range", ""},
    {"ErrnoWrongType", R"("syscalls": {"errno": true})", "/syscalls/errno", 4, 25,
     "expected an errno name or number, got boolean", ""},
    {"BadMemorySize", R"("limits": {"memory": "12X"})", "/limits/memory", 4, 24,
     "\"12X\" is not a size", ""},
    {"NegativeFileSize", R"("limits": {"file_size": -1})", "/limits/file_size", 4, 27,
     "negative size -1", ""},
    {"ZeroMemory", R"("limits": {"memory": 0})", "/limits/memory", 4, 24,
     "size must be greater than zero", ""},
    {"ZeroProcesses", R"("limits": {"processes": 0})", "/limits/processes", 4, 27,
     "0 is not a count of at least 1", ""},
    {"FractionalOpenFiles", R"("limits": {"open_files": 2.5})", "/limits/open_files", 4, 28,
     "2.5 is not a count of at least 1", ""},
    {"OpenFilesWrongType", R"("limits": {"open_files": "many"})", "/limits/open_files", 4, 28,
     "expected a number, got string", ""},
    {"ZeroCpu", R"("limits": {"cpu": 0})", "/limits/cpu", 4, 21,
     "duration must be greater than zero", ""},
    {"ZeroWallString", R"("limits": {"wall": "0s"})", "/limits/wall", 4, 22,
     "duration must be greater than zero", ""},
    {"BadWall", R"("limits": {"wall": "1h1h"})", "/limits/wall", 4, 22,
     "\"1h1h\" is not a duration", "1h30m"},
    {"UnknownLimit", R"("limits": {"swap": 1})", "/limits/swap", 4, 14, "unknown key \"swap\"", ""},
    {"BadEnvSetName", R"("env": {"set": {"1BAD": "x"}})", "/env/set/1BAD", 4, 19,
     "\"1BAD\" is not a valid variable name", ""},
    {"UnknownPlaceholderInEnvValue", R"("env": {"set": {"CACHE": "{cachedir}/x"}})",
     "/env/set/CACHE", 4, 28, "unknown placeholder {cachedir}", ""},
    {"EnvValueNotString", R"("env": {"set": {"N": 1}})", "/env/set/N", 4, 24,
     "expected a string, got number", ""},
    {"BadEnvKeepPattern", R"("env": {"keep": ["PATH", "MY-VAR"]})", "/env/keep/1", 4, 28,
     "\"MY-VAR\" is not a variable name or pattern", ""},
    {"BadEnvDropPattern", R"("env": {"drop": ["*TOKEN*", ""]})", "/env/drop/1", 4, 31,
     "\"\" is not a variable name or pattern", ""},
    {"UnknownEnvKey", R"("env": {"unset": []})", "/env/unset", 4, 11, "unknown key \"unset\"", ""},
    {"ExtendsWrongType", R"("extends": 5)", "/extends", 4, 14,
     "expected a string or an array of strings, got number", ""},
    {"ExtendsNotAName", R"("extends": ["../base"])", "/extends/0", 4, 15,
     "\"../base\" is not a profile name", ""},
};

INSTANTIATE_TEST_SUITE_P(EveryKind, ProfileLoaderSingleErrorTest,
                         ::testing::ValuesIn(kSingleErrorCases),
                         [](const ::testing::TestParamInfo<SingleErrorCase>& info) {
                           return std::string(info.param.name);
                         });

// --- errors that need a whole document ---

TEST_F(ProfileLoaderTest, RootMustBeAnObject) {
  LoadResult result = LoadProfile("p", "\n  [1, 2]\n");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].json_path, "");
  EXPECT_EQ(result.errors[0].line, 2);
  EXPECT_EQ(result.errors[0].column, 3);
  EXPECT_THAT(result.errors[0].message, HasSubstr("must be a JSON object, got array"));
}

TEST_F(ProfileLoaderTest, MissingNameAndDescriptionAreReportedAtTheDocument) {
  LoadResult result = LoadProfile("p", "{\n  \"extends\": []\n}\n");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].json_path, "/name");
  EXPECT_EQ(result.errors[0].line, 1);
  EXPECT_EQ(result.errors[0].column, 1);
  EXPECT_EQ(result.errors[0].message, "missing required key \"name\"");
  EXPECT_EQ(result.errors[1].json_path, "/description");
  EXPECT_EQ(result.errors[1].message, "missing required key \"description\"");
}

TEST_F(ProfileLoaderTest, InvalidNameAndEmptyDescription) {
  LoadResult result =
      LoadProfile("p", "{\n  \"name\": \"My_Profile\",\n  \"description\": \"  \"\n}\n");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].json_path, "/name");
  EXPECT_EQ(result.errors[0].line, 2);
  EXPECT_EQ(result.errors[0].column, 11);
  EXPECT_EQ(result.errors[0].message, "\"My_Profile\" is not a valid profile name");
  EXPECT_EQ(result.errors[1].json_path, "/description");
  EXPECT_EQ(result.errors[1].line, 3);
  EXPECT_EQ(result.errors[1].column, 18);
  EXPECT_EQ(result.errors[1].message, "empty description");
}

TEST_F(ProfileLoaderTest, NameAndDescriptionMustBeStrings) {
  LoadResult result = LoadProfile("p", "{\"name\": 1, \"description\": null}");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].message, "expected a string, got number");
  EXPECT_EQ(result.errors[0].column, 10);
  EXPECT_EQ(result.errors[1].message, "expected a string, got null");
  EXPECT_EQ(result.errors[1].column, 28);
}

TEST_F(ProfileLoaderTest, SyntaxErrorHasLineAndColumn) {
  // The trailing comma is only wrong once the '}' arrives: line 4, column 1.
  LoadResult result = LoadProfile("p", "{\n  \"name\": \"p\",\n  \"description\": \"d\",\n}\n");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].file, "/profiles/p.json");
  EXPECT_EQ(result.errors[0].json_path, "");
  EXPECT_EQ(result.errors[0].line, 4);
  EXPECT_EQ(result.errors[0].column, 1);
  EXPECT_THAT(result.errors[0].message, HasSubstr("invalid JSON"));
  EXPECT_THAT(result.errors[0].message, Not(HasSubstr("json.exception")));
}

TEST_F(ProfileLoaderTest, SyntaxErrorAtEndOfInput) {
  LoadResult result = LoadProfile("p", "{\n  \"name\": \"p\"");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].line, 2);
  EXPECT_EQ(result.errors[0].column, 14);
  EXPECT_THAT(result.errors[0].message, HasSubstr("unexpected end of input"));
}

TEST_F(ProfileLoaderTest, SyntaxErrorColumnCountsCharactersNotBytes) {
  // "é" is two bytes: the stray 'x' is the 23rd byte of line 3 but its 22nd character.
  LoadResult result = LoadProfile("p", "{\n  \"name\": \"p\",\n  \"description\": \"é\" x\n}");
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].line, 3);
  EXPECT_EQ(result.errors[0].column, 22);
}

TEST_F(ProfileLoaderTest, DuplicateKeysAreErrors) {
  LoadResult result = LoadProfile("p",
                                  "{\n"
                                  "  \"name\": \"p\",\n"
                                  "  \"description\": \"d\",\n"
                                  "  \"limits\": {\"memory\": \"1G\",\n"
                                  "             \"memory\": \"2G\"},\n"
                                  "  \"name\": \"p\"\n"
                                  "}\n");
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].json_path, "/limits/memory");
  EXPECT_EQ(result.errors[0].line, 5);
  EXPECT_EQ(result.errors[0].column, 14);
  EXPECT_EQ(result.errors[0].message, "duplicate key \"memory\" (also at line 4, column 14)");
  EXPECT_EQ(result.errors[1].json_path, "/name");
  EXPECT_EQ(result.errors[1].line, 6);
  EXPECT_EQ(result.errors[1].column, 3);
  EXPECT_EQ(result.errors[1].message, "duplicate key \"name\" (also at line 2, column 3)");
}

TEST_F(ProfileLoaderTest, CollectsEveryErrorInFileOrder) {
  LoadResult result = LoadProfile("p",
                                  "{\n"
                                  "  \"name\": \"Bad Name\",\n"
                                  "  \"description\": \"d\",\n"
                                  "  \"evidence\": [],\n"
                                  "  \"filesystem\": {\n"
                                  "    \"write\": [\"rel\", \"/a/../b\"],\n"
                                  "    \"tmp\": \"huge\"\n"
                                  "  },\n"
                                  "  \"syscalls\": {\"deny\": [\"ptrac\"]},\n"
                                  "  \"limits\": {\"memory\": 1, \"memory\": 2},\n"
                                  "  \"env\": {\"set\": {\"X\": \"{nope}\"}}\n"
                                  "}\n");
  struct Expected {
    std::string json_path;
    int line;
    int column;
    std::string message;
  };
  std::vector<Expected> expected = {
      {"/name", 2, 11, "\"Bad Name\" is not a valid profile name"},
      {"/evidence", 4, 15, "expected an object, got array"},
      {"/filesystem/write/0", 6, 15, "relative path \"rel\""},
      {"/filesystem/write/1", 6, 22, "'..' component"},
      {"/filesystem/tmp", 7, 12, "\"huge\" is not a size"},
      {"/syscalls/deny/0", 9, 25, "unknown syscall \"ptrac\""},
      {"/limits/memory", 10, 27, "duplicate key \"memory\" (also at line 10, column 14)"},
      {"/env/set/X", 11, 24, "unknown placeholder {nope}"},
  };
  ASSERT_EQ(result.errors.size(), expected.size()) << Describe(result.errors);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(result.errors[i].ToString());
    EXPECT_EQ(result.errors[i].file, "/profiles/p.json");
    EXPECT_EQ(result.errors[i].json_path, expected[i].json_path);
    EXPECT_EQ(result.errors[i].line, expected[i].line);
    EXPECT_EQ(result.errors[i].column, expected[i].column);
    EXPECT_EQ(result.errors[i].message, expected[i].message);
  }
  EXPECT_EQ(
      result.errors[2].ToString(),
      "/profiles/p.json:6:15: /filesystem/write/0: relative path \"rel\" (write an absolute "
      "path (\"/usr/lib\") or start with a placeholder: {workspace}, {home}, {tmp}, {cache})");
}

// --- values that load ---

TEST_F(ProfileLoaderTest, LoadsEveryFieldOfOneProfile) {
  LoadResult result = LoadProfile(
      "full",
      "{\n"
      "  \"name\": \"full\",\n"
      "  \"description\": \"every field\",\n"
      "  \"filesystem\": {\"read\": [\"/\", \"/usr\"], \"write\": [\"{workspace}\"],\n"
      "                 \"exec\": [\"{workspace}/bin\"], \"hide\": [\"{home}/.ssh\"],\n"
      "                 \"protect\": [\"{workspace}/.git/hooks\"], \"tmp\": 1048576,\n"
      "                 \"home\": \"none\"},\n"
      "  \"network\": {\"mode\": \"host\"},\n"
      "  \"syscalls\": {\"deny\": [\"@mount\", \"mount\"], \"allow\": [\"ptrace\"],\n"
      "               \"log\": [\"@debug\"], \"errno\": 13},\n"
      "  \"limits\": {\"memory\": \"512M\", \"processes\": 1, \"cpu\": 90, \"wall\": \"1h30m\",\n"
      "             \"file_size\": \"1.5G\", \"open_files\": 64},\n"
      "  \"env\": {\"keep\": [\"PATH\", \"LC_*\"], \"set\": {\"TMPDIR\": \"{tmp}\", \"X\": "
      "\"{a\"},\n"
      "          \"drop\": [\"*TOKEN*\"]}\n"
      "}\n");
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const Profile& profile = *result.profile;
  EXPECT_EQ(profile.name, "full");
  EXPECT_EQ(profile.description, "every field");
  EXPECT_EQ(profile.source_file, "/profiles/full.json");
  EXPECT_EQ(Paths(profile.filesystem.read), "/ /usr");
  EXPECT_EQ(profile.filesystem.read[1].where.ToString(), "/profiles/full.json:4:32");
  EXPECT_EQ(Paths(profile.filesystem.write), "{workspace}");
  EXPECT_EQ(Paths(profile.filesystem.exec), "{workspace}/bin");
  EXPECT_EQ(Paths(profile.filesystem.hide), "{home}/.ssh");
  EXPECT_EQ(Paths(profile.filesystem.protect), "{workspace}/.git/hooks");
  EXPECT_EQ(profile.filesystem.tmp_size, 1048576u);
  EXPECT_EQ(profile.filesystem.home, HomeMode::kNone);
  EXPECT_EQ(profile.network.mode, NetworkMode::kHost);
  EXPECT_THAT(profile.syscalls.deny, ElementsAre("@mount", "mount"));
  EXPECT_THAT(profile.syscalls.allow, ElementsAre("ptrace"));
  EXPECT_THAT(profile.syscalls.log, ElementsAre("@debug"));
  EXPECT_EQ(profile.syscalls.errno_value, 13);
  EXPECT_EQ(profile.limits.memory, 512u << 20);
  EXPECT_EQ(profile.limits.processes, 1u);
  EXPECT_EQ(profile.limits.cpu_seconds, 90u);
  EXPECT_EQ(profile.limits.wall_seconds, 5400u);
  EXPECT_EQ(profile.limits.file_size, 3u << 29);
  EXPECT_EQ(profile.limits.open_files, 64u);
  EXPECT_THAT(profile.env.keep, ElementsAre("PATH", "LC_*"));
  EXPECT_EQ(profile.env.set,
            (std::map<std::string, std::string>{{"TMPDIR", "{tmp}"}, {"X", "{a"}}));
  EXPECT_THAT(profile.env.drop, ElementsAre("*TOKEN*"));
  EXPECT_THAT(profile.extends, IsEmpty());
}

TEST_F(ProfileLoaderTest, ErrnoNamesMapToTheirValues) {
  for (auto [name, value] :
       std::vector<std::pair<std::string, int>>{{"EPERM", EPERM},
                                                {"EACCES", EACCES},
                                                {"ENOSYS", ENOSYS},
                                                {"EINVAL", EINVAL},
                                                {"ENOTSUP", ENOTSUP},
                                                {"EOPNOTSUPP", EOPNOTSUPP},
                                                {"EAFNOSUPPORT", EAFNOSUPPORT}}) {
    LoadResult result =
        LoadProfile("p", ProfileWithLine("\"syscalls\": {\"errno\": \"" + name + "\"}"));
    ASSERT_TRUE(result.ok()) << name << "\n" << Describe(result.errors);
    EXPECT_EQ(result.profile->syscalls.errno_value, value) << name;
  }
}

TEST_F(ProfileLoaderTest, PlaceholderAloneAndRootAreValidPaths) {
  LoadResult result = LoadProfile(
      "p", ProfileWithLine("\"filesystem\": {\"read\": [\"/\", \"{home}\", \"{tmp}/a.b/..c\", "
                           "\"{cache}\", \"/opt/{not a placeholder\"]}"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  EXPECT_EQ(Paths(result.profile->filesystem.read),
            "/ {home} {tmp}/a.b/..c {cache} /opt/{not a placeholder");
}

TEST_F(ProfileLoaderTest, DuplicatePathsInOneListAreKeptOnce) {
  LoadResult result = LoadProfile(
      "p", ProfileWithLine("\"filesystem\": {\"read\": [\"/usr\", \"/etc\", \"/usr\"]}"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  EXPECT_EQ(Paths(result.profile->filesystem.read), "/usr /etc");
  EXPECT_EQ(result.profile->filesystem.read[0].where.column, 27);
}

// --- finding profiles ---

TEST_F(ProfileLoaderTest, UnknownNameIsAnError) {
  LoadResult result = Loader().Load("nope");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].message, "no profile named \"nope\"");
  EXPECT_THAT(result.errors[0].hint, HasSubstr("/profiles"));
  EXPECT_FALSE(result.ok());
}

TEST_F(ProfileLoaderTest, UnreadablePathIsAnError) {
  LoadResult result = Loader().Load("/elsewhere/nope.json");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].file, "/elsewhere/nope.json");
  EXPECT_EQ(result.errors[0].message, "cannot read the profile file");
}

TEST_F(ProfileLoaderTest, ResolveFindsNamesAndKeepsPaths) {
  files_.Add("/profiles/base.json", "{}");
  ProfileLoader loader({"/first", "/profiles"}, files_.Reader(), files_.Exists());
  EXPECT_EQ(loader.Resolve("base"), "/profiles/base.json");
  EXPECT_EQ(loader.Resolve("missing"), std::nullopt);
  EXPECT_EQ(loader.Resolve("some/where"), "some/where");
  EXPECT_EQ(loader.Resolve("local.json"), "local.json");
  files_.Add("/first/base.json", "{}");
  EXPECT_EQ(loader.Resolve("base"), "/first/base.json");
}

// --- extends ---

std::string Layer(const std::string& name, const std::string& body) {
  return "{\n  \"name\": \"" + name + "\",\n  \"description\": \"" + name + "\",\n" + body +
         "\n}\n";
}

TEST_F(ProfileLoaderTest, ExtendsMergesParentsInOrderThenTheChild) {
  files_.Add("/profiles/base.json",
             Layer("base",
                   "  \"filesystem\": {\"read\": [\"/usr\", \"/etc\"], \"tmp\": \"1G\", \"home\": "
                   "\"empty\"},\n"
                   "  \"network\": {\"mode\": \"none\"},\n"
                   "  \"syscalls\": {\"deny\": [\"ptrace\"], \"errno\": \"EPERM\"},\n"
                   "  \"limits\": {\"memory\": \"8G\", \"processes\": 100, \"wall\": \"1h\"},\n"
                   "  \"env\": {\"keep\": [\"PATH\"], \"set\": {\"A\": \"1\", \"B\": \"2\"}, "
                   "\"drop\": [\"*TOKEN*\"]}"));
  files_.Add("/profiles/mid.json", Layer("mid",
                                         "  \"extends\": \"base\",\n"
                                         "  \"filesystem\": {\"read\": [\"/opt\", \"/usr\"]},\n"
                                         "  \"syscalls\": {\"deny\": [\"@mount\", \"ptrace\"]},\n"
                                         "  \"limits\": {\"memory\": \"1G\"},\n"
                                         "  \"env\": {\"set\": {\"B\": \"3\"}}"));
  files_.Add("/profiles/other.json",
             Layer("other",
                   "  \"extends\": [\"base\"],\n"
                   "  \"filesystem\": {\"read\": [\"/srv\"], \"tmp\": \"2G\"},\n"
                   "  \"syscalls\": {\"errno\": \"EACCES\"},\n"
                   "  \"network\": {\"mode\": \"host\"}"));
  LoadResult result = LoadProfile(
      "child",
      Layer("child",
            "  \"extends\": [\"mid\", \"other\"],\n"
            "  \"filesystem\": {\"write\": [\"{workspace}\"], \"home\": \"none\"},\n"
            "  \"limits\": {\"processes\": 5},\n"
            "  \"env\": {\"set\": {\"C\": \"{workspace}/x\"}, \"keep\": [\"PATH\", \"LC_*\"]}"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const Profile& profile = *result.profile;
  EXPECT_EQ(profile.name, "child");
  EXPECT_EQ(profile.description, "child");
  EXPECT_THAT(profile.extends, ElementsAre("mid", "other"));
  EXPECT_EQ(profile.source_file, "/profiles/child.json");

  // Lists: concatenated in layer order, without duplicates; the first occurrence keeps its place.
  EXPECT_EQ(Paths(profile.filesystem.read), "/usr /etc /opt /srv");
  EXPECT_EQ(profile.filesystem.read[0].where.ToString(), "/profiles/base.json:4:27");
  EXPECT_EQ(profile.filesystem.read[2].where.ToString(), "/profiles/mid.json:5:27");
  EXPECT_EQ(Paths(profile.filesystem.write), "{workspace}");
  EXPECT_EQ(profile.filesystem.write[0].where.ToString(), "/profiles/child.json:5:28");
  EXPECT_THAT(profile.syscalls.deny, ElementsAre("ptrace", "@mount"));
  EXPECT_THAT(profile.env.keep, ElementsAre("PATH", "LC_*"));
  EXPECT_THAT(profile.env.drop, ElementsAre("*TOKEN*"));

  // Scalars: the later layer wins. "other" also extends base, but base is applied once, first,
  // so it cannot undo mid's memory limit.
  EXPECT_EQ(profile.filesystem.tmp_size, 2ull << 30);
  EXPECT_EQ(profile.filesystem.home, HomeMode::kNone);
  EXPECT_EQ(profile.network.mode, NetworkMode::kHost);
  EXPECT_EQ(profile.syscalls.errno_value, EACCES);
  EXPECT_EQ(profile.limits.memory, 1ull << 30);
  EXPECT_EQ(profile.limits.processes, 5u);
  EXPECT_EQ(profile.limits.wall_seconds, 3600u);
  EXPECT_EQ(profile.limits.cpu_seconds, std::nullopt);

  // env.set: merged name by name.
  EXPECT_EQ(profile.env.set,
            (std::map<std::string, std::string>{{"A", "1"}, {"B", "3"}, {"C", "{workspace}/x"}}));
}

TEST_F(ProfileLoaderTest, EvidenceAndScratchLoadAndAccumulateOverExtends) {
  files_.Add(
      "/profiles/base.json",
      Layer("base",
            "  \"filesystem\": {\"scratch\": [\"{workspace}/build\", \"{workspace}/.git\"]},\n"
            "  \"evidence\": {\"test_results\": [\"**/junit*.xml\", \"*.tap\"]}"));
  LoadResult result = LoadProfile(
      "child", Layer("child",
                     "  \"extends\": \"base\",\n"
                     "  \"filesystem\": {\"scratch\": [\"{workspace}/.git\", \"{cache}/x\"]},\n"
                     "  \"evidence\": {\"test_results\": [\"*.tap\", "
                     "\"build/Testing/Temporary/LastTest.log\",\n"
                     "                                \"build/Testing/Temporary/LastTest.log\"],\n"
                     "               \"artifacts\": [\"dist/*.tar.gz\", \"out/[a-z]?.bin\"]}"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const Profile& profile = *result.profile;
  // Parent's first, each once, the first occurrence keeping its place and its source.
  EXPECT_EQ(Paths(profile.filesystem.scratch), "{workspace}/build {workspace}/.git {cache}/x");
  EXPECT_EQ(profile.filesystem.scratch[1].where.ToString(), "/profiles/base.json:4:51");
  EXPECT_EQ(profile.filesystem.scratch[2].where.ToString(), "/profiles/child.json:5:50");
  std::vector<std::string> tests, artifacts;
  for (const EvidencePattern& pattern : profile.evidence.test_results)
    tests.push_back(pattern.glob);
  for (const EvidencePattern& pattern : profile.evidence.artifacts)
    artifacts.push_back(pattern.glob);
  EXPECT_THAT(tests, ElementsAre("**/junit*.xml", "*.tap", "build/Testing/Temporary/LastTest.log"));
  EXPECT_THAT(artifacts, ElementsAre("dist/*.tar.gz", "out/[a-z]?.bin"));
  EXPECT_EQ(profile.evidence.test_results[1].where.ToString(), "/profiles/base.json:5:50");
  EXPECT_EQ(profile.evidence.test_results[2].where.ToString(), "/profiles/child.json:6:42");
  EXPECT_EQ(profile.evidence.artifacts[0].where.ToString(), "/profiles/child.json:8:30");
}

TEST_F(ProfileLoaderTest, ExtendsCycleThroughTwoProfiles) {
  files_.Add("/profiles/b.json", Layer("b", "  \"extends\": [\"a\"]"));
  LoadResult result = LoadProfile("a", Layer("a", "  \"extends\": [\"b\"]"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].file, "/profiles/b.json");
  EXPECT_EQ(result.errors[0].json_path, "/extends/0");
  EXPECT_EQ(result.errors[0].line, 4);
  EXPECT_EQ(result.errors[0].column, 15);
  EXPECT_EQ(result.errors[0].message, "extends cycle: a -> b -> a");
  EXPECT_FALSE(result.profile.has_value());
}

TEST_F(ProfileLoaderTest, ExtendsCycleOnItself) {
  LoadResult result = LoadProfile("a", Layer("a", "  \"extends\": \"a\""));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].file, "/profiles/a.json");
  EXPECT_EQ(result.errors[0].json_path, "/extends");
  EXPECT_EQ(result.errors[0].line, 4);
  EXPECT_EQ(result.errors[0].column, 14);
  EXPECT_EQ(result.errors[0].message, "extends cycle: a -> a");
}

TEST_F(ProfileLoaderTest, ExtendsCycleBelowTheLoadedProfile) {
  files_.Add("/profiles/b.json", Layer("b", "  \"extends\": [\"c\"]"));
  files_.Add("/profiles/c.json", Layer("c", "  \"extends\": [\"b\"]"));
  LoadResult result = LoadProfile("a", Layer("a", "  \"extends\": [\"b\"]"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].file, "/profiles/c.json");
  EXPECT_EQ(result.errors[0].message, "extends cycle: b -> c -> b");
}

TEST_F(ProfileLoaderTest, MissingParentIsReportedAtTheExtendsEntry) {
  files_.Add("/profiles/base.json", Layer("base", "  \"limits\": {\"processes\": 10}"));
  LoadResult result = LoadProfile("child", Layer("child", "  \"extends\": [\"base\", \"nope\"]"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].file, "/profiles/child.json");
  EXPECT_EQ(result.errors[0].json_path, "/extends/1");
  EXPECT_EQ(result.errors[0].line, 4);
  EXPECT_EQ(result.errors[0].column, 23);
  EXPECT_EQ(result.errors[0].message, "no profile named \"nope\"");
  EXPECT_EQ(result.errors[0].hint, "looked for nope.json in: /profiles");
  EXPECT_FALSE(result.profile.has_value());
}

TEST_F(ProfileLoaderTest, ErrorsInAParentNameTheParentsFile) {
  files_.Add("/profiles/base.json", Layer("base", "  \"filesystem\": {\"read\": [\"usr\"]}"));
  LoadResult result =
      LoadProfile("child", Layer("child", "  \"extends\": [\"base\"],\n  \"tools\": 1"));
  ASSERT_EQ(result.errors.size(), 2u) << Describe(result.errors);
  // The child's own errors first, then the parent's.
  EXPECT_EQ(result.errors[0].file, "/profiles/child.json");
  EXPECT_EQ(result.errors[0].json_path, "/tools");
  EXPECT_EQ(result.errors[0].line, 5);
  EXPECT_EQ(result.errors[1].file, "/profiles/base.json");
  EXPECT_EQ(result.errors[1].json_path, "/filesystem/read/0");
  EXPECT_EQ(result.errors[1].line, 4);
  EXPECT_EQ(result.errors[1].column, 27);
}

TEST_F(ProfileLoaderTest, NetworkRulesSocketsAndLimitsLoadAndAccumulateOverExtends) {
  files_.Add(
      "/profiles/base.json",
      Layer("base",
            "  \"network\": {\"mode\": \"proxy\", \"allow\": [\"Registry.NPMjs.org.:443\"],\n"
            "              \"deny\": [\"169.254.0.0/16\"],\n"
            "              \"limits\": {\"connections\": 8, \"idle_timeout\": \"2m\"}}"));
  LoadResult result = LoadProfile(
      "child",
      Layer("child",
            "  \"extends\": [\"base\"],\n"
            "  \"network\": {\"allow\": [\"*.pythonhosted.org\", \"registry.npmjs.org:443\"],\n"
            "              \"deny\": [\"evil.registry.npmjs.org\"],\n"
            "              \"sockets\": [\"{home}/agent.sock\"],\n"
            "              \"limits\": {\"header_size\": \"8K\", \"header_timeout\": 5,\n"
            "                         \"connect_timeout\": \"3s\"}}"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const NetworkSpec& network = result.profile->network;
  EXPECT_EQ(network.mode, NetworkMode::kProxy);  // from the parent
  // The parent's entry normalised (case, trailing dot); the child's equal entry is not repeated.
  ASSERT_EQ(network.allow.size(), 3u);
  EXPECT_EQ(network.allow[0].pattern.name, "registry.npmjs.org");
  EXPECT_EQ(network.allow[0].pattern.kind, HostPattern::Kind::kName);
  EXPECT_EQ(network.allow[1].pattern.kind, HostPattern::Kind::kSuffix);
  EXPECT_EQ(network.allow[1].pattern.name, "pythonhosted.org");
  EXPECT_EQ(network.allow[2].pattern.text, "registry.npmjs.org:443");
  ASSERT_EQ(network.deny.size(), 2u);
  EXPECT_EQ(network.deny[0].pattern.kind, HostPattern::Kind::kNetwork);
  EXPECT_EQ(network.deny[1].pattern.name, "evil.registry.npmjs.org");
  ASSERT_EQ(network.sockets.size(), 1u);
  EXPECT_EQ(network.sockets[0].path, "{home}/agent.sock");
  EXPECT_EQ(network.limits.connections, 8u);
  EXPECT_EQ(network.limits.idle_seconds, 120u);
  EXPECT_EQ(network.limits.header_bytes, 8192u);
  EXPECT_EQ(network.limits.header_seconds, 5u);
  EXPECT_EQ(network.limits.connect_seconds, 3u);
}

TEST_F(ProfileLoaderTest, NetworkExamplesAreDecidedAsTheProxyDecidesThem) {
  const std::string network =
      "  \"network\": {\"mode\": \"proxy\", \"allow\": [\"registry.npmjs.org:443\", "
      "\"*.corp.test\"],\n"
      "              \"deny\": [\"secret.corp.test\"]},\n";
  LoadResult good = LoadProfile(
      "good",
      Layer("good", network +
                        "  \"examples\": [\n"
                        "    {\"connect\": \"registry.npmjs.org:443\", \"expect\": \"allow\"},\n"
                        "    {\"connect\": \"REGISTRY.npmjs.org.:80\", \"expect\": \"deny\", "
                        "\"rule\": \"default\"},\n"
                        "    {\"connect\": \"secret.corp.test:443\", \"expect\": \"deny\", "
                        "\"rule\": \"secret.corp.test\"},\n"
                        "    {\"connect\": \"git.corp.test:443\", \"resolves_to\": [\"10.1.2.3\"], "
                        "\"expect\": \"deny\", \"rule\": \"special-address\"},\n"
                        "    {\"connect\": \"git.corp.test:443\", \"resolves_to\": [\"10.1.2.3\", "
                        "\"198.51.100.7\", \"93.184.216.34\"], \"expect\": \"allow\"}]"));
  ASSERT_TRUE(good.ok()) << Describe(good.errors);
  EXPECT_EQ(good.profile->network_examples.size(), 5u);

  LoadResult bad = LoadProfile(
      "bad",
      Layer("bad", network +
                       "  \"examples\": [\n"
                       "    {\"connect\": \"registry.npmjs.org:80\", \"expect\": \"allow\"}]"));
  ASSERT_EQ(bad.errors.size(), 1u) << Describe(bad.errors);
  EXPECT_EQ(bad.errors[0].json_path, "/examples/0");
  EXPECT_EQ(bad.errors[0].line, 7);
  EXPECT_THAT(bad.errors[0].message,
              HasSubstr("connecting to registry.npmjs.org:80 is expected to be allowed, but rule "
                        "default denies it"));
}

TEST_F(ProfileLoaderTest, MalformedNetworkExamplesAreLoadErrors) {
  LoadResult result = LoadProfile(
      "p", Layer("p",
                 "  \"network\": {\"mode\": \"proxy\"},\n"
                 "  \"examples\": [{\"connect\": \"example.com\", \"expect\": \"deny\"},\n"
                 "               {\"connect\": \"example.com:443\", \"expect\": \"ask\"},\n"
                 "               {\"connect\": \"example.com:443\", \"resolves_to\": [\"10.1\"],"
                 " \"expect\": \"deny\"},\n"
                 "               {\"connect\": \"example.com:443\"},\n"
                 "               {\"connect\": \"192.0.2.1:443\", \"resolves_to\": [\"10.0.0.1\"],"
                 " \"expect\": \"deny\"}]"));
  ASSERT_EQ(result.errors.size(), 5u) << Describe(result.errors);
  EXPECT_THAT(result.errors[0].message, HasSubstr("\"example.com\" is not host:port"));
  EXPECT_THAT(result.errors[1].message, HasSubstr("allowed or denied, not \"ask\""));
  EXPECT_THAT(result.errors[2].message, HasSubstr("\"10.1\" is not an IP address"));
  EXPECT_THAT(result.errors[3].message, HasSubstr("needs \"expect\""));
  EXPECT_THAT(result.errors[4].message, HasSubstr("an address does not resolve to anything"));
}

TEST_F(ProfileLoaderTest, ASharedBrokenParentIsReportedOnce) {
  files_.Add("/profiles/base.json", Layer("base", "  \"network\": {\"mode\": \"vpn\"}"));
  files_.Add("/profiles/x.json", Layer("x", "  \"extends\": [\"base\"]"));
  files_.Add("/profiles/y.json", Layer("y", "  \"extends\": [\"base\"]"));
  LoadResult result = LoadProfile("child", Layer("child", "  \"extends\": [\"x\", \"y\"]"));
  ASSERT_EQ(result.errors.size(), 1u) << Describe(result.errors);
  EXPECT_EQ(result.errors[0].file, "/profiles/base.json");
  EXPECT_EQ(result.errors[0].json_path, "/network/mode");
}

TEST_F(ProfileLoaderTest, ProfileGivenByPathFindsParentsNextToItFirst) {
  files_.Add("/profiles/base.json", Layer("base", "  \"filesystem\": {\"tmp\": \"1G\"}"));
  files_.Add("/home/u/mine/base.json", Layer("base", "  \"filesystem\": {\"tmp\": \"3G\"}"));
  files_.Add("/home/u/mine/dev.json", Layer("dev", "  \"extends\": [\"base\"]"));
  LoadResult result = Loader().Load("/home/u/mine/dev.json");
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  EXPECT_EQ(result.profile->filesystem.tmp_size, 3ull << 30);
  EXPECT_EQ(result.profile->source_file, "/home/u/mine/dev.json");

  // By name, the search dirs decide.
  files_.Add("/profiles/dev.json", Layer("dev", "  \"extends\": [\"base\"]"));
  LoadResult by_name = Loader().Load("dev");
  ASSERT_TRUE(by_name.ok()) << Describe(by_name.errors);
  EXPECT_EQ(by_name.profile->filesystem.tmp_size, 1ull << 30);
}

TEST_F(ProfileLoaderTest, LoadTextResolvesExtendsByName) {
  files_.Add("/profiles/base.json", Layer("base", "  \"limits\": {\"open_files\": 7}"));
  LoadResult result = Loader().LoadText("<stdin>", Layer("inline", "  \"extends\": \"base\""));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  EXPECT_EQ(result.profile->limits.open_files, 7u);
  EXPECT_EQ(result.profile->source_file, "<stdin>");
}

TEST(ProfileLoaderToStringTest, ErrorAndSourceRefFormats) {
  EXPECT_EQ((ProfileError{"p.json", "/a/0", 3, 5, "bad", "fix it"}).ToString(),
            "p.json:3:5: /a/0: bad (fix it)");
  EXPECT_EQ((ProfileError{"p.json", "", 0, 0, "cannot read", ""}).ToString(),
            "p.json: cannot read");
  EXPECT_EQ((ProfileError{"", "", 0, 0, "no profile named \"x\"", ""}).ToString(),
            "no profile named \"x\"");
  EXPECT_EQ((SourceRef{"workspace-write.json", 12, 5}).ToString(), "workspace-write.json:12:5");
  EXPECT_EQ((SourceRef{"base.json", 0, 0}).ToString(), "base.json");
}

// --- the profiles shipped in profiles/ ---

class ProfileLoaderShippedTest : public ::testing::Test {
 protected:
  static LoadResult LoadShipped(const std::string& name) { return test_support::LoadShipped(name); }
  static bool HasPath(const std::vector<PathEntry>& entries, const std::string& path) {
    return std::any_of(entries.begin(), entries.end(),
                       [&](const PathEntry& entry) { return entry.path == path; });
  }
};

TEST_F(ProfileLoaderShippedTest, Base) {
  LoadResult result = LoadShipped("base");
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const Profile& base = *result.profile;
  EXPECT_EQ(base.name, "base");
  EXPECT_THAT(base.extends, IsEmpty());
  EXPECT_EQ(base.source_file, TOLLGATE_SOURCE_DIR "/profiles/base.json");
  EXPECT_TRUE(HasPath(base.filesystem.read, "/usr"));
  EXPECT_TRUE(HasPath(base.filesystem.exec, "/usr"));
  EXPECT_TRUE(HasPath(base.filesystem.hide, "{home}/.ssh"));
  EXPECT_EQ(base.filesystem.tmp_size, 1ull << 30);
  EXPECT_EQ(base.filesystem.home, HomeMode::kEmpty);
  EXPECT_EQ(base.network.mode, NetworkMode::kNone);
  EXPECT_EQ(base.syscalls.errno_value, EPERM);
  EXPECT_EQ(base.limits.memory, 8ull << 30);
  EXPECT_EQ(base.limits.processes, 4096u);
  EXPECT_EQ(base.env.set.at("TOLLGATE_SANDBOX"), "1");
  EXPECT_EQ(base.env.set.at("TMPDIR"), "{tmp}");
}

TEST_F(ProfileLoaderShippedTest, ReadOnly) {
  LoadResult result = LoadShipped("read-only");
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const Profile& profile = *result.profile;
  EXPECT_EQ(profile.name, "read-only");
  EXPECT_THAT(profile.extends, ElementsAre("base", "mediated-tools"));
  EXPECT_TRUE(HasPath(profile.filesystem.read, "{workspace}"));
  EXPECT_TRUE(HasPath(profile.filesystem.read, "/usr"));  // from base
  EXPECT_THAT(profile.filesystem.write, IsEmpty());
  EXPECT_FALSE(HasPath(profile.filesystem.exec, "{workspace}"));
  EXPECT_TRUE(HasPath(profile.filesystem.hide, "{workspace}/.env"));
  EXPECT_EQ(profile.network.mode, NetworkMode::kNone);
}

TEST_F(ProfileLoaderShippedTest, WorkspaceWrite) {
  LoadResult result = LoadShipped("workspace-write");
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const Profile& profile = *result.profile;
  EXPECT_EQ(profile.name, "workspace-write");
  EXPECT_THAT(profile.extends, ElementsAre("base", "mediated-tools"));
  EXPECT_TRUE(HasPath(profile.filesystem.write, "{workspace}"));
  EXPECT_TRUE(HasPath(profile.filesystem.exec, "{workspace}"));
  EXPECT_TRUE(HasPath(profile.filesystem.protect, "{workspace}/.git/hooks"));
  EXPECT_TRUE(HasPath(profile.filesystem.protect, "{home}/.bashrc"));
  EXPECT_EQ(profile.filesystem.home, HomeMode::kEmpty);  // from base
  EXPECT_EQ(profile.limits.processes, 4096u);            // from base
  // With a scope, commits and builds still work; their protected parts stay protected.
  EXPECT_TRUE(HasPath(profile.filesystem.scratch, "{workspace}/.git"));
  EXPECT_TRUE(HasPath(profile.filesystem.scratch, "{workspace}/build"));
  EXPECT_FALSE(HasPath(profile.filesystem.scratch, "{workspace}"));
  std::vector<std::string> tests;
  for (const EvidencePattern& pattern : profile.evidence.test_results)
    tests.push_back(pattern.glob);
  EXPECT_THAT(tests, ::testing::Contains("build/Testing/Temporary/LastTest.log"));
  EXPECT_THAT(tests, ::testing::Contains("**/TEST-*.xml"));
  EXPECT_THAT(profile.evidence.artifacts, IsEmpty());
}

TEST_F(ProfileLoaderShippedTest, TestRunner) {
  LoadResult result = LoadShipped("test-runner");
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const Profile& profile = *result.profile;
  EXPECT_EQ(profile.name, "test-runner");
  EXPECT_TRUE(HasPath(profile.filesystem.read, "{workspace}"));
  EXPECT_TRUE(HasPath(profile.filesystem.write, "{workspace}/build"));
  EXPECT_FALSE(HasPath(profile.filesystem.write, "{cache}"));  // a poisoned cache outlives a run
  EXPECT_FALSE(HasPath(profile.filesystem.write, "{workspace}"));
  EXPECT_EQ(profile.limits.wall_seconds, 3600u);
  EXPECT_EQ(profile.env.set.at("PYTHONDONTWRITEBYTECODE"), "1");
  EXPECT_EQ(profile.env.set.at("TOLLGATE_SANDBOX"), "1");  // from base
  // Every writable build folder is scratch: a task's scope does not take the tests' builds away.
  EXPECT_EQ(Paths(profile.filesystem.scratch), Paths(profile.filesystem.write));
  ASSERT_FALSE(profile.evidence.test_results.empty());
  EXPECT_EQ(profile.evidence.test_results[0].glob, "build/Testing/Temporary/LastTest.log");
}

// --- the position scanner ---

TEST(LoaderJsonLocationsTest, ValuesAndKeysOfNestedDocument) {
  std::string text =
      "{\"a\\\"b\": 1,\n"
      " \"c\\/d\": [10, {\"e~f\": true}],\n"
      " \"é\": \"x\", \"z\": [[1, 2], []]}";
  JsonLocations locations = JsonLocations::Scan(text);
  auto at = [&](const std::string& path) {
    auto location = locations.Find(path);
    EXPECT_TRUE(location.has_value()) << path;
    return location ? location->value : TextPosition{};
  };
  EXPECT_EQ(at(""), (TextPosition{1, 1}));
  EXPECT_EQ(at("/a\"b"), (TextPosition{1, 10}));
  EXPECT_EQ(locations.Find("/a\"b")->key, (TextPosition{1, 2}));
  EXPECT_EQ(at("/c~1d"), (TextPosition{2, 10}));
  EXPECT_EQ(at("/c~1d/0"), (TextPosition{2, 11}));
  EXPECT_EQ(at("/c~1d/1"), (TextPosition{2, 15}));
  EXPECT_EQ(at("/c~1d/1/e~0f"), (TextPosition{2, 23}));
  EXPECT_EQ(locations.Find("/c~1d/1/e~0f")->key, (TextPosition{2, 16}));
  EXPECT_EQ(locations.Find("/c~1d/0")->key, std::nullopt);
  EXPECT_EQ(at("/é"), (TextPosition{3, 7}));
  EXPECT_EQ(locations.Find("/z")->key, (TextPosition{3, 12}));
  EXPECT_EQ(at("/z"), (TextPosition{3, 17}));
  EXPECT_EQ(at("/z/0"), (TextPosition{3, 18}));
  EXPECT_EQ(at("/z/0/1"), (TextPosition{3, 22}));
  EXPECT_EQ(at("/z/1"), (TextPosition{3, 26}));
  EXPECT_EQ(locations.Find("/z/2"), std::nullopt);
  EXPECT_EQ(locations.Find("/nope"), std::nullopt);
  EXPECT_THAT(locations.duplicate_keys(), IsEmpty());
}

TEST(LoaderJsonLocationsTest, DuplicateKeysIncludingEscapedSpellings) {
  JsonLocations locations =
      JsonLocations::Scan(R"({"k": 1, "\u006b": 2, "o": {"x": [], "x": {}}})");
  ASSERT_EQ(locations.duplicate_keys().size(), 2u);
  EXPECT_EQ(locations.duplicate_keys()[0].json_path, "/k");
  EXPECT_EQ(locations.duplicate_keys()[0].key, (TextPosition{1, 10}));
  EXPECT_EQ(locations.duplicate_keys()[0].earlier_key, (TextPosition{1, 2}));
  EXPECT_EQ(locations.duplicate_keys()[1].json_path, "/o/x");
  EXPECT_EQ(locations.duplicate_keys()[1].key, (TextPosition{1, 38}));
  EXPECT_EQ(locations.duplicate_keys()[1].earlier_key, (TextPosition{1, 29}));
  // The later occurrence is the one the parser keeps, so its position is the one recorded.
  EXPECT_EQ(locations.Find("/k")->value, (TextPosition{1, 20}));
  EXPECT_EQ(locations.Find("/o/x")->value, (TextPosition{1, 43}));
}

TEST(LoaderJsonLocationsTest, SurrogatePairKeysDecodeLikeTheParser) {
  // U+1F600 written as an escaped surrogate pair and as raw UTF-8 is the same key.
  JsonLocations locations = JsonLocations::Scan("{\"\\ud83d\\ude00\": 1, \"\xF0\x9F\x98\x80\": 2}");
  ASSERT_EQ(locations.duplicate_keys().size(), 1u);
  EXPECT_EQ(locations.duplicate_keys()[0].json_path, "/\xF0\x9F\x98\x80");
}

TEST(LoaderJsonLocationsTest, StopsSafelyOnMalformedText) {
  for (std::string text : {"", "{", "{\"a\": [1, 2", "{\"a\\", "[\"\\u12", "{\"a\" 1}", "]]]"}) {
    JsonLocations locations = JsonLocations::Scan(text);
    (void)locations.Find("");
  }
  JsonLocations partial = JsonLocations::Scan("{\"a\": 1, \"b\": [2, ");
  EXPECT_EQ(partial.Find("/a")->value, (TextPosition{1, 7}));
  EXPECT_EQ(partial.Find("/b/0")->value, (TextPosition{1, 16}));
}

TEST(LoaderJsonLocationsTest, ByteOrderMarkIsSkippedAndTakesNoColumn) {
  JsonLocations locations = JsonLocations::Scan("\xEF\xBB\xBF{\"a\": 1}");
  EXPECT_EQ(locations.Find("")->value, (TextPosition{1, 1}));
  EXPECT_EQ(locations.Find("/a")->value, (TextPosition{1, 7}));
}

TEST(LoaderJsonLocationsTest, PositionOfOffsetAndPointerEscaping) {
  EXPECT_EQ(PositionOfOffset("ab\ncd", 0), (TextPosition{1, 1}));
  EXPECT_EQ(PositionOfOffset("ab\ncd", 2), (TextPosition{1, 3}));
  EXPECT_EQ(PositionOfOffset("ab\ncd", 4), (TextPosition{2, 2}));
  EXPECT_EQ(PositionOfOffset("ab\ncd", 100), (TextPosition{2, 3}));
  EXPECT_EQ(PositionOfOffset("\xC3\xA9x", 2), (TextPosition{1, 2}));
  EXPECT_EQ(EscapeJsonPointerToken("a/b~c"), "a~1b~0c");
}

// --- the mcp section (docs/MCP.md) ---

TEST(ProfileLoaderMcpTest, ErrorsCarryTheirJsonPathAndPosition) {
  struct Case {
    const char* line;
    const char* json_path;
    int column;
    const char* message;
  };
  const Case cases[] = {
      {R"("mcp": [])", "/mcp", 10, "expected an object, got array"},
      {R"("mcp": {"defualt": "deny"})", "/mcp/defualt", 11, "unknown key \"defualt\""},
      {R"("mcp": {"default": "ask"})", "/mcp/default", 22, "unknown verdict \"ask\""},
      {R"("mcp": {"why": " "})", "/mcp/why", 18, "empty justification"},
      {R"("mcp": {"tools": {"allow": "read_*"}})", "/mcp/tools/allow", 30,
       "expected an array of strings"},
      {R"("mcp": {"tools": {"deny": ["write file"]}})", "/mcp/tools/deny/0", 30, "has a space"},
      {R"("mcp": {"tools": {"deny": [""]}})", "/mcp/tools/deny/0", 30, "empty name"},
      {R"("mcp": {"tools": {"block": []}})", "/mcp/tools/block", 21, "unknown key \"block\""},
      {R"("mcp": {"paths": {"arguments": [1]}})", "/mcp/paths/arguments/0", 35,
       "expected a string, got number"},
      {R"("mcp": {"paths": {"write_tools": ["save\u0001"]}})", "/mcp/paths/write_tools/0", 37,
       "control"},
  };
  for (const Case& c : cases) {
    InMemoryFiles files;
    files.Add("/profiles/p.json", ProfileWithLine(c.line));
    LoadResult result = ProfileLoader({"/profiles"}, files.Reader(), files.Exists()).Load("p");
    ASSERT_EQ(result.errors.size(), 1u) << c.line << "\n" << Describe(result.errors);
    EXPECT_EQ(result.errors[0].json_path, c.json_path) << c.line;
    EXPECT_EQ(result.errors[0].line, 4) << c.line;
    EXPECT_EQ(result.errors[0].column, c.column) << c.line;
    EXPECT_THAT(result.errors[0].message, HasSubstr(c.message)) << c.line;
  }
}

TEST_F(ProfileLoaderTest, McpListsAccumulateOverExtendsAndScalarsTakeTheLastLayer) {
  files_.Add("/profiles/parent.json",
             Layer("parent",
                   R"(  "mcp": {"default": "deny", "why": "parent's reason",
           "tools": {"allow": ["read_*"], "deny": ["write_file"]},
           "paths": {"arguments": ["notebook"], "write_tools": ["save_*"]}})"));
  LoadResult result = LoadProfile("child", Layer("child", R"(  "extends": "parent",
  "mcp": {"default": "allow", "tools": {"allow": ["list_*", "read_*"], "deny": ["move_*"]},
          "paths": {"arguments": ["notebook", "sheet"]}})"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  const McpSpec& mcp = result.profile->mcp;
  ASSERT_TRUE(mcp.default_allow.has_value());
  EXPECT_TRUE(*mcp.default_allow) << "the child's default wins";
  EXPECT_EQ(mcp.why.value_or(""), "parent's reason") << "kept: the child did not set it";
  std::vector<std::string> allow, deny, write_tools;
  for (const McpToolPattern& p : mcp.allow) allow.push_back(p.glob);
  for (const McpToolPattern& p : mcp.deny) deny.push_back(p.glob);
  for (const McpToolPattern& p : mcp.write_tools) write_tools.push_back(p.glob);
  EXPECT_THAT(allow, ElementsAre("read_*", "list_*"));
  EXPECT_THAT(deny, ElementsAre("write_file", "move_*")) << "a child cannot drop a parent's deny";
  EXPECT_THAT(write_tools, ElementsAre("save_*"));
  EXPECT_THAT(mcp.path_arguments, ElementsAre("notebook", "sheet"));
  EXPECT_EQ(mcp.deny[0].where.file, "/profiles/parent.json");
  EXPECT_EQ(mcp.deny[0].where.line, 5);
}

TEST_F(ProfileLoaderTest, NoMcpSectionLeavesItEmpty) {
  LoadResult result = LoadProfile("p", ProfileWithLine(R"("env": {})"));
  ASSERT_TRUE(result.ok()) << Describe(result.errors);
  EXPECT_FALSE(result.profile->mcp.default_allow.has_value());
  EXPECT_TRUE(result.profile->mcp.allow.empty());
  EXPECT_TRUE(result.profile->mcp.deny.empty());
}

}  // namespace
}  // namespace tollgate::policy
