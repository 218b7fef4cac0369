// Task handles: one task by name that keeps its lock token and sends it on every driving call.
// Join returns a *TaskFailedError for a FAILED task (QMI's join re-raises), and refusals are a
// *RefusedError carrying the daemon's reason (its ErrorInfo reason); both work with errors.As.
package corral

import (
	"context"
	"errors"
	"fmt"
	"time"

	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Refusal reasons the daemon names with FAILED_PRECONDITION.
const (
	ReasonTaskLocked         = "TASK_LOCKED"
	ReasonLockNotHolder      = "LOCK_NOT_HOLDER"
	ReasonTaskAlreadyStarted = "TASK_ALREADY_STARTED"
)

// TaskFailedError is Join's error for a task that FAILED. Task is the whole outcome.
type TaskFailedError struct {
	Task *corralv1.TaskInfo
}

func (e *TaskFailedError) Error() string {
	return fmt.Sprintf("task %q failed: %s", e.Task.GetName(), e.Task.GetError().GetMessage())
}

// Message is the task's own error message; Stack its stack as the daemon recorded it.
func (e *TaskFailedError) Message() string { return e.Task.GetError().GetMessage() }
func (e *TaskFailedError) Stack() string   { return e.Task.GetError().GetStack() }

// RefusedError is a FAILED_PRECONDITION refusal with the daemon's reason ("" if none was given).
// status.Code(err) still answers codes.FailedPrecondition.
type RefusedError struct {
	Reason string
	Err    error
}

func (e *RefusedError) Error() string              { return e.Err.Error() }
func (e *RefusedError) Unwrap() error              { return e.Err }
func (e *RefusedError) GRPCStatus() *status.Status { return status.Convert(e.Err) }

// Task is one task on a daemon; after Lock it passes the token on every driving call.
type Task struct {
	Runner corralv1.TaskRunnerClient
	Name   string
	Token  string
}

// Task returns a handle on a task (no call is made).
func (c *Client) Task(name string) *Task { return &Task{Runner: c.TaskRunner, Name: name} }

// refusable runs a call, turning FAILED_PRECONDITION into *RefusedError with the ErrorInfo reason.
func refusable[T any](call func(opts ...grpc.CallOption) (T, error)) (T, error) {
	result, err := call()
	if err != nil && status.Code(err) == codes.FailedPrecondition {
		reason := ""
		if e := AsError(err); e != nil {
			reason = e.Reason
		}
		return result, &RefusedError{Reason: reason, Err: err}
	}
	return result, err
}

// Start starts the task; a second start is a *RefusedError with ReasonTaskAlreadyStarted.
func (t *Task) Start(ctx context.Context) (*corralv1.TaskInfo, error) {
	r, err := refusable(func(o ...grpc.CallOption) (*corralv1.StartTaskResponse, error) {
		return t.Runner.StartTask(ctx, &corralv1.StartTaskRequest{Name: t.Name, Token: t.Token}, o...)
	})
	return r.GetTask(), err
}

// TryStart starts the task; false (no error) when it had already been started.
func (t *Task) TryStart(ctx context.Context) (bool, error) {
	_, err := t.Start(ctx)
	var refused *RefusedError
	if errors.As(err, &refused) && refused.Reason == ReasonTaskAlreadyStarted {
		return false, nil
	}
	return err == nil, err
}

// Stop asks the task to stop and returns at once.
func (t *Task) Stop(ctx context.Context) (*corralv1.TaskInfo, error) {
	r, err := refusable(func(o ...grpc.CallOption) (*corralv1.StopTaskResponse, error) {
		return t.Runner.StopTask(ctx, &corralv1.StopTaskRequest{Name: t.Name, Token: t.Token}, o...)
	})
	return r.GetTask(), err
}

// Outcome waits (up to timeout; 0: the context's deadline) until the task finished and returns it.
func (t *Task) Outcome(ctx context.Context, timeout time.Duration) (*corralv1.TaskInfo, error) {
	request := &corralv1.JoinTaskRequest{Name: t.Name, Token: t.Token}
	if timeout > 0 {
		request.Timeout = durationpb.New(timeout)
	}
	r, err := refusable(func(o ...grpc.CallOption) (*corralv1.JoinTaskResponse, error) {
		return t.Runner.JoinTask(ctx, request, o...)
	})
	return r.GetTask(), err
}

// Join is Outcome, but a FAILED task is a *TaskFailedError (the outcome is returned too).
func (t *Task) Join(ctx context.Context, timeout time.Duration) (*corralv1.TaskInfo, error) {
	task, err := t.Outcome(ctx, timeout)
	if err == nil && task.GetState() == corralv1.TaskState_TASK_STATE_FAILED {
		return task, &TaskFailedError{Task: task}
	}
	return task, err
}

// Lock locks the task (waiting up to timeout; lease 0: none); on success the handle keeps the token.
func (t *Task) Lock(ctx context.Context, timeout, lease time.Duration) (bool, error) {
	request := &corralv1.LockRequest{Name: t.Name, Token: t.Token}
	if timeout > 0 {
		request.Timeout = durationpb.New(timeout)
	}
	if lease > 0 {
		request.Lease = durationpb.New(lease)
	}
	r, err := t.Runner.Lock(ctx, request)
	if err != nil {
		return false, err
	}
	if r.Granted {
		t.Token = r.Token
	}
	return r.Granted, nil
}

// UnlockOutcome releases the lock: "unlocked", "not_locked" or "not_holder" (another token holds it).
func (t *Task) UnlockOutcome(ctx context.Context) (string, error) {
	if t.Token == "" {
		r, err := t.Runner.IsLocked(ctx, &corralv1.IsLockedRequest{Name: t.Name})
		if err != nil {
			return "", err
		}
		if r.Locked {
			return "not_holder", nil
		}
		return "not_locked", nil
	}
	r, err := refusable(func(o ...grpc.CallOption) (*corralv1.UnlockResponse, error) {
		return t.Runner.Unlock(ctx, &corralv1.UnlockRequest{Name: t.Name, Token: t.Token}, o...)
	})
	var refused *RefusedError
	if errors.As(err, &refused) && refused.Reason == ReasonLockNotHolder {
		return "not_holder", nil
	}
	if err != nil {
		return "", err
	}
	t.Token = ""
	if r.Unlocked {
		return "unlocked", nil
	}
	return "not_locked", nil
}

// Unlock releases the lock: true when released, false when not locked or held by another token.
func (t *Task) Unlock(ctx context.Context) (bool, error) {
	outcome, err := t.UnlockOutcome(ctx)
	return outcome == "unlocked", err
}

// ForceUnlock releases the lock whoever holds it; returns whether it was locked.
func (t *Task) ForceUnlock(ctx context.Context) (bool, error) {
	r, err := t.Runner.ForceUnlock(ctx, &corralv1.ForceUnlockRequest{Name: t.Name})
	if err != nil {
		return false, err
	}
	t.Token = ""
	return r.WasLocked, nil
}
