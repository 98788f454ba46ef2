#!/usr/bin/env bash
# A scripted agent on a task (examples/demo.sh runs it under `tollgate run --task`): it makes its
# change, runs the tests and commits. With "forget-tests" it commits without running the tests,
# as an agent that declares success too early would.
set -eu
mode=${1:-}
echo "- greet: the greeting names the caller's choice ($(date -u +%H:%M:%S))" >> CHANGES.md
git add CHANGES.md
if [ "$mode" != forget-tests ]; then
  make -s test | tee build/greet.tap
fi
git commit -qm "greet: note the caller's choice of name"
echo "committed: $(git log --oneline -1)"
