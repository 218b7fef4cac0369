// Restarts ticker, follows its logs for 3 s, runs a task and streams its status: go run . [ADDR]
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/corral-dev/corral/client/go"
	pb "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

func main() {
	c, err := corral.Dial(strings.Join(os.Args[1:], "")) // "": $CORRAL_ADDRESS, then ~/.corral/corral.sock
	check(err)
	defer c.Close()
	ctx := context.Background()
	started, err := c.ProcessManager.RestartProcess(ctx, &pb.RestartProcessRequest{Name: "ticker"}) // (re)start
	check(err)
	fmt.Printf("ticker is %v, pid %d\n", started.Process.State, started.Process.Run.Pid)
	follow, stopFollowing := context.WithTimeout(ctx, 3*time.Second) // follow for 3 s
	defer stopFollowing()
	logs, err := c.ProcessManager.FollowLogs(follow, &pb.FollowLogsRequest{Name: "ticker", TailLines: 2})
	check(err)
	for msg, err := logs.Recv(); err == nil; msg, err = logs.Recv() {
		fmt.Printf("  log: %s", msg.Chunk.Data)
	}
	counter, _ := filepath.Abs("../tasks/exec_counter.py")
	args, _ := structpb.NewValue(map[string]any{"command": []any{"python3", counter}})
	settings, _ := structpb.NewValue(map[string]any{"step": 1, "interval_s": 0.5})
	_, err = c.TaskRunner.CreateTask(ctx, &pb.CreateTaskRequest{Name: "go-example", Type: "exec", Args: args, Settings: settings})
	check(err)
	defer c.TaskRunner.RemoveTask(ctx, &pb.RemoveTaskRequest{Name: "go-example"})
	signals, err := c.TaskRunner.WatchSignals(ctx, &pb.WatchSignalsRequest{Tasks: []string{"go-example"}, Names: []string{"status_updated"}})
	check(err)
	_, err = c.TaskRunner.StartTask(ctx, &pb.StartTaskRequest{Name: "go-example"})
	check(err)
	for n := 0; n < 6; n++ {
		msg, err := signals.Recv()
		check(err)
		fmt.Printf("  status: %v\n", msg.GetSignal().GetPayload().AsInterface())
	}
	_, err = c.TaskRunner.StopTask(ctx, &pb.StopTaskRequest{Name: "go-example"})
	check(err)
	joined, err := c.TaskRunner.JoinTask(ctx, &pb.JoinTaskRequest{Name: "go-example"})
	check(err)
	fmt.Println("task ended:", joined.Task.State)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
