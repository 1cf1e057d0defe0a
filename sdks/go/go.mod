module github.com/mandate-dev/mandate/sdks/go

go 1.22

require (
	golang.org/x/oauth2 v0.26.0
	gopkg.in/yaml.v3 v3.0.1
)
