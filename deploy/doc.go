// Package deploy holds what runs Tocsin outside `tocsin dev`: the container
// image (Dockerfile), a compose set-up, Kubernetes manifests and the
// Temporal server's configuration. Its tests parse each of them the way
// their tools would, since no container engine runs in CI.
package deploy
