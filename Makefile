# fleetbench — see README.md. Every target works on a fresh machine with Go.
GO      ?= go
BIN     := bin/fleetbench
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test bench vet fmt hub clean image

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/fleetbench

# The main job: the quickstart scenario against the embedded hub.
run: build
	./$(BIN) run scenarios/quickstart.yaml

# Vet, then every test with the race detector. Tests that need mosquitto or
# RabbitMQ skip with a message when they are not installed (CI=true makes
# them fail instead; .ci/run installs them). The allocation tests skip under
# -race (it allocates on its own), so a quick step before it runs them
# without it: every test whose name says Alloc (TestXDoesNotAllocate,
# TestXAllocations).
test:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 -run 'Alloc' $$(grep -rl --include='*_test.go' 'func Test[A-Za-z]*Alloc' . | xargs -n1 dirname | sort -u)
	$(GO) test -race -count=1 -timeout 30m ./...

# Hot-path benchmarks and an end-to-end run against a separate hub process;
# figures go to bench/results.json (see docs/benchmarks.md).
bench: build
	$(GO) run ./cmd/benchfigures -out bench/results.json -bin $(BIN)

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# The container image (docs/image.md), without Docker: fleetbench built
# static for linux/$(IMAGE_ARCH), then cmd/mkimage writes it with this
# machine's CA bundle into a tarball for docker load, crane and skopeo. Time
# stamps are the commit's, so one commit gives one digest.
# `make image GOARCH=arm64` builds for arm64 (IMAGE_TAR names the output).
IMAGE_ARCH        := $(or $(GOARCH),amd64)
IMAGE_BIN         := bin/linux_$(IMAGE_ARCH)/fleetbench
IMAGE_TAR         ?= bin/fleetbench-image.tar
IMAGE_LAYOUT      ?=
IMAGE_SOURCE      ?= https://github.com/fleetbench/fleetbench
IMAGE_LICENSES    ?=
CA_BUNDLE         ?= /etc/ssl/certs/ca-certificates.crt
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
REVISION          ?= $(shell git rev-parse HEAD 2>/dev/null)

image:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(IMAGE_BIN) ./cmd/fleetbench
	GOOS= GOARCH= $(GO) run ./cmd/mkimage -bin $(IMAGE_BIN) -ca $(CA_BUNDLE) -out $(IMAGE_TAR) \
		-version $(VERSION) -source $(IMAGE_SOURCE) \
		$(if $(REVISION),-revision $(REVISION)) $(if $(SOURCE_DATE_EPOCH),-created $(SOURCE_DATE_EPOCH)) \
		$(if $(IMAGE_LICENSES),-licenses $(IMAGE_LICENSES)) $(if $(IMAGE_LAYOUT),-layout $(IMAGE_LAYOUT))

# Run the embedded hub on its own (other clients can point at it).
hub: build
	./$(BIN) hub

clean:
	rm -rf bin runs

# Local brokers for scenarios/mosquitto.yaml and scenarios/rabbitmq.yaml
# (docs/brokers.md): they run in the foreground until Ctrl-C.
# 100,000 TLS devices as one run on one machine (docs/scale.md): 7 hubs in
# their own processes on 127.0.0.1:18881-18887 sharing one CA and key, the
# scenario over 7 shard processes, then the hubs stop (also when the run
# fails or is interrupted). RUN_ARGS adds flags to the run, e.g.
# RUN_ARGS="--out runs/100k". The run's exit code is make's.
SCALE_PROCS ?= 7
SCALE_HUBS  ?= runs/hubs-100k
.PHONY: scale-100k
scale-100k: build
	scripts/hubs.sh start 7 $(SCALE_HUBS)
	trap 'scripts/hubs.sh stop $(SCALE_HUBS)' EXIT INT TERM; \
	FLEETBENCH_GROUP_KEY=$$(cat $(SCALE_HUBS)/group.key) ./$(BIN) run scenarios/scale-100k.yaml \
		--procs $(SCALE_PROCS) --set target.tls.ca_file=$(SCALE_HUBS)/ca.pem $(RUN_ARGS)

.PHONY: mosquitto rabbitmq
mosquitto:
	scripts/mosquitto.sh
rabbitmq:
	scripts/rabbitmq.sh
