// Package core is the hand-written runtime behind package mandate: configuration, the HTTP
// transport with retries and idempotency keys, the token manager (client credentials, or the
// JWT bearer grant with a workload's federated token), typed errors, pagination, JSON helpers
// for the generated models, debug logging and access-token verification.
//
// Most programs import only github.com/mandate-dev/mandate/sdks/go/mandate, which re-exports
// what callers need. The generic types Nullable and Page live here and appear in that
// package's models and methods as core.Nullable[T] and core.Page[T].
package core
