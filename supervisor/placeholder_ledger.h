// Protect placeholders shared between concurrent runs on one workspace.
//
// A run that protects an absent path creates an empty placeholder directory in the workspace and
// mounts it read-only. Another run on the same workspace that starts meanwhile finds the path
// present and protects the placeholder itself: removing it when the first run ends would detach
// the second run's mount and unprotect the path. So every run holds a shared lock on the
// workspace for its whole duration, records the placeholders it made, and only the last run out
// (the one that gets the lock exclusively) removes the recorded ones that are still empty.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tollgate {

struct HostPlaceholder {
  std::string path;  // on the host
  dev_t device = 0;
  ino_t inode = 0;
};

class PlaceholderLedger {
 public:
  // Takes the shared lock for `workspace` (canonical). When no state directory can be used, the
  // ledger is unavailable and placeholders are left in place (never removed unsafely).
  explicit PlaceholderLedger(const std::string& workspace);
  ~PlaceholderLedger();
  PlaceholderLedger(const PlaceholderLedger&) = delete;
  PlaceholderLedger& operator=(const PlaceholderLedger&) = delete;

  bool available() const { return lock_fd_ >= 0; }
  // After the run: records `made`, then, if no other run holds the workspace, removes every
  // recorded placeholder that is still empty and unchanged. Returns how many were removed.
  int Finish(const std::vector<HostPlaceholder>& made);

  // $XDG_RUNTIME_DIR/tollgate, else $XDG_STATE_HOME/tollgate, else ~/.local/state/tollgate; as
  // root /run/tollgate. Never inside a sandbox's view.
  static std::string StateDirectory();

 private:
  int lock_fd_ = -1;
  std::string records_;
};

}  // namespace tollgate
