// Package pb is the Go code generated from Salesforce's pubsub_api.proto
// (github.com/forcedotcom/pub-sub-api, CC0), committed as published. Run
// `go generate ./...` in the pubsub module to regenerate it; it needs protoc
// (Debian's protobuf-compiler) and the two plugins below on PATH:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative "--go_opt=Mpubsub_api.proto=github.com/sfmtls/sfmtls/pubsub/internal/pb;pb" --go-grpc_out=. --go-grpc_opt=paths=source_relative "--go-grpc_opt=Mpubsub_api.proto=github.com/sfmtls/sfmtls/pubsub/internal/pb;pb" pubsub_api.proto
