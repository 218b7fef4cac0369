package corral

// TaskHandle: one task by name that keeps its lock token and sends it on every driving call.

import (
	"context"

	corralv1 "github.com/corral-dev/corral/client/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// TaskHandle drives one task. After Lock, every driving call carries the token; Unlock (or
// Close) releases it.
type TaskHandle struct {
	client *Client
	Name   string
	// Token is the lock token held ("" when not locked).
	Token string
}

// Task returns a handle on the named task (no call is made).
func (c *Client) Task(name string) *TaskHandle { return &TaskHandle{client: c, Name: name} }

// CreateTask creates a task of a type and returns its handle.
func (c *Client) CreateTask(ctx context.Context, name, taskType string, settings *structpb.Value) (*TaskHandle, error) {
	_, err := c.TaskRunner.CreateTask(ctx, &corralv1.CreateTaskRequest{Name: name, Type: taskType, Settings: settings})
	if err != nil {
		return nil, wrap(err)
	}
	return c.Task(name), nil
}

// Lock locks the task, waiting up to WithTimeout while another client holds it; keeps the
// token. Returns false when not granted. Locking again renews a WithLease lease.
func (t *TaskHandle) Lock(ctx context.Context, opts ...CallOption) (bool, error) {
	o := optionsOf(opts)
	token := t.Token
	if o.token != "" {
		token = o.token
	}
	r, err := t.client.TaskRunner.Lock(ctx, &corralv1.LockRequest{Name: t.Name, Token: token, Timeout: durationOf(o.timeout), Lease: durationOf(o.lease)})
	if err != nil {
		return false, wrap(err)
	}
	if r.GetGranted() {
		t.Token = r.GetToken()
	}
	return r.GetGranted(), nil
}

// Unlock releases the lock this handle holds (false when it held none).
func (t *TaskHandle) Unlock(ctx context.Context) (bool, error) {
	if t.Token == "" {
		return false, nil
	}
	r, err := t.client.TaskRunner.Unlock(ctx, &corralv1.UnlockRequest{Name: t.Name, Token: t.Token})
	if err != nil {
		return false, wrap(err)
	}
	t.Token = ""
	return r.GetUnlocked(), nil
}

// Close releases the lock if held (for defer).
func (t *TaskHandle) Close() error {
	_, err := t.Unlock(context.Background())
	return err
}

// Start runs the task (once only).
func (t *TaskHandle) Start(ctx context.Context) (*corralv1.TaskInfo, error) {
	r, err := t.client.TaskRunner.StartTask(ctx, &corralv1.StartTaskRequest{Name: t.Name, Token: t.Token})
	return r.GetTask(), wrap(err)
}

// Stop asks the task to stop and returns at once.
func (t *TaskHandle) Stop(ctx context.Context) (*corralv1.TaskInfo, error) {
	r, err := t.client.TaskRunner.StopTask(ctx, &corralv1.StopTaskRequest{Name: t.Name, Token: t.Token})
	return r.GetTask(), wrap(err)
}

// Join waits until the task finished (WithTimeout bounds the daemon's wait).
func (t *TaskHandle) Join(ctx context.Context, opts ...CallOption) (*corralv1.TaskInfo, error) {
	o := optionsOf(opts)
	r, err := t.client.TaskRunner.JoinTask(ctx, &corralv1.JoinTaskRequest{Name: t.Name, Token: t.Token, Timeout: durationOf(o.timeout)})
	return r.GetTask(), wrap(err)
}

// SetSettings stores pending settings; the task takes them when it next updates its settings.
func (t *TaskHandle) SetSettings(ctx context.Context, settings *structpb.Value) error {
	_, err := t.client.TaskRunner.SetSettings(ctx, &corralv1.SetSettingsRequest{Name: t.Name, Settings: settings, Token: t.Token})
	return wrap(err)
}

// Remove stops (if needed) and removes the task.
func (t *TaskHandle) Remove(ctx context.Context) error {
	_, err := t.client.TaskRunner.RemoveTask(ctx, &corralv1.RemoveTaskRequest{Name: t.Name, Token: t.Token})
	return wrap(err)
}
