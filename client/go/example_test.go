package corral_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/corral-dev/corral/client/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A call, and an error with details. (The examples run against the test daemon of TestMain.)
func ExampleClient_Start() {
	c, err := corral.Dial(daemonSocket)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	info, err := c.Start(ctx, "sleeper")
	fmt.Println(info.GetState(), err)
	_, err = c.Start(ctx, "sleeper")
	var e *corral.Error
	if status.Code(err) == codes.FailedPrecondition && errors.As(err, &e) {
		fmt.Println(e.Reason, e.PreconditionFailure.GetViolations()[0].GetSubject())
	}
	_, _ = c.Stop(ctx, "sleeper")
	// Output:
	// PROCESS_STATE_RUNNING <nil>
	// ALREADY_RUNNING program/sleeper
}

// A lock: the handle keeps the token and sends it on every call; Close releases it.
func ExampleTask_Lock() {
	c, err := corral.Dial(daemonSocket)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	task, err := c.CreateTask(ctx, "example-lock", "example_counter", nil)
	if err != nil {
		panic(err)
	}
	granted, _ := task.Lock(ctx, 0, time.Minute)
	defer task.Close()
	_, err = task.Start(ctx)
	fmt.Println(granted, err)
	// Output: true <nil>
}

// A stream: follow a program's output until enough has arrived.
func ExampleClient_FollowLogs() {
	c, err := corral.Dial(daemonSocket)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Start(ctx, "ticker"); err != nil {
		panic(err)
	}
	defer c.Stop(context.Background(), "ticker")

	stream, err := c.FollowLogs(ctx, "ticker", 0)
	if err != nil {
		panic(err)
	}
	chunk, err := stream.Recv()
	fmt.Println(err == nil && len(chunk.GetChunk().GetData()) > 0)
	// Output: true
}
