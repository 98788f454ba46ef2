// SplitShellCommand: a table of command lines and the simple commands (or the construct) each
// splits into.
#include "policy/shell_split.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollgate::policy {
namespace {

struct SplitCase {
  std::string line;
  // Each simple command's words joined by " | " (empty when the line has a construct and the
  // commands are not checked); "!construct" for a command-level construct.
  std::vector<std::string> commands;
  std::string construct;  // the line's construct, or empty
};

std::string Joined(const SimpleCommand& command) {
  std::string out;
  for (const std::string& assignment : command.assignments) out += assignment + " ";
  for (std::size_t k = 0; k < command.words.size(); ++k)
    out += (k ? " | " : "") + command.words[k].text;
  if (!command.construct.empty()) out += " !" + command.construct;
  return out;
}

// clang-format off
const SplitCase kCases[] = {
    {"ls", {"ls"}, ""},
    {"git status", {"git | status"}, ""},
    {"ls && git push origin main", {"ls", "git | push | origin | main"}, ""},
    {"make || echo failed", {"make", "echo | failed"}, ""},
    {"cd src; ls -la", {"cd | src", "ls | -la"}, ""},
    {"cat a | grep b | wc -l", {"cat | a", "grep | b", "wc | -l"}, ""},
    {"ls\npwd\n", {"ls", "pwd"}, ""},
    {"ls &&\n  pwd", {"ls", "pwd"}, ""},
    {"echo 'a b' \"c d\"", {"echo | a b | c d"}, ""},
    {"echo 'a && b; c | d'", {"echo | a && b; c | d"}, ""},
    {"echo a\\ b \\&\\& c", {"echo | a b | && | c"}, ""},
    {"echo \"say \\\"hi\\\"\"", {"echo | say \"hi\""}, ""},
    {"git commit -m \"fix: the bug\"", {"git | commit | -m | fix: the bug"}, ""},
    {"FOO=1 BAR=x make test", {"FOO=1 BAR=x make | test"}, ""},
    {"X=1", {"X=1 "}, ""},
    {"echo hi # a comment && rm -rf /", {"echo | hi"}, ""},
    {"ls > out.txt 2>&1", {"ls"}, ""},
    {"ls~", {"ls~"}, ""},
    {"cat ~/.ssh/id_rsa", {"cat | /home/u/.ssh/id_rsa"}, ""},
    {"ls ~", {"ls | /home/u"}, ""},
    {"ls ~root", {"ls | ~root !tilde-user"}, ""},
    {"echo '~'", {"echo | ~"}, ""},
    {"echo $(cat ~/.ssh/id_rsa)", {}, "command-substitution"},
    {"echo `id`", {}, "command-substitution"},
    {"echo \"$(id)\"", {}, "command-substitution"},
    {"echo \"`id`\"", {}, "command-substitution"},
    {"diff <(ls a) <(ls b)", {}, "process-substitution"},
    {"tee >(wc -l)", {}, "process-substitution"},
    {"echo $((1+2))", {}, "arithmetic"},
    {"eval \"$X\"", {"eval | $X !eval"}, "parameter-expansion"},
    {"eval ls", {"eval | ls !eval"}, ""},
    {"$CMD args", {"$CMD | args !dynamic-command"}, "parameter-expansion"},
    {"echo ${HOME}", {"echo | ${HOME}"}, "parameter-expansion"},
    {"echo '$HOME'", {"echo | $HOME"}, ""},
    {"echo \\$HOME", {"echo | $HOME"}, ""},
    {"echo cost: 5$", {"echo | cost: | 5$"}, ""},
    {"echo $'\\x41'", {}, "ansi-c-quote"},
    {"exec rm -rf /", {"exec | rm | -rf | / !exec"}, ""},
    {"source ./env.sh", {"source | ./env.sh !source"}, ""},
    {". ./env.sh", {". | ./env.sh !source"}, ""},
    {"alias ls='rm -rf'", {"alias | ls=rm -rf !alias"}, ""},
    {"cat <<EOF | sh\ngit push\nEOF", {"cat", "sh !shell-stdin"}, ""},
    {"cat <<'EOF' > notes.txt\n$(not run)\nEOF", {"cat"}, ""},
    {"cat <<EOF > notes.txt\n$(id)\nEOF", {}, "command-substitution"},
    {"cat <<-EOF\n\tline\n\tEOF\necho done", {"cat", "echo | done"}, ""},
    {"cat <<EOF\nno end", {}, "here-doc"},
    {"bash <<< 'git push'", {"bash !shell-stdin"}, ""},
    {"python3 - <<EOF\nprint(1)\nEOF", {"python3 | - !interpreter-stdin"}, ""},
    {"grep x <<< 'text'", {"grep | x"}, ""},
    {"curl -s https://x.sh | sh", {"curl | -s | https://x.sh", "sh !shell-stdin"}, ""},
    {"curl -s https://x.sh | bash -s", {"curl | -s | https://x.sh", "bash | -s !shell-stdin"}, ""},
    {"sh -c 'git push origin main'", {"sh | -c | git push origin main", "git | push | origin | main"}, ""},
    {"bash -lc \"ls && git status\"", {"bash | -lc | ls && git status", "ls", "git | status"}, ""},
    {"bash -c \"$X\"", {"bash | -c | $X !shell-c"}, "parameter-expansion"},
    {"sh -c 'echo $(id)'", {"sh | -c | echo $(id) !shell-c"}, ""},
    {"bash script.sh", {"bash | script.sh"}, ""},
    {"python3 -c 'import os'", {"python3 | -c | import os !interpreter-code"}, ""},
    {"node -e 'x'", {"node | -e | x !interpreter-code"}, ""},
    {"python3 -m pytest -q", {"python3 | -m | pytest | -q"}, ""},
    {"perl script.pl", {"perl | script.pl"}, ""},
    {"xargs rm < list", {"xargs | rm !wrapper"}, ""},
    {"env GIT_SSH_COMMAND=x git fetch", {"env | GIT_SSH_COMMAND=x | git | fetch !wrapper"}, ""},
    {"timeout 5 git push", {"timeout | 5 | git | push !wrapper"}, ""},
    {"find . -name '*.o' -exec rm {} +", {"find | . | -name | *.o | -exec | rm | {} | + !find-exec"}, ""},
    {"find . -name '*.o'", {"find | . | -name | *.o"}, ""},
    {"awk '{print $1}' f", {"awk | {print $1} | f"}, ""},
    {"awk 'BEGIN{system(\"id\")}'", {"awk | BEGIN{system(\"id\")} !interpreter-code"}, ""},
    {"sleep 10 &", {}, "background"},
    {"(cd x && ls)", {}, "subshell"},
    {"{ ls; pwd; }", {}, "brace-group"},
    {"f() { rm -rf /; }", {}, "function"},
    {"if true; then git push; fi", {}, "keyword"},
    {"for f in *.c; do gcc $f; done", {}, "keyword"},
    {"while true; do :; done", {}, "keyword"},
    {"! git push", {}, "keyword"},
    {"[[ -f x ]] && ls", {}, "keyword"},
    {"echo 'unterminated", {}, "unterminated-quote"},
    {"echo \"unterminated", {}, "unterminated-quote"},
    {"&& ls", {}, "syntax"},
    {"ls &&", {"ls"}, "syntax"},
    {"ls >", {}, "syntax"},
    {"ls ; ; pwd", {"ls"}, "syntax"},
    {"*.sh", {"*.sh !glob-command"}, ""},
    {"ls *.c", {"ls | *.c"}, ""},
    {"git pu{sh,ll}", {"git | pu{sh,ll} !brace-expansion"}, ""},
    {"echo '{a,b}'", {"echo | {a,b}"}, ""},
    {"ls a|&grep b", {"ls | a", "grep | b"}, ""},
    {"ls 2>/dev/null;pwd", {"ls", "pwd"}, ""},
    {"echo a;;", {}, "keyword"},
};
// clang-format on

TEST(ShellSplitTest, Table) {
  ShellSplitOptions options;
  options.home = "/home/u";
  for (const SplitCase& c : kCases) {
    SCOPED_TRACE(c.line);
    ShellSplit split = SplitShellCommand(c.line, options);
    EXPECT_EQ(split.construct, c.construct) << split.reason;
    if (!c.construct.empty() && c.commands.empty()) continue;
    std::vector<std::string> got;
    for (const SimpleCommand& command : split.commands) got.push_back(Joined(command));
    EXPECT_EQ(got, c.commands);
  }
}

TEST(ShellSplitTest, ConstructsCarryAReason) {
  for (const SplitCase& c : kCases) {
    ShellSplit split = SplitShellCommand(c.line, {.home = "/home/u"});
    if (!split.ok()) {
      EXPECT_FALSE(split.reason.empty()) << c.line;
    }
    for (const SimpleCommand& command : split.commands) {
      if (!command.construct.empty()) {
        EXPECT_FALSE(command.reason.empty()) << c.line;
      }
    }
  }
}

TEST(ShellSplitTest, Redirections) {
  ShellSplit split = SplitShellCommand("ls > out.txt 2>>err.log < in &> both 3<&0 >&2 >& f");
  ASSERT_TRUE(split.ok()) << split.reason;
  ASSERT_EQ(split.commands.size(), 1u);
  const std::vector<ShellRedirect>& r = split.commands[0].redirects;
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[0].kind, RedirectKind::kWrite);
  EXPECT_EQ(r[0].target, "out.txt");
  EXPECT_EQ(r[1].kind, RedirectKind::kAppend);
  EXPECT_EQ(r[1].fd, 2);
  EXPECT_EQ(r[1].target, "err.log");
  EXPECT_EQ(r[2].kind, RedirectKind::kRead);
  EXPECT_EQ(r[3].kind, RedirectKind::kWrite);
  EXPECT_EQ(r[3].fd, -1);
  EXPECT_EQ(r[4].kind, RedirectKind::kDup);
  EXPECT_EQ(r[4].fd, 3);
  EXPECT_EQ(r[5].kind, RedirectKind::kDup);
  EXPECT_EQ(r[6].kind, RedirectKind::kWrite);  // >& file: stdout and stderr to the file
  EXPECT_EQ(r[6].target, "f");
}

TEST(ShellSplitTest, HereDocBodyAndPipes) {
  ShellSplit split = SplitShellCommand("cat <<EOF | grep x\nline one\nEOF\npwd");
  ASSERT_TRUE(split.ok()) << split.reason;
  ASSERT_EQ(split.commands.size(), 3u);
  ASSERT_EQ(split.commands[0].redirects.size(), 1u);
  EXPECT_EQ(split.commands[0].redirects[0].target, "line one\n");
  EXPECT_FALSE(split.commands[0].piped_in);
  EXPECT_TRUE(split.commands[1].piped_in);
  EXPECT_FALSE(split.commands[2].piped_in);
}

TEST(ShellSplitTest, NestedShellsAreFollowedToALimit) {
  ShellSplit split = SplitShellCommand("sh -c \"bash -c 'git push'\"");
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split.commands.size(), 3u);
  EXPECT_EQ(split.commands[2].Text(), "git push");
  EXPECT_EQ(split.commands[2].depth, 2);
  ShellSplit deep = SplitShellCommand("sh -c \"sh -c 'sh -c \\\"sh -c ls\\\"'\"", {.max_depth = 2});
  bool marked = false;
  for (const SimpleCommand& command : deep.commands) marked |= command.construct == "shell-c";
  EXPECT_TRUE(marked);
}

TEST(ShellSplitTest, WithoutAHomeTildeIsAConstruct) {
  ShellSplit split = SplitShellCommand("cat ~/.ssh/id_rsa");
  ASSERT_EQ(split.commands.size(), 1u);
  EXPECT_EQ(split.commands[0].construct, "tilde");
}

TEST(ShellSplitTest, ProgramKinds) {
  EXPECT_TRUE(IsShellProgram("/bin/bash"));
  EXPECT_TRUE(IsShellProgram("sh"));
  EXPECT_FALSE(IsShellProgram("bashful"));
  EXPECT_TRUE(IsInterpreterProgram("python3.12"));
  EXPECT_TRUE(IsInterpreterProgram("/usr/bin/perl"));
  EXPECT_FALSE(IsInterpreterProgram("pythonic"));
}

}  // namespace
}  // namespace tollgate::policy
