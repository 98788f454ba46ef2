// `tollgate run` through a server's prepared sandbox (docs/SERVE.md): the client half.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tollgate {

// Runs `command` in the sandbox `tollgate serve` prepared for exactly these `options`
// (tollgate's arguments up to the command), this working directory, this environment and this
// stderr, handing it this process's stdin, stdout and stderr. Returns the run's exit status
// once it ends, forwarding the signals a launch forwards meanwhile. nullopt when no such
// sandbox is ready (the server, if there is one, is told, and prepares one for the next run),
// or it is not this user's: the caller then launches the run itself (nothing has run).
// `try_prepared` false: RunInPreparedSandbox() was already tried; only the server is told.
std::optional<int> RunThroughServer(const std::vector<std::string>& options,
                                    const std::vector<std::string>& command,
                                    bool try_prepared = true);

// Only the prepared sandbox, and nothing logged: for main() before anything is set up. The
// options need no checking here: a sandbox is prepared only for options that were valid, and
// only a request with exactly those options (and directory, environment, stderr) matches it.
std::optional<int> RunInPreparedSandbox(const std::vector<std::string>& options,
                                        const std::vector<std::string>& command);

}  // namespace tollgate
