// The sandbox's user namespace: the supervisor maps exactly one uid and one gid, and the
// sandbox init switches to them while keeping its capabilities inside the namespace.
#pragma once

#include <sys/types.h>

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// Supervisor side, between clone and releasing the child. Writes /proc/<child>/setgroups, then
// uid_map "<uid> <uid> 1" and gid_map "<gid> <gid> 1" (inside ids equal host ids).
//
// setgroups is "deny" for an unprivileged supervisor (the kernel requires it before an
// unprivileged gid_map). A root supervisor writes "allow" instead so that the child can drop
// root's supplementary groups with setgroups(0, NULL): with "deny" the sandbox would keep
// membership of host groups such as gid 0, which the mapping cannot undo.
Status WriteIdMaps(pid_t child, uid_t uid, gid_t gid, bool allow_setgroups);

// Child side, after the maps are written. Switches real/effective/saved ids to the mapped ones
// (and drops supplementary groups when `drop_groups`), keeping the full capability set of the
// new user namespace so that the mount view can be built afterwards.
Status BecomeMappedIds(uid_t uid, gid_t gid, bool drop_groups);

}  // namespace tollgate::kernel
