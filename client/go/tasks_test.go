// The Go task handle against the test daemon: Join's *TaskFailedError (errors.As, outcome kept),
// refusal reasons, Unlock by a non-holder answering false, ForceUnlock.
package corral_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	corral "github.com/corral-dev/corral/client/go"
	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestJoinOfAFailedTaskIsATaskFailedError(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	command := value(t, map[string]any{"command": []any{"sh", "-c", "echo 'sensor offline' >&2; exit 3"}})
	if _, err := c.TaskRunner.CreateTask(ctx, &corralv1.CreateTaskRequest{Name: "go-fails", Type: "exec", Args: command}); err != nil {
		t.Fatal(err)
	}
	defer c.TaskRunner.RemoveTask(ctxFor(t, 30*time.Second), &corralv1.RemoveTaskRequest{Name: "go-fails"})
	task := c.Task("go-fails")
	if _, err := task.Start(ctx); err != nil {
		t.Fatal(err)
	}
	outcome, err := task.Join(ctx, 10*time.Second)
	var failed *corral.TaskFailedError
	if !errors.As(err, &failed) {
		t.Fatalf("want a *TaskFailedError, got %v", err)
	}
	if !strings.Contains(failed.Message(), "exited with code 3") || !strings.Contains(failed.Message(), "sensor offline") || failed.Task.GetState() != corralv1.TaskState_TASK_STATE_FAILED {
		t.Fatalf("the error must carry the task's message and outcome: %v", failed)
	}
	if outcome.GetState() != corralv1.TaskState_TASK_STATE_FAILED {
		t.Fatalf("Join returns the outcome too: %v", outcome)
	}
	started, err := task.TryStart(ctx)
	if err != nil || started {
		t.Fatalf("TryStart of a finished task: want false, nil; got %v, %v", started, err)
	}
	_, err = task.Start(ctx)
	var refused *corral.RefusedError
	if !errors.As(err, &refused) || refused.Reason != corral.ReasonTaskAlreadyStarted || status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a second start: want a RefusedError TASK_ALREADY_STARTED, got %v", err)
	}
}

func TestUnlockByANonHolderAnswersFalseAndForceUnlockFreesIt(t *testing.T) {
	owner, other, ctx := dial(t), dial(t), ctxFor(t, 30*time.Second)
	args := value(t, map[string]any{"command": []any{"true"}})
	if _, err := owner.TaskRunner.CreateTask(ctx, &corralv1.CreateTaskRequest{Name: "go-lock-parity", Type: "exec", Args: args}); err != nil {
		t.Fatal(err)
	}
	defer owner.TaskRunner.RemoveTask(ctxFor(t, 30*time.Second), &corralv1.RemoveTaskRequest{Name: "go-lock-parity"})
	mine := owner.Task("go-lock-parity")
	if granted, err := mine.Lock(ctx, 0, 0); err != nil || !granted {
		t.Fatalf("Lock: %v %v", granted, err)
	}
	theirs := other.Task("go-lock-parity")
	theirs.Token = "not-the-token"
	if unlocked, err := theirs.Unlock(ctx); err != nil || unlocked {
		t.Fatalf("Unlock by a non-holder: want false, nil; got %v, %v", unlocked, err)
	}
	if outcome, _ := theirs.UnlockOutcome(ctx); outcome != "not_holder" {
		t.Fatalf("UnlockOutcome: %q", outcome)
	}
	_, err := theirs.Stop(ctx)
	var refused *corral.RefusedError
	if !errors.As(err, &refused) || refused.Reason != corral.ReasonTaskLocked {
		t.Fatalf("Stop by a non-holder: want RefusedError TASK_LOCKED, got %v", err)
	}
	if was, err := other.Task("go-lock-parity").ForceUnlock(ctx); err != nil || !was {
		t.Fatalf("ForceUnlock: %v %v", was, err)
	}
	if outcome, _ := mine.UnlockOutcome(ctx); outcome != "not_locked" {
		t.Fatalf("after ForceUnlock the owner's unlock finds it not locked, got %q", outcome)
	}
}
