#include "policy/shell_split.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace tollgate::policy {

namespace {

std::string_view Basename(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool IsSpecialParameter(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) || c == '@' || c == '*' || c == '#' ||
         c == '?' || c == '$' || c == '!' || c == '-';
}

bool OneOf(std::string_view text, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), text) != list.end();
}

// Words that start shell syntax the splitter does not follow: what comes after them is not a
// sequence of simple commands.
bool IsKeyword(std::string_view word) {
  return OneOf(word, {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done",
                      "case", "esac", "select", "function", "[[", "]]", "!", "coproc", "in"});
}

// Programs that run the command given in their arguments.
bool IsWrapper(std::string_view name) {
  return OneOf(name, {"command", "builtin", "env",      "nohup",   "nice",        "time",
                      "timeout", "xargs",   "stdbuf",   "setsid",  "ionice",      "chrt",
                      "taskset", "watch",   "strace",   "ltrace",  "unbuffer",    "flock",
                      "script",  "chroot",  "unshare",  "nsenter", "sudo",        "su",
                      "doas",    "runuser", "parallel", "busybox", "systemd-run", "ssh-agent"});
}

// Built-ins that run a string as code, now or later.
bool RunsCodeLater(std::string_view name) {
  return OneOf(name, {"trap", "fc", "enable", "let", "mapfile", "readarray", "complete", "bind"});
}

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

class Splitter {
 public:
  Splitter(std::string_view text, const ShellSplitOptions& options, int depth)
      : s_(text), options_(options), depth_(depth) {}

  ShellSplit Run() {
    while (!stop_ && i_ < s_.size()) Step();
    if (stop_) return std::move(result_);
    FinishWord();
    if (stop_) return std::move(result_);
    if (pending_.has_value()) {
      Fail("syntax", "a redirection at the end of the line has no target");
      return std::move(result_);
    }
    EndCommand(Separator::kEnd);
    if (!stop_ && !heredocs_.empty())
      Fail("here-doc", "a here-doc has no body: its end marker never comes");
    return std::move(result_);
  }

 private:
  enum class Separator { kAnd, kOr, kSemicolon, kPipe, kNewline, kEnd };

  struct HereDoc {
    std::size_t command;   // index the command has (or will have) in result_.commands
    std::size_t redirect;  // index of the redirect in it
    std::string delimiter;
    bool strip_tabs = false;
    bool quoted = false;
  };

  struct Pending {
    ShellRedirect redirect;
    bool heredoc = false;
    bool strip_tabs = false;
    bool dup_or_file = false;  // >&word: a descriptor, or (bash) stdout and stderr to a file
    bool read_dup = false;     // <&word
  };

  void Fail(const std::string& construct, const std::string& reason) {
    Note(construct, reason);
    stop_ = true;
  }
  void Note(const std::string& construct, const std::string& reason) {
    if (result_.construct.empty()) {
      result_.construct = construct;
      result_.reason = reason;
    }
  }
  static void Mark(SimpleCommand* command, const std::string& construct,
                   const std::string& reason) {
    if (command->construct.empty()) {
      command->construct = construct;
      command->reason = reason;
    }
  }

  char Peek(std::size_t ahead) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }

  void Append(char c, bool quoted) {
    word_ += c;
    quoted_.push_back(quoted);
    started_ = true;
  }

  // `$` at s_[i_]: an expansion, or a literal dollar sign.
  void Dollar(bool in_double_quotes) {
    char next = Peek(1);
    if (next == '(') {
      if (Peek(2) == '(')
        return Fail("arithmetic", "$((…)) is arithmetic expansion, which can run commands");
      return Fail("command-substitution", "$(…) runs a command and puts its output into the line");
    }
    if (next == '{') {
      std::size_t end = s_.find('}', i_ + 2);
      if (end == std::string_view::npos) return Fail("syntax", "${ is never closed");
      std::string_view inner = s_.substr(i_, end + 1 - i_);
      if (inner.find("$(") != std::string_view::npos || inner.find('`') != std::string_view::npos)
        return Fail("command-substitution", "a command substitution inside ${…}");
      for (char c : inner) Append(c, in_double_quotes);
      dynamic_ = true;
      Note("parameter-expansion",
           std::string(inner) + " is a variable: its value is not known before the command runs");
      i_ = end + 1;
      return;
    }
    if (IsNameStart(next) || IsSpecialParameter(next)) {
      std::size_t end = i_ + 2;
      if (IsNameStart(next))
        while (end < s_.size() && IsNameChar(s_[end])) ++end;
      std::string_view inner = s_.substr(i_, end - i_);
      for (char c : inner) Append(c, in_double_quotes);
      dynamic_ = true;
      Note("parameter-expansion",
           std::string(inner) + " is a variable: its value is not known before the command runs");
      i_ = end;
      return;
    }
    if (!in_double_quotes && next == '\'')
      return Fail("ansi-c-quote", "$'…' quoting is not decoded by the hook");
    if (!in_double_quotes && next == '"') {  // $"…": a translated string, read as "…"
      ++i_;
      return;
    }
    Append('$', in_double_quotes);
    ++i_;
  }

  void DoubleQuoted() {
    ++i_;  // the opening quote
    started_ = true;
    while (!stop_) {
      if (i_ >= s_.size()) return Fail("unterminated-quote", "a double quote is never closed");
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        return;
      }
      if (c == '\\') {
        char next = Peek(1);
        if (next == '\n') {
          i_ += 2;
          continue;
        }
        if (next == '$' || next == '`' || next == '"' || next == '\\') {
          Append(next, true);
          i_ += 2;
          continue;
        }
        Append('\\', true);
        ++i_;
        continue;
      }
      if (c == '`')
        return Fail("command-substitution", "`…` runs a command and puts its output into the line");
      if (c == '$') {
        Dollar(true);
        continue;
      }
      Append(c, true);
      ++i_;
    }
  }

  void Step() {
    char c = s_[i_];
    switch (c) {
      case ' ':
      case '\t':
        FinishWord();
        ++i_;
        return;
      case '\n':
        FinishWord();
        ++i_;
        if (stop_) return;
        if (pending_.has_value()) return Fail("syntax", "a redirection has no target");
        if (after_operator_ && Empty(current_)) return;  // `a &&` newline `b`
        EndCommand(Separator::kNewline);
        if (!stop_) ReadHereDocs();
        return;
      case '#':
        if (!started_) {
          while (i_ < s_.size() && s_[i_] != '\n') ++i_;
          return;
        }
        Append(c, false);
        ++i_;
        return;
      case '\\':
        if (Peek(1) == '\n') {
          i_ += 2;
          return;
        }
        if (i_ + 1 >= s_.size()) {
          Append('\\', false);
          ++i_;
          return;
        }
        Append(s_[i_ + 1], true);
        i_ += 2;
        return;
      case '\'': {
        std::size_t end = s_.find('\'', i_ + 1);
        if (end == std::string_view::npos)
          return Fail("unterminated-quote", "a single quote is never closed");
        started_ = true;
        for (std::size_t k = i_ + 1; k < end; ++k) Append(s_[k], true);
        i_ = end + 1;
        return;
      }
      case '"':
        return DoubleQuoted();
      case '`':
        return Fail("command-substitution", "`…` runs a command and puts its output into the line");
      case '$':
        return Dollar(false);
      case '(':
        FinishWord();
        if (stop_) return;
        if (!current_.words.empty())
          return Fail("function", "a function definition: its body runs later, under its name");
        return Fail("subshell", "( … ) subshells, arrays and groupings are not split");
      case ')':
        return Fail("subshell", "( … ) subshells, arrays and groupings are not split");
      case ';':
        FinishWord();
        if (stop_) return;
        if (Peek(1) == ';' || Peek(1) == '&')
          return Fail("keyword", ";; and ;& belong to case, which is not split");
        ++i_;
        return EndCommand(Separator::kSemicolon);
      case '&':
        if (Peek(1) == '&') {
          FinishWord();
          if (stop_) return;
          i_ += 2;
          EndCommand(Separator::kAnd);
          after_operator_ = true;
          return;
        }
        if (Peek(1) == '>') {
          FinishWord();
          if (stop_) return;
          bool append = Peek(2) == '>';
          i_ += append ? 3 : 2;
          return StartRedirect(-1, append ? RedirectKind::kAppend : RedirectKind::kWrite);
        }
        return Fail("background",
                    "& runs a command in the background, beyond the call that is decided");
      case '|':
        FinishWord();
        if (stop_) return;
        if (Peek(1) == '|') {
          i_ += 2;
          EndCommand(Separator::kOr);
        } else {
          i_ += Peek(1) == '&' ? 2 : 1;
          EndCommand(Separator::kPipe);
        }
        after_operator_ = true;
        return;
      case '<':
      case '>':
        return Redirection();
      case '*':
      case '?':
      case '[':
        Append(c, false);
        ++i_;
        return;
      default:
        Append(c, false);
        ++i_;
        return;
    }
  }

  // A redirection operator at s_[i_]; a word of digits right before it is its descriptor.
  void Redirection() {
    int fd = -1;
    if (started_ && AllDigits(word_) &&
        std::none_of(quoted_.begin(), quoted_.end(), [](bool q) { return q; }) &&
        word_.size() < 5) {
      fd = std::stoi(word_);
      word_.clear();
      quoted_.clear();
      started_ = false;
    } else {
      FinishWord();
      if (stop_) return;
    }
    if (pending_.has_value()) return Fail("syntax", "a redirection has no target");
    char c = s_[i_];
    char next = Peek(1);
    if (next == '(')
      return Fail(
          "process-substitution",
          std::string(1, c) + "(…) runs a command and passes its output or input as a file");
    if (c == '<') {
      if (next == '<' && Peek(2) == '<') {
        i_ += 3;
        return StartRedirect(fd, RedirectKind::kHereString);
      }
      if (next == '<') {
        bool strip = Peek(2) == '-';
        i_ += strip ? 3 : 2;
        StartRedirect(fd, RedirectKind::kHereDoc);
        pending_->heredoc = true;
        pending_->strip_tabs = strip;
        return;
      }
      if (next == '>') {
        i_ += 2;
        return StartRedirect(fd, RedirectKind::kReadWrite);
      }
      if (next == '&') {
        i_ += 2;
        StartRedirect(fd, RedirectKind::kDup);
        pending_->read_dup = true;
        return;
      }
      ++i_;
      return StartRedirect(fd, RedirectKind::kRead);
    }
    if (next == '>') {
      i_ += 2;
      return StartRedirect(fd, RedirectKind::kAppend);
    }
    if (next == '|') {
      i_ += 2;
      return StartRedirect(fd, RedirectKind::kWrite);
    }
    if (next == '&') {
      i_ += 2;
      StartRedirect(fd, RedirectKind::kDup);
      pending_->dup_or_file = true;
      return;
    }
    ++i_;
    StartRedirect(fd, RedirectKind::kWrite);
  }

  void StartRedirect(int fd, RedirectKind kind) {
    Pending pending;
    pending.redirect.fd = fd;
    pending.redirect.kind = kind;
    pending_ = pending;
    after_operator_ = false;
  }

  static bool Empty(const SimpleCommand& command) {
    return command.words.empty() && command.assignments.empty() && command.redirects.empty();
  }

  void FinishWord() {
    if (!started_ || stop_) return;
    ShellWord word;
    word.text = std::move(word_);
    word.dynamic = dynamic_;
    std::vector<bool> quoted = std::move(quoted_);
    word_.clear();
    quoted_.clear();
    started_ = false;
    dynamic_ = false;
    after_operator_ = false;
    for (std::size_t k = 0; k < word.text.size(); ++k) {
      if (!quoted[k] && (word.text[k] == '*' || word.text[k] == '?' || word.text[k] == '['))
        word.glob = true;
    }
    bool any_quoted = std::any_of(quoted.begin(), quoted.end(), [](bool q) { return q; });

    if (pending_.has_value()) {
      Pending pending = std::move(*pending_);
      pending_.reset();
      ShellRedirect redirect = pending.redirect;
      redirect.dynamic = word.dynamic;
      if (pending.heredoc) {
        HereDoc heredoc;
        heredoc.command = result_.commands.size();
        heredoc.redirect = current_.redirects.size();
        heredoc.delimiter = word.text;
        heredoc.strip_tabs = pending.strip_tabs;
        heredoc.quoted = any_quoted;
        heredocs_.push_back(heredoc);
        current_.redirects.push_back(redirect);
        return;
      }
      ExpandTilde(&word.text, quoted, &current_);
      redirect.target = word.text;
      if (pending.dup_or_file && !(AllDigits(word.text) || word.text == "-")) {
        redirect.kind = RedirectKind::kWrite;  // >&file: stdout and stderr to the file
        redirect.fd = -1;
      } else if (pending.read_dup && !(AllDigits(word.text) || word.text == "-")) {
        return Fail("syntax", "<& needs a descriptor number");
      }
      current_.redirects.push_back(redirect);
      return;
    }

    if (current_.words.empty()) {
      if (!any_quoted && IsKeyword(word.text))
        return Fail("keyword", "`" + word.text +
                                   "` starts shell control flow (if, for, while, case, …), "
                                   "which is not split");
      if (!any_quoted && (word.text == "{" || word.text == "}"))
        return Fail("brace-group", "{ …; } groups commands, which is not split");
      // NAME=value before the program: an assignment (its name unquoted).
      std::size_t eq = word.text.find('=');
      if (eq != std::string::npos && eq > 0 && IsNameStart(word.text[0]) &&
          std::all_of(word.text.begin(), word.text.begin() + static_cast<long>(eq), IsNameChar) &&
          std::none_of(quoted.begin(), quoted.begin() + static_cast<long>(eq + 1),
                       [](bool q) { return q; })) {
        current_.assignments.push_back(word.text);
        return;
      }
    }
    // Brace expansion: an unquoted { … , … } or { … .. … } makes several words of one.
    std::size_t open = std::string::npos;
    bool separator = false;
    for (std::size_t k = 0; k < word.text.size(); ++k) {
      if (quoted[k]) continue;
      char ch = word.text[k];
      if (ch == '{') {
        open = k;
        separator = false;
      } else if (open != std::string::npos &&
                 (ch == ',' ||
                  (ch == '.' && k + 1 < word.text.size() && word.text[k + 1] == '.'))) {
        separator = true;
      } else if (ch == '}' && open != std::string::npos && separator) {
        Mark(&current_, "brace-expansion",
             "`" + word.text + "`: brace expansion turns one word into several");
        break;
      }
    }
    ExpandTilde(&word.text, quoted, &current_);
    current_.words.push_back(std::move(word));
  }

  void ExpandTilde(std::string* text, const std::vector<bool>& quoted, SimpleCommand* command) {
    if (text->empty() || (*text)[0] != '~' || quoted.empty() || quoted[0]) return;
    std::size_t end = text->find('/');
    std::string prefix = text->substr(0, end);
    if (prefix != "~") {
      Mark(command, "tilde-user", "`" + prefix + "`: another user's home (or a directory stack)");
      return;
    }
    if (options_.home.empty()) {
      Mark(command, "tilde", "`~`: the home directory is not known");
      return;
    }
    *text = options_.home + text->substr(1);
  }

  void EndCommand(Separator separator) {
    if (stop_) return;
    if (pending_.has_value()) return Fail("syntax", "a redirection has no target");
    if (Empty(current_)) {
      if (separator == Separator::kNewline) return;
      if (separator == Separator::kEnd) {
        if (after_operator_) Fail("syntax", "the line ends after an operator");
        return;
      }
      if (separator == Separator::kSemicolon && !result_.commands.empty() && !after_operator_)
        return Fail("syntax", "an empty command between separators");
      return Fail("syntax", "an operator with no command before it");
    }
    SimpleCommand command = std::move(current_);
    current_ = SimpleCommand{};
    command.piped_in = next_piped_;
    command.depth = depth_;
    next_piped_ = separator == Separator::kPipe;
    std::vector<SimpleCommand> nested;
    Classify(&command, &nested);
    result_.commands.push_back(std::move(command));
    for (SimpleCommand& inner : nested) result_.commands.push_back(std::move(inner));
  }

  void ReadHereDocs() {
    for (const HereDoc& heredoc : heredocs_) {
      std::string body;
      bool found = false;
      while (i_ < s_.size()) {
        std::size_t end = s_.find('\n', i_);
        std::string_view line =
            s_.substr(i_, end == std::string_view::npos ? std::string_view::npos : end - i_);
        i_ = end == std::string_view::npos ? s_.size() : end + 1;
        std::string_view compared = line;
        if (heredoc.strip_tabs)
          while (!compared.empty() && compared.front() == '\t') compared.remove_prefix(1);
        if (compared == heredoc.delimiter) {
          found = true;
          break;
        }
        body.append(compared).append("\n");
      }
      if (!found)
        return Fail("here-doc",
                    "the here-doc's end marker `" + heredoc.delimiter + "` never comes");
      if (!heredoc.quoted) {
        if (body.find("$(") != std::string::npos || body.find('`') != std::string::npos)
          return Fail("command-substitution",
                      "the here-doc's body runs a command ($(…) or `…`) as it is read");
        for (std::size_t k = 0; k + 1 < body.size(); ++k) {
          if (body[k] == '$' &&
              (IsNameStart(body[k + 1]) || body[k + 1] == '{' || IsSpecialParameter(body[k + 1]))) {
            Note("parameter-expansion", "the here-doc's body holds a variable");
            break;
          }
        }
      }
      if (heredoc.command < result_.commands.size()) {
        SimpleCommand& command = result_.commands[heredoc.command];
        if (heredoc.redirect < command.redirects.size())
          command.redirects[heredoc.redirect].target = body;
      }
    }
    heredocs_.clear();
  }

  // The constructs of one command, and the commands of `sh -c '…'`.
  void Classify(SimpleCommand* command, std::vector<SimpleCommand>* nested) {
    if (command->words.empty()) return;
    const ShellWord& program = command->words[0];
    const std::string name(Basename(program.text));
    if (program.dynamic)
      return Mark(command, "dynamic-command", "the program's name comes from a variable");
    if (program.glob)
      return Mark(command, "glob-command", "`" + program.text + "`: a glob in the program's name");
    if (name == "eval")
      return Mark(command, "eval", "eval runs its arguments as a new command line");
    if (name == "exec")
      return Mark(command, "exec", "exec replaces the shell (or changes its descriptors)");
    if (name == "source" || name == ".")
      return Mark(command, "source", "`" + name + "` runs a file's commands in this shell");
    if (name == "alias")
      return Mark(command, "alias", "an alias changes what later command names mean");
    if (RunsCodeLater(name))
      return Mark(command, "runs-code", "`" + name + "` runs a string as code");
    if (IsWrapper(name))
      return Mark(
          command, "wrapper",
          "`" + name + "` runs the command in its arguments, which the hook does not follow");
    if (name == "find") {
      for (const ShellWord& word : command->words) {
        if (OneOf(word.text, {"-exec", "-execdir", "-ok", "-okdir"}))
          return Mark(command, "find-exec", "find " + word.text + " runs a command for each file");
      }
    }
    if (OneOf(name, {"awk", "gawk", "mawk", "nawk"})) {
      for (std::size_t k = 1; k < command->words.size(); ++k) {
        const std::string& text = command->words[k].text;
        if (text.find("system") != std::string::npos || text.find('|') != std::string::npos ||
            text.find("getline") != std::string::npos)
          return Mark(command, "interpreter-code",
                      name + " program that runs commands (system, |, getline)");
      }
    }
    const bool shell = IsShellProgram(name);
    const bool interpreter = IsInterpreterProgram(name);
    if (!shell && !interpreter) return;

    // Options, then the first operand: a script, or (sh -c) the command string.
    bool command_string = false;
    std::size_t operand = 0;
    for (std::size_t k = 1; k < command->words.size(); ++k) {
      const std::string& text = command->words[k].text;
      if (text == "--") {
        operand = k + 1 < command->words.size() ? k + 1 : 0;
        break;
      }
      if (text.size() > 1 && (text[0] == '-' || (shell && text[0] == '+'))) {
        if (text[1] == '-') {
          if (OneOf(text, {"--eval", "--print"}))
            return Mark(command, "interpreter-code",
                        name + " " + text + " runs code given on the command line");
          if (OneOf(text, {"--rcfile", "--init-file"})) ++k;
          continue;
        }
        if (shell) {
          if (text.find('c') != std::string::npos && text[0] == '-') command_string = true;
          if (text.find('o') != std::string::npos || text.find('O') != std::string::npos) ++k;
          continue;
        }
        if (OneOf(text, {"-c", "-e", "-E", "-r", "-p", "-x"}) ||
            (text.size() > 2 && (text.back() == 'c' || text.back() == 'e')))
          return Mark(command, "interpreter-code",
                      name + " " + text + " runs code given on the command line");
        if (text == "-m") {  // python -m module: the module is the program
          operand = k + 1 < command->words.size() ? k + 1 : 0;
          break;
        }
        continue;
      }
      operand = k;
      break;
    }
    if (command_string) {
      if (operand == 0) return Mark(command, "shell-c", name + " -c without a command string");
      const ShellWord& inner = command->words[operand];
      if (inner.dynamic)
        return Mark(command, "shell-c", name + " -c with a string built from variables");
      if (depth_ + 1 > options_.max_depth)
        return Mark(command, "shell-c", name + " -c nested too deep to follow");
      Splitter splitter(inner.text, options_, depth_ + 1);
      ShellSplit split = splitter.Run();
      if (!split.ok()) Mark(command, "shell-c", "in " + name + " -c: " + split.reason);
      for (SimpleCommand& part : split.commands) nested->push_back(std::move(part));
      return;
    }
    if (operand == 0 || command->words[operand].text == "-") {
      std::string from = command->piped_in ? "a pipe" : "its input";
      for (const ShellRedirect& redirect : command->redirects) {
        if (redirect.kind == RedirectKind::kHereDoc) from = "a here-doc";
        if (redirect.kind == RedirectKind::kHereString) from = "a here-string";
      }
      return Mark(command, shell ? "shell-stdin" : "interpreter-stdin",
                  "`" + name + "` reads the program it runs from " + from +
                      ", which the hook does not parse");
    }
  }

  std::string_view s_;
  const ShellSplitOptions& options_;
  int depth_ = 0;
  std::size_t i_ = 0;
  bool stop_ = false;
  ShellSplit result_;
  // The word being read.
  std::string word_;
  std::vector<bool> quoted_;
  bool started_ = false;
  bool dynamic_ = false;
  // The command being read.
  SimpleCommand current_;
  std::optional<Pending> pending_;
  std::vector<HereDoc> heredocs_;
  bool after_operator_ = false;  // after && || |: a newline continues the line
  bool next_piped_ = false;
};

}  // namespace

std::vector<std::string> SimpleCommand::Argv() const {
  std::vector<std::string> argv;
  argv.reserve(words.size());
  for (const ShellWord& word : words) argv.push_back(word.text);
  return argv;
}

std::string SimpleCommand::Text() const {
  std::string text;
  for (const std::string& assignment : assignments) text += (text.empty() ? "" : " ") + assignment;
  for (const ShellWord& word : words) text += (text.empty() ? "" : " ") + word.text;
  return text;
}

bool IsShellProgram(std::string_view name) {
  name = Basename(name);
  return OneOf(name, {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh",
                      "rbash", "yash"});
}

bool IsInterpreterProgram(std::string_view name) {
  name = Basename(name);
  for (std::string_view prefix : {"python", "pypy", "perl", "ruby", "php", "lua", "luajit"}) {
    if (name.substr(0, prefix.size()) == prefix) {
      std::string_view rest = name.substr(prefix.size());
      if (std::all_of(rest.begin(), rest.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
          }))
        return true;
    }
  }
  return OneOf(name, {"node", "nodejs", "deno", "bun", "tclsh", "wish", "Rscript", "irb", "jshell",
                      "osascript", "pwsh"});
}

ShellSplit SplitShellCommand(std::string_view command, const ShellSplitOptions& options) {
  Splitter splitter(command, options, 0);
  return splitter.Run();
}

}  // namespace tollgate::policy
