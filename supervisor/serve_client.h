// `tollgate run` through a server's prepared sandbox (docs/SERVE.md): the client half.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tollgate {

// Asks the server at serve::SocketPath() to run `command` in a sandbox prepared for exactly
// these `options` (tollgate's arguments up to the command), this working directory, this
// environment and this stderr, handing it this process's stdin, stdout and stderr. Returns the
// run's exit status once it ends, forwarding the signals a launch forwards meanwhile; nullopt
// when there is no server, it is not this user's, or it has no such sandbox ready: the caller
// then launches the run itself (nothing has run).
std::optional<int> RunThroughServer(const std::vector<std::string>& options,
                                    const std::vector<std::string>& command);

}  // namespace tollgate
