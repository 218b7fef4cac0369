module github.com/corral-dev/corral/examples/go

go 1.23.0

require (
	github.com/corral-dev/corral/client/go v0.0.0
	google.golang.org/protobuf v1.36.12
)

require (
	golang.org/x/net v0.43.0 // indirect
	golang.org/x/sys v0.35.0 // indirect
	golang.org/x/text v0.28.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20250324211829-b45e905df463 // indirect
	google.golang.org/grpc v1.73.0 // indirect
)

replace github.com/corral-dev/corral/client/go => ../../client/go
