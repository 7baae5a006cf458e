module github.com/sharpapi-go/sharpapi/benchmarks

go 1.26

require (
	github.com/google/go-github/v66 v66.0.0
	github.com/sharpapi-go/sharpapi v0.0.0-00010101000000-000000000000
	github.com/standard-webhooks/standard-webhooks/libraries v0.0.1
	github.com/stripe/stripe-go/v82 v82.5.1
	github.com/svix/svix-webhooks v1.44.0
)

require (
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	golang.org/x/text v0.28.0 // indirect
	gopkg.in/validator.v2 v2.0.1 // indirect
)

replace github.com/sharpapi-go/sharpapi => ../
