# The manager image: a static Go binary on distroless, running as an unprivileged user.
#
# test/packaging/dockerfile_test.go builds the manager with this file's `go build` line, so keep the build in that
# one RUN line (flags and environment inline).
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Dependencies first, so source edits do not invalidate the module download layer.
COPY go.mod go.sum ./
RUN go mod download

COPY cmd/ cmd/
COPY api/ api/
COPY internal/ internal/

# CGO off gives a static binary for the distroless static image; -trimpath keeps build paths out of it.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o manager ./cmd

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
