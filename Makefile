# The two commands of the README:
#   make demo   installs what is missing, builds, and runs the scripted agent session under tollgate
#   make test   installs what is missing, builds (normal and ASan/UBSan), and runs the whole suite
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: demo test build deps bench format clean

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@examples/demo.sh $(BUILD)/bin/tollgate

test: deps
	@scripts/run-tests.sh

bench: build
	@bench/run.sh $(BUILD)

format:
	@git ls-files '*.cc' '*.h' '*.c' | xargs clang-format -i

clean:
	rm -rf build build-asan
