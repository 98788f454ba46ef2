// The sandbox's private network namespace (network "none"): only loopback, brought up so that
// tools talking to 127.0.0.1 inside the sandbox keep working.
//
// Creating a network namespace is the most expensive step of a launch (the kernel registers the
// loopback device and every per-namespace sysctl), so it is not done by clone3 on the critical
// path: a helper process forked by the supervisor joins the sandbox's user namespace and creates
// it there, in parallel with the supervisor and the init, then hands it over as an fd. A sandbox
// cloned before its plan is known (launcher.h, EarlySandbox) gets its helper at once: every
// shipped profile has network none. The helper starts when the init has entered its mount base
// (so that on two CPUs it does not delay the init's first steps) and works while the profile is
// compiled and the view is built. A plan that turns out not to want the namespace never joins
// it, and the namespace goes away with the helper.
//
// The helper is forked by the supervisor, not by the init: a fork of the init costs the init
// copy-on-write faults on its way to the command (measured slower).
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

Status BringUpLoopback();

// In the helper (a plain fork of the supervisor, made when the init is cloned): closes every fd
// but its two, waits for the init's go (AllowNetworkNamespace), joins the user namespace `user_ns`
// (an fd the supervisor opened on /proc/<init>/ns/user while the init still waited for its id maps:
// once it runs it is not dumpable, and an ordinary user may no longer open its namespaces), creates
// a network namespace owned by it with loopback up, and sends it over `socket` with SCM_RIGHTS —
// or, on failure, the failing step and errno. Never returns.
[[noreturn]] void CreateNetworkNamespaceFor(int user_ns, int socket);

// In the sandbox init, once its own first steps are done: lets the helper start (it waits for
// this on `socket`).
void AllowNetworkNamespace(int socket);

// In the sandbox init: receives what the helper sent on `socket` and joins the network
// namespace. A helper that failed or died is an error: the sandbox never runs in the host's
// network by accident.
Status JoinNetworkNamespace(int socket);

// In the sandbox init, in its network namespace: a listening TCP socket on 127.0.0.1:`port`
// (non-blocking, close-on-exec) for the supervisor's proxy. The socket stays in this namespace
// whoever holds it, so the supervisor serves the sandbox's loopback from the host's side.
Status ListenOnLoopback(std::uint16_t port, int* fd);

}  // namespace tollgate::kernel
