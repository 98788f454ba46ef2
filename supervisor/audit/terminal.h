// Output of log content that cannot drive a terminal.
//
// Records hold strings from the sandbox (argv, paths, host names): an agent can put escape
// sequences in them that would move the cursor, rewrite earlier lines, set the window title or
// reorder text (bidi overrides) on the terminal of whoever reads the log. Everything `tollgate
// audit` prints from a record passes through one of these functions.
#pragma once

#include <string>
#include <string_view>

#include "supervisor/audit/record.h"

namespace tollgate::audit {

// For human output: C0 controls, DEL, C1 controls (U+0080–U+009F), bidi controls (U+061C,
// U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and line/paragraph separators (U+2028, U+2029)
// are shown as visible escapes (\n, \t, \x1b, \u202e); bytes that are not UTF-8 as \xNN.
// Everything else is kept as it is.
std::string TerminalSafe(std::string_view text);

// For --json output: the compact JSON of `value` in which DEL, C1 controls, bidi controls and
// U+2028/U+2029 are written as \u escapes (JSON already escapes C0 controls). The result is
// valid JSON with the same value, and safe to print on a terminal. `indent` as in Json::dump.
std::string TerminalSafeJson(const Json& value, int indent = -1);

// The same for a JSON text already serialised (a log line): escapes those characters inside it.
// `json` must be valid UTF-8 (log lines are: the parser refuses others).
std::string TerminalSafeJsonText(std::string_view json);

}  // namespace tollgate::audit
