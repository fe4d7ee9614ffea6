# Contrail. `make run` starts the whole local stack, `make test` runs every test.
# SAM builds each function with `make build-<LogicalId> ARTIFACTS_DIR=...` (BuildMethod: makefile).

SHELL := /bin/bash
GO ?= go
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -buildvcs=false -ldflags='-s -w -buildid='

# $(1) = folder under functions/, $(2) = LogicalId. SAM sets ARTIFACTS_DIR; `make build` uses .local/build/<LogicalId>.
define build_function
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(if $(ARTIFACTS_DIR),$(ARTIFACTS_DIR),.local/build/$(2))/bootstrap ./functions/$(1)
endef

.PHONY: run test build lint token tidy

# ---- functions: foundation
build-HealthFunction: ; $(call build_function,health,HealthFunction)
build-CreateContactFunction: ; $(call build_function,create-contact,CreateContactFunction)
build-GetContactFunction: ; $(call build_function,get-contact,GetContactFunction)

# ---- functions: contacts

# ---- functions: audit log

# ---- functions: archive

# ---- functions: reports and exports

# ---- end of functions
