// Conservative splitting of a shell command line (what Claude Code's Bash tool is given) into the
// simple commands it would run, for `tollgate hook claude-code` (docs/HOOKS.md).
//
// The splitter understands a deliberately small part of the shell language: words with single
// quotes, double quotes and backslashes; the separators `&&`, `||`, `;`, `|`, `|&` and newlines;
// leading NAME=value assignments; redirections to and from files and file descriptors; here-docs
// and here-strings; comments; `~` and `~/…`. Everything else is a *construct*: something whose
// effect the splitter cannot know from the text alone, and which therefore makes the call `ask`
// (never a silent allow). Two levels:
//   - a construct of the line (`$(…)`, backquotes, `<(…)`, `$X`, `$((…))`, `$'…'`, `( … )`,
//     `{ …; }`, shell keywords, `&`, an unterminated quote or here-doc, a syntax error) is
//     reported in ShellSplit::construct; what was split before (and, for `$X`, after) it is
//     still returned, so that a part a rule denies still denies the whole call;
//   - a construct of one command (`eval`, `exec`, `source`, `alias`, a wrapper that runs the
//     command in its arguments, `find -exec`, code given to an interpreter as a string, a shell
//     or interpreter reading its program from a pipe or a here-doc, a glob in the command name,
//     brace expansion, `~user`) is reported in that command's `construct`.
// `sh -c 'literal'` (and bash, dash, zsh, ksh) is split again and its commands added, one level
// deeper, up to ShellSplitOptions::max_depth.
//
// Pure: no I/O, no environment. Nothing is executed or expanded but `~`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tollgate::policy {

struct ShellWord {
  std::string text;      // after quote removal (and `~` expansion)
  bool glob = false;     // an unquoted `*`, `?` or `[`
  bool dynamic = false;  // held a `$NAME` / `${…}` expansion: `text` is not what runs
};

enum class RedirectKind {
  kRead,        // <
  kWrite,       // >, >|, &> (fd -1: stdout and stderr)
  kAppend,      // >>, &>>
  kReadWrite,   // <>
  kDup,         // >&N, <&N, >&-: another descriptor, no file
  kHereDoc,     // << and <<-: target is the body
  kHereString,  // <<<: target is the word
};

struct ShellRedirect {
  int fd = -1;  // the descriptor redirected; -1 for &> (both), the default otherwise
  RedirectKind kind = RedirectKind::kRead;
  std::string target;    // a path, a descriptor number or "-", a here-doc body, a here-string
  bool dynamic = false;  // the target held an expansion
};

struct SimpleCommand {
  std::vector<std::string> assignments;  // leading NAME=value words
  std::vector<ShellWord> words;          // words[0] is the program (may be empty: assignments)
  std::vector<ShellRedirect> redirects;
  bool piped_in = false;  // stdin comes from the command before it (`a | b`: b)
  int depth = 0;          // 0: the line itself; n: from `sh -c '…'` n levels down
  // A construct of this command that makes it `ask` (empty: none), and why, in words.
  std::string construct;
  std::string reason;

  std::vector<std::string> Argv() const;
  std::string Text() const;  // the argv joined by spaces, for messages
};

struct ShellSplit {
  std::vector<SimpleCommand> commands;
  // A construct of the line (empty: the whole line was split), and why.
  std::string construct;
  std::string reason;
  bool ok() const { return construct.empty(); }
};

struct ShellSplitOptions {
  std::string home;   // what `~` means; empty: `~` is a construct
  int max_depth = 3;  // how deep `sh -c '…'` is followed
};

ShellSplit SplitShellCommand(std::string_view command, const ShellSplitOptions& options = {});

// Programs the splitter treats as shells (`-c` strings are split again) and as interpreters
// (code in `-c`/`-e` strings is not parsed): by basename, python3.12 counted as python.
bool IsShellProgram(std::string_view name);
bool IsInterpreterProgram(std::string_view name);

}  // namespace tollgate::policy
