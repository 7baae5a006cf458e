module github.com/sharpapi-go/sharpapi/otelsharpapi/internal/e2e

go 1.24.0

replace (
	github.com/sharpapi-go/sharpapi => ../../..
	github.com/sharpapi-go/sharpapi/otelsharpapi => ../..
	github.com/sharpapi-go/sharpapi/redisbus => ../../../redisbus
)

require (
	github.com/google/go-cmp v0.7.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/sharpapi-go/sharpapi v0.1.0
	github.com/sharpapi-go/sharpapi/otelsharpapi v0.1.0
	github.com/sharpapi-go/sharpapi/redisbus v0.1.0
	go.opentelemetry.io/otel v1.41.0
	go.opentelemetry.io/otel/sdk v1.41.0
	go.opentelemetry.io/otel/trace v1.41.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel/metric v1.41.0 // indirect
	go.opentelemetry.io/otel/sdk/metric v1.41.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.41.0 // indirect
)
