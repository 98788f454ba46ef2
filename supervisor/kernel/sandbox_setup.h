// What the sandbox init needs from the plan, as bytes for the sync socket.
//
// The init can be cloned before the profile is loaded (launcher.h, EarlySandbox): it then holds
// no plan of its own, and the supervisor sends this once the plan is compiled. The late launch
// sends it the same way, so there is one path. The encoding is private to one build of tollgate
// (both ends are the same binary): native byte order, no versioning. Decoding still checks every
// length, so a short or corrupt message is an error, never a read past the end.
#pragma once

#include <string>
#include <string_view>

#include "policy/plans.h"
#include "supervisor/kernel/env.h"
#include "supervisor/kernel/limits.h"
#include "supervisor/kernel/pidns_init.h"

namespace tollgate::kernel {

struct SandboxSetup {
  policy::MountPlan mounts;  // MountOp::why is not sent
  std::string cwd;
  std::string hostname;
  bool new_network_namespace = false;
  bool proxy_listeners = false;  // network proxy: listen on the namespace's loopback for it
  // A prepared sandbox (launcher.h, DeferredCommand): `exec` is empty here. The init builds
  // everything and starts the command process, which applies everything and then waits at its
  // exec for the command line: a second SandboxSetup holding only `exec`, with the command's
  // stdin, stdout and stderr attached.
  bool deferred_command = false;
  policy::LandlockPlan landlock;  // LandlockRule::why is not sent
  int landlock_abi = 0;
  ExecSpec exec;  // argv and envp point into the storage of this object
  RlimitSettings rlimits;
  InitSampling sampling;
};

std::string EncodeSandboxSetup(const SandboxSetup& setup);
// False when `bytes` is not exactly one encoded SandboxSetup.
bool DecodeSandboxSetup(std::string_view bytes, SandboxSetup* setup);

}  // namespace tollgate::kernel
