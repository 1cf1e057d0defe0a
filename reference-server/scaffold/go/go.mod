module {{projectName}}

go 1.22

// The Mandate Go SDK. It is not published: README.md adds a replace directive that points
// this module path at the SDK in your Mandate clone.
require github.com/mandate-dev/mandate/sdks/go v0.0.0-00010101000000-000000000000
