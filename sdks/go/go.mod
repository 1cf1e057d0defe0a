module github.com/mandate-dev/mandate/sdks/go

go 1.22

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // only the interop tests import it
	golang.org/x/oauth2 v0.26.0
	gopkg.in/yaml.v3 v3.0.1
)
